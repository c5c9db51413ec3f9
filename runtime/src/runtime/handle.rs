//! `Handle`: a cloneable reference to a runtime, usable from any thread.

use crate::context::{self, TryCurrentError};
use crate::scheduler::Scheduler;
use crate::task::{JoinHandle, SpawnSite};
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;

/// A reference to a runtime, to spawn tasks on it from anywhere (other threads included).
///
/// ```
/// let rt = mini_runtime::Runtime::new().unwrap();
/// let handle = rt.handle().clone();
/// let task = std::thread::spawn(move || handle.spawn(async { "from a thread" })).join().unwrap();
/// assert_eq!(rt.block_on(task).unwrap(), "from a thread");
/// ```
#[derive(Clone)]
pub struct Handle {
    pub(crate) inner: Scheduler,
}

impl Handle {
    /// The runtime this code runs on.
    ///
    /// # Panics
    /// Outside a runtime (not inside `block_on`, a task, or `Runtime::enter`); see
    /// [`try_current`](Handle::try_current).
    pub fn current() -> Handle {
        match Handle::try_current() {
            Ok(handle) => handle,
            Err(error) if error.is_thread_local_destroyed() => panic!("`Handle::current`: {error}"),
            Err(_) => panic!("`Handle::current` {}", context::OUTSIDE_RUNTIME),
        }
    }

    /// The runtime this code runs on, or why there is none.
    pub fn try_current() -> Result<Handle, TryCurrentError> {
        context::with_current(|inner| Handle { inner: inner.clone() })
    }

    /// Spawns a task on this runtime.
    #[track_caller]
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.inner.spawn(future, SpawnSite::caller())
    }

    /// The runtime's metrics (see [`RuntimeMetrics`](super::RuntimeMetrics)).
    pub fn metrics(&self) -> super::RuntimeMetrics {
        super::RuntimeMetrics::new(self.inner.clone())
    }

    /// With [`Builder::shuffle`](super::Builder::shuffle) on, a hash of every scheduling
    /// decision made so far (on the multi-threaded flavor, of each worker's, combined); `None`
    /// with shuffle off. Two runs of one seed that make the same decisions give the same hash:
    /// on the current-thread flavor with paused time, a deterministic test always does.
    ///
    /// ```
    /// let hash = |seed| {
    ///     let rt = mini_runtime::runtime::Builder::new_current_thread().shuffle(seed).build().unwrap();
    ///     rt.block_on(async {
    ///         let tasks: Vec<_> = (0..8).map(|_| mini_runtime::spawn(async {})).collect();
    ///         for task in tasks {
    ///             task.await.unwrap();
    ///         }
    ///     });
    ///     rt.handle().schedule_hash().unwrap()
    /// };
    /// assert_eq!(hash(1), hash(1));
    /// assert!(mini_runtime::Runtime::new().unwrap().handle().schedule_hash().is_none());
    /// ```
    pub fn schedule_hash(&self) -> Option<u64> {
        let shuffles = self.inner.shuffles();
        (!shuffles.is_empty())
            .then(|| (shuffles.iter()).fold(0, |hash: u64, shuffle| hash.rotate_left(5) ^ shuffle.hash()))
    }

    /// Makes this runtime the current one on this thread until the guard is dropped.
    pub fn enter(&self) -> EnterGuard<'_> {
        EnterGuard {
            _current: context::enter(self.inner.clone()),
            _handle: PhantomData,
        }
    }
}

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handle").finish_non_exhaustive()
    }
}

/// Returned by [`Handle::enter`] and [`Runtime::enter`](super::Runtime::enter); the previous
/// runtime (or none) is current again when it is dropped.
#[must_use = "the runtime is current only while the guard lives"]
pub struct EnterGuard<'a> {
    _current: context::SetCurrentGuard,
    _handle: PhantomData<&'a Handle>,
}

impl fmt::Debug for EnterGuard<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EnterGuard").finish_non_exhaustive()
    }
}

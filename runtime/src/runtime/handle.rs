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

    /// Runs `job` on this runtime's blocking pool, from any thread (see
    /// [`spawn_blocking`](crate::task::spawn_blocking)): for a library that was handed a
    /// `Handle` and has blocking work to do.
    ///
    /// ```
    /// let rt = mini_runtime::Runtime::new().unwrap();
    /// let handle = rt.handle().clone();
    /// // From a thread of our own, outside the runtime.
    /// let job = std::thread::spawn(move || handle.spawn_blocking(|| 6 * 7)).join().unwrap();
    /// assert_eq!(rt.block_on(job).unwrap(), 42);
    /// ```
    #[track_caller]
    pub fn spawn_blocking<F, R>(&self, job: F) -> JoinHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        crate::task::spawn_blocking_on(&self.inner, job, SpawnSite::caller())
    }

    /// Runs `future` to completion on this thread, on this handle's runtime, and returns its
    /// output: `Runtime::block_on` for code that holds only a `Handle` (a callback from a C
    /// library, a synchronous trait method, a `spawn_blocking` job). Works from any thread that
    /// is not running a runtime already: a thread of your own, or a blocking-pool thread.
    ///
    /// On a current-thread runtime, if another thread is inside `block_on` it keeps running the
    /// tasks, I/O and timers while this thread polls `future` whenever it is woken, and this
    /// thread takes over when that one leaves; if none is, this thread runs them itself. (tokio's
    /// `Handle::block_on` never drives a current-thread runtime's I/O and timers.)
    ///
    /// ```
    /// let rt = mini_runtime::runtime::Builder::new_current_thread().build().unwrap();
    /// let handle = rt.handle().clone();
    /// let answer = rt.block_on(async move {
    ///     // A blocking job that needs an async result.
    ///     mini_runtime::task::spawn_blocking(move || {
    ///         handle.block_on(async { mini_runtime::spawn(async { 42 }).await.unwrap() })
    ///     })
    ///     .await
    ///     .unwrap()
    /// });
    /// assert_eq!(answer, 42);
    /// ```
    ///
    /// # Panics
    /// If called from inside a runtime (a task, or a `block_on` on this thread), with the same
    /// message as [`Runtime::block_on`](super::Runtime::block_on).
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        let _runtime = context::enter_runtime(self.inner.clone());
        self.inner.block_on(future)
    }

    /// Spawns a task on worker `worker` of a thread-per-core runtime, for the rare task that
    /// must run elsewhere than where `spawn` puts it (on the spawning worker). The other flavors
    /// share one queue among their workers: there it spawns as `spawn` does.
    ///
    /// ```
    /// let rt = mini_runtime::runtime::Builder::new_thread_per_core().worker_threads(2).build().unwrap();
    /// let task = rt.handle().spawn_on(1, async { mini_runtime::runtime::worker_index() });
    /// assert_eq!(rt.block_on(task).unwrap(), Some(1));
    /// ```
    ///
    /// # Panics
    /// If `worker` is not below [`num_workers`](super::RuntimeMetrics::num_workers).
    #[track_caller]
    pub fn spawn_on<F>(&self, worker: usize, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.inner.spawn_on(worker, future, SpawnSite::caller())
    }

    /// Runs the future that `f(worker)` makes once on each worker, on that worker's thread, and
    /// returns their outputs in worker order: how a thread-per-core server starts (a listener
    /// and an accept loop per worker). The futures need not be `Send`: each is spawned with
    /// `spawn_local` on its worker and stays there. On a current-thread runtime it runs once
    /// (worker 0).
    ///
    /// ```
    /// # async fn serve(_worker: usize) -> std::io::Result<()> { Ok(()) }
    /// # mini_runtime::runtime::Builder::new_thread_per_core().build().unwrap().block_on(async {
    /// let results = mini_runtime::runtime::Handle::current().run_on_each(serve).await;
    /// assert!(results.iter().all(|result| result.is_ok()));
    /// # });
    /// ```
    ///
    /// # Panics
    /// On a multi-threaded runtime, whose tasks move between workers (spawn a task per worker
    /// with `spawn` there). If a worker's future panics, the panic is resumed here, once every
    /// other worker's future has finished.
    #[track_caller]
    pub fn run_on_each<F, Fut>(&self, f: F) -> impl Future<Output = Vec<Fut::Output>> + Send + 'static
    where
        F: Fn(usize) -> Fut + Send + Sync + 'static,
        Fut: Future + 'static,
        Fut::Output: Send + 'static,
    {
        let location = std::panic::Location::caller();
        let scheduler = self.inner.clone();
        async move { run_on_each(scheduler, f, location).await }
    }

    /// The runtime's id: unique among the runtimes of this process (ids are not reused), the
    /// same from every handle of one runtime.
    ///
    /// ```
    /// let a = mini_runtime::Runtime::new().unwrap();
    /// let b = mini_runtime::Runtime::new().unwrap();
    /// assert_eq!(a.handle().id(), a.handle().clone().id());
    /// assert_ne!(a.handle().id(), b.handle().id());
    /// ```
    pub fn id(&self) -> Id {
        Id(self.inner.stats().runtime_id)
    }

    /// Which flavor the runtime is.
    ///
    /// ```
    /// use mini_runtime::runtime::{Builder, RuntimeFlavor};
    /// let rt = Builder::new_thread_per_core().worker_threads(1).build().unwrap();
    /// assert_eq!(rt.handle().runtime_flavor(), RuntimeFlavor::ThreadPerCore);
    /// ```
    pub fn runtime_flavor(&self) -> RuntimeFlavor {
        match self.inner {
            Scheduler::CurrentThread(_) => RuntimeFlavor::CurrentThread,
            Scheduler::MultiThread(_) => RuntimeFlavor::MultiThread,
            Scheduler::ThreadPerCore(_) => RuntimeFlavor::ThreadPerCore,
        }
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

/// A runtime's id ([`Handle::id`]), shown as a number.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Id(u64);

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

/// A runtime's flavor ([`Handle::runtime_flavor`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RuntimeFlavor {
    /// Every task on the thread inside `block_on` (`Builder::new_current_thread`).
    CurrentThread,
    /// Work-stealing worker threads (`Builder::new_multi_thread`).
    MultiThread,
    /// A current-thread scheduler per worker thread (`Builder::new_thread_per_core`).
    ThreadPerCore,
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

/// `Handle::run_on_each`'s future; the tasks get `location` as their spawn site.
async fn run_on_each<F, Fut>(
    scheduler: Scheduler,
    f: F,
    location: &'static std::panic::Location<'static>,
) -> Vec<Fut::Output>
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: Future + 'static,
    Fut::Output: Send + 'static,
{
    if let Scheduler::MultiThread(_) = scheduler {
        panic!(
            "`run_on_each` runs a future on each worker of a thread-per-core (or current-thread) \
             runtime; a multi-threaded runtime's tasks move between its workers: spawn one task \
             per worker with `spawn` instead"
        );
    }
    let f = std::sync::Arc::new(f);
    let tasks: Vec<_> = (0..scheduler.stats().workers.len())
        .map(|worker| {
            let f = f.clone();
            let run_here = async move {
                let local = crate::task::spawn_local(f(worker));
                local.await
            };
            scheduler.spawn_on(worker, run_here, SpawnSite { location, name: None })
        })
        .collect();
    let mut outputs = Vec::with_capacity(tasks.len());
    let mut panic = None;
    for (worker, task) in tasks.into_iter().enumerate() {
        match task.await {
            Ok(Ok(output)) => outputs.push(output),
            Ok(Err(error)) | Err(error) if error.is_panic() => {
                panic.get_or_insert(error.into_panic());
            }
            Ok(Err(_)) | Err(_) => panic!("`run_on_each`: the runtime shut down while worker {worker}'s future ran"),
        }
    }
    if let Some(payload) = panic {
        std::panic::resume_unwind(payload);
    }
    outputs
}

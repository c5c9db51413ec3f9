//! `JoinHandle`, the future that yields a spawned task's output, and `JoinError`, which says why
//! there is none.

use super::raw::with_current;
use super::raw::RawTask;
use super::trace::Wait;
use std::any::Any;
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};

/// An owned permission to await a spawned task's output.
///
/// Awaiting it gives `Ok(output)`, or a [`JoinError`] if the task panicked or was cancelled.
/// Dropping it detaches the task: the task keeps running and its output is dropped when it is done.
///
/// ```
/// let rt = mini_runtime::Runtime::new().unwrap();
/// rt.block_on(async {
///     let handle = mini_runtime::spawn(async { 6 * 7 });
///     assert_eq!(handle.await.unwrap(), 42);
/// });
/// ```
pub struct JoinHandle<T> {
    raw: RawTask,
    _output: PhantomData<T>,
}

// SAFETY: the handle only moves the output (T) between threads, and touches the task's shared
// state through atomics and the join waker rules, never the future.
unsafe impl<T: Send> Send for JoinHandle<T> {}
// SAFETY: a `&JoinHandle` only offers `is_finished` and `abort`, which are atomic operations.
unsafe impl<T: Send> Sync for JoinHandle<T> {}

impl<T> Unpin for JoinHandle<T> {}

impl<T> JoinHandle<T> {
    /// Takes over one reference of `raw`, whose output type is `T`.
    pub(super) fn new(raw: RawTask) -> JoinHandle<T> {
        JoinHandle {
            raw,
            _output: PhantomData,
        }
    }

    /// Cancels the task: its future is dropped on its runtime's thread, before its next poll, and
    /// awaiting this handle then gives a `JoinError` that [`is_cancelled`](JoinError::is_cancelled).
    /// A task that already finished keeps its output.
    ///
    /// ```
    /// let rt = mini_runtime::Runtime::new().unwrap();
    /// rt.block_on(async {
    ///     let handle = mini_runtime::spawn(std::future::pending::<()>());
    ///     handle.abort();
    ///     assert!(handle.await.unwrap_err().is_cancelled());
    /// });
    /// ```
    pub fn abort(&self) {
        self.raw.remote_abort();
    }

    /// The task's id, the one [`task::id`](super::id) returns inside it.
    pub fn id(&self) -> super::Id {
        self.raw.header().identity.id
    }

    /// Whether the task has finished (returned, panicked or been cancelled), so that awaiting this
    /// handle would not wait.
    pub fn is_finished(&self) -> bool {
        self.raw.header().state.load().is_complete()
    }

    /// A handle that can abort the task (and tell whether it finished) without owning its
    /// output: for code that must be able to cancel a task another part awaits.
    ///
    /// ```
    /// mini_runtime::Runtime::new().unwrap().block_on(async {
    ///     let task = mini_runtime::spawn(std::future::pending::<()>());
    ///     let abort = task.abort_handle();
    ///     abort.abort();
    ///     assert!(task.await.unwrap_err().is_cancelled());
    ///     assert!(abort.is_finished());
    /// });
    /// ```
    pub fn abort_handle(&self) -> AbortHandle {
        self.raw.ref_inc();
        AbortHandle { raw: self.raw }
    }
}

/// Aborts a task without owning its output ([`JoinHandle::abort_handle`],
/// `JoinSet::spawn`). Dropping it does nothing to the task.
pub struct AbortHandle {
    /// Holds one reference on the task.
    raw: RawTask,
}

// SAFETY: an `AbortHandle` only reads the task's header and changes its state through atomics
// (`abort`, `is_finished`, `id`); it never touches the future or the output.
unsafe impl Send for AbortHandle {}
// SAFETY: as above: every method takes `&self` and is atomic.
unsafe impl Sync for AbortHandle {}

impl AbortHandle {
    /// Cancels the task, as [`JoinHandle::abort`] does.
    pub fn abort(&self) {
        self.raw.remote_abort();
    }

    /// Whether the task has finished (returned, panicked or been cancelled).
    pub fn is_finished(&self) -> bool {
        self.raw.header().state.load().is_complete()
    }

    /// The task's id.
    pub fn id(&self) -> super::Id {
        self.raw.header().identity.id
    }
}

impl Drop for AbortHandle {
    fn drop(&mut self) {
        self.raw.drop_reference();
    }
}

impl fmt::Debug for AbortHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AbortHandle").field("id", &self.id()).finish()
    }
}

impl<T> Future for JoinHandle<T> {
    type Output = Result<T, JoinError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut output = Poll::Pending;
        // SAFETY: `output` is a Poll<Result<T, JoinError>> and T is this task's output type.
        unsafe {
            self.raw
                .try_read_output(&mut output as *mut Poll<Result<T, JoinError>> as *mut (), cx.waker())
        };
        if output.is_pending() {
            let id = self.id().as_u64();
            with_current(|header| header.trace.record_wait(Wait::Task { id }));
        }
        output
    }
}

impl<T> Drop for JoinHandle<T> {
    fn drop(&mut self) {
        self.raw.drop_join_handle_slow();
    }
}

impl<T> fmt::Debug for JoinHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinHandle")
            .field("is_finished", &self.is_finished())
            .finish()
    }
}

/// Why a task gave no output: it panicked, or it was cancelled (by [`JoinHandle::abort`] or by
/// dropping its runtime).
pub struct JoinError {
    repr: Repr,
}

enum Repr {
    Cancelled,
    /// The payload sits behind a mutex only to make `JoinError: Sync` (the payload is only `Send`);
    /// nothing ever contends on it.
    Panic(parking_lot::Mutex<Box<dyn Any + Send + 'static>>),
}

impl JoinError {
    pub(crate) fn cancelled() -> JoinError {
        JoinError { repr: Repr::Cancelled }
    }

    pub(crate) fn panic(payload: Box<dyn Any + Send + 'static>) -> JoinError {
        JoinError {
            repr: Repr::Panic(parking_lot::Mutex::new(payload)),
        }
    }

    /// Whether the task was cancelled.
    pub fn is_cancelled(&self) -> bool {
        matches!(self.repr, Repr::Cancelled)
    }

    /// Whether the task panicked.
    pub fn is_panic(&self) -> bool {
        matches!(self.repr, Repr::Panic(_))
    }

    /// The panic's payload, to inspect it or to resume the panic with
    /// [`std::panic::resume_unwind`].
    ///
    /// # Panics
    /// If the task was cancelled rather than panicking; see [`try_into_panic`](Self::try_into_panic).
    pub fn into_panic(self) -> Box<dyn Any + Send + 'static> {
        self.try_into_panic()
            .expect("`JoinError::into_panic` called on a cancelled task's error; check `is_panic` first")
    }

    /// The panic's payload, or the error itself when the task was cancelled.
    pub fn try_into_panic(self) -> Result<Box<dyn Any + Send + 'static>, JoinError> {
        match self.repr {
            Repr::Panic(payload) => Ok(payload.into_inner()),
            Repr::Cancelled => Err(self),
        }
    }

    fn panic_message(&self) -> Option<String> {
        let Repr::Panic(payload) = &self.repr else { return None };
        let payload = payload.lock();
        payload
            .downcast_ref::<&'static str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
    }
}

impl fmt::Display for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.repr, self.panic_message()) {
            (Repr::Cancelled, _) => f.write_str("task was cancelled"),
            (Repr::Panic(_), Some(message)) => write!(f, "task panicked with message {message:?}"),
            (Repr::Panic(_), None) => f.write_str("task panicked"),
        }
    }
}

impl fmt::Debug for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.repr {
            Repr::Cancelled => f.write_str("JoinError::Cancelled"),
            Repr::Panic(_) => write!(f, "JoinError::Panic({:?})", self.panic_message().unwrap_or_default()),
        }
    }
}

impl std::error::Error for JoinError {}

impl From<JoinError> for std::io::Error {
    fn from(error: JoinError) -> std::io::Error {
        std::io::Error::other(error.to_string())
    }
}

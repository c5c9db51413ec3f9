//! The current runtime: the thread-local that tells `spawn`, `Handle::current`, timers and
//! `AsyncFd::new` which runtime they belong to, and that catches a `block_on` nested inside a
//! runtime.
//!
//! It sits above the schedulers (it holds a [`Scheduler`]): a scheduler never enters it itself;
//! whoever drives one (`Runtime::block_on`, a worker thread's start, a blocking job) does.

use crate::scheduler::Scheduler;
use std::cell::{Cell, RefCell};
use std::fmt;
use std::marker::PhantomData;

thread_local! {
    static CONTEXT: Context = const { Context { handle: RefCell::new(None), in_runtime: Cell::new(false) } };
}

struct Context {
    /// The runtime that `spawn` uses on this thread: set by `block_on` and `Runtime::enter`.
    handle: RefCell<Option<Scheduler>>,
    /// Set while this thread drives a runtime (`block_on`); a nested `block_on` would deadlock.
    in_runtime: Cell<bool>,
}

/// The end of every "no runtime here" panic message, after the name of what was called.
pub(crate) const OUTSIDE_RUNTIME: &str = "must be called from within a mini runtime: inside `Runtime::block_on` or a \
     task (`#[mini::main]` sets one up), or after `Runtime::enter`";

/// Calls `f` with the runtime entered on this thread.
///
/// `f` runs on a clone of the handle, outside the thread-local's borrow, so that it may itself
/// enter a runtime (a future dropped by `spawn` on a closed runtime may).
pub(crate) fn with_current<R>(f: impl FnOnce(&Scheduler) -> R) -> Result<R, TryCurrentError> {
    match CONTEXT.try_with(|context| context.handle.borrow().clone()) {
        Ok(Some(handle)) => Ok(f(&handle)),
        Ok(None) => Err(TryCurrentError::no_context()),
        Err(_) => Err(TryCurrentError::thread_local_destroyed()),
    }
}

/// Makes `handle` the current runtime until dropped; then the previous one is current again.
/// Not `Send`: it must be dropped on the thread whose context it changed.
pub(crate) struct SetCurrentGuard {
    previous: Option<Scheduler>,
    _not_send: PhantomData<*const ()>,
}

pub(crate) fn enter(handle: Scheduler) -> SetCurrentGuard {
    let previous = CONTEXT.with(|context| context.handle.replace(Some(handle)));
    SetCurrentGuard {
        previous,
        _not_send: PhantomData,
    }
}

impl Drop for SetCurrentGuard {
    fn drop(&mut self) {
        let previous = self.previous.take();
        let _ = CONTEXT.try_with(|context| context.handle.replace(previous));
    }
}

/// Marks this thread as driving a runtime until dropped.
pub(crate) struct RuntimeGuard {
    _current: SetCurrentGuard,
}

pub(crate) fn enter_runtime(handle: Scheduler) -> RuntimeGuard {
    let nested = CONTEXT.with(|context| context.in_runtime.replace(true));
    if nested {
        panic!(
            "cannot call `block_on` from inside a mini runtime: this thread is already running one \
             (in a task or in another `block_on`), and blocking it would stop every task on it; \
             `.await` the future instead, or call `block_on` from a thread of your own"
        );
    }
    RuntimeGuard {
        _current: enter(handle),
    }
}

impl Drop for RuntimeGuard {
    fn drop(&mut self) {
        let _ = CONTEXT.try_with(|context| context.in_runtime.set(false));
    }
}

/// Why [`Handle::try_current`](crate::runtime::Handle::try_current) found no runtime.
#[derive(Debug)]
pub struct TryCurrentError {
    thread_local_destroyed: bool,
}

impl TryCurrentError {
    fn no_context() -> Self {
        TryCurrentError {
            thread_local_destroyed: false,
        }
    }

    fn thread_local_destroyed() -> Self {
        TryCurrentError {
            thread_local_destroyed: true,
        }
    }

    /// Whether this thread is exiting and its thread-locals are gone.
    pub fn is_thread_local_destroyed(&self) -> bool {
        self.thread_local_destroyed
    }
}

impl fmt::Display for TryCurrentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.thread_local_destroyed {
            f.write_str("no mini runtime: this thread is exiting and its thread-local context is gone")
        } else {
            write!(f, "no mini runtime on this thread; this {OUTSIDE_RUNTIME}")
        }
    }
}

impl std::error::Error for TryCurrentError {}

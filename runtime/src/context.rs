//! The thread-local that tells `spawn`, `Handle::current` and `AsyncFd::new` which runtime they
//! belong to, and that catches a `block_on` nested inside a runtime.

use crate::runtime::TryCurrentError;
use crate::scheduler;
use std::cell::{Cell, RefCell};
use std::marker::PhantomData;

thread_local! {
    static CONTEXT: Context = const { Context { handle: RefCell::new(None), in_runtime: Cell::new(false) } };
}

struct Context {
    /// The runtime that `spawn` uses on this thread: set by `block_on` and `Runtime::enter`.
    handle: RefCell<Option<scheduler::Handle>>,
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
pub(crate) fn with_current<R>(f: impl FnOnce(&scheduler::Handle) -> R) -> Result<R, TryCurrentError> {
    match CONTEXT.try_with(|context| context.handle.borrow().clone()) {
        Ok(Some(handle)) => Ok(f(&handle)),
        Ok(None) => Err(TryCurrentError::no_context()),
        Err(_) => Err(TryCurrentError::thread_local_destroyed()),
    }
}

/// Makes `handle` the current runtime until dropped; then the previous one is current again.
/// Not `Send`: it must be dropped on the thread whose context it changed.
pub(crate) struct SetCurrentGuard {
    previous: Option<scheduler::Handle>,
    _not_send: PhantomData<*const ()>,
}

pub(crate) fn enter(handle: scheduler::Handle) -> SetCurrentGuard {
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

pub(crate) fn enter_runtime(handle: scheduler::Handle) -> RuntimeGuard {
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

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
    static CONTEXT: Context = const {
        Context { handle: RefCell::new(None), depth: Cell::new(0), in_runtime: Cell::new(false) }
    };
}

/// The thread's context. It has a destructor (it holds a runtime handle), so in a thread-local
/// destructor that runs after it (a `Runtime` kept in a user's `thread_local!`) it is gone:
/// every access here is `try_with`, and what needs it does without (entering is skipped,
/// `Handle::current` says why there is no runtime).
struct Context {
    /// The runtime that `spawn` uses on this thread: set by `block_on` and `Runtime::enter`.
    handle: RefCell<Option<Scheduler>>,
    /// How many `SetCurrentGuard`s are live: each knows its own depth, so that one dropped out
    /// of order is caught instead of leaving the wrong runtime current.
    depth: Cell<usize>,
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
/// Guards must be dropped in the reverse order of their creation (as tokio requires): dropping
/// one out of order panics. Not `Send`: it must be dropped on the thread whose context it
/// changed.
pub(crate) struct SetCurrentGuard {
    previous: Option<Scheduler>,
    /// The context's depth with this guard in it; `None` if the context was already destroyed
    /// (then nothing was entered, and nothing is restored).
    depth: Option<usize>,
    _not_send: PhantomData<*const ()>,
}

pub(crate) fn enter(handle: Scheduler) -> SetCurrentGuard {
    let entered = CONTEXT.try_with(|context| {
        let previous = context.handle.replace(Some(handle));
        let depth = context.depth.get() + 1;
        context.depth.set(depth);
        (previous, depth)
    });
    let (previous, depth) = match entered {
        Ok((previous, depth)) => (previous, Some(depth)),
        Err(_) => (None, None),
    };
    SetCurrentGuard {
        previous,
        depth,
        _not_send: PhantomData,
    }
}

impl Drop for SetCurrentGuard {
    fn drop(&mut self) {
        let Some(depth) = self.depth else { return };
        let restored = CONTEXT.try_with(|context| {
            if context.depth.get() != depth {
                return None;
            }
            context.depth.set(depth - 1);
            Some(context.handle.replace(self.previous.take()))
        });
        match restored {
            // The handle that was current is dropped outside the thread-local's borrow.
            Ok(Some(entered)) => drop(entered),
            Ok(None) if !std::thread::panicking() => panic!(
                "`EnterGuard`s dropped out of order: the guards of `Runtime::enter` and \
                 `Handle::enter` must be dropped in the reverse order of their creation (the \
                 last one entered first)"
            ),
            // Already unwinding from a panic, or the context is gone: leave it as it is.
            _ => {}
        }
    }
}

/// Marks this thread as driving a runtime until dropped.
pub(crate) struct RuntimeGuard {
    _current: SetCurrentGuard,
}

pub(crate) fn enter_runtime(handle: Scheduler) -> RuntimeGuard {
    // Without a context (a thread-local destructor), nesting cannot be told: let it run.
    let nested = CONTEXT.try_with(|context| context.in_runtime.replace(true));
    if nested == Ok(true) {
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

/// Runs `f` with this thread not counted as driving a runtime (the current runtime stays
/// current), so that `f` may call `block_on` (`block_in_place`'s closure), and counts it again
/// after, also on unwind.
pub(crate) fn exit_runtime<R>(f: impl FnOnce() -> R) -> R {
    struct Reenter(bool);
    impl Drop for Reenter {
        fn drop(&mut self) {
            let _ = CONTEXT.try_with(|context| context.in_runtime.set(self.0));
        }
    }
    let was_in_runtime = CONTEXT.try_with(|context| context.in_runtime.replace(false));
    let _reenter = Reenter(was_in_runtime.unwrap_or(false));
    f()
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

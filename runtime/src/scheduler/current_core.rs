//! The scheduler core this thread is running, if any: one slot for every flavor.
//!
//! A scheduler that runs tasks on a thread (the current-thread runtime inside `block_on`, each
//! worker of the multi-threaded one) keeps what only that thread touches in a *core*: its local
//! queue, its LIFO slot. While it runs, it puts the core here, so that a waker called on that
//! thread queues the task on the core without a lock, and a waker of another runtime's task does
//! not.
//!
//! The slot holds two addresses, the scheduler that owns the core and the core, and the index of
//! the worker the core belongs to (`runtime::worker_index`). A scheduler type names its core type
//! ([`RunsCore::Core`]) and always stores a core of that type, so the owner's address, checked
//! on every lookup, also says what the core is.

use std::cell::Cell;
use std::ptr;

/// A scheduler that runs tasks on a thread from a core that only that thread touches.
pub(crate) trait RunsCore {
    /// What the thread running the scheduler owns.
    type Core;
}

/// `(owner, core, worker)`: the addresses of the scheduler whose core this thread runs and of
/// the core, both null when it runs none, and the core's worker index.
type Entry = (*const (), *const (), usize);

const NONE: Entry = (ptr::null(), ptr::null(), 0);

thread_local! {
    /// Set only by `run`, for the length of its call, to a scheduler and a core that outlive it.
    static CURRENT: Cell<Entry> = const { Cell::new(NONE) };
}

/// Runs `f` with `core`, worker `worker`'s, as the current core of `owner` on this thread. The
/// previous entry is restored when `f` returns or unwinds (a runtime may be driven from inside
/// another one's task, on a thread of its own).
pub(crate) fn run<S: RunsCore, R>(owner: &S, core: &S::Core, worker: usize, f: impl FnOnce() -> R) -> R {
    struct Restore(Entry);
    impl Drop for Restore {
        fn drop(&mut self) {
            let _ = CURRENT.try_with(|current| current.set(self.0));
        }
    }
    let entry = (
        ptr::from_ref(owner).cast::<()>(),
        ptr::from_ref(core).cast::<()>(),
        worker,
    );
    let _restore = Restore(CURRENT.replace(entry));
    f()
}

/// Makes this thread run no core until the enclosing [`run`] returns (it restores what was
/// there before it): a multi-threaded worker that gave its core to another thread
/// (`block_in_place`) is no longer one.
pub(crate) fn leave() {
    let _ = CURRENT.try_with(|current| current.set(NONE));
}

/// Makes this thread run no core until the guard drops, then restores the entry: while
/// `block_in_place`'s closure blocks a worker that kept its core, the tasks it wakes or spawns
/// go where other threads can run them.
pub(crate) fn suspend() -> Suspended {
    Suspended(CURRENT.try_with(|current| current.replace(NONE)).unwrap_or(NONE))
}

/// The entry [`suspend`] set aside.
pub(crate) struct Suspended(Entry);

impl Drop for Suspended {
    fn drop(&mut self) {
        let _ = CURRENT.try_with(|current| current.set(self.0));
    }
}

/// Calls `f` with `owner`'s core if this thread is running it (inside [`run`] for it), else with
/// `None`.
#[inline]
pub(crate) fn with<S: RunsCore, R>(owner: &S, f: impl FnOnce(Option<&S::Core>) -> R) -> R {
    let (current_owner, core, _) = CURRENT.try_with(Cell::get).unwrap_or(NONE);
    if !ptr::eq(current_owner, ptr::from_ref(owner).cast::<()>()) {
        return f(None);
    }
    // SAFETY: the entry was set by `run` for a scheduler at `owner`'s address, whose call has not
    // returned (it restores the previous entry on the way out), so `core` is still borrowed
    // there and valid; we are on the thread it was set on. That scheduler is `owner` itself (two
    // live values of non-zero size do not share an address, and `owner` is live), so `core` is
    // an `S::Core`. Only shared references are handed out, as `run` holds one.
    f(Some(unsafe { &*core.cast::<S::Core>() }))
}

/// The address of the scheduler whose core this thread runs (null if none), and the core's
/// worker index.
#[inline]
pub(crate) fn running() -> (*const (), usize) {
    let (owner, _, worker) = CURRENT.try_with(Cell::get).unwrap_or(NONE);
    (owner, worker)
}

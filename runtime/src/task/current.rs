//! Which task this thread is polling: [`id`] and [`try_id`] for user code, and the pointer that
//! the harness sets around each poll.
//!
//! A thread-local pointer to the header, with a const initialiser and no destructor, so that
//! setting and restoring it around a poll is a few plain TLS loads and stores. Polls nest (a
//! `LocalSet` polls its tasks inside its own task's poll), so each poll restores the pointer it
//! found.

use super::identity::Id;
use super::raw::Header;
use std::cell::Cell;
use std::ptr::NonNull;

thread_local! {
    /// The header of the task whose poll runs on this thread, if any. The task is live for as
    /// long as the pointer is set: the harness sets it only while it polls the task.
    static CURRENT: Cell<Option<NonNull<Header>>> = const { Cell::new(None) };
}

/// The id of the task being polled on this thread.
///
/// ```
/// mini_runtime::Runtime::new().unwrap().block_on(async {
///     let task = mini_runtime::spawn(async { mini_runtime::task::id() });
///     assert_eq!(task.id(), task.await.unwrap());
/// });
/// ```
///
/// # Panics
/// Outside a task (in a `block_on` future, or on a thread that is not polling a task): use
/// [`try_id`] there.
#[track_caller]
pub fn id() -> Id {
    try_id().expect(
        "`mini::task::id` must be called from inside a task (a future passed to `spawn` and its \
         kin); a `block_on` future is not one: use `mini::task::try_id` where there may be none",
    )
}

/// The id of the task being polled on this thread, or `None` outside a task (a `block_on`
/// future is not a task).
pub fn try_id() -> Option<Id> {
    with_current(|header| header.identity.id)
}

/// Calls `f` with the header of the task being polled on this thread, if any.
pub(crate) fn with_current<R>(f: impl FnOnce(&Header) -> R) -> Option<R> {
    let header = CURRENT.try_with(Cell::get).ok().flatten()?;
    // SAFETY: `Polling` sets the pointer only for the duration of the task's poll, during which
    // the poller holds a reference to the task, so the header is live.
    Some(f(unsafe { header.as_ref() }))
}

/// Marks `header`'s task as the one being polled on this thread until dropped.
pub(super) struct Polling {
    previous: Option<NonNull<Header>>,
}

impl Polling {
    /// # Contract
    /// The caller polls the task of `header` (holding a reference to it) until the guard drops.
    #[inline]
    pub(super) fn enter(header: NonNull<Header>) -> Polling {
        Polling {
            previous: CURRENT.replace(Some(header)),
        }
    }
}

impl Drop for Polling {
    #[inline]
    fn drop(&mut self) {
        CURRENT.set(self.previous);
    }
}

//! Which task this thread is polling: [`id`] and [`try_id`] for user code.
//!
//! `Notified::run` records the task's header in the thread-local of `coop.rs`, next to the
//! poll's budget, so that one TLS access sets both around a poll.

use super::identity::Id;
use super::raw::Header;

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
    let header = crate::coop::current_task()?.cast::<Header>();
    // SAFETY: `Notified::run` sets the pointer only for the duration of the task's poll, during
    // which the poller holds a reference to the task, so the header is live.
    Some(f(unsafe { header.as_ref() }))
}

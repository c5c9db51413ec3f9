//! Which task this thread is polling: [`id`] and [`try_id`] for user code.
//!
//! `Notified::run` records the task's header in the thread-local of `coop.rs`, next to the
//! poll's budget, so that one TLS access sets both around a poll.

use super::identity::Id;
use super::raw::with_current;
use super::trace::Wait;

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

/// Records, in the task being polled on this thread (if any), that its poll waits on `wait`:
/// for mini's leaf futures, on their `Pending` path (see `trace.rs`).
#[inline]
pub(crate) fn waiting_on(wait: Wait) {
    with_current(|header| header.trace.record_wait(wait));
}

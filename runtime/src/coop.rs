//! Cooperative budget: how many I/O operations a task may complete in one poll before mini's own
//! futures make it yield.
//!
//! A connection whose socket is always ready (a fast client, a pipelined stream) would otherwise
//! loop inside one poll forever, starving every other task on its worker. The scheduler gives
//! each poll a budget of 128 (as tokio does); each ready readiness check spends one; once it is
//! spent, readiness checks return `Pending` after waking the task, which goes to the back of the
//! run queue. Outside a scheduled poll (a `block_on` future, a foreign executor) there is no
//! budget and nothing yields.

use std::cell::Cell;
use std::task::{Context, Poll};

/// Operations per poll, as in tokio.
const BUDGET: u8 = 128;

thread_local! {
    /// The budget left in the poll running on this thread; `None` when unconstrained.
    static LEFT: Cell<Option<u8>> = const { Cell::new(None) };
}

/// Runs `poll` (one task poll) with a fresh budget, restoring the previous one after.
pub(crate) fn budget<R>(poll: impl FnOnce() -> R) -> R {
    struct Restore(Option<u8>);
    impl Drop for Restore {
        fn drop(&mut self) {
            let _ = LEFT.try_with(|left| left.set(self.0));
        }
    }
    let _restore = LEFT.try_with(|left| left.replace(Some(BUDGET))).map(Restore);
    poll()
}

/// Whether the running task may do one more operation. If not, wakes it (so that it runs again
/// after the others) and returns `Pending`.
pub(crate) fn poll_proceed(cx: &mut Context<'_>) -> Poll<()> {
    match LEFT.try_with(Cell::get).ok().flatten() {
        Some(0) => {
            cx.waker().wake_by_ref();
            Poll::Pending
        }
        _ => Poll::Ready(()),
    }
}

/// Spends one unit: the operation `poll_proceed` allowed completed.
pub(crate) fn spend() {
    let _ = LEFT.try_with(|left| {
        if let Some(n) = left.get() {
            left.set(Some(n.saturating_sub(1)));
        }
    });
}

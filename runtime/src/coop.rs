//! Cooperative budget: how many I/O operations a task may complete in one poll before mini's own
//! futures make it yield.
//!
//! A connection whose socket is always ready (a fast client, a pipelined stream) would otherwise
//! loop inside one poll forever, starving every other task on its worker. The scheduler gives
//! each poll a budget of 128 (as tokio does); each readiness check spends one; once it is
//! spent, readiness checks return `Pending` after waking the task, which goes to the back of the
//! run queue. Every check spends, whether or not the fd turns out ready: a task that keeps
//! polling fds that are not ready returns `Pending` anyway. Outside a scheduled poll (a
//! `block_on` future, a foreign executor) there is no budget and nothing yields.

use std::cell::Cell;
use std::task::{Context, Poll};

/// Operations per poll, as in tokio.
const BUDGET: u8 = 128;
/// The budget outside a scheduled poll: unconstrained (never spent).
const UNCONSTRAINED: u8 = u8::MAX;

thread_local! {
    /// The budget left in the poll running on this thread, or `UNCONSTRAINED`. A plain byte
    /// with a const initialiser and no destructor: each access is one TLS load or store.
    static LEFT: Cell<u8> = const { Cell::new(UNCONSTRAINED) };
}

/// Runs `poll` (one task poll) with a fresh budget, restoring the previous one after (polls
/// nest: a `LocalSet` runs its tasks inside its own task's poll).
pub(crate) fn budget<R>(poll: impl FnOnce() -> R) -> R {
    struct Restore(u8);
    impl Drop for Restore {
        fn drop(&mut self) {
            LEFT.set(self.0);
        }
    }
    let _restore = Restore(LEFT.replace(BUDGET));
    poll()
}

/// Spends one unit for a readiness check of the running task. With the budget spent, wakes the
/// task (so that it runs again after the others) and returns `Pending` instead.
#[inline]
pub(crate) fn poll_proceed(cx: &mut Context<'_>) -> Poll<()> {
    match LEFT.get() {
        0 => {
            cx.waker().wake_by_ref();
            Poll::Pending
        }
        UNCONSTRAINED => Poll::Ready(()),
        left => {
            LEFT.set(left - 1);
            Poll::Ready(())
        }
    }
}

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
    with_budget(BUDGET, poll)
}

/// Runs `poll` with `left` as the budget, restoring the previous one after (also on unwind).
fn with_budget<R>(left: u8, poll: impl FnOnce() -> R) -> R {
    struct Restore(u8);
    impl Drop for Restore {
        fn drop(&mut self) {
            LEFT.set(self.0);
        }
    }
    let _restore = Restore(LEFT.replace(left));
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

/// Spends one unit of the running task's budget, yielding if it is spent (as a readiness check
/// of mini's I/O does), so that a loop with no I/O of mini's in it still lets the other tasks
/// run. Outside a scheduled poll (no budget) it completes at once.
///
/// ```
/// mini_runtime::Runtime::new().unwrap().block_on(async {
///     let sum = mini_runtime::spawn(async {
///         let mut sum = 0u64;
///         for i in 0..10_000u64 {
///             mini_runtime::task::consume_budget().await; // yields every 128 rounds
///             sum += i;
///         }
///         sum
///     });
///     assert_eq!(sum.await.unwrap(), 49_995_000);
/// });
/// ```
pub async fn consume_budget() {
    let mut proceeded = false;
    std::future::poll_fn(move |cx| {
        if proceeded {
            return Poll::Ready(());
        }
        let poll = poll_proceed(cx);
        proceeded = poll.is_ready();
        poll
    })
    .await
}

/// Runs `future` with no cooperative budget: mini's I/O and [`consume_budget`] inside it never
/// make it yield. For a future that must not be interrupted (it can then starve the other tasks
/// of its thread: use with care).
pub fn unconstrained<F: std::future::Future>(future: F) -> Unconstrained<F> {
    Unconstrained { future }
}

pin_project_lite::pin_project! {
    /// The future of [`unconstrained`].
    #[must_use = "futures do nothing unless polled"]
    pub struct Unconstrained<F> {
        #[pin]
        future: F,
    }
}

impl<F: std::future::Future> std::future::Future for Unconstrained<F> {
    type Output = F::Output;

    fn poll(self: std::pin::Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let future = self.project().future;
        with_budget(UNCONSTRAINED, || future.poll(cx))
    }
}

impl<F> std::fmt::Debug for Unconstrained<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Unconstrained").finish_non_exhaustive()
    }
}

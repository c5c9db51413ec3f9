//! Cooperative budget: how many I/O operations a task may complete in one poll before mini's own
//! futures make it yield.
//!
//! A connection whose socket is always ready (a fast client, a pipelined stream) would otherwise
//! loop inside one poll forever, starving every other task on its worker. The scheduler gives
//! each poll a budget of 128 (as tokio does); each readiness check spends one; once it is
//! spent, readiness checks return `Pending` after deferring the task (`defer.rs`: it runs again
//! once the scheduler has looked at the reactor, behind the tasks that finds ready, as in tokio).
//! Every check spends, whether or not the fd turns out ready: a task that keeps
//! polling fds that are not ready returns `Pending` anyway. Outside a scheduled poll (a
//! `block_on` future, a foreign executor) there is no budget and nothing yields.

use std::cell::Cell;
use std::marker::PhantomData;
use std::ptr;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::task::{Context, Poll, Waker};

/// Operations per poll, as in tokio.
const BUDGET: u8 = 128;
/// The budget outside a scheduled poll: unconstrained (never spent).
const UNCONSTRAINED: u8 = u8::MAX;

thread_local! {
    /// The poll running on this thread: its budget and its task. Plain cells with a const
    /// initialiser and no destructor, so that each access is one TLS load or store, and setting
    /// both around a poll costs little more than setting one.
    static RUNNING: Running = const {
        Running { left: Cell::new(UNCONSTRAINED), task: Cell::new(None) }
    };
    /// Where this thread counts the polls its spent budget made yield: the counter of the
    /// worker whose thread this is (`count_forced_yields_in`).
    static FORCED_YIELDS: Cell<Option<NonNull<AtomicU64>>> = const { Cell::new(None) };
}

struct Running {
    /// The budget left, or `UNCONSTRAINED`.
    left: Cell<u8>,
    /// The header of the task being polled (`task/current.rs` reads it), if any.
    task: Cell<Option<NonNull<()>>>,
}

/// Counts the forced yields of the polls on this thread in `counter` (a counter only this
/// thread writes) until dropped; a worker sets it for as long as it runs, so that a forced
/// yield, a cold path, costs the hot path nothing.
pub(crate) fn count_forced_yields_in(counter: &AtomicU64) -> CountForcedYields<'_> {
    CountForcedYields {
        previous: FORCED_YIELDS.replace(Some(NonNull::from(counter))),
        _counter: PhantomData,
    }
}

/// Restores the previous counter of forced yields when dropped.
pub(crate) struct CountForcedYields<'a> {
    previous: Option<NonNull<AtomicU64>>,
    _counter: PhantomData<&'a AtomicU64>,
}

impl Drop for CountForcedYields<'_> {
    fn drop(&mut self) {
        FORCED_YIELDS.set(self.previous);
    }
}

/// Stops counting this thread's forced yields (until the guard of `count_forced_yields_in`
/// drops): its worker is now another thread's (`block_in_place`), which counts its own.
pub(crate) fn stop_counting_forced_yields() {
    FORCED_YIELDS.set(None);
}

/// Runs `f` with no budget (as outside any poll), restoring the running poll's budget after:
/// `block_in_place`'s closure may `block_on` futures that do mini's I/O.
pub(crate) fn unbudgeted<R>(f: impl FnOnce() -> R) -> R {
    with_budget(UNCONSTRAINED, f)
}

/// A readiness check refused for want of budget (counted, as tokio counts each one). The task is
/// deferred as a yielding one is (`defer.rs`, as in tokio): it runs again once the reactor has
/// been looked at, so an always-ready socket does not keep other sockets waiting.
#[cold]
#[inline(never)]
fn forced_yield(cx: &mut Context<'_>) -> Poll<()> {
    give_up(cx.waker(), crate::defer::defer_once);
    if let Some(counter) = FORCED_YIELDS.get() {
        // SAFETY: the guard that stored the pointer borrows the counter, and is still alive:
        // it restores the previous pointer when dropped. Only this thread writes the counter.
        let counter = unsafe { counter.as_ref() };
        counter.store(counter.load(Relaxed) + 1, Relaxed);
    }
    Poll::Pending
}

/// Gives up the running task's turn: defers `waker` (`defer.rs`) if it is that task's own, so
/// that the task runs again after the scheduler's next look at the reactor; wakes any other
/// waker at once. A future polled by an executor nested in the task (a `block_on` inside a
/// poll) has its executor's waker, and that executor waits for it on this thread, where the
/// scheduler cannot turn the reactor until the poll returns.
#[inline]
pub(crate) fn give_up_turn(waker: &Waker) {
    give_up(waker, crate::defer::defer);
}

/// `give_up_turn`, deferring the running task's own waker with `defer`.
#[inline(always)]
fn give_up(waker: &Waker, defer: impl FnOnce(&Waker)) {
    // A task's waker points at its header, as `poll_task` records the running one.
    let is_running_task = current_task().is_some_and(|task| ptr::eq(waker.data(), task.as_ptr()));
    if is_running_task {
        defer(waker);
    } else {
        waker.wake_by_ref();
    }
}

/// Runs `poll`, the poll of the task whose header is `task`, with a fresh budget (or none, for
/// a blocking job: `budgeted` false), restoring what was there after, also on unwind (polls
/// nest: a `LocalSet` runs its tasks inside its own task's poll).
#[inline]
pub(crate) fn poll_task<R>(task: NonNull<()>, budgeted: bool, poll: impl FnOnce() -> R) -> R {
    struct Restore(u8, Option<NonNull<()>>);
    impl Drop for Restore {
        #[inline]
        fn drop(&mut self) {
            RUNNING.with(|running| {
                running.left.set(self.0);
                running.task.set(self.1);
            });
        }
    }
    let left = if budgeted { BUDGET } else { UNCONSTRAINED };
    let _restore = RUNNING.with(|running| Restore(running.left.replace(left), running.task.replace(Some(task))));
    poll()
}

/// The header of the task being polled on this thread (see `poll_task`), if any.
#[inline]
pub(crate) fn current_task() -> Option<NonNull<()>> {
    RUNNING.with(|running| running.task.get())
}

/// Runs `poll` with `left` as the budget, restoring the previous one after (also on unwind).
fn with_budget<R>(left: u8, poll: impl FnOnce() -> R) -> R {
    struct Restore(u8);
    impl Drop for Restore {
        fn drop(&mut self) {
            RUNNING.with(|running| running.left.set(self.0));
        }
    }
    let _restore = Restore(RUNNING.with(|running| running.left.replace(left)));
    poll()
}

/// Spends one unit for a readiness check of the running task. With the budget spent, gives up
/// the task's turn (`give_up_turn`: it runs again after the next look at the reactor) and
/// returns `Pending` instead.
#[inline]
pub(crate) fn poll_proceed(cx: &mut Context<'_>) -> Poll<()> {
    RUNNING.with(|running| match running.left.get() {
        0 => forced_yield(cx),
        UNCONSTRAINED => Poll::Ready(()),
        left => {
            running.left.set(left - 1);
            Poll::Ready(())
        }
    })
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

//! `Sleep`: a future that completes at a deadline, backed by an entry in the runtime's wheel.

use super::Instant;
use crate::scheduler;
use crate::util::slab::Key;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

/// Waits until `duration` has elapsed on the runtime's clock.
///
/// ```
/// use std::time::Duration;
/// mini_runtime::Runtime::new().unwrap().block_on(async {
///     let start = mini_runtime::time::Instant::now();
///     mini_runtime::time::sleep(Duration::from_millis(10)).await;
///     assert!(start.elapsed() >= Duration::from_millis(10));
/// });
/// ```
///
/// # Panics
/// Outside a mini runtime.
#[track_caller]
pub fn sleep(duration: Duration) -> Sleep {
    Sleep::after(duration)
}

/// Waits until `deadline` on the runtime's clock.
///
/// # Panics
/// Outside a mini runtime.
#[track_caller]
pub fn sleep_until(deadline: Instant) -> Sleep {
    Sleep::new(deadline)
}

/// The future of [`sleep`] and [`sleep_until`].
///
/// It arms a timer on its first poll (a deadline already past completes at once, without one)
/// and disarms it when dropped: both O(1), with no allocation of its own. It never completes
/// before its deadline. `Sleep` is `Unpin`.
pub struct Sleep {
    handle: scheduler::Handle,
    deadline: Instant,
    /// The armed timer's entry in the wheel.
    entry: Option<Key>,
}

impl Sleep {
    #[track_caller]
    fn new(deadline: Instant) -> Sleep {
        Sleep {
            handle: current_handle(),
            deadline,
            entry: None,
        }
    }

    /// A sleep of `duration` from now on the runtime's clock (one look at the thread's context).
    #[track_caller]
    pub(crate) fn after(duration: Duration) -> Sleep {
        let handle = current_handle();
        let deadline = Instant::from_std(handle.timers().now()).far_add(duration);
        Sleep {
            handle,
            deadline,
            entry: None,
        }
    }

    /// When this sleep completes.
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// Whether the deadline has passed.
    pub fn is_elapsed(&self) -> bool {
        self.now() >= self.deadline
    }

    /// The time on the clock of the runtime this sleep belongs to.
    pub(crate) fn now(&self) -> Instant {
        Instant::from_std(self.handle.timers().now())
    }

    /// Moves the deadline, earlier or later, even after the sleep completed; the timer is moved in
    /// place (O(1)). The task is woken at the new deadline if it polls again.
    pub fn reset(&mut self, deadline: Instant) {
        self.deadline = deadline;
        if let Some(entry) = self.entry {
            let timers = self.handle.timers();
            let tick = timers.deadline_tick(deadline.into_std());
            timers.wheel.lock().reset(entry, tick);
            self.handle.timer_armed(tick);
        }
    }
}

#[track_caller]
fn current_handle() -> scheduler::Handle {
    crate::context::with_current(scheduler::Handle::clone).unwrap_or_else(|_| {
        panic!(
            "a mini timer (`sleep`, `timeout`, `interval`) {}",
            crate::context::OUTSIDE_RUNTIME
        )
    })
}

impl Future for Sleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = &mut *self;
        let timers = this.handle.timers();
        timers.check_running();
        let now = timers.now();
        let due = now >= this.deadline.into_std();
        let Some(entry) = this.entry else {
            if due {
                return Poll::Ready(());
            }
            let (now_tick, tick) = (timers.elapsed_tick(now), timers.deadline_tick(this.deadline.into_std()));
            this.entry = Some(timers.wheel.lock().insert(now_tick, tick, cx.waker().clone()));
            this.handle.timer_armed(tick);
            return Poll::Pending;
        };
        let mut wheel = timers.wheel.lock();
        let slot = wheel
            .get_mut(entry)
            .expect("a sleep's entry lives until the sleep drops it");
        if slot.fired {
            return Poll::Ready(());
        }
        if due {
            // Reset to a deadline already past: done now, not at the next turn of the wheel.
            let removed = wheel.remove(entry);
            drop(wheel);
            this.entry = None;
            drop(removed);
            return Poll::Ready(());
        }
        let replaced = match &slot.waker {
            Some(waker) if waker.will_wake(cx.waker()) => None,
            _ => slot.waker.replace(cx.waker().clone()),
        };
        drop(wheel);
        // Dropped outside the lock: a foreign waker's `Drop` may touch this runtime's timers.
        drop(replaced);
        Poll::Pending
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        if let Some(entry) = self.entry {
            let removed = self.handle.timers().wheel.lock().remove(entry);
            drop(removed);
        }
    }
}

impl fmt::Debug for Sleep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sleep").field("deadline", &self.deadline).finish()
    }
}

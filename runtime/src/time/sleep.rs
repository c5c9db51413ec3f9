//! `Sleep`: a future that completes at a deadline, backed by an entry in the runtime's wheel.

use super::timers::{TimerDriver, TimerEntry};
use super::Instant;
use crate::context;
use crate::scheduler;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
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
    timer: TimerEntry,
    deadline: Instant,
}

impl Sleep {
    #[track_caller]
    fn new(deadline: Instant) -> Sleep {
        Sleep {
            timer: TimerEntry::new(current_timer_driver()),
            deadline,
        }
    }

    /// A sleep of `duration` from now on the runtime's clock (one look at the thread's context).
    #[track_caller]
    pub(crate) fn after(duration: Duration) -> Sleep {
        let timer = TimerEntry::new(current_timer_driver());
        let deadline = Instant::from_std(timer.timers().now()).far_add(duration);
        Sleep { timer, deadline }
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
        Instant::from_std(self.timer.timers().now())
    }

    /// Moves the deadline, earlier or later, even after the sleep completed; the timer is moved in
    /// place (O(1)). The task is woken at the new deadline if it polls again.
    pub fn reset(&mut self, deadline: Instant) {
        self.deadline = deadline;
        self.timer.reset(deadline.into_std());
    }
}

#[track_caller]
fn current_timer_driver() -> Arc<dyn TimerDriver> {
    context::with_current(scheduler::Scheduler::timer_driver).unwrap_or_else(|_| {
        panic!(
            "a mini timer (`sleep`, `timeout`, `interval`) {}",
            context::OUTSIDE_RUNTIME
        )
    })
}

impl Future for Sleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = &mut *self;
        this.timer.poll_elapsed(this.deadline.into_std(), cx.waker())
    }
}

impl fmt::Debug for Sleep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sleep").field("deadline", &self.deadline).finish()
    }
}

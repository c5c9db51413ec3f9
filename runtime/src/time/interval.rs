//! `Interval`: ticks at a fixed period, with a choice of what to do about missed ticks.

use super::{sleep_until, Instant, Sleep};
use futures_core::Stream;
use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use std::time::Duration;

/// Ticks every `period`, the first tick at once.
///
/// ```
/// use std::time::Duration;
/// mini_runtime::Runtime::new().unwrap().block_on(async {
///     let mut interval = mini_runtime::time::interval(Duration::from_millis(2));
///     interval.tick().await; // at once
///     interval.tick().await; // 2 ms later
/// });
/// ```
///
/// # Panics
/// If `period` is zero, or outside a mini runtime.
#[track_caller]
pub fn interval(period: Duration) -> Interval {
    interval_at(Instant::now(), period)
}

/// Ticks every `period`, the first tick at `start`.
///
/// # Panics
/// If `period` is zero, or outside a mini runtime.
#[track_caller]
pub fn interval_at(start: Instant, period: Duration) -> Interval {
    assert!(!period.is_zero(), "`interval` needs a period above zero");
    Interval {
        sleep: sleep_until(start),
        period,
        missed_tick_behavior: MissedTickBehavior::Burst,
    }
}

/// What an [`Interval`] does when ticks were missed (the task was busy past a tick).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MissedTickBehavior {
    /// Fire the missed ticks as fast as possible, then keep the original schedule.
    #[default]
    Burst,
    /// Tick once now, and schedule the next ticks a period after this one.
    Delay,
    /// Tick once now, and skip to the next tick of the original schedule.
    Skip,
}

impl MissedTickBehavior {
    fn next_tick(self, scheduled: Instant, now: Instant, period: Duration) -> Instant {
        match self {
            MissedTickBehavior::Burst => scheduled.far_add(period),
            MissedTickBehavior::Delay => now.far_add(period),
            MissedTickBehavior::Skip => {
                let behind = (now - scheduled).as_nanos() % period.as_nanos();
                now.far_add(period - Duration::from_nanos(behind as u64))
            }
        }
    }
}

/// A timer that ticks periodically; see [`interval`]. Also a [`Stream`] of tick instants.
#[derive(Debug)]
pub struct Interval {
    sleep: Sleep,
    period: Duration,
    missed_tick_behavior: MissedTickBehavior,
}

impl Interval {
    /// Waits for the next tick and returns when it was scheduled.
    pub async fn tick(&mut self) -> Instant {
        poll_fn(|cx| self.poll_tick(cx)).await
    }

    /// Polls for the next tick.
    pub fn poll_tick(&mut self, cx: &mut Context<'_>) -> Poll<Instant> {
        ready!(Pin::new(&mut self.sleep).poll(cx));
        let scheduled = self.sleep.deadline();
        let now = self.sleep.now();
        // A tick counts as missed only when we are clearly behind, not for ordinary lateness.
        let next = if now > scheduled.far_add(Duration::from_millis(5)) {
            self.missed_tick_behavior.next_tick(scheduled, now, self.period)
        } else {
            scheduled.far_add(self.period)
        };
        self.sleep.reset(next);
        Poll::Ready(scheduled)
    }

    /// Restarts the schedule: the next tick is a period from now.
    pub fn reset(&mut self) {
        self.sleep.reset(self.sleep.now().far_add(self.period));
    }

    /// Restarts the schedule with a tick at once (the ticks after it a period apart).
    pub fn reset_immediately(&mut self) {
        self.sleep.reset(self.sleep.now());
    }

    /// Restarts the schedule with the next tick `after` from now.
    pub fn reset_after(&mut self, after: Duration) {
        self.sleep.reset(self.sleep.now().far_add(after));
    }

    /// Restarts the schedule with the next tick at `deadline`.
    ///
    /// ```
    /// use std::time::Duration;
    /// use mini_runtime::time::{interval, Instant};
    /// let rt = mini_runtime::runtime::Builder::new_current_thread().start_paused(true).build().unwrap();
    /// rt.block_on(async {
    ///     let mut ticks = interval(Duration::from_secs(10));
    ///     let start = ticks.tick().await; // the first tick is at once
    ///     ticks.reset_at(start + Duration::from_secs(3));
    ///     assert_eq!(ticks.tick().await, start + Duration::from_secs(3));
    ///     assert_eq!(ticks.tick().await, start + Duration::from_secs(13));
    ///     ticks.reset_immediately();
    ///     let now = Instant::now();
    ///     assert_eq!(ticks.tick().await, now);
    ///     ticks.reset_after(Duration::from_secs(1));
    ///     assert_eq!(ticks.tick().await, now + Duration::from_secs(1));
    /// });
    /// ```
    pub fn reset_at(&mut self, deadline: Instant) {
        self.sleep.reset(deadline);
    }

    /// The period.
    pub fn period(&self) -> Duration {
        self.period
    }

    /// What happens to missed ticks.
    pub fn missed_tick_behavior(&self) -> MissedTickBehavior {
        self.missed_tick_behavior
    }

    /// Chooses what happens to missed ticks.
    pub fn set_missed_tick_behavior(&mut self, behavior: MissedTickBehavior) {
        self.missed_tick_behavior = behavior;
    }
}

impl Stream for Interval {
    type Item = Instant;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Instant>> {
        self.get_mut().poll_tick(cx).map(Some)
    }
}

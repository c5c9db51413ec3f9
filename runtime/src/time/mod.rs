//! Time: sleeps, timeouts and intervals on the runtime's timing wheel, and a clock that tests can
//! pause.
//!
//! Timers live in a hierarchical wheel (`wheel.rs`) of 100 µs ticks: arming, resetting and
//! cancelling cost O(1) and no allocation of their own. A timer never fires early: deadlines are
//! rounded up to the next tick, and the runtime parks in `epoll_pwait2` (nanosecond timeout;
//! `epoll_wait`, rounded up to the millisecond, where the kernel lacks it) until the next tick is
//! due, so timers fire within a few hundred microseconds of their deadline.
//!
//! With time paused ([`pause`], or `#[mini::test(start_paused = true)]`), the clock stands still
//! until [`advance`]d, and whenever every task is idle it jumps straight to the next timer: a test
//! of a 30-second timeout runs in microseconds and gives the same result every time.

mod instant;
mod interval;
#[cfg(all(test, loom))]
mod loom_models;
mod sleep;
mod timeout;
pub(crate) mod timers;
mod wheel;

pub use instant::Instant;
pub use interval::{interval, interval_at, Interval, MissedTickBehavior};
pub use sleep::{sleep, sleep_until, Sleep};
pub use timeout::{timeout, timeout_at, Elapsed, Timeout};

use crate::context;
use std::time::Duration;

#[track_caller]
fn with_timers<R>(what: &str, f: impl FnOnce(&timers::Timers) -> R) -> R {
    context::with_current(|scheduler| f(&scheduler.drivers().timers))
        .unwrap_or_else(|_| panic!("`{what}` {}", context::OUTSIDE_RUNTIME))
}

/// Pauses the current runtime's clock: time stands still except for [`advance`], and when every
/// task is idle the clock jumps to the next timer.
///
/// ```
/// use std::time::Duration;
/// let rt = mini_runtime::runtime::Builder::new_current_thread().build().unwrap();
/// rt.block_on(async {
///     mini_runtime::time::pause();
///     let start = std::time::Instant::now();
///     mini_runtime::time::sleep(Duration::from_secs(3600)).await; // an hour, virtually
///     assert!(start.elapsed() < Duration::from_secs(1));
/// });
/// ```
///
/// # Panics
/// Outside a mini runtime, or on one with worker threads (multi-threaded or thread-per-core):
/// with tasks running on several threads
/// there is no moment when "every task is idle" is known, so paused time needs the
/// current-thread flavor.
#[track_caller]
pub fn pause() {
    let paused = context::with_current(|scheduler| {
        let supported = scheduler.supports_paused_time();
        if supported {
            scheduler.drivers().timers.pause();
        }
        supported
    });
    match paused {
        Ok(true) => {}
        Ok(false) => panic!(
            "`pause` needs a current-thread mini runtime (`Builder::new_current_thread`, or \
             `#[mini::test]`, whose default flavor is current-thread)"
        ),
        Err(_) => panic!("`pause` {}", context::OUTSIDE_RUNTIME),
    }
}

/// Lets the current runtime's clock run again, from where it was paused (and advanced) to.
///
/// # Panics
/// Outside a mini runtime, or if time is not paused.
#[track_caller]
pub fn resume() {
    with_timers("resume", timers::Timers::resume)
}

/// Moves the paused clock forward by `duration`, fires the timers that became due, and lets the
/// tasks they woke run.
///
/// # Panics
/// Outside a mini runtime, or if time is not paused.
pub async fn advance(duration: Duration) {
    with_timers("advance", |timers| timers.advance(duration));
    crate::task::yield_now().await;
}

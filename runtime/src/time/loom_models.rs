//! loom models of the timers shared across threads: a sleep cancelled, re-armed or reset on one
//! thread while another fires the wheel, and a timer armed while the driver announces how long
//! it will block. The paused clock keeps time itself out of the models.
//!
//! Run with `RUSTFLAGS="--cfg loom" cargo test -p mini-runtime --release --lib loom`.

use super::timers::{TimerDriver, TimerEntry, Timers};
use crate::util::flag_waker::flag_waker;
use loom::sync::atomic::{AtomicBool, AtomicU64};
use loom::sync::Arc;
use loom::thread;
use std::sync::atomic::Ordering::SeqCst;
use std::task::Waker;
use std::time::{Duration, Instant};

/// The length of a wheel tick (`timers.rs`): advancing by it makes tick 1 due.
const ONE_TICK: Duration = Duration::from_micros(100);

/// A scheduler as the timers see it: it records whether arming a timer would have woken the
/// thread parked in the driver, given the tick that thread announced (0: nobody parked).
struct TestDriver {
    timers: Timers,
    /// Tick 0: where the paused clock started.
    origin: Instant,
    announced_wake_tick: AtomicU64,
    woke_parked: AtomicBool,
}

impl TimerDriver for TestDriver {
    fn timers(&self) -> &Timers {
        &self.timers
    }

    fn timer_armed(&self, tick: u64) {
        if Timers::is_before_announced(tick, &self.announced_wake_tick) {
            self.woke_parked.store(true, SeqCst);
        }
    }
}

/// Timers with a paused clock at tick 0 (a `std` `Arc`: what a `TimerEntry` holds).
fn paused_driver() -> std::sync::Arc<TestDriver> {
    let timers = Timers::new(true);
    std::sync::Arc::new(TestDriver {
        origin: timers.now(),
        timers,
        announced_wake_tick: AtomicU64::new(0),
        woke_parked: AtomicBool::new(false),
    })
}

/// The instant of `tick`.
fn at_tick(driver: &TestDriver, tick: u32) -> Instant {
    driver.origin + ONE_TICK * tick
}

/// A timer armed for `tick` (its first poll), waking `waker`.
fn armed(driver: &std::sync::Arc<TestDriver>, tick: u32, waker: &Waker) -> TimerEntry {
    let mut timer = TimerEntry::new(driver.clone());
    assert!(timer.poll_elapsed(at_tick(driver, tick), waker).is_pending());
    timer
}

/// A thread that advances the paused clock by one tick and fires what is due, as the driver
/// does on another worker.
fn spawn_driver(driver: &std::sync::Arc<TestDriver>) -> thread::JoinHandle<()> {
    let driver = driver.clone();
    thread::spawn(move || driver.timers.advance(ONE_TICK))
}

#[test]
fn loom_cancel_and_rearm_racing_the_firing_neither_loses_nor_misfires() {
    crate::loom::model(|| {
        let driver = paused_driver();
        let first_woken = Arc::new(AtomicBool::new(false));
        let first = armed(&driver, 1, &flag_waker(first_woken.clone()));
        let firing = spawn_driver(&driver);
        // The owner drops its sleep (cancel) and arms a new one, due later, in the freed slot.
        drop(first);
        let second_woken = Arc::new(AtomicBool::new(false));
        let second = armed(&driver, 2, &flag_waker(second_woken.clone()));
        firing.join().unwrap();
        let (fired, _) = second.state().expect("the new timer is armed");
        assert!(!fired, "a timer due at tick 2 fired at tick 1");
        assert!(!second_woken.load(SeqCst), "the new timer's waker was woken early");
        assert_eq!(driver.timers.armed().0, 1, "the cancelled timer is gone");
        drop(second);
        assert_eq!(driver.timers.armed().0, 0);
    });
}

#[test]
fn loom_reset_racing_the_firing_keeps_the_timer_armed_with_its_waker_or_wakes_the_task() {
    crate::loom::model(|| {
        let driver = paused_driver();
        let woken = Arc::new(AtomicBool::new(false));
        let mut timer = armed(&driver, 1, &flag_waker(woken.clone()));
        let firing = spawn_driver(&driver);
        // The owner moves its deadline later while the driver fires tick 1.
        timer.reset(at_tick(&driver, 3));
        firing.join().unwrap();
        let (fired, waker_kept) = timer.state().expect("the sleep still owns its entry");
        // Either way the timer is armed at tick 3 (a reset re-arms a fired timer) ...
        assert!(!fired);
        assert_eq!(driver.timers.armed(), (1, Some(3)));
        // ... and exactly one of: the reset came first and the entry still holds the waker, or
        // the driver fired tick 1 first and woke the task, which polls again and stores its
        // waker anew. Neither would be a lost wake; both a double one.
        assert!(
            waker_kept != woken.load(SeqCst),
            "waker kept: {waker_kept}, task woken: {}",
            woken.load(SeqCst)
        );
    });
}

#[test]
fn loom_a_timer_armed_while_the_driver_parks_is_seen_or_wakes_it() {
    crate::loom::model(|| {
        let driver = paused_driver();
        let arming = {
            let driver = driver.clone();
            thread::spawn(move || armed(&driver, 5, &flag_waker(Arc::new(AtomicBool::new(false)))))
        };
        let timeout = driver.timers.park_timeout_announced(&driver.announced_wake_tick);
        let timer = arming.join().unwrap();
        assert!(
            timeout.is_some() || driver.woke_parked.load(SeqCst),
            "the driver blocks without a timeout and nobody wakes it for the new timer"
        );
        drop(timer);
    });
}

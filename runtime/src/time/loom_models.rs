//! loom models of the timers shared across threads: a sleep cancelled, re-armed or reset on one
//! thread while another fires the wheel, and a timer armed while the driver announces how long
//! it will block. The paused clock keeps time itself out of the models.
//!
//! Run with `RUSTFLAGS="--cfg loom" cargo test -p mini-runtime --release --lib loom`.

use super::timers::Timers;
use crate::util::flag_waker::flag_waker;
use loom::sync::atomic::{AtomicBool, AtomicU64};
use loom::sync::Arc;
use loom::thread;
use std::sync::atomic::Ordering::SeqCst;
use std::time::Duration;

/// The length of a wheel tick (`timers.rs`): advancing by it makes tick 1 due.
const ONE_TICK: Duration = Duration::from_micros(100);

/// A paused clock at tick 0 and a thread that advances it by one tick and fires what is due,
/// as the driver does on another worker.
fn paused_timers_and_driver() -> (Arc<Timers>, impl FnOnce() -> thread::JoinHandle<()>) {
    let timers = Arc::new(Timers::new(true));
    let driver = {
        let timers = timers.clone();
        move || thread::spawn(move || timers.advance(ONE_TICK))
    };
    (timers, driver)
}

#[test]
fn loom_cancel_and_rearm_racing_the_firing_neither_loses_nor_misfires() {
    loom::model(|| {
        let (timers, driver) = paused_timers_and_driver();
        let first_woken = Arc::new(AtomicBool::new(false));
        let first = timers.wheel.lock().insert(0, 1, flag_waker(first_woken.clone()));
        let driver = driver();
        // The owner drops its sleep (cancel) and arms a new one, due later, in the freed slot.
        drop(timers.wheel.lock().remove(first));
        let second_woken = Arc::new(AtomicBool::new(false));
        let second = timers.wheel.lock().insert(0, 2, flag_waker(second_woken.clone()));
        driver.join().unwrap();
        let mut wheel = timers.wheel.lock();
        let entry = wheel.get_mut(second).expect("the new timer is armed");
        assert!(!entry.fired, "a timer due at tick 2 fired at tick 1");
        assert!(!second_woken.load(SeqCst), "the new timer's waker was woken early");
        assert!(
            wheel.get_mut(first).is_none(),
            "the cancelled timer's key finds nothing"
        );
        drop(wheel.remove(second));
        assert_eq!(wheel.len(), 0);
    });
}

#[test]
fn loom_reset_racing_the_firing_keeps_the_timer_armed_with_its_waker_or_wakes_the_task() {
    loom::model(|| {
        let (timers, driver) = paused_timers_and_driver();
        let woken = Arc::new(AtomicBool::new(false));
        let key = timers.wheel.lock().insert(0, 1, flag_waker(woken.clone()));
        let driver = driver();
        // The owner moves its deadline later while the driver fires tick 1.
        timers.wheel.lock().reset(key, 3);
        driver.join().unwrap();
        let mut wheel = timers.wheel.lock();
        let entry = wheel.get_mut(key).expect("the sleep still owns its entry");
        let (fired, waker_kept) = (entry.fired, entry.waker.is_some());
        // Either way the timer is armed at tick 3 (a reset re-arms a fired timer) ...
        assert!(!fired);
        assert_eq!((wheel.len(), wheel.next_expiration()), (1, Some(3)));
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
    loom::model(|| {
        let timers = Arc::new(Timers::new(true));
        // What the worker in `epoll_wait` announced; 0 while nobody is there.
        let wake_tick = Arc::new(AtomicU64::new(0));
        let arming = {
            let (timers, wake_tick) = (timers.clone(), wake_tick.clone());
            thread::spawn(move || {
                let key = timers
                    .wheel
                    .lock()
                    .insert(0, 5, flag_waker(Arc::new(AtomicBool::new(false))));
                let must_wake_driver = Timers::is_before_announced(5, &wake_tick);
                (key, must_wake_driver)
            })
        };
        let timeout = timers.park_timeout_announced(&wake_tick);
        let (_key, must_wake_driver) = arming.join().unwrap();
        assert!(
            timeout.is_some() || must_wake_driver,
            "the driver blocks without a timeout and nobody wakes it for the new timer"
        );
    });
}

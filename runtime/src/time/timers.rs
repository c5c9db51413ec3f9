//! The runtime's timers: the wheel behind a lock, the clock (real or paused), and the
//! conversion between instants and 100 µs ticks. Shared by the scheduler (which parks until the
//! next tick and then fires what is due) and by every `Sleep` (which arms, resets and cancels).
//!
//! One wheel per runtime behind a mutex. The multi-threaded scheduler will share it the same
//! way: arming and cancelling hold the lock for a few list operations, and only the thread that
//! parks in `epoll_wait` advances it.

use super::wheel::{Wheel, MAX_TICKS};
use crate::reactor::wake_all;
use parking_lot::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// The length of one wheel tick.
const TICK: Duration = Duration::from_micros(100);
const TICK_NANOS: u128 = TICK.as_nanos();

pub(crate) struct Timers {
    /// Tick 0.
    origin: Instant,
    pub(crate) wheel: Mutex<Wheel>,
    clock: Clock,
}

/// Real time, or time paused (and advanced by hand) for tests.
struct Clock {
    /// Whether `state.frozen` is set; checked without the lock on every `now`.
    paused: AtomicBool,
    state: Mutex<ClockState>,
}

struct ClockState {
    /// The paused time, while paused.
    frozen: Option<Instant>,
    /// How far the clock runs ahead of `Instant::now()` after a pause was advanced and resumed.
    offset: Duration,
}

impl Timers {
    pub(crate) fn new(start_paused: bool) -> Timers {
        let origin = Instant::now();
        Timers {
            origin,
            wheel: Mutex::new(Wheel::new()),
            clock: Clock {
                paused: AtomicBool::new(start_paused),
                state: Mutex::new(ClockState {
                    frozen: start_paused.then_some(origin),
                    offset: Duration::ZERO,
                }),
            },
        }
    }

    /// The runtime's current time: real time, or the paused clock.
    pub(crate) fn now(&self) -> Instant {
        if !self.clock.paused.load(Ordering::Acquire) {
            let offset = self.clock.state.lock().offset;
            return Instant::now() + offset;
        }
        let state = self.clock.state.lock();
        state.frozen.unwrap_or_else(|| Instant::now() + state.offset)
    }

    /// The tick a deadline belongs to, rounded up so that a timer never fires early.
    pub(crate) fn deadline_tick(&self, deadline: Instant) -> u64 {
        let nanos = deadline.saturating_duration_since(self.origin).as_nanos();
        nanos.div_ceil(TICK_NANOS).min(u128::from(MAX_TICKS) * 4) as u64
    }

    /// The last tick that has fully passed at `now`.
    fn elapsed_tick(&self, now: Instant) -> u64 {
        (now.saturating_duration_since(self.origin).as_nanos() / TICK_NANOS) as u64
    }

    fn tick_instant(&self, tick: u64) -> Instant {
        self.origin + Duration::from_nanos(tick.saturating_mul(TICK_NANOS as u64))
    }

    /// How long the scheduler may block before a timer is due: `None` if none is armed.
    pub(crate) fn park_timeout(&self) -> Option<Duration> {
        let next = self.wheel.lock().next_expiration()?;
        Some(self.tick_instant(next).saturating_duration_since(self.now()))
    }

    /// Fires every timer due by now.
    pub(crate) fn process(&self) {
        let now_tick = self.elapsed_tick(self.now());
        let mut wake_list = Vec::new();
        {
            let mut wheel = self.wheel.lock();
            if wheel.next_expiration().is_none_or(|next| next > now_tick) {
                return;
            }
            wheel.advance(now_tick, &mut wake_list);
        }
        wake_all(wake_list);
    }

    pub(crate) fn is_paused(&self) -> bool {
        self.clock.paused.load(Ordering::Acquire)
    }

    /// Freezes the clock at the current time.
    pub(crate) fn pause(&self) {
        let now = self.now();
        let mut state = self.clock.state.lock();
        state.frozen = Some(now);
        self.clock.paused.store(true, Ordering::Release);
    }

    /// Lets the clock run again from the paused time.
    pub(crate) fn resume(&self) {
        let mut state = self.clock.state.lock();
        let frozen = state
            .frozen
            .take()
            .expect("`mini::time::resume` called while time is not paused");
        state.offset = frozen.saturating_duration_since(Instant::now());
        self.clock.paused.store(false, Ordering::Release);
    }

    /// Moves the paused clock forward by `by` and fires what became due.
    pub(crate) fn advance(&self, by: Duration) {
        {
            let mut state = self.clock.state.lock();
            let frozen = state
                .frozen
                .as_mut()
                .expect("`mini::time::advance` needs paused time: call `pause()` first");
            *frozen += by;
        }
        self.process();
    }

    /// With time paused and nothing to run: jumps the clock to the next timer, if any, so that
    /// tests of long timeouts take no real time. Returns whether it did.
    pub(crate) fn auto_advance(&self) -> bool {
        if !self.is_paused() {
            return false;
        }
        let Some(next) = self.wheel.lock().next_expiration() else {
            return false;
        };
        let target = self.tick_instant(next);
        {
            let mut state = self.clock.state.lock();
            let frozen = state.frozen.as_mut().expect("paused");
            if target > *frozen {
                *frozen = target;
            }
        }
        self.process();
        true
    }
}

//! The runtime's timers: the wheel behind a lock, the clock (real or paused), and the
//! conversion between instants and 100 µs ticks. Shared by the scheduler (which parks until the
//! next tick and then fires what is due) and by every `Sleep` (which arms, resets and cancels
//! through its [`TimerEntry`]).
//!
//! One wheel per runtime behind a mutex, shared by every worker of a multi-threaded runtime:
//! arming and cancelling hold the lock for a few list operations, and the thread that turns the
//! reactor advances it.
//!
//! # Who locks the wheel
//!
//! Only this file: the wheel is private to [`Timers`]. A timer's owner goes through
//! [`TimerEntry`], whose every operation that can make a timer due earlier (arming, `reset`)
//! also tells the scheduler ([`TimerDriver::timer_armed`]), so that a thread blocked in
//! `epoll_wait` past the new deadline wakes up to wait less. The pairing cannot be forgotten.
//! Wakers taken out of the wheel are woken or dropped only after the lock is released: a
//! foreign waker may touch the same timers.

use super::wheel::Wheel;
use crate::loom::{AtomicBool, AtomicI64, AtomicU64, Mutex};
use crate::task::current::waiting_on;
use crate::task::trace::Wait;
use crate::util::slab::Key;
use crate::util::wake_all::wake_all;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::task::{Poll, Waker};
use std::time::{Duration, Instant};

/// The length of one wheel tick.
const TICK: Duration = Duration::from_micros(100);
const TICK_NANOS: u64 = TICK.as_nanos() as u64;

pub(crate) struct Timers {
    /// Tick 0.
    origin: Instant,
    wheel: Mutex<Wheel>,
    clock: Clock,
    /// Set when the runtime is dropped: the wheel will never turn again.
    is_shutdown: AtomicBool,
}

/// Real time, or time paused (and advanced by hand) for tests.
struct Clock {
    /// Whether `frozen` is set; checked without the lock on every `now`.
    paused: AtomicBool,
    /// How far (in nanoseconds, either way) the clock is from `Instant::now()` after a pause was
    /// resumed: ahead if it was advanced further than real time went, behind otherwise. Read
    /// without the lock on every `now`.
    offset_nanos: AtomicI64,
    /// The paused time, while paused.
    frozen: Mutex<Option<Instant>>,
}

impl Timers {
    pub(crate) fn new(start_paused: bool) -> Timers {
        let origin = Instant::now();
        Timers {
            origin,
            wheel: Mutex::new(Wheel::new()),
            is_shutdown: AtomicBool::new(false),
            clock: Clock {
                paused: AtomicBool::new(start_paused),
                offset_nanos: AtomicI64::new(0),
                frozen: Mutex::new(start_paused.then_some(origin)),
            },
        }
    }

    /// The runtime's current time: real time, or the paused clock.
    pub(crate) fn now(&self) -> Instant {
        if self.clock.paused.load(Ordering::Acquire) {
            if let Some(frozen) = *self.clock.frozen.lock() {
                return frozen;
            }
        }
        let offset = self.clock.offset_nanos.load(Ordering::Acquire);
        let real = Instant::now();
        if offset >= 0 {
            real + Duration::from_nanos(offset as u64)
        } else {
            real.checked_sub(Duration::from_nanos(offset.unsigned_abs()))
                .unwrap_or(real)
        }
    }

    /// The tick a deadline belongs to, rounded up so that a timer never fires early.
    pub(crate) fn deadline_tick(&self, deadline: Instant) -> u64 {
        // Capped so that the tick's instant is representable (about 584 years out).
        self.nanos_since_origin(deadline)
            .div_ceil(TICK_NANOS)
            .min(u64::MAX / TICK_NANOS)
    }

    /// The last tick that has fully passed at `now`.
    pub(crate) fn elapsed_tick(&self, now: Instant) -> u64 {
        self.nanos_since_origin(now) / TICK_NANOS
    }

    /// Nanoseconds from tick 0 to `instant` (zero before it; saturating after 584 years), in
    /// 64-bit arithmetic: this runs on every park.
    fn nanos_since_origin(&self, instant: Instant) -> u64 {
        let since = instant.saturating_duration_since(self.origin);
        since
            .as_secs()
            .saturating_mul(1_000_000_000)
            .saturating_add(u64::from(since.subsec_nanos()))
    }

    pub(crate) fn tick_instant(&self, tick: u64) -> Instant {
        self.origin + Duration::from_nanos(tick.saturating_mul(TICK_NANOS))
    }

    /// How long the scheduler may block before a timer is due: `None` if none is armed.
    pub(crate) fn park_timeout(&self) -> Option<Duration> {
        let next = self.wheel.lock().next_expiration()?;
        Some(self.tick_instant(next).saturating_duration_since(self.now()))
    }

    /// `park_timeout` for a thread about to block in `epoll_wait`; also stores, under the
    /// wheel's lock, the tick it will wake at by itself (`u64::MAX`: none) into `wake_tick`.
    /// A timer armed for an earlier tick after this sees the stored value and wakes the
    /// sleeper; one armed before it is seen here. Either way the sleeper wakes in time.
    pub(crate) fn park_timeout_announced(&self, wake_tick: &AtomicU64) -> Option<Duration> {
        let next = {
            let wheel = self.wheel.lock();
            let next = wheel.next_expiration();
            wake_tick.store(next.unwrap_or(u64::MAX), Ordering::SeqCst);
            next
        };
        next.map(|next| self.tick_instant(next).saturating_duration_since(self.now()))
    }

    /// Whether a timer just armed for `tick` (after its insertion, outside the wheel's lock) is
    /// due before the tick that a thread blocked in `epoll_wait` announced through
    /// [`park_timeout_announced`](Self::park_timeout_announced): then that thread must be woken
    /// to wait less.
    pub(crate) fn is_before_announced(tick: u64, wake_tick: &AtomicU64) -> bool {
        tick < wake_tick.load(Ordering::SeqCst)
    }

    /// Fires every timer due by now. Without armed timers it only looks at the wheel's bitmaps.
    pub(crate) fn process(&self) {
        let mut wake_list = Vec::new();
        {
            let mut wheel = self.wheel.lock();
            let Some(next) = wheel.next_expiration() else { return };
            let now_tick = self.elapsed_tick(self.now());
            if next > now_tick {
                return;
            }
            wheel.advance(now_tick, &mut wake_list);
        }
        wake_all(wake_list);
    }

    /// Runtime shutdown: wakes every sleep still waiting (polled from outside the runtime), whose
    /// next poll then panics with a clear message instead of waiting forever.
    pub(crate) fn shutdown(&self) {
        self.is_shutdown.store(true, Ordering::Release);
        let mut wake_list = Vec::new();
        self.wheel.lock().take_wakers(&mut wake_list);
        wake_all(wake_list);
    }

    /// Panics if the runtime is gone; called when a sleep is polled.
    #[track_caller]
    pub(crate) fn check_running(&self) {
        assert!(
            !self.is_shutdown.load(Ordering::Acquire),
            "a mini timer was polled after its runtime was dropped: the runtime's clock no longer runs"
        );
    }

    pub(crate) fn is_paused(&self) -> bool {
        self.clock.paused.load(Ordering::Acquire)
    }

    /// Freezes the clock at the current time.
    pub(crate) fn pause(&self) {
        // On a tick boundary, so that `advance(d)` fires a timer due exactly `d` later.
        let now = self.tick_instant(self.deadline_tick(self.now()));
        *self.clock.frozen.lock() = Some(now);
        self.clock.paused.store(true, Ordering::Release);
    }

    /// Lets the clock run again from the paused time.
    pub(crate) fn resume(&self) {
        let mut frozen = self.clock.frozen.lock();
        let paused_at = frozen
            .take()
            .expect("`mini::time::resume` called while time is not paused");
        let real = Instant::now();
        let offset = if paused_at >= real {
            i64::try_from((paused_at - real).as_nanos()).unwrap_or(i64::MAX)
        } else {
            -i64::try_from((real - paused_at).as_nanos()).unwrap_or(i64::MAX)
        };
        self.clock.offset_nanos.store(offset, Ordering::Release);
        self.clock.paused.store(false, Ordering::Release);
    }

    /// Moves the paused clock forward by `by` and fires what became due.
    pub(crate) fn advance(&self, by: Duration) {
        {
            let mut frozen = self.clock.frozen.lock();
            let frozen = frozen
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
            let mut frozen = self.clock.frozen.lock();
            let Some(frozen) = frozen.as_mut() else { return false };
            if target > *frozen {
                *frozen = target;
            }
        }
        self.process();
        true
    }
}

/// The scheduler side of a runtime's timers, as a timer's owner sees it: the timers, and how to
/// reach the thread that parks on them. Each scheduler flavor implements it.
pub(crate) trait TimerDriver: Send + Sync + 'static {
    fn timers(&self) -> &Timers;

    /// A timer was armed or moved to `tick`: a thread blocked in `epoll_wait` until a later tick
    /// must wake up and recompute how long it may sleep.
    fn timer_armed(&self, tick: u64);
}

/// One timer, owned by a `Sleep`: armed in the wheel on its first pending poll, moved by
/// [`reset`](TimerEntry::reset), cancelled when dropped (all O(1)).
pub(crate) struct TimerEntry {
    driver: Arc<dyn TimerDriver>,
    /// The timer's entry in the wheel, while armed.
    key: Option<Key>,
}

impl TimerEntry {
    pub(crate) fn new(driver: Arc<dyn TimerDriver>) -> TimerEntry {
        TimerEntry { driver, key: None }
    }

    pub(crate) fn timers(&self) -> &Timers {
        self.driver.timers()
    }

    /// `Ready` once `deadline` has passed on the runtime's clock; otherwise arms the timer (or
    /// updates its waker) so that `waker` is woken then.
    ///
    /// # Panics
    /// If the runtime has shut down (its clock no longer runs).
    #[track_caller]
    pub(crate) fn poll_elapsed(&mut self, deadline: Instant, waker: &Waker) -> Poll<()> {
        let timers = self.driver.timers();
        timers.check_running();
        let now = timers.now();
        let due = now >= deadline;
        let Some(key) = self.key else {
            if due {
                return Poll::Ready(());
            }
            let (now_tick, tick) = (timers.elapsed_tick(now), timers.deadline_tick(deadline));
            self.key = Some(timers.wheel.lock().insert(now_tick, tick, waker.clone()));
            self.driver.timer_armed(tick);
            waiting_on(Wait::Timer { tick });
            return Poll::Pending;
        };
        let mut wheel = timers.wheel.lock();
        let entry = wheel
            .get_mut(key)
            .expect("a timer's entry lives until its owner drops it");
        if entry.fired {
            return Poll::Ready(());
        }
        if due {
            // Reset to a deadline already past: done now, not at the next turn of the wheel.
            let removed = wheel.remove(key);
            drop(wheel);
            self.key = None;
            drop(removed);
            return Poll::Ready(());
        }
        let replaced = match &entry.waker {
            Some(current) if current.will_wake(waker) => None,
            _ => entry.waker.replace(waker.clone()),
        };
        drop(wheel);
        drop(replaced);
        waiting_on(Wait::Timer {
            tick: timers.deadline_tick(deadline),
        });
        Poll::Pending
    }

    /// Moves an armed timer to `deadline`, earlier or later, even after it fired (it is armed
    /// again). An unarmed one is armed at its next pending poll.
    pub(crate) fn reset(&mut self, deadline: Instant) {
        if let Some(key) = self.key {
            let timers = self.driver.timers();
            let tick = timers.deadline_tick(deadline);
            timers.wheel.lock().reset(key, tick);
            self.driver.timer_armed(tick);
        }
    }

    /// Whether the timer is armed, has fired, and still holds a waker (for the loom models).
    #[cfg(all(test, loom))]
    pub(crate) fn state(&self) -> Option<(bool, bool)> {
        let mut wheel = self.timers().wheel.lock();
        let entry = wheel.get_mut(self.key?)?;
        Some((entry.fired, entry.waker.is_some()))
    }
}

impl Drop for TimerEntry {
    fn drop(&mut self) {
        if let Some(key) = self.key {
            let removed = self.driver.timers().wheel.lock().remove(key);
            drop(removed);
        }
    }
}

impl Timers {
    /// How many timers are armed (the metric `num_armed_timers`).
    pub(crate) fn armed_count(&self) -> usize {
        self.wheel.lock().len()
    }
}

#[cfg(all(test, loom))]
impl Timers {
    /// How many timers are armed and the tick of the next (for the loom models).
    pub(crate) fn armed(&self) -> (usize, Option<u64>) {
        let wheel = self.wheel.lock();
        (wheel.len(), wheel.next_expiration())
    }
}

//! The hierarchical timing wheel: 7 levels of 64 slots over ticks of 100 µs.
//!
//! ```text
//!  level 0: 64 slots of 1 tick      (6.4 ms)      level 4: 64 slots of 64^4 ticks (29.8 h)
//!  level 1: 64 slots of 64 ticks    (409.6 ms)    level 5: 64 slots of 64^5 ticks (79.5 days)
//!  level 2: 64 slots of 64^2 ticks  (26.2 s)      level 6: 64 slots of 64^6 ticks (13.9 years)
//!  level 3: 64 slots of 64^3 ticks  (28 min)
//! ```
//!
//! A timer due at tick `t` goes to the level of the highest 6-bit group in which `t` differs from
//! `elapsed` (the tick processed last), in slot `(t >> 6 * level) % 64`. Arming and cancelling
//! are O(1): each slot is a doubly linked list threaded through the entries' slab by index, so a
//! timer costs no allocation of its own (the slab grows once and is reused). Advancing visits only
//! slots that are due: a level-0 slot fires its timers; a higher slot is re-filed ("cascaded")
//! into lower levels, now that time has come close. Each level keeps a bitmap of occupied slots
//! so that the next due slot is found with a few bit operations.
//!
//! 100 µs ticks (not tokio's 1 ms) keep timers precise to well under a millisecond; the seventh
//! level keeps the range beyond two years (about 7). Deadlines past it are filed at its end and
//! re-filed when they come due.

use crate::util::slab::{Key, Slab};
use std::task::Waker;

const LEVELS: usize = 7;
const SLOT_BITS: u32 = 6;
const SLOTS: usize = 1 << SLOT_BITS;
const SLOT_MASK: u64 = SLOTS as u64 - 1;
/// How far past `elapsed` a timer is filed at most (about 7 years): half of the top level's
/// turn, so that a timer filed in the top level is always 1 to 32 slots ahead of the current one
/// and never mistaken for it. Later deadlines are filed there and re-filed when that slot comes.
const MAX_TICKS: u64 = 1 << (SLOT_BITS * LEVELS as u32 - 1);

/// One armed timer.
pub(crate) struct Entry {
    /// The tick at which the timer is due (the deadline rounded up, so never early).
    pub(crate) when: u64,
    /// Set when the wheel has fired the timer; the owner then removes the entry.
    pub(crate) fired: bool,
    pub(crate) waker: Option<Waker>,
    /// Where the entry is filed (level, slot), while it is in a slot list.
    position: Option<(u8, u8)>,
    previous: Option<Key>,
    next: Option<Key>,
}

pub(crate) struct Wheel {
    entries: Slab<Entry>,
    /// The last tick processed: every timer due at or before it has fired.
    elapsed: u64,
    heads: [[Option<Key>; SLOTS]; LEVELS],
    occupied: [u64; LEVELS],
    /// Armed (not yet fired) timers.
    armed: usize,
}

impl Wheel {
    pub(crate) fn new() -> Wheel {
        Wheel {
            entries: Slab::new(),
            elapsed: 0,
            heads: [[None; SLOTS]; LEVELS],
            occupied: [0; LEVELS],
            armed: 0,
        }
    }

    /// How many timers are armed and not yet fired.
    pub(crate) fn len(&self) -> usize {
        self.armed
    }

    /// Arms a timer due at tick `when` (a past tick fires on the next `advance`). `now` is the
    /// current tick: with no timer armed, the wheel catches up to it first, so that the timer is
    /// filed near its slot rather than high up (the driver does not advance an empty wheel).
    pub(crate) fn insert(&mut self, now: u64, when: u64, waker: Waker) -> Key {
        if self.armed == 0 {
            self.elapsed = self.elapsed.max(now);
        }
        let key = self.entries.insert(Entry {
            when,
            fired: false,
            waker: Some(waker),
            position: None,
            previous: None,
            next: None,
        });
        self.file(key);
        self.armed += 1;
        key
    }

    pub(crate) fn get_mut(&mut self, key: Key) -> Option<&mut Entry> {
        self.entries.get_mut(key)
    }

    /// Disarms (or forgets a fired) timer; returns its entry, for the caller to drop (with its
    /// waker) after releasing the wheel's lock.
    pub(crate) fn remove(&mut self, key: Key) -> Option<Entry> {
        if !self.entries.get(key)?.fired {
            self.unfile(key);
            self.armed -= 1;
        }
        self.entries.remove(key)
    }

    /// Runtime shutdown: moves every waiting timer's waker to `into`, so that nothing waits on a
    /// wheel that will never turn again.
    pub(crate) fn take_wakers(&mut self, into: &mut Vec<Waker>) {
        into.extend(self.entries.iter_mut().filter_map(|entry| entry.waker.take()));
    }

    /// Moves an armed timer to a new tick, in place.
    pub(crate) fn reset(&mut self, key: Key, when: u64) {
        let Some(entry) = self.entries.get_mut(key) else { return };
        if entry.fired {
            entry.fired = false;
            self.armed += 1;
        } else {
            self.unfile(key);
        }
        self.entries.get_mut(key).expect("just seen").when = when;
        self.file(key);
    }

    fn level_for(&self, when: u64) -> usize {
        let masked = (self.elapsed ^ when.max(self.elapsed)) | SLOT_MASK;
        let significant = 63 - masked.leading_zeros();
        // A carry across the top level's boundary can set a bit above it: that is still one turn.
        ((significant / SLOT_BITS) as usize).min(LEVELS - 1)
    }

    /// Links the entry into the slot its tick belongs to.
    fn file(&mut self, key: Key) {
        let when = self.entries.get(key).expect("filed entries exist").when;
        let when = when.clamp(self.elapsed, self.elapsed + MAX_TICKS);
        let level = self.level_for(when);
        let slot = ((when >> (SLOT_BITS * level as u32)) & SLOT_MASK) as usize;
        let head = self.heads[level][slot].replace(key);
        if let Some(head) = head {
            self.entries.get_mut(head).expect("listed entries exist").previous = Some(key);
        }
        let entry = self.entries.get_mut(key).expect("filed entries exist");
        entry.position = Some((level as u8, slot as u8));
        entry.previous = None;
        entry.next = head;
        self.occupied[level] |= 1 << slot;
    }

    /// Unlinks the entry from its slot.
    fn unfile(&mut self, key: Key) {
        let entry = self.entries.get_mut(key).expect("filed entries exist");
        let (level, slot) = entry.position.take().expect("an armed entry is filed");
        let (level, slot) = (usize::from(level), usize::from(slot));
        let (previous, next) = (entry.previous.take(), entry.next.take());
        match previous {
            Some(previous) => self.entries.get_mut(previous).expect("listed").next = next,
            None => self.heads[level][slot] = next,
        }
        if let Some(next) = next {
            self.entries.get_mut(next).expect("listed").previous = previous;
        }
        if self.heads[level][slot].is_none() {
            self.occupied[level] &= !(1 << slot);
        }
    }

    /// The tick at which the next slot comes due, if any timer is armed: a level-0 slot's timers
    /// fire then; a higher slot's are re-filed then (so the driver may wake once more before
    /// they fire, as in tokio's wheel).
    pub(crate) fn next_expiration(&self) -> Option<u64> {
        (0..LEVELS).find_map(|level| self.next_in_level(level))
    }

    /// The start tick of the first occupied slot of `level` at or after `elapsed`.
    fn next_in_level(&self, level: usize) -> Option<u64> {
        let occupied = self.occupied[level];
        if occupied == 0 {
            return None;
        }
        let shift = SLOT_BITS * level as u32;
        let now_slot = (self.elapsed >> shift) & SLOT_MASK;
        // Rotate so that the current slot is bit 0; the lowest set bit is then the next slot.
        let distance = u64::from(occupied.rotate_right(now_slot as u32).trailing_zeros());
        let level_span = 1u64 << (shift + SLOT_BITS);
        let level_start = self.elapsed & !(level_span - 1);
        let mut start = level_start + ((now_slot + distance) << shift);
        if start < self.elapsed & !((1u64 << shift) - 1) {
            start += level_span;
        }
        Some(start.max(self.elapsed))
    }

    /// Processes every slot due at or before tick `now`: fired timers are marked and their wakers
    /// pushed to `wake_list`; timers from higher levels are re-filed closer.
    pub(crate) fn advance(&mut self, now: u64, wake_list: &mut Vec<Waker>) {
        while let Some(due) = self.next_expiration().filter(|&due| due <= now) {
            self.elapsed = due;
            for level in 0..LEVELS {
                let shift = SLOT_BITS * level as u32;
                let slot = ((due >> shift) & SLOT_MASK) as usize;
                if self.occupied[level] & (1 << slot) == 0 || (level > 0 && due & ((1 << shift) - 1) != 0) {
                    continue;
                }
                let mut cursor = self.heads[level][slot].take();
                self.occupied[level] &= !(1 << slot);
                while let Some(key) = cursor {
                    let entry = self.entries.get_mut(key).expect("listed entries exist");
                    cursor = entry.next.take();
                    entry.previous = None;
                    entry.position = None;
                    if entry.when <= due {
                        entry.fired = true;
                        self.armed -= 1;
                        wake_list.extend(entry.waker.take());
                    } else {
                        self.file(key);
                    }
                }
            }
        }
        self.elapsed = self.elapsed.max(now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::task::Wake;

    struct Count(AtomicUsize);
    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    /// Fires in order and never early, for deadlines at every level.
    #[test]
    fn timers_fire_at_their_tick_and_not_before() {
        let mut wheel = Wheel::new();
        let counter = Arc::new(Count(AtomicUsize::new(0)));
        let ticks = [0, 1, 5, 63, 64, 65, 4095, 4096, 262_143, 262_144, 20_000_000, MAX_TICKS];
        let keys: Vec<Key> = ticks
            .iter()
            .map(|&t| wheel.insert(0, t, Waker::from(counter.clone())))
            .collect();
        assert_eq!(wheel.len(), ticks.len());
        let mut woken = Vec::new();
        for (i, &t) in ticks.iter().enumerate() {
            if t > 0 {
                wheel.advance(t - 1, &mut woken);
                assert!(!wheel.get_mut(keys[i]).unwrap().fired, "tick {t} fired early");
            }
            wheel.advance(t, &mut woken);
            assert!(wheel.get_mut(keys[i]).unwrap().fired, "tick {t} did not fire");
            assert_eq!(woken.len(), i + 1);
            assert_eq!(wheel.next_expiration().is_some(), i + 1 < ticks.len());
        }
        assert_eq!(wheel.len(), 0);
    }

    #[test]
    fn cancelling_at_every_level_empties_the_wheel() {
        let mut wheel = Wheel::new();
        let counter = Arc::new(Count(AtomicUsize::new(0)));
        let keys: Vec<Key> = (0..LEVELS as u32)
            .map(|level| wheel.insert(0, 1 << (6 * level), Waker::from(counter.clone())))
            .collect();
        assert_eq!(wheel.len(), LEVELS);
        for key in keys {
            assert!(wheel.remove(key).is_some());
        }
        assert_eq!(wheel.len(), 0);
        assert_eq!(wheel.next_expiration(), None);
        assert_eq!(wheel.occupied, [0; LEVELS]);
    }

    #[test]
    fn reset_moves_a_timer_earlier_and_later() {
        let mut wheel = Wheel::new();
        let counter = Arc::new(Count(AtomicUsize::new(0)));
        let key = wheel.insert(0, 10_000, Waker::from(counter.clone()));
        wheel.reset(key, 100);
        // Tick 100 sits in level 1's slot [64, 128): due for re-filing at 64.
        assert_eq!(wheel.next_expiration(), Some(64));
        let mut woken = Vec::new();
        wheel.advance(99, &mut woken);
        assert!(!wheel.get_mut(key).unwrap().fired);
        assert_eq!(wheel.next_expiration(), Some(100));
        wheel.advance(100, &mut woken);
        assert!(wheel.get_mut(key).unwrap().fired);
        wheel.get_mut(key).unwrap().waker = Some(Waker::from(counter.clone()));
        wheel.reset(key, 50_000);
        wheel.advance(49_999, &mut woken);
        assert!(!wheel.get_mut(key).unwrap().fired);
        wheel.advance(50_000, &mut woken);
        assert!(wheel.get_mut(key).unwrap().fired);
        assert_eq!(woken.len(), 2);
    }

    /// After every advance, exactly the timers due by then have fired (pseudo-random ticks and
    /// steps, including removals).
    #[test]
    fn exactly_the_due_timers_fire_after_each_advance() {
        let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
        let mut random = move |bound: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % bound
        };
        let mut wheel = Wheel::new();
        let counter = Arc::new(Count(AtomicUsize::new(0)));
        let mut timers: Vec<(Key, u64)> = Vec::new();
        let mut now = 0;
        let mut woken = Vec::new();
        for round in 0..300 {
            for _ in 0..20 {
                let when = now + random(if round % 3 == 0 { 5_000_000 } else { 5_000 });
                timers.push((wheel.insert(0, when, Waker::from(counter.clone())), when));
            }
            if let Some(index) = (random(4) == 0).then(|| random(timers.len() as u64) as usize) {
                let (key, _) = timers.swap_remove(index);
                wheel.remove(key);
            }
            now += random(20_000);
            wheel.advance(now, &mut woken);
            for &(key, when) in &timers {
                assert_eq!(
                    wheel.get_mut(key).unwrap().fired,
                    when <= now,
                    "timer at {when}, now {now}"
                );
            }
        }
        let armed = timers.iter().filter(|(_, when)| *when > now).count();
        assert_eq!(wheel.len(), armed);
    }

    /// Deadlines beyond the wheel's range, and ones that straddle the top level's boundary, fire
    /// exactly when due after being re-filed.
    #[test]
    fn deadlines_past_the_range_are_refiled_until_due() {
        let mut wheel = Wheel::new();
        let counter = Arc::new(Count(AtomicUsize::new(0)));
        let mut woken = Vec::new();
        wheel.advance((1 << 42) - 10, &mut woken);
        let across = wheel.insert(0, (1 << 42) + 5, Waker::from(counter.clone()));
        let beyond = wheel.insert(0, 3 * MAX_TICKS + 7, Waker::from(counter.clone()));
        wheel.advance((1 << 42) + 4, &mut woken);
        assert!(!wheel.get_mut(across).unwrap().fired);
        wheel.advance((1 << 42) + 5, &mut woken);
        assert!(wheel.get_mut(across).unwrap().fired);
        let mut now = (1 << 42) + 5;
        while now < 3 * MAX_TICKS + 6 {
            now = (now + MAX_TICKS / 3).min(3 * MAX_TICKS + 6);
            wheel.advance(now, &mut woken);
            assert!(!wheel.get_mut(beyond).unwrap().fired, "fired early at {now}");
        }
        wheel.advance(3 * MAX_TICKS + 7, &mut woken);
        assert!(wheel.get_mut(beyond).unwrap().fired);
        assert_eq!(woken.len(), 2);
    }
}

//! What a task has been doing, kept in its header for task dumps: when it was spawned, how many
//! times it was polled and when last, and what its last poll waited on.
//!
//! # Cost
//!
//! Every field is written by one thread at a time with plain stores (the poller holds `RUNNING`)
//! and read by a dump with plain loads, possibly a moment stale. A poll costs a load, an add and
//! three stores (`polled`: the count, the time, and clearing the wait record); no clock is read per poll: the time of a poll is the worker's coarse
//! clock, which it refreshes from the TSC when it unparks and every `event_interval` polls. A
//! leaf future that returns `Pending` (an fd's readiness, a timer, a `JoinHandle`) records what
//! it waits on with one more store into the current task (`current::waiting_on`). Each poll
//! clears the record as it starts, so what a dump reads is what the last poll recorded: a task
//! whose last poll recorded nothing gave its waker to other code (a channel, a lock, a foreign
//! future).

use crate::util::ticks;
use std::sync::atomic::AtomicU32;
use std::sync::atomic::AtomicU64;
use std::sync::atomic::Ordering::Relaxed;

/// Coarse ticks: `util::ticks` divided by 2^20 (about a third of a millisecond with a 3 GHz
/// TSC, a millisecond with the `Instant` fallback), wrapping after some days: only differences
/// of a few hours are ever taken.
pub(crate) fn coarse_now() -> u32 {
    coarse(ticks::now())
}

/// `ticks` (a reading of `util::ticks`) as coarse ticks, for a caller that has just read them.
pub(crate) fn coarse(ticks: u64) -> u32 {
    (ticks >> COARSE_SHIFT) as u32
}

const COARSE_SHIFT: u32 = 20;

/// The time between two coarse readings, `earlier` before `later`.
pub(crate) fn coarse_elapsed(earlier: u32, later: u32) -> std::time::Duration {
    ticks::to_duration(u64::from(later.wrapping_sub(earlier)) << COARSE_SHIFT)
}

/// A task's trace, in its header.
pub(crate) struct Trace {
    /// `coarse_now()` at spawn.
    spawned: u32,
    /// Polls started.
    polls: AtomicU32,
    /// The worker's coarse clock when the last poll started.
    last_poll: AtomicU32,
    /// What the running or last poll waited on (`Wait::encode`); 0: nothing recorded.
    wait: AtomicU64,
}

/// What a task waits on, as a leaf future records it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Wait {
    /// Readiness of `fd` for reading (`write` false) or writing.
    Fd { fd: i32, write: bool },
    /// A timer, due at this tick of its runtime's wheel.
    Timer { tick: u64 },
    /// The output of the task with this id.
    Task { id: u64 },
}

// `wait`'s layout: | kind: 3 bits | payload: 61 bits |; kind 0 is "nothing".
const KIND_SHIFT: u32 = 61;
const PAYLOAD: u64 = (1 << KIND_SHIFT) - 1;
const KIND_READ: u64 = 1;
const KIND_WRITE: u64 = 2;
const KIND_TIMER: u64 = 3;
const KIND_TASK: u64 = 4;

impl Wait {
    #[inline]
    fn encode(self) -> u64 {
        let (kind, payload) = match self {
            Wait::Fd { fd, write } => (KIND_READ + u64::from(write), fd as u32 as u64),
            Wait::Timer { tick } => (KIND_TIMER, tick),
            Wait::Task { id } => (KIND_TASK, id),
        };
        kind << KIND_SHIFT | payload & PAYLOAD
    }

    fn decode(word: u64) -> Option<Wait> {
        let payload = word & PAYLOAD;
        match word >> KIND_SHIFT {
            KIND_READ => Some(Wait::Fd {
                fd: payload as u32 as i32,
                write: false,
            }),
            KIND_WRITE => Some(Wait::Fd {
                fd: payload as u32 as i32,
                write: true,
            }),
            KIND_TIMER => Some(Wait::Timer { tick: payload }),
            KIND_TASK => Some(Wait::Task { id: payload }),
            _ => None,
        }
    }
}

/// A trace read at one moment by a dump.
pub(crate) struct TraceSnapshot {
    pub(crate) spawned: u32,
    pub(crate) polls: u32,
    /// `None` if never polled.
    pub(crate) last_poll: Option<u32>,
    /// What the last poll recorded; `None` if it recorded nothing (or the task was never
    /// polled).
    pub(crate) wait: Option<Wait>,
}

impl Trace {
    pub(crate) fn new() -> Trace {
        Trace {
            spawned: coarse_now(),
            polls: AtomicU32::new(0),
            last_poll: AtomicU32::new(0),
            wait: AtomicU64::new(0),
        }
    }

    /// A poll of the task starts, at the poller's coarse time `now`. Called by the thread that
    /// holds the task's `RUNNING` (so no other writes race).
    #[inline(always)]
    pub(crate) fn polled(&self, now: u32) {
        self.polls.store(self.polls.load(Relaxed).wrapping_add(1), Relaxed);
        self.last_poll.store(now, Relaxed);
        self.wait.store(0, Relaxed);
    }

    /// The running poll waits on `wait`. Called by the poller only (a plain store does).
    #[inline]
    pub(crate) fn record_wait(&self, wait: Wait) {
        self.wait.store(wait.encode(), Relaxed);
    }

    pub(crate) fn snapshot(&self) -> TraceSnapshot {
        let polls = self.polls.load(Relaxed);
        TraceSnapshot {
            spawned: self.spawned,
            polls,
            last_poll: (polls > 0).then(|| self.last_poll.load(Relaxed)),
            wait: Wait::decode(self.wait.load(Relaxed)),
        }
    }
}

/// Where a task is in its life, from its state word.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Lifecycle {
    /// Waiting for a waker.
    Idle,
    /// In a run queue.
    Scheduled,
    /// Being polled.
    Running,
    /// Finished, cancelled or panicked; its output not yet taken or dropped.
    Complete,
}

//! Which workers are asleep, and which are searching for work: the bookkeeping that lets a new
//! task wake at most one worker, and only when no worker is already looking.
//!
//! `state` packs two counters into one word, changed with `SeqCst` read-modify-writes:
//!
//! - `unparked` (high bits): workers not in the sleepers list (running, searching, or about to
//!   sleep);
//! - `searching` (low bits): workers looking for work to steal.
//!
//! # No lost wake-ups
//!
//! Whoever queues a task (in the inject queue or a local queue) then calls `worker_to_notify`,
//! which reads `state`. A worker that goes to sleep first decrements `unparked` in `state`
//! (`transition_worker_to_parked`) and, if it was the last searcher, looks at every queue once
//! more. The notifier reads `state` with a read-modify-write, which orders the two sides' accesses:
//! either the notifier sees the sleeper (and wakes one), or the last searcher sees the task, or a worker that is still running (not parked, not
//! searching) will find it, since every worker looks at the queues before it parks. The loom
//! model `loom_task_pushed_while_the_worker_parks_is_run` checks this.

use crate::loom::{AtomicUsize, Mutex};
use std::sync::atomic::Ordering::SeqCst;

const UNPARKED_SHIFT: usize = 16;
const SEARCHING_MASK: usize = (1 << UNPARKED_SHIFT) - 1;
const UNPARKED_ONE: usize = 1 << UNPARKED_SHIFT;

pub(super) struct Idle {
    state: AtomicUsize,
    num_workers: usize,
    /// Indices of the workers asleep; a notifier pops one.
    sleepers: Mutex<Vec<usize>>,
}

fn searching(state: usize) -> usize {
    state & SEARCHING_MASK
}

fn unparked(state: usize) -> usize {
    state >> UNPARKED_SHIFT
}

impl Idle {
    pub(super) fn new(num_workers: usize) -> Idle {
        assert!(num_workers <= SEARCHING_MASK, "at most {SEARCHING_MASK} worker threads");
        Idle {
            state: AtomicUsize::new(num_workers << UNPARKED_SHIFT),
            num_workers,
            sleepers: Mutex::new(Vec::with_capacity(num_workers)),
        }
    }

    /// After work was queued: the worker to wake, if one is asleep and none is searching. The
    /// chosen worker is counted as unparked and searching from now on. `avoid` (the worker
    /// blocked in the reactor) is chosen only if no other worker sleeps, so that the reactor
    /// keeps its waiter while a condvar sleeper takes the work.
    pub(super) fn worker_to_notify(&self, avoid: usize) -> Option<usize> {
        if !self.should_wake_one() {
            return None;
        }
        let mut sleepers = self.sleepers.lock();
        // Checked again under the lock: another notifier may have just woken someone.
        if !self.should_wake_one() {
            return None;
        }
        let position = sleepers
            .iter()
            .rposition(|&sleeper| sleeper != avoid)
            .or_else(|| sleepers.len().checked_sub(1))?;
        let worker = sleepers.swap_remove(position);
        self.state.fetch_add(UNPARKED_ONE | 1, SeqCst);
        Some(worker)
    }

    /// A cheap look (a load, no read-modify-write) at whether `worker_to_notify` could find a
    /// worker to wake. Only for work queued on a running worker's own queues: that worker runs
    /// it anyway, so a stale answer only delays stealing, and the hot path (a task waking or
    /// yielding to its own worker while every worker is busy) keeps the shared `state` line in
    /// every cache instead of pulling it exclusive on each wake.
    pub(super) fn may_wake_one(&self) -> bool {
        let state = self.state.load(SeqCst);
        searching(state) == 0 && unparked(state) < self.num_workers
    }

    /// Whether the caller (awake) is the only worker not asleep.
    pub(super) fn is_only_awake_worker(&self) -> bool {
        unparked(self.state.load(SeqCst)) == 1
    }

    fn should_wake_one(&self) -> bool {
        // A read-modify-write, not a load: it reads the latest `state`, and if a parking
        // worker's decrement comes after it, that decrement reads from it and so sees the task
        // queued before it (release/acquire through the RMW chain). A plain load could read a
        // stale `state` while the parker reads a stale queue length; loom checks this.
        let state = self.state.fetch_add(0, SeqCst);
        searching(state) == 0 && unparked(state) < self.num_workers
    }

    /// A worker is going to sleep; returns whether it was the last searching one (then it must
    /// look at every queue once more, see "No lost wake-ups").
    pub(super) fn transition_worker_to_parked(&self, worker: usize, is_searching: bool) -> bool {
        let mut sleepers = self.sleepers.lock();
        let previous = self.state.fetch_sub(UNPARKED_ONE | usize::from(is_searching), SeqCst);
        sleepers.push(worker);
        is_searching && searching(previous) == 1
    }

    /// A worker wants to steal. Refused when half the workers already search, so that a burst
    /// of idle workers does not hammer the queues.
    pub(super) fn transition_worker_to_searching(&self) -> bool {
        let state = self.state.load(SeqCst);
        if 2 * searching(state) >= self.num_workers {
            return false;
        }
        self.state.fetch_add(1, SeqCst);
        true
    }

    /// A searching worker found work (or gives up); returns whether it was the last searcher
    /// (then, having found work, it wakes another to keep looking).
    pub(super) fn transition_worker_from_searching(&self) -> bool {
        searching(self.state.fetch_sub(1, SeqCst)) == 1
    }

    /// A sleeping worker woke without being chosen by a notifier (its driver had events, or it
    /// must shut down): takes it out of the sleepers. Returns `false` if a notifier already did
    /// (then it was counted as searching).
    pub(super) fn unpark_worker_by_id(&self, worker: usize) -> bool {
        let mut sleepers = self.sleepers.lock();
        let Some(position) = sleepers.iter().position(|&sleeper| sleeper == worker) else {
            return false;
        };
        sleepers.swap_remove(position);
        self.state.fetch_add(UNPARKED_ONE, SeqCst);
        true
    }

    /// Whether the worker is still in the sleepers list (nobody chose it).
    pub(super) fn is_parked(&self, worker: usize) -> bool {
        self.sleepers.lock().contains(&worker)
    }
}

//! The task state word: who may touch the future or the output, whether the task is queued, and
//! how many references keep its allocation alive, in one atomic `usize` so that every transition
//! is a single compare-and-swap.
//!
//! ```text
//!  usize bits:  | 63 ........ 6 |     5      |       4       |     3     |    2     |    1     |    0    |
//!               |   ref count   | JOIN_WAKER | JOIN_INTEREST | CANCELLED | NOTIFIED | COMPLETE | RUNNING |
//! ```
//!
//! The life of a task, in the words the issue uses:
//!
//! | state                  | bits                  | meaning                                         |
//! |------------------------|-----------------------|-------------------------------------------------|
//! | scheduled              | `NOTIFIED`            | a `Notified` sits in a run queue                |
//! | running                | `RUNNING`             | one thread polls the future                     |
//! | notified while running | `RUNNING \| NOTIFIED` | woken during its poll: re-queued after the poll |
//! | idle                   | none of the four      | waiting for a waker                             |
//! | complete               | `COMPLETE`            | the output (or the `JoinError`) is stored       |
//! | cancelled              | `CANCELLED`, then `COMPLETE` | aborted or shut down; the future is dropped by the next thread that claims `RUNNING` |
//!
//! `RUNNING` is the lock on the future: only the thread that set it touches the stage, until it
//! clears it or sets `COMPLETE`. After `COMPLETE` the stage belongs to the `JoinHandle`.

use crate::loom::AtomicUsize;
use std::sync::atomic::Ordering::{AcqRel, Acquire};

/// Set while one thread polls (or cancels) the future; that thread alone may touch the stage.
const RUNNING: usize = 1 << 0;
/// Set once, when the future has finished or been cancelled and the output is stored; never cleared.
const COMPLETE: usize = 1 << 1;
/// Set when a `Notified` for the task is queued or will be queued when the running poll ends.
/// Cleared when a thread takes the task off a queue to run it.
const NOTIFIED: usize = 1 << 2;
/// Set by `abort` or by runtime shutdown: the next thread to claim the task drops its future.
const CANCELLED: usize = 1 << 3;
/// Set while a `JoinHandle` exists; cleared when it is dropped (then the output is dropped at once).
const JOIN_INTEREST: usize = 1 << 4;
/// Set while the join waker field holds a waker that the task must wake on completion. While it is
/// clear, the `JoinHandle` alone may write that field; while it is set, only the task may (see
/// `task/mod.rs`, the join waker rules).
const JOIN_WAKER: usize = 1 << 5;

const REF_COUNT_SHIFT: usize = 6;
const REF_ONE: usize = 1 << REF_COUNT_SHIFT;

/// A new task is queued once and has three references: the runtime's list of owned tasks, the
/// `Notified` in the run queue and the `JoinHandle`.
const INITIAL_STATE: usize = (REF_ONE * 3) | JOIN_INTEREST | NOTIFIED;

pub(super) struct State {
    word: AtomicUsize,
}

/// A copy of the state word, read at one instant.
#[derive(Clone, Copy)]
pub(super) struct Snapshot(usize);

impl Snapshot {
    fn has(self, bit: usize) -> bool {
        self.0 & bit == bit
    }
    fn is_idle(self) -> bool {
        self.0 & (RUNNING | COMPLETE) == 0
    }
    pub(super) fn is_running(self) -> bool {
        self.has(RUNNING)
    }
    pub(super) fn is_complete(self) -> bool {
        self.has(COMPLETE)
    }
    pub(super) fn is_notified(self) -> bool {
        self.has(NOTIFIED)
    }
    pub(super) fn is_cancelled(self) -> bool {
        self.has(CANCELLED)
    }
    pub(super) fn is_join_interested(self) -> bool {
        self.has(JOIN_INTEREST)
    }
    pub(super) fn is_join_waker_set(self) -> bool {
        self.has(JOIN_WAKER)
    }
    fn ref_count(self) -> usize {
        self.0 >> REF_COUNT_SHIFT
    }
}

/// What the thread that took a `Notified` off a queue must do.
pub(super) enum ToRunning {
    /// It owns the future now: poll it.
    Poll,
    /// It owns the future now, and the task was cancelled: drop the future instead.
    Cancel,
    /// The task is complete or already running elsewhere: just drop the reference.
    Skip,
}

/// What the thread that polled the future to `Pending` must do next.
pub(super) enum ToIdle {
    /// Nothing: the task waits for a waker; drop the poller's reference.
    Idle,
    /// The task was woken during the poll: queue it again (one new reference was taken for the
    /// `Notified`), then drop the poller's reference.
    Requeue,
    /// The task was cancelled during the poll: drop the future now (still holding `RUNNING`).
    Cancel,
}

/// What a waker must do after marking the task notified.
pub(super) enum ToNotified {
    /// Hand a `Notified` (carrying one reference) to the scheduler.
    Submit,
    /// Nothing to queue: the task is queued, running or complete.
    DoNothing,
}

impl State {
    pub(super) fn new() -> State {
        State {
            word: AtomicUsize::new(INITIAL_STATE),
        }
    }

    pub(super) fn load(&self) -> Snapshot {
        Snapshot(self.word.load(Acquire))
    }

    /// Applies `f` to the word in a compare-and-swap loop; `f` returns the next word and a result,
    /// or `Err` to leave the word as it is.
    fn update<T>(&self, mut f: impl FnMut(Snapshot) -> Result<(usize, T), T>) -> T {
        let mut current = self.word.load(Acquire);
        loop {
            match f(Snapshot(current)) {
                Err(result) => return result,
                Ok((next, result)) => match self.word.compare_exchange_weak(current, next, AcqRel, Acquire) {
                    Ok(_) => return result,
                    Err(actual) => current = actual,
                },
            }
        }
    }

    /// Called with the reference of a `Notified` just taken off a queue. On `Skip` the caller
    /// still owns that reference and must drop it.
    pub(super) fn transition_to_running(&self) -> ToRunning {
        self.update(|s| {
            if !s.is_idle() {
                return Err(ToRunning::Skip);
            }
            let next = (s.0 & !NOTIFIED) | RUNNING;
            Ok((
                next,
                if s.is_cancelled() {
                    ToRunning::Cancel
                } else {
                    ToRunning::Poll
                },
            ))
        })
    }

    /// Called by the poller after `poll` returned `Pending`. On `Idle` and `Requeue` the caller
    /// must drop its reference (after queueing the task again, for `Requeue`); on `Cancel` it
    /// still holds `RUNNING`.
    pub(super) fn transition_to_idle(&self) -> ToIdle {
        self.update(|s| {
            debug_assert!(s.is_running());
            if s.is_cancelled() {
                return Err(ToIdle::Cancel);
            }
            let next = s.0 & !RUNNING;
            if s.has(NOTIFIED) {
                Ok((next + REF_ONE, ToIdle::Requeue))
            } else {
                Ok((next, ToIdle::Idle))
            }
        })
    }

    /// Called by the poller when the output is stored: `RUNNING` off, `COMPLETE` on.
    pub(super) fn transition_to_complete(&self) -> Snapshot {
        let previous = Snapshot(self.word.fetch_xor(RUNNING | COMPLETE, AcqRel));
        debug_assert!(previous.is_running() && !previous.is_complete());
        Snapshot(previous.0 ^ (RUNNING | COMPLETE))
    }

    /// A waker fires: on `Submit`, one new reference was taken for the `Notified`.
    pub(super) fn transition_to_notified(&self) -> ToNotified {
        self.update(|s| {
            if s.is_complete() || s.has(NOTIFIED) {
                Err(ToNotified::DoNothing)
            } else if s.is_running() {
                Ok((s.0 | NOTIFIED, ToNotified::DoNothing))
            } else {
                Ok(((s.0 | NOTIFIED) + REF_ONE, ToNotified::Submit))
            }
        })
    }

    /// `JoinHandle::abort`: marks the task cancelled; on `Submit` it was idle, and one new
    /// reference was taken for the `Notified` that will make a runtime thread drop the future.
    pub(super) fn transition_to_notified_and_cancel(&self) -> ToNotified {
        self.update(|s| {
            if s.is_complete() || s.is_cancelled() {
                Err(ToNotified::DoNothing)
            } else if s.is_running() || s.has(NOTIFIED) {
                Ok((s.0 | CANCELLED, ToNotified::DoNothing))
            } else {
                Ok(((s.0 | CANCELLED | NOTIFIED) + REF_ONE, ToNotified::Submit))
            }
        })
    }

    /// Runtime shutdown: marks the task cancelled and, if nobody runs it, claims `RUNNING` so the
    /// caller can drop the future. Returns whether the caller claimed it.
    pub(super) fn transition_to_shutdown(&self) -> bool {
        self.update(|s| {
            let claim = s.is_idle();
            let next = s.0 | CANCELLED | if claim { RUNNING } else { 0 };
            Ok((next, claim))
        })
    }

    /// The `JoinHandle` is dropped. Returns `(drop_output, drop_waker)`: whether the task is
    /// complete (so the handle must drop the output), and whether the handle now owns the join
    /// waker field (so it must drop the waker stored there).
    pub(super) fn transition_to_join_handle_dropped(&self) -> (bool, bool) {
        self.update(|s| {
            let mut next = s.0 & !JOIN_INTEREST;
            if !s.is_complete() {
                next &= !JOIN_WAKER;
            }
            Ok((next, (s.is_complete(), next & JOIN_WAKER == 0)))
        })
    }

    /// The `JoinHandle` has written a waker and hands the field to the task. Fails, leaving the
    /// field with the handle, when the task completed meanwhile.
    pub(super) fn set_join_waker(&self) -> Result<(), Snapshot> {
        self.update(|s| {
            debug_assert!(s.is_join_interested() && !s.is_join_waker_set());
            if s.is_complete() {
                Err(Err(s))
            } else {
                Ok((s.0 | JOIN_WAKER, Ok(())))
            }
        })
    }

    /// The `JoinHandle` takes the join waker field back to store another waker. Fails when the
    /// task completed meanwhile (then the output is ready to read).
    pub(super) fn unset_join_waker(&self) -> Result<(), Snapshot> {
        self.update(|s| {
            debug_assert!(s.is_join_interested() && s.is_join_waker_set());
            if s.is_complete() {
                Err(Err(s))
            } else {
                Ok((s.0 & !JOIN_WAKER, Ok(())))
            }
        })
    }

    /// The task has woken the join waker after completing and hands the field back. Returns the
    /// new state: if the `JoinHandle` is gone, the task must drop the waker itself.
    pub(super) fn unset_join_waker_after_complete(&self) -> Snapshot {
        let previous = Snapshot(self.word.fetch_and(!JOIN_WAKER, AcqRel));
        debug_assert!(previous.is_complete() && previous.is_join_waker_set());
        Snapshot(previous.0 & !JOIN_WAKER)
    }

    pub(super) fn ref_inc(&self) {
        let previous = self.word.fetch_add(REF_ONE, std::sync::atomic::Ordering::Relaxed);
        // A count this large means references are leaked in a loop; wrapping would free the task
        // while it is in use.
        if previous > usize::MAX / 2 {
            std::process::abort();
        }
    }

    /// Drops `count` references; returns whether they were the last, so the task must be freed.
    pub(super) fn ref_dec(&self, count: usize) -> bool {
        let previous = Snapshot(self.word.fetch_sub(REF_ONE * count, AcqRel));
        debug_assert!(previous.ref_count() >= count, "task reference count underflow");
        previous.ref_count() == count
    }
}

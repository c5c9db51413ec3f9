//! The state of one registered fd: its cached readiness and the two tasks waiting on it.
//!
//! The readiness word:
//!
//! ```text
//!  bits:  |    31    | 30 ........... 16 | 15 ............ 0 |
//!         | SHUTDOWN |  tick (15 bits)   |  Ready flags      |
//! ```
//!
//! The reactor ORs in the flags of each event and bumps the tick. A task that got `WouldBlock`
//! clears its direction's flag only if the tick is the one it saw before its syscall: an event
//! that arrived in between bumped the tick, so its readiness is kept and no wake-up is lost even
//! though epoll (edge-triggered) will not report it again.

use super::ready::{Direction, Ready};
use crate::loom::{AtomicUsize, Mutex};
use std::sync::atomic::Ordering::{AcqRel, Acquire};
use std::task::{Context, Poll, Waker};

const TICK_SHIFT: usize = 16;
const TICK_MASK: usize = 0x7fff << TICK_SHIFT;
const SHUTDOWN: usize = 1 << 31;

pub(crate) struct ScheduledIo {
    readiness: AtomicUsize,
    waiters: Mutex<Waiters>,
}

/// One slot per direction. A second task waiting in the same direction displaces the first,
/// which is woken so that it polls again (and never waits forever).
#[derive(Default)]
struct Waiters {
    reader: Option<Waker>,
    writer: Option<Waker>,
}

impl Waiters {
    fn slot(&mut self, direction: Direction) -> &mut Option<Waker> {
        match direction {
            Direction::Read => &mut self.reader,
            Direction::Write => &mut self.writer,
        }
    }
}

/// Readiness seen by a task, with the tick it was seen at (to clear it safely later).
#[derive(Clone, Copy, Debug)]
pub(crate) struct ReadyEvent {
    pub(crate) ready: Ready,
    tick: usize,
}

/// Returned when the runtime that owns the reactor has shut down.
#[derive(Debug)]
pub(crate) struct Shutdown;

impl ScheduledIo {
    pub(crate) fn new() -> ScheduledIo {
        ScheduledIo {
            readiness: AtomicUsize::new(0),
            waiters: Mutex::new(Waiters::default()),
        }
    }

    /// Called by the reactor for each event: records the readiness and moves the wakers it
    /// satisfies into `wake_list` (woken after the registration lock is released).
    pub(crate) fn set_readiness(&self, ready: Ready, wake_list: &mut Vec<Waker>) {
        let _ = self.readiness.fetch_update(AcqRel, Acquire, |word| {
            let tick = (word + (1 << TICK_SHIFT)) & TICK_MASK;
            Some((word & !TICK_MASK) | tick | ready.as_usize())
        });
        let mut waiters = self.waiters.lock();
        if !(ready & Direction::Read.mask()).is_empty() {
            wake_list.extend(waiters.reader.take());
        }
        if !(ready & Direction::Write.mask()).is_empty() {
            wake_list.extend(waiters.writer.take());
        }
    }

    /// Marks the registration dead (its runtime shut down) and wakes both waiters.
    pub(crate) fn shutdown(&self, wake_list: &mut Vec<Waker>) {
        self.readiness.fetch_or(SHUTDOWN, AcqRel);
        let mut waiters = self.waiters.lock();
        wake_list.extend(waiters.reader.take());
        wake_list.extend(waiters.writer.take());
    }

    fn ready_event(&self, direction: Direction) -> Option<Result<ReadyEvent, Shutdown>> {
        let word = self.readiness.load(Acquire);
        if word & SHUTDOWN != 0 {
            return Some(Err(Shutdown));
        }
        let ready = Ready::from_usize(word) & direction.mask();
        (!ready.is_empty()).then_some(Ok(ReadyEvent {
            ready,
            tick: word & TICK_MASK,
        }))
    }

    /// Ready if the fd is ready in `direction`; otherwise stores the task's waker.
    pub(crate) fn poll_ready(&self, cx: &mut Context<'_>, direction: Direction) -> Poll<Result<ReadyEvent, Shutdown>> {
        if let Some(event) = self.ready_event(direction) {
            return Poll::Ready(event);
        }
        let (displaced, event) = {
            let mut waiters = self.waiters.lock();
            let slot = waiters.slot(direction);
            let displaced = match slot {
                Some(waker) if waker.will_wake(cx.waker()) => None,
                _ => slot.replace(cx.waker().clone()),
            };
            // The reactor sets readiness before taking this lock, so checking again under it
            // cannot miss an event that came after the first check.
            (displaced, self.ready_event(direction))
        };
        if let Some(displaced) = displaced {
            displaced.wake();
        }
        match event {
            Some(event) => Poll::Ready(event),
            None => Poll::Pending,
        }
    }

    /// Forgets the readiness `event` reported in its direction, unless an event came since.
    pub(crate) fn clear_readiness(&self, event: ReadyEvent, direction: Direction) {
        let clear = (event.ready & direction.clearable()).as_usize();
        let _ = self.readiness.fetch_update(AcqRel, Acquire, |word| {
            (word & TICK_MASK == event.tick).then_some(word & !clear)
        });
    }
}

//! The state of one registered fd: its cached readiness and, for each direction, the list of
//! tasks waiting on it (one waker inline, more in a vector).
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

/// One registered fd's readiness word and the tasks waiting on it in each direction (what tokio
/// calls `ScheduledIo`).
pub(crate) struct FdState {
    readiness: AtomicUsize,
    waiters: Mutex<Waiters>,
}

/// The tasks waiting in each direction.
#[derive(Default)]
struct Waiters {
    reader: WaiterList,
    writer: WaiterList,
}

impl Waiters {
    fn list(&mut self, direction: Direction) -> &mut WaiterList {
        match direction {
            Direction::Read => &mut self.reader,
            Direction::Write => &mut self.writer,
        }
    }
}

/// How many distinct wakers past the first one direction keeps before it wakes them all to
/// re-register: a bound on the memory that wakers of dropped futures can hold until the next
/// event. More live waiters than this on one fd in one direction would keep re-polling.
const MAX_EXTRA_WAITERS: usize = 64;

/// The wakers waiting in one direction: one inline (the usual case, no allocation), the rest in
/// a vector that is allocated only when several tasks wait on the same fd. All are woken together
/// by the next event.
#[derive(Default)]
struct WaiterList {
    first: Option<Waker>,
    /// Non-empty only while `first` is set.
    rest: Vec<Waker>,
}

impl WaiterList {
    /// Adds `waker` unless one that wakes the same task is already waiting. If the list is full,
    /// returns the wakers that were in it, to be woken after the lock is released.
    fn register(&mut self, waker: &Waker) -> Option<Vec<Waker>> {
        let Some(first) = &self.first else {
            self.first = Some(waker.clone());
            return None;
        };
        if first.will_wake(waker) || self.rest.iter().any(|waiting| waiting.will_wake(waker)) {
            return None;
        }
        if self.rest.len() == MAX_EXTRA_WAITERS {
            let mut evicted = Vec::with_capacity(MAX_EXTRA_WAITERS + 1);
            self.take_all(&mut evicted);
            self.first = Some(waker.clone());
            return Some(evicted);
        }
        self.rest.push(waker.clone());
        None
    }

    #[inline(always)]
    fn take_all(&mut self, into: &mut Vec<Waker>) {
        if let Some(first) = self.first.take() {
            into.push(first);
            if !self.rest.is_empty() {
                into.append(&mut self.rest);
            }
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

impl FdState {
    pub(crate) fn new() -> FdState {
        FdState {
            readiness: AtomicUsize::new(0),
            waiters: Mutex::new(Waiters::default()),
        }
    }

    /// Called by the reactor for each event: records the readiness and moves the wakers it
    /// satisfies into `wake_list` (woken after the registration lock is released). Inlined into
    /// the reactor's event loop, its one caller: left out of line (as one unrelated change made
    /// the compiler do) it cost about 15 instructions per request.
    #[inline(always)]
    pub(crate) fn set_readiness(&self, ready: Ready, wake_list: &mut Vec<Waker>) {
        let _ = self.readiness.fetch_update(AcqRel, Acquire, |word| {
            let tick = (word + (1 << TICK_SHIFT)) & TICK_MASK;
            Some((word & !TICK_MASK) | tick | ready.as_usize())
        });
        let mut waiters = self.waiters.lock();
        if !(ready & Direction::Read.mask()).is_empty() {
            waiters.reader.take_all(wake_list);
        }
        if !(ready & Direction::Write.mask()).is_empty() {
            waiters.writer.take_all(wake_list);
        }
    }

    /// Marks the registration dead (its runtime shut down) and wakes both waiters.
    pub(crate) fn shutdown(&self, wake_list: &mut Vec<Waker>) {
        self.readiness.fetch_or(SHUTDOWN, AcqRel);
        let mut waiters = self.waiters.lock();
        waiters.reader.take_all(wake_list);
        waiters.writer.take_all(wake_list);
    }

    #[inline]
    pub(crate) fn ready_event(&self, direction: Direction) -> Option<Result<ReadyEvent, Shutdown>> {
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
    #[inline]
    pub(crate) fn poll_ready(&self, cx: &mut Context<'_>, direction: Direction) -> Poll<Result<ReadyEvent, Shutdown>> {
        match self.ready_event(direction) {
            Some(event) => Poll::Ready(event),
            None => self.wait_ready(cx, direction),
        }
    }

    /// The slow path of `poll_ready`: stores the waker, then looks again.
    fn wait_ready(&self, cx: &mut Context<'_>, direction: Direction) -> Poll<Result<ReadyEvent, Shutdown>> {
        let (event, evicted) = {
            let mut waiters = self.waiters.lock();
            let evicted = waiters.list(direction).register(cx.waker());
            // The reactor sets readiness before taking this lock, so checking again under it
            // cannot miss an event that came after the first check.
            (self.ready_event(direction), evicted)
        };
        if let Some(evicted) = evicted {
            crate::util::wake_all::wake_all(evicted);
        }
        match event {
            Some(event) => Poll::Ready(event),
            None => Poll::Pending,
        }
    }

    /// Forgets the readiness `event` reported, unless an event came since. The closed flags stay:
    /// once the peer is gone, reads and writes must keep failing fast instead of waiting for an
    /// edge that epoll will not report again. An error flag goes, since the operation that
    /// cleared it has consumed the error.
    #[inline]
    pub(crate) fn clear_readiness(&self, event: ReadyEvent) {
        let clear = (event.ready & !(Ready::READ_CLOSED | Ready::WRITE_CLOSED)).as_usize();
        let _ = self.readiness.fetch_update(AcqRel, Acquire, |word| {
            (word & TICK_MASK == event.tick).then_some(word & !clear)
        });
    }
}

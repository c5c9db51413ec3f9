//! The reactor: one epoll instance per runtime, the registrations of the fds it watches, and the
//! driver that waits for events and wakes exactly the tasks they concern.
//!
//! How a wake travels (see also ARCHITECTURE.md):
//!
//! 1. `AsyncFd::new` registers the fd once, edge-triggered, for `IN | OUT | RDHUP`, with the
//!    registration's slab key (index and generation) as the epoll token.
//! 2. A task's read returns `WouldBlock`; it clears the cached read readiness (`fd_state.rs`)
//!    and stores its waker in the registration's read slot.
//! 3. The runtime has nothing to run and calls [`Driver::turn`], which blocks in `epoll_wait`.
//! 4. Data arrives; `epoll_wait` returns the token. The driver looks it up in the slab (a stale
//!    token from a closed fd finds nothing, even if the slot was reused), ORs the readiness into
//!    the registration and takes the read waker.
//! 5. The waker queues the task on the runtime's run queue; the task is polled and reads.
//!
//! Other threads interrupt a blocked `epoll_wait` through an eventfd registered with a reserved
//! token; the scheduler writes it only when its thread is actually parked.
//!
//! The syscalls themselves (epoll, the eventfd, the wait and its events buffer) are in
//! `crate::sys::epoll`; this file is the registry and the dispatch.

mod fd_state;
#[cfg(all(test, loom))]
mod loom_models;
mod ready;
mod registration;

pub(crate) use fd_state::{FdState, ReadyEvent};
pub(crate) use ready::Direction;
pub use ready::Ready;
pub(crate) use registration::Registration;

use crate::loom::Mutex;
use crate::sys::epoll::{self, Event, Events};
use crate::util::slab::{Key, Slab};
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::ptr::NonNull;
use std::sync::Arc;
use std::task::Waker;
use std::time::Duration;

/// The epoll token of the eventfd; no slab key has this value (its index would be `u32::MAX`).
const UNPARK_TOKEN: u64 = u64::MAX;

/// How many events one `epoll_wait` returns at most. More ready fds are returned by the next
/// call; 1024 fills a 12 KiB buffer that is reused for the runtime's whole life.
const EVENTS_CAPACITY: usize = 1024;

/// The shared half: what any thread needs to register fds or interrupt the driver.
pub(crate) struct Reactor {
    /// A valid epoll fd, closed when the last `Arc<Reactor>` (the runtime's or an `AsyncFd`'s)
    /// is dropped.
    epoll: OwnedFd,
    /// A valid eventfd registered in `epoll` with `UNPARK_TOKEN`.
    unpark_fd: OwnedFd,
    registrations: Mutex<Registrations>,
}

struct Registrations {
    /// Each registered fd's state, in place: `Registration`s point into their slots (a slot's
    /// value never moves while stored), so registering allocates nothing per fd, and the pages
    /// of a burst go back when it is over (`util/slab.rs`).
    slab: Slab<FdState>,
    is_shutdown: bool,
    /// What `RuntimeMetrics` reads, counted under this lock, which each of these takes anyway.
    counts: IoCounts,
}

/// The reactor's counters (the metrics `io_driver_*`).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct IoCounts {
    /// fds registered, ever.
    pub(crate) registered: u64,
    /// fds deregistered, ever.
    pub(crate) deregistered: u64,
    /// Readiness events delivered to registered fds, ever.
    pub(crate) ready: u64,
}

/// The owned half: the thread that parks the runtime uses it to wait for events.
pub(crate) struct Driver {
    reactor: Arc<Reactor>,
    events: Events,
    /// Wakers taken from registrations under the lock, woken after it is released.
    wake_list: Vec<Waker>,
}

impl Reactor {
    pub(crate) fn new() -> io::Result<(Arc<Reactor>, Driver)> {
        let epoll = epoll::epoll_create()?;
        let unpark_fd = epoll::eventfd()?;
        let reactor = Arc::new(Reactor {
            epoll,
            unpark_fd,
            registrations: Mutex::new(Registrations {
                slab: Slab::new(),
                is_shutdown: false,
                counts: IoCounts::default(),
            }),
        });
        epoll::epoll_add(reactor.epoll.as_fd(), reactor.unpark_fd.as_fd(), UNPARK_TOKEN)?;
        let driver = Driver {
            reactor: reactor.clone(),
            events: Events::with_capacity(EVENTS_CAPACITY),
            // Its largest size from the start: grown in a burst, it would sit high in the heap.
            wake_list: Vec::with_capacity(EVENTS_CAPACITY),
        };
        Ok((reactor, driver))
    }

    /// Starts watching `fd` (edge-triggered, for `IN | OUT | RDHUP`): its events go to a new
    /// `FdState` in the slab, filed under the returned key, at the returned address, which stays
    /// valid until `deregister(key)`. The caller must deregister it before closing it
    /// (`Registration` does).
    pub(super) fn add(&self, fd: BorrowedFd<'_>) -> io::Result<(NonNull<FdState>, Key)> {
        let (io, key) = {
            let mut registrations = self.registrations.lock();
            if registrations.is_shutdown {
                return Err(shutdown_error());
            }
            registrations.counts.registered += 1;
            let key = registrations.slab.insert(FdState::new());
            let io = NonNull::from(registrations.slab.get(key).expect("just stored"));
            (io, key)
        };
        if let Err(error) = epoll::epoll_add(self.epoll.as_fd(), fd, key.to_u64()) {
            let mut registrations = self.registrations.lock();
            // Never registered after all: the metrics do not count it.
            registrations.counts.registered -= 1;
            registrations.slab.remove(key);
            return Err(error);
        }
        Ok((io, key))
    }

    /// Stops watching `fd` (still open) and frees its registration's state; a stale event for it
    /// that is already queued will find nothing. Only `Registration::deregister` calls this: the
    /// pointer it holds into the slot dies here.
    pub(super) fn deregister(&self, fd: BorrowedFd<'_>, key: Key) -> io::Result<()> {
        let removed = {
            let mut registrations = self.registrations.lock();
            registrations.counts.deregistered += 1;
            registrations.slab.remove(key)
        };
        // After shutdown the epoll set may have stopped mattering, but the fd must still leave it
        // before it is closed.
        let result = epoll::epoll_del(self.epoll.as_fd(), fd);
        drop(removed);
        result
    }

    /// Interrupts a thread blocked in [`Driver::turn`].
    pub(crate) fn unpark(&self) {
        let unpark_fd = self.unpark_fd.as_fd();
        if let Err(error) = epoll::eventfd_write(unpark_fd, 1) {
            if error.kind() == io::ErrorKind::WouldBlock {
                // The counter is saturated (it is never read, since edge-triggered epoll reports
                // each write anyway): reset it and write again, so that this wake is an edge of
                // its own.
                let _ = epoll::eventfd_read(unpark_fd);
                let _ = epoll::eventfd_write(unpark_fd, 1);
            }
        }
    }

    /// Whether the eventfd was written since the last call (it resets the counter).
    #[cfg(all(test, loom))]
    pub(crate) fn take_unpark(&self) -> bool {
        matches!(epoll::eventfd_read(self.unpark_fd.as_fd()), Ok(count) if count > 0)
    }

    /// Records the readiness each event carries in its registration and takes the wakers it
    /// concerns into `wake_list`. An event whose registration is gone (queued before a
    /// `deregister`) finds nothing, even if a new registration took its slot: the token's
    /// generation no longer matches.
    fn dispatch(&self, events: &[Event], wake_list: &mut Vec<Waker>) {
        let mut registrations = self.registrations.lock();
        let mut ready = 0;
        for event in events {
            let token = event.token();
            if token == UNPARK_TOKEN {
                continue;
            }
            if let Some(io) = registrations.slab.get(Key::from_u64(token)) {
                io.set_readiness(Ready::from_epoll(event.flags()), wake_list);
                ready += 1;
            }
        }
        registrations.counts.ready += ready;
    }

    /// The registration and event counts, for the metrics.
    pub(crate) fn counts(&self) -> IoCounts {
        self.registrations.lock().counts
    }

    /// How many fds are registered now: events may still come for them.
    pub(crate) fn live_registrations(&self) -> usize {
        self.registrations.lock().slab.len()
    }

    /// Whether the runtime this reactor belongs to has shut down (its registrations fail).
    pub(crate) fn is_shut_down(&self) -> bool {
        self.registrations.lock().is_shutdown
    }

    /// Runtime shutdown: refuses new registrations and wakes every waiting task with an error,
    /// so that I/O that outlives its runtime fails instead of waiting forever.
    pub(crate) fn shutdown(&self) {
        let mut wake_list = Vec::new();
        {
            let mut registrations = self.registrations.lock();
            registrations.is_shutdown = true;
            for io in registrations.slab.iter() {
                io.shutdown(&mut wake_list);
            }
        }
        crate::util::wake_all::wake_all(wake_list);
    }
}

/// The error of I/O on a registration whose runtime is gone.
pub(crate) fn shutdown_error() -> io::Error {
    io::Error::other("the mini runtime this I/O object was registered with has shut down")
}

impl Driver {
    /// Waits for events (at most `timeout`; `None` waits until one comes), records the
    /// readiness they carry and wakes the tasks waiting for it.
    pub(crate) fn turn(&mut self, timeout: Option<Duration>) {
        let events = match self.events.wait(self.reactor.epoll.as_fd(), timeout) {
            Ok(events) => events,
            Err(error) => {
                assert_eq!(error.kind(), io::ErrorKind::Interrupted, "epoll_wait failed: {error}");
                return;
            }
        };
        self.reactor.dispatch(events, &mut self.wake_list);
        crate::util::wake_all::wake_all(self.wake_list.drain(..));
    }
}

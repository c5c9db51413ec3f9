//! The reactor: one epoll instance per runtime, the registrations of the fds it watches, and the
//! driver that waits for events and wakes exactly the tasks they concern.
//!
//! How a wake travels (see also ARCHITECTURE.md):
//!
//! 1. `AsyncFd::new` registers the fd once, edge-triggered, for `IN | OUT | RDHUP`, with the
//!    registration's slab key (index and generation) as the epoll token.
//! 2. A task's read returns `WouldBlock`; it clears the cached read readiness (`scheduled_io.rs`)
//!    and stores its waker in the registration's read slot.
//! 3. The runtime has nothing to run and calls [`Driver::turn`], which blocks in `epoll_wait`.
//! 4. Data arrives; `epoll_wait` returns the token. The driver looks it up in the slab (a stale
//!    token from a closed fd finds nothing, even if the slot was reused), ORs the readiness into
//!    the registration and takes the read waker.
//! 5. The waker queues the task on the runtime's run queue; the task is polled and reads.
//!
//! Other threads interrupt a blocked `epoll_wait` through an eventfd registered with a reserved
//! token; the scheduler writes it only when its thread is actually parked.

#[cfg(all(test, loom))]
mod loom_models;
mod ready;
mod registration;
mod scheduled_io;

pub(crate) use ready::Direction;
pub use ready::Ready;
pub(crate) use registration::Registration;
pub(crate) use scheduled_io::{ReadyEvent, ScheduledIo};

use crate::loom::Mutex;
use crate::util::slab::{Key, Slab};
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
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
    slab: Slab<Arc<ScheduledIo>>,
    is_shutdown: bool,
}

/// The owned half: the thread that parks the runtime uses it to wait for events.
pub(crate) struct Driver {
    reactor: Arc<Reactor>,
    events: Vec<libc::epoll_event>,
    /// Wakers taken from registrations under the lock, woken after it is released.
    wake_list: Vec<Waker>,
}

fn cvt(result: libc::c_int) -> io::Result<libc::c_int> {
    if result == -1 {
        Err(io::Error::last_os_error())
    } else {
        Ok(result)
    }
}

impl Reactor {
    pub(crate) fn new() -> io::Result<(Arc<Reactor>, Driver)> {
        // SAFETY: epoll_create1 takes no pointers; on success we own the new fd.
        let epoll = unsafe { OwnedFd::from_raw_fd(cvt(libc::epoll_create1(libc::EPOLL_CLOEXEC))?) };
        // SAFETY: eventfd takes no pointers; on success we own the new fd.
        let unpark_fd = unsafe { OwnedFd::from_raw_fd(cvt(libc::eventfd(0, libc::EFD_CLOEXEC | libc::EFD_NONBLOCK))?) };
        let reactor = Arc::new(Reactor {
            epoll,
            unpark_fd,
            registrations: Mutex::new(Registrations {
                slab: Slab::new(),
                is_shutdown: false,
            }),
        });
        reactor.epoll_ctl(libc::EPOLL_CTL_ADD, reactor.unpark_fd.as_raw_fd(), UNPARK_TOKEN)?;
        let driver = Driver {
            reactor: reactor.clone(),
            events: Vec::with_capacity(EVENTS_CAPACITY),
            wake_list: Vec::new(),
        };
        Ok((reactor, driver))
    }

    fn epoll_ctl(&self, op: libc::c_int, fd: RawFd, token: u64) -> io::Result<()> {
        let mut event = libc::epoll_event {
            events: (libc::EPOLLIN | libc::EPOLLOUT | libc::EPOLLRDHUP | libc::EPOLLET) as u32,
            u64: token,
        };
        // SAFETY: `event` is a valid epoll_event for the duration of the call (the kernel ignores
        // it for EPOLL_CTL_DEL); a bad fd is reported as an error, not UB.
        cvt(unsafe { libc::epoll_ctl(self.epoll.as_raw_fd(), op, fd, &mut event) })?;
        Ok(())
    }

    /// Starts watching `fd`. The caller must deregister it before closing it.
    pub(crate) fn register(self: &Arc<Self>, fd: RawFd) -> io::Result<Registration> {
        let io = Arc::new(ScheduledIo::new());
        let key = {
            let mut registrations = self.registrations.lock();
            if registrations.is_shutdown {
                return Err(shutdown_error());
            }
            registrations.slab.insert(io.clone())
        };
        if let Err(error) = self.epoll_ctl(libc::EPOLL_CTL_ADD, fd, key.to_u64()) {
            self.registrations.lock().slab.remove(key);
            return Err(error);
        }
        Ok(Registration::new(self.clone(), io, key))
    }

    /// Stops watching `fd` (still open) and forgets its registration; a stale event for it that
    /// is already queued will find nothing.
    pub(crate) fn deregister(&self, fd: RawFd, key: Key) -> io::Result<()> {
        let removed = self.registrations.lock().slab.remove(key);
        // After shutdown the slab is empty and the epoll fd may have stopped mattering, but the
        // fd must still leave the epoll set before it is closed.
        let result = self.epoll_ctl(libc::EPOLL_CTL_DEL, fd, 0);
        drop(removed);
        result
    }

    /// Interrupts a thread blocked in [`Driver::turn`].
    pub(crate) fn unpark(&self) {
        let one: u64 = 1;
        // SAFETY: writes 8 bytes from a live u64 to our eventfd.
        let written = unsafe { libc::write(self.unpark_fd.as_raw_fd(), &one as *const u64 as *const libc::c_void, 8) };
        if written == -1 && io::Error::last_os_error().kind() == io::ErrorKind::WouldBlock {
            // The counter is saturated (it is never read, since edge-triggered epoll reports each
            // write anyway): reset it and write again, so that this wake is an edge of its own.
            let mut sink: u64 = 0;
            // SAFETY: reads 8 bytes into a live u64 from our eventfd; then writes 8 from `one`.
            unsafe {
                libc::read(
                    self.unpark_fd.as_raw_fd(),
                    &mut sink as *mut u64 as *mut libc::c_void,
                    8,
                );
                libc::write(self.unpark_fd.as_raw_fd(), &one as *const u64 as *const libc::c_void, 8);
            }
        }
    }

    /// Whether the eventfd was written since the last call (it resets the counter).
    #[cfg(all(test, loom))]
    pub(crate) fn take_unpark(&self) -> bool {
        let mut count: u64 = 0;
        // SAFETY: reads 8 bytes into a live u64 from our non-blocking eventfd.
        let read = unsafe {
            libc::read(
                self.unpark_fd.as_raw_fd(),
                &mut count as *mut u64 as *mut libc::c_void,
                8,
            )
        };
        read == 8 && count > 0
    }

    /// Records the readiness each event carries in its registration and takes the wakers it
    /// concerns into `wake_list`. An event whose registration is gone (queued before a
    /// `deregister`) finds nothing, even if a new registration took its slot: the token's
    /// generation no longer matches.
    fn dispatch(&self, events: &[libc::epoll_event], wake_list: &mut Vec<Waker>) {
        let registrations = self.registrations.lock();
        for event in events {
            let token = event.u64;
            if token == UNPARK_TOKEN {
                continue;
            }
            if let Some(io) = registrations.slab.get(Key::from_u64(token)) {
                io.set_readiness(Ready::from_epoll(event.events), wake_list);
            }
        }
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
        wake_all(wake_list);
    }
}

impl Driver {
    /// One `epoll_pwait2` (a nanosecond timeout, so timers are not rounded to milliseconds), or
    /// `epoll_wait` with the timeout rounded up to the millisecond (never early) where it fails:
    /// kernels before 5.11 answer `ENOSYS`, and seccomp filters that do not know it `EPERM`.
    /// Returns the syscall's result.
    fn wait(&mut self, timeout: Option<Duration>) -> libc::c_int {
        static NO_PWAIT2: AtomicBool = AtomicBool::new(false);
        let epoll = self.reactor.epoll.as_raw_fd();
        let events = self.events.as_mut_ptr();
        if let Some(timeout) = timeout.filter(|t| !t.is_zero() && !NO_PWAIT2.load(Ordering::Relaxed)) {
            let timespec = libc::timespec {
                tv_sec: timeout.as_secs().min(libc::time_t::MAX as u64) as libc::time_t,
                tv_nsec: timeout.subsec_nanos() as libc::c_long,
            };
            // SAFETY: the buffer has room for EVENTS_CAPACITY events, `timespec` is live for the
            // call, and a null signal mask means "leave it alone".
            let count = unsafe {
                libc::syscall(
                    libc::SYS_epoll_pwait2,
                    epoll,
                    events,
                    EVENTS_CAPACITY as libc::c_int,
                    &timespec as *const libc::timespec,
                    std::ptr::null::<libc::sigset_t>(),
                    0usize,
                )
            } as libc::c_int;
            if count != -1 || io::Error::last_os_error().kind() == io::ErrorKind::Interrupted {
                return count;
            }
            NO_PWAIT2.store(true, Ordering::Relaxed);
        }
        let timeout_ms = match timeout {
            None => -1,
            // Round up so that the wait never ends before the deadline.
            Some(timeout) => timeout.as_nanos().div_ceil(1_000_000).min(libc::c_int::MAX as u128) as libc::c_int,
        };
        // SAFETY: the buffer has room for EVENTS_CAPACITY events; the kernel writes at most that
        // many and returns how many.
        unsafe { libc::epoll_wait(epoll, events, EVENTS_CAPACITY as libc::c_int, timeout_ms) }
    }
}

/// Wakes every waker, even if one panics (a foreign executor's might); the first panic is
/// raised again once all are woken, so no task is left waiting for a wake that was dropped.
pub(crate) fn wake_all(wakers: impl IntoIterator<Item = Waker>) {
    let mut first_panic = None;
    for waker in wakers {
        if let Err(payload) = catch_unwind(AssertUnwindSafe(|| waker.wake())) {
            first_panic.get_or_insert(payload);
        }
    }
    if let Some(payload) = first_panic {
        resume_unwind(payload);
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
        self.events.clear();
        let count = self.wait(timeout);
        if count == -1 {
            let error = io::Error::last_os_error();
            assert_eq!(error.kind(), io::ErrorKind::Interrupted, "epoll_wait failed: {error}");
            return;
        }
        // SAFETY: the kernel initialised the first `count` events.
        unsafe { self.events.set_len(count as usize) };
        self.reactor.dispatch(&self.events, &mut self.wake_list);
        wake_all(self.wake_list.drain(..));
    }
}

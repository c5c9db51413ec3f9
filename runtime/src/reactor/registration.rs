//! A registered fd's handle on the reactor: what `AsyncFd` uses to wait for readiness and to
//! leave the epoll set.

use super::fd_state::{FdState, ReadyEvent};
use super::{shutdown_error, Direction, Reactor};
use crate::util::slab::Key;
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, RawFd};
use std::ptr::NonNull;
use std::sync::Arc;
use std::task::{Context, Poll};

// SAFETY: `io` points to an `FdState`, which is `Sync` (atomics and a lock); the registration
// holds the reactor, which owns it, alive.
unsafe impl Send for Registration {}
// SAFETY: as for `Send`: shared access to the `FdState` is what it is built for.
unsafe impl Sync for Registration {}

pub(crate) struct Registration {
    /// Keeps the reactor, and so the slab that holds `io`, alive.
    reactor: Arc<Reactor>,
    /// This fd's state, in its slot of the reactor's slab: valid from `new` until `deregister`
    /// (the slab never moves a stored value), and only read through shared references (its
    /// fields are atomics and a lock).
    io: NonNull<FdState>,
    key: Key,
    /// The fd as registered: what task dumps name when a task waits on it (read here rather than
    /// through the owner's `AsFd`, which for std's sockets is a call that is not inlined).
    fd: RawFd,
}

impl Registration {
    /// Starts watching `fd` in `reactor` (edge-triggered, for `IN | OUT | RDHUP`). Call
    /// [`deregister`](Registration::deregister) before closing `fd`.
    pub(crate) fn new(reactor: &Arc<Reactor>, fd: BorrowedFd<'_>) -> io::Result<Registration> {
        let (io, key) = reactor.add(fd)?;
        Ok(Registration {
            reactor: reactor.clone(),
            io,
            key,
            fd: fd.as_raw_fd(),
        })
    }

    /// The reactor this registration belongs to.
    pub(crate) fn reactor(&self) -> &Arc<Reactor> {
        &self.reactor
    }

    /// The fd as registered.
    #[inline]
    pub(crate) fn fd(&self) -> RawFd {
        self.fd
    }

    /// This fd's state.
    #[inline]
    fn io(&self) -> &FdState {
        // SAFETY: `io` was stored in the reactor's slab by `new` and stays there, unmoved, until
        // `deregister`, after which (its contract) this registration is not used; the slab lives
        // as long as the reactor, which `self.reactor` keeps alive.
        unsafe { self.io.as_ref() }
    }

    #[inline]
    pub(crate) fn poll_ready(&self, cx: &mut Context<'_>, direction: Direction) -> Poll<io::Result<ReadyEvent>> {
        self.io()
            .poll_ready(cx, direction)
            .map(|ready| ready.map_err(|_| shutdown_error()))
    }

    /// The readiness in `direction` as of the last event, without waiting (`None`: not ready).
    #[inline]
    pub(crate) fn try_ready(&self, direction: Direction) -> Option<io::Result<ReadyEvent>> {
        (self.io().ready_event(direction)).map(|ready| ready.map_err(|_| shutdown_error()))
    }

    #[inline]
    pub(crate) fn clear_readiness(&self, event: ReadyEvent) {
        self.io().clear_readiness(event);
    }

    /// The epoll token of this registration's events.
    #[cfg(all(test, loom))]
    pub(super) fn token(&self) -> u64 {
        self.key.to_u64()
    }

    /// Removes `fd` from the epoll set and frees its state; call it before closing `fd`.
    ///
    /// # Safety
    /// The registration must not be used afterwards (its slot may then hold another fd's state):
    /// `AsyncFd` calls this last, from `drop` or `into_inner`.
    pub(crate) unsafe fn deregister(&self, fd: BorrowedFd<'_>) -> io::Result<()> {
        self.reactor.deregister(fd, self.key)
    }
}

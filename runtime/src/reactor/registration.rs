//! A registered fd's handle on the reactor: what `AsyncFd` uses to wait for readiness and to
//! leave the epoll set.

use super::fd_state::{FdState, ReadyEvent};
use super::{shutdown_error, Direction, Reactor};
use crate::util::slab::Key;
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, RawFd};
use std::sync::Arc;
use std::task::{Context, Poll};

pub(crate) struct Registration {
    reactor: Arc<Reactor>,
    io: Arc<FdState>,
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

    #[inline]
    pub(crate) fn poll_ready(&self, cx: &mut Context<'_>, direction: Direction) -> Poll<io::Result<ReadyEvent>> {
        self.io
            .poll_ready(cx, direction)
            .map(|ready| ready.map_err(|_| shutdown_error()))
    }

    #[inline]
    pub(crate) fn clear_readiness(&self, event: ReadyEvent) {
        self.io.clear_readiness(event);
    }

    /// The epoll token of this registration's events.
    #[cfg(all(test, loom))]
    pub(super) fn token(&self) -> u64 {
        self.key.to_u64()
    }

    /// Removes `fd` from the epoll set; call it before closing `fd`.
    pub(crate) fn deregister(&self, fd: BorrowedFd<'_>) -> io::Result<()> {
        self.reactor.deregister(fd, self.key)
    }
}

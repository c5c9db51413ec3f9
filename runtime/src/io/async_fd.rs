//! `AsyncFd`: a non-blocking file descriptor registered with the runtime's reactor, and the
//! guard that says it is ready.

use super::Interest;
use crate::context;
use crate::reactor::{Direction, Reactor, Ready, ReadyEvent, Registration};
use crate::task::current::waiting_on;
use crate::task::trace::Wait;
use std::fmt;
use std::future::poll_fn;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::sync::Arc;
use std::task::{ready, Context, Poll};

/// A file descriptor registered with the current runtime's reactor, so that tasks can wait until
/// it is readable or writable.
///
/// The fd must be in non-blocking mode (`O_NONBLOCK`); an operation that would block must return
/// [`io::ErrorKind::WouldBlock`], which is how `AsyncFd` knows to wait for the next edge.
/// Registration is edge-triggered and happens once: waiting costs no syscall.
///
/// The pattern is: wait for readiness, try the operation, and on `WouldBlock` clear the
/// readiness and wait again. [`read_with`](AsyncFd::read_with) and
/// [`write_with`](AsyncFd::write_with) do exactly that:
///
/// ```
/// use mini_runtime::io::AsyncFd;
/// use std::io::{Read, Write};
/// use std::os::unix::net::UnixStream;
///
/// mini_runtime::Runtime::new().unwrap().block_on(async {
///     let (a, mut b) = UnixStream::pair().unwrap();
///     a.set_nonblocking(true).unwrap();
///     let a = AsyncFd::new(a).unwrap();
///     b.write_all(b"ping").unwrap();
///     let mut buf = [0; 4];
///     let n = a.read_with(|mut sock| sock.read(&mut buf)).await.unwrap();
///     assert_eq!(&buf[..n], b"ping");
/// });
/// ```
///
/// Several tasks may wait on one `AsyncFd` in the same direction; the next event wakes them all.
///
/// Dropping the `AsyncFd` removes the fd from the reactor and then closes it (by dropping `T`).
/// If the runtime shuts down first, waiting for readiness returns an error.
pub struct AsyncFd<T: AsFd> {
    registration: Registration,
    /// `None` only after `into_inner` took it.
    inner: Option<T>,
}

impl<T: AsFd> AsyncFd<T> {
    /// Registers `inner`'s fd with the current runtime's reactor.
    ///
    /// # Errors
    /// Whatever `epoll_ctl` says: for example a regular file, which epoll does not support
    /// (`EPERM`), or an fd registered twice (`EEXIST`).
    ///
    /// # Panics
    /// If called outside a mini runtime.
    pub fn new(inner: T) -> io::Result<AsyncFd<T>> {
        let Ok(reactor) = context::with_current(|scheduler| scheduler.drivers().reactor.clone()) else {
            panic!("`AsyncFd::new` {}", context::OUTSIDE_RUNTIME)
        };
        AsyncFd::register(&reactor, inner)
    }

    /// Registers `inner` with the reactor that `self` is registered with, rather than the current
    /// runtime's: what a listener does with the connections it accepts, so that they belong to
    /// the listener's runtime wherever `accept` is polled.
    ///
    /// # Errors
    /// As for [`AsyncFd::new`], and an error if that runtime has shut down.
    pub fn new_sibling<U: AsFd>(&self, inner: U) -> io::Result<AsyncFd<U>> {
        AsyncFd::register(self.registration.reactor(), inner)
    }

    fn register(reactor: &Arc<Reactor>, inner: T) -> io::Result<AsyncFd<T>> {
        let registration = Registration::new(reactor, inner.as_fd())?;
        Ok(AsyncFd {
            registration,
            inner: Some(inner),
        })
    }

    /// The wrapped value.
    #[inline]
    pub fn get_ref(&self) -> &T {
        self.inner.as_ref().expect("present until into_inner")
    }

    /// The wrapped value, mutably.
    pub fn get_mut(&mut self) -> &mut T {
        self.inner.as_mut().expect("present until into_inner")
    }

    /// Whether the runtime this fd is registered with has shut down: waiting on it fails, and
    /// the value must be registered anew (`into_inner`, then `new`) to be waited on.
    pub(crate) fn runtime_is_shut_down(&self) -> bool {
        self.registration.reactor().is_shut_down()
    }

    /// Removes the fd from the reactor and returns the value, still open.
    pub fn into_inner(mut self) -> T {
        self.deregister();
        self.inner.take().expect("present until into_inner")
    }

    /// The last use of the registration: from `drop`, or from `into_inner`, which takes `inner`
    /// so that `drop` does not come here again.
    fn deregister(&self) {
        if let Some(inner) = &self.inner {
            // Fails only if the fd is no longer in the epoll set, which nothing here can cause.
            // SAFETY: the callers use the registration no more (see above).
            let _ = unsafe { self.registration.deregister(inner.as_fd()) };
        }
    }

    #[inline]
    fn poll_ready(&self, cx: &mut Context<'_>, direction: Direction) -> Poll<io::Result<ReadyGuard<'_, T>>> {
        ready!(crate::coop::poll_proceed(cx));
        let Poll::Ready(event) = self.registration.poll_ready(cx, direction) else {
            // For task dumps: what this task waits on.
            waiting_on(Wait::Fd {
                fd: self.registration.fd(),
                write: direction == Direction::Write,
            });
            return Poll::Pending;
        };
        Poll::Ready(Ok(ReadyGuard {
            fd: self,
            event: event?,
        }))
    }

    /// Ready when the fd is readable (or the peer closed, or an error is pending); otherwise the
    /// task is woken when it becomes so.
    #[inline]
    pub fn poll_read_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<ReadyGuard<'_, T>>> {
        self.poll_ready(cx, Direction::Read)
    }

    /// Ready when the fd is writable (or closed, or an error is pending); otherwise the task is
    /// woken when it becomes so.
    #[inline]
    pub fn poll_write_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<ReadyGuard<'_, T>>> {
        self.poll_ready(cx, Direction::Write)
    }

    /// Ready when the fd is ready in one of `interest`'s directions, with what it is ready for
    /// (both directions' readiness when both are asked for and ready); otherwise the task is woken
    /// when it becomes so. Unlike the guards, this clears nothing: an operation that then returns
    /// `WouldBlock` should go through [`try_io`](AsyncFd::try_io), which does.
    pub fn poll_ready_for(&self, cx: &mut Context<'_>, interest: Interest) -> Poll<io::Result<Ready>> {
        let mut ready = Ready::EMPTY;
        for (wanted, direction) in [
            (interest.is_readable(), Direction::Read),
            (interest.is_writable(), Direction::Write),
        ] {
            if wanted {
                if let Poll::Ready(guard) = self.poll_ready(cx, direction) {
                    ready = ready | guard?.ready();
                }
            }
        }
        if ready.is_empty() {
            Poll::Pending
        } else {
            Poll::Ready(Ok(ready))
        }
    }

    /// Waits until the fd is ready in one of `interest`'s directions (see
    /// [`poll_ready_for`](AsyncFd::poll_ready_for)).
    pub async fn ready(&self, interest: Interest) -> io::Result<Ready> {
        poll_fn(|cx| self.poll_ready_for(cx, interest)).await
    }

    /// Runs `op` at once if the fd was ready in one of `interest`'s directions as of the last
    /// event; otherwise returns `WouldBlock` without calling it. If `op` returns `WouldBlock`,
    /// the readiness is cleared, so that the next wait blocks until a new event: the
    /// non-blocking `try_read`/`try_write` of mini's sockets are this.
    ///
    /// ```
    /// use mini_runtime::io::{AsyncFd, Interest};
    /// use std::io::Read;
    /// mini_runtime::Runtime::new().unwrap().block_on(async {
    ///     let (reader, mut writer) = std::os::unix::net::UnixStream::pair().unwrap();
    ///     reader.set_nonblocking(true).unwrap();
    ///     let reader = AsyncFd::new(reader).unwrap();
    ///     let mut buf = [0u8; 8];
    ///     let nothing = reader.try_io(Interest::READABLE, |mut r| r.read(&mut buf));
    ///     assert_eq!(nothing.unwrap_err().kind(), std::io::ErrorKind::WouldBlock);
    ///     std::io::Write::write_all(&mut writer, b"hi").unwrap();
    ///     reader.ready(Interest::READABLE).await.unwrap();
    ///     assert_eq!(reader.try_io(Interest::READABLE, |mut r| r.read(&mut buf)).unwrap(), 2);
    /// });
    /// ```
    ///
    /// # Errors
    /// `WouldBlock` as above; `op`'s error; an error once the runtime has shut down.
    pub fn try_io<R>(&self, interest: Interest, op: impl FnOnce(&T) -> io::Result<R>) -> io::Result<R> {
        let directions = [
            (interest.is_readable(), Direction::Read),
            (interest.is_writable(), Direction::Write),
        ];
        let ready = (directions.into_iter())
            .filter(|&(wanted, _)| wanted)
            .find_map(|(_, direction)| self.registration.try_ready(direction));
        let Some(event) = ready else {
            return Err(io::ErrorKind::WouldBlock.into());
        };
        let event = event?;
        match op(self.get_ref()) {
            Err(error) if is_would_block(&error) => {
                self.registration.clear_readiness(event);
                Err(error)
            }
            result => result,
        }
    }

    /// Waits until the fd is readable.
    pub async fn readable(&self) -> io::Result<ReadyGuard<'_, T>> {
        poll_fn(|cx| self.poll_read_ready(cx)).await
    }

    /// Waits until the fd is writable.
    pub async fn writable(&self) -> io::Result<ReadyGuard<'_, T>> {
        poll_fn(|cx| self.poll_write_ready(cx)).await
    }

    fn poll_io<R>(
        &self,
        cx: &mut Context<'_>,
        direction: Direction,
        mut op: impl FnMut(&T) -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        loop {
            let mut guard = ready!(self.poll_ready(cx, direction))?;
            if let Ok(result) = guard.try_io(&mut op) {
                return Poll::Ready(result);
            }
        }
    }

    /// Runs `op` when the fd is readable, waiting again each time it returns `WouldBlock`.
    pub fn poll_read_with<R>(&self, cx: &mut Context<'_>, op: impl FnMut(&T) -> io::Result<R>) -> Poll<io::Result<R>> {
        self.poll_io(cx, Direction::Read, op)
    }

    /// Runs `op` when the fd is writable, waiting again each time it returns `WouldBlock`.
    pub fn poll_write_with<R>(&self, cx: &mut Context<'_>, op: impl FnMut(&T) -> io::Result<R>) -> Poll<io::Result<R>> {
        self.poll_io(cx, Direction::Write, op)
    }

    /// Runs `op` when the fd is readable, waiting again each time it returns `WouldBlock`.
    pub async fn read_with<R>(&self, mut op: impl FnMut(&T) -> io::Result<R>) -> io::Result<R> {
        poll_fn(|cx| self.poll_read_with(cx, &mut op)).await
    }

    /// Runs `op` when the fd is writable, waiting again each time it returns `WouldBlock`.
    pub async fn write_with<R>(&self, mut op: impl FnMut(&T) -> io::Result<R>) -> io::Result<R> {
        poll_fn(|cx| self.poll_write_with(cx, &mut op)).await
    }
}

impl<T: AsFd> Drop for AsyncFd<T> {
    fn drop(&mut self) {
        // Deregister before `inner` (dropped after this) closes the fd.
        self.deregister();
    }
}

impl<T: AsFd> AsFd for AsyncFd<T> {
    #[inline]
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.get_ref().as_fd()
    }
}

impl<T: AsFd> AsRawFd for AsyncFd<T> {
    #[inline]
    fn as_raw_fd(&self) -> RawFd {
        self.as_fd().as_raw_fd()
    }
}

impl<T: AsFd + fmt::Debug> fmt::Debug for AsyncFd<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsyncFd").field("inner", self.get_ref()).finish()
    }
}

/// Proof that an [`AsyncFd`] was ready in one direction, as of the reactor's last event.
///
/// Readiness is cached: it stays set until an operation says `WouldBlock` and the guard clears
/// it ([`try_io`](ReadyGuard::try_io) does that for you). Clearing is skipped if an event arrived
/// since the guard was made, so no edge is ever lost.
pub struct ReadyGuard<'a, T: AsFd> {
    fd: &'a AsyncFd<T>,
    event: ReadyEvent,
}

impl<'a, T: AsFd> ReadyGuard<'a, T> {
    /// What the fd was ready for.
    pub fn ready(&self) -> Ready {
        self.event.ready
    }

    /// Forgets this direction's readiness, so that the next wait blocks until a new event. Call it
    /// when an operation returned `WouldBlock`, or when you know the fd is drained (a stream read
    /// that returned fewer bytes than asked). The closed flags are never cleared (after the peer's
    /// FIN a read returns `Ok(0)` at once); an error flag is, with the readiness it came with.
    pub fn clear_ready(&mut self) {
        self.fd.registration.clear_readiness(self.event);
    }

    /// Runs `op`; if it returns `WouldBlock`, clears the readiness and returns `Err(TryIoError)`
    /// so that the caller waits again.
    #[inline]
    pub fn try_io<R>(&mut self, op: impl FnOnce(&'a T) -> io::Result<R>) -> Result<io::Result<R>, TryIoError> {
        match op(self.fd.get_ref()) {
            Err(error) if is_would_block(&error) => {
                self.clear_ready();
                Err(TryIoError(()))
            }
            result => Ok(result),
        }
    }

    /// The wrapped value.
    #[inline]
    pub fn get_ref(&self) -> &'a T {
        self.fd.get_ref()
    }
}

impl<T: AsFd> fmt::Debug for ReadyGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReadyGuard").field("ready", &self.event.ready).finish()
    }
}

/// The operation given to [`ReadyGuard::try_io`] would have blocked; the readiness is cleared.
#[derive(Debug)]
pub struct TryIoError(());

/// `error.kind() == WouldBlock`, with the common case (the kernel's `EAGAIN`) checked inline
/// first: `kind` is a call into std that a pending read or write would make each time.
#[inline]
fn is_would_block(error: &io::Error) -> bool {
    error.raw_os_error() == Some(libc::EAGAIN) || error.kind() == io::ErrorKind::WouldBlock
}

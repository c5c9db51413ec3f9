//! `TcpListener`: a bound, listening socket whose `accept` waits on the reactor.

use super::TcpStream;
use crate::accept_backoff::{AcceptBackoff, FdExhaustion};
use crate::addr::{each_addr, ToSocketAddrs};
use crate::sys;
use futures_core::Stream;
use mini_runtime::io::AsyncFd;
use std::fmt;
use std::future::poll_fn;
use std::io;
use std::net::SocketAddr;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::pin::Pin;
use std::task::{ready, Context, Poll};

/// The listen backlog: how many connections the kernel queues before `accept`. 1024, as in
/// tokio: a burst of connects is not refused while the runtime is busy, and the kernel caps it
/// at `net.core.somaxconn` (4096 since Linux 5.4) anyway.
pub(crate) const BACKLOG: libc::c_int = 1024;

/// A TCP socket that listens for connections.
///
/// ```
/// use mini_net::{TcpListener, TcpStream};
///
/// mini_runtime::Runtime::new().unwrap().block_on(async {
///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
///     let addr = listener.local_addr().unwrap();
///     let client = mini_runtime::spawn(async move { TcpStream::connect(addr).await.unwrap() });
///     let (server_side, peer) = listener.accept().await.unwrap();
///     let client = client.await.unwrap();
///     assert_eq!(peer, client.local_addr().unwrap());
///     assert_eq!(server_side.peer_addr().unwrap(), client.local_addr().unwrap());
/// });
/// ```
///
/// The socket is non-blocking and close-on-exec, with `SO_REUSEADDR` so that a restarted server
/// can bind while old connections linger in `TIME_WAIT`.
///
/// `accept` returns the errors it meets, and recovers from running out of fds by itself: after
/// `EMFILE`/`ENFILE` (or `ENOBUFS`/`ENOMEM`) the next `accept` waits before it retries (5 ms,
/// doubling up to 1 s; see [`poll_accept`](TcpListener::poll_accept)). So the plain loop that
/// logs an error and goes on neither spins while starved nor needs its own pause:
///
/// ```no_run
/// # async fn handle(_stream: mini_net::TcpStream) {}
/// # async fn serve(listener: mini_net::TcpListener) {
/// loop {
///     match listener.accept().await {
///         Ok((stream, _peer)) => drop(mini_runtime::spawn(handle(stream))),
///         // Out of fds, or a client that reset before it was accepted: log and go on.
///         Err(error) => eprintln!("accept: {error}"),
///     }
/// }
/// # }
/// ```
pub struct TcpListener {
    io: AsyncFd<std::net::TcpListener>,
    backoff: AcceptBackoff,
}

impl TcpListener {
    /// Binds to `addr` and listens. If `addr` names several addresses (a host name), each is
    /// tried in turn and the last error is returned if none works.
    ///
    /// # Errors
    /// `AddrInUse` if another socket holds the address, `InvalidInput` for an address that cannot
    /// be parsed, `AddrNotAvailable` for an address that is not local, and lookup errors.
    pub async fn bind(addr: impl ToSocketAddrs) -> io::Result<TcpListener> {
        each_addr(&addr, |addr| async move { TcpListener::bind_addr(addr) }).await
    }

    fn bind_addr(addr: SocketAddr) -> io::Result<TcpListener> {
        let fd = sys::stream_socket(&addr)?;
        sys::set_reuseaddr(fd.as_fd())?;
        sys::bind(fd.as_fd(), &addr)?;
        TcpListener::listen_on(fd, BACKLOG)
    }

    /// Listens on the bound, non-blocking socket `fd` (made by `bind` or by `TcpSocket`).
    pub(crate) fn listen_on(fd: OwnedFd, backlog: libc::c_int) -> io::Result<TcpListener> {
        sys::listen(fd.as_fd(), backlog)?;
        TcpListener::from_listening(fd)
    }

    /// Registers the listening, non-blocking socket `fd` with the current runtime.
    pub(crate) fn from_listening(fd: OwnedFd) -> io::Result<TcpListener> {
        Ok(TcpListener {
            io: AsyncFd::new(std::net::TcpListener::from(fd))?,
            backoff: AcceptBackoff::default(),
        })
    }

    /// Waits for a connection and returns it with the peer's address.
    ///
    /// Cancel-safe: dropping the future before it completes loses no connection.
    pub async fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        poll_fn(|cx| self.poll_accept(cx)).await
    }

    /// Polls for a connection; the task is woken when one arrives.
    ///
    /// Out of fds (`EMFILE`, `ENFILE`) or memory (`ENOBUFS`, `ENOMEM`), it returns the error and
    /// the next call waits before it tries again: 5 ms, doubling after each further failure up to
    /// 1 s, reset by a success. An accept loop that logs the error and goes on (as most do)
    /// therefore costs almost no CPU while starved and recovers on its own.
    pub fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<(TcpStream, SocketAddr)>> {
        let accept = |cx: &mut Context<'_>| self.io.poll_read_with(cx, |listener| sys::accept(listener.as_fd()));
        let (fd, peer) = ready!(self.backoff.poll_accept(cx, accept))?;
        // Registered with the listener's runtime, wherever this is polled.
        let io = self.io.new_sibling(std::net::TcpStream::from(fd))?;
        Poll::Ready(Ok((TcpStream::from_accepted(io), peer)))
    }

    /// What to do with queued connections while the process is out of fds: leave them queued
    /// ([`FdExhaustion::Wait`], the default) or accept and close them at once
    /// ([`FdExhaustion::Shed`]), with an fd kept in reserve for that (opened here).
    ///
    /// # Errors
    /// If the reserve fd (`/dev/null`) cannot be opened.
    pub fn set_fd_exhaustion(&self, policy: FdExhaustion) -> io::Result<()> {
        self.backoff.set_fd_exhaustion(policy)
    }

    /// How many accepts failed for lack of fds or memory (each made the next one wait), and how
    /// many connections were shed ([`FdExhaustion::Shed`]), since the listener was made.
    pub fn fd_exhaustion_counts(&self) -> (u64, u64) {
        (self.backoff.exhausted_count(), self.backoff.shed_count())
    }

    /// The connections as a [`Stream`](futures_core::Stream) that never ends.
    ///
    /// ```no_run
    /// use futures::StreamExt;
    /// # mini_runtime::Runtime::new().unwrap().block_on(async {
    /// let listener = mini_net::TcpListener::bind("127.0.0.1:8080").await?;
    /// let mut incoming = listener.incoming();
    /// while let Some(stream) = incoming.next().await {
    ///     let stream = stream?;
    ///     mini_runtime::spawn(async move { drop(stream) });
    /// }
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub fn incoming(&self) -> Incoming<'_> {
        Incoming { listener: self }
    }

    /// The address the listener is bound to (with the real port, if you bound port 0).
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// Wraps a listener made with `std`, switching it to non-blocking mode.
    ///
    /// # Panics
    /// Outside a mini runtime.
    pub fn from_std(listener: std::net::TcpListener) -> io::Result<TcpListener> {
        listener.set_nonblocking(true)?;
        Ok(TcpListener {
            io: AsyncFd::new(listener)?,
            backoff: AcceptBackoff::default(),
        })
    }

    /// Unregisters the listener and returns it as a blocking `std` listener.
    pub fn into_std(self) -> io::Result<std::net::TcpListener> {
        let listener = self.io.into_inner();
        listener.set_nonblocking(false)?;
        Ok(listener)
    }
}

crate::fd::impl_as_fd!(TcpListener, io);

impl fmt::Debug for TcpListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TcpListener")
            .field("local_addr", &self.local_addr().ok())
            .field("fd", &self.as_raw_fd())
            .finish()
    }
}

/// The stream of connections from [`TcpListener::incoming`].
#[derive(Debug)]
pub struct Incoming<'a> {
    listener: &'a TcpListener,
}

impl Stream for Incoming<'_> {
    type Item = io::Result<TcpStream>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let (stream, _) = ready!(self.listener.poll_accept(cx))?;
        Poll::Ready(Some(Ok(stream)))
    }
}

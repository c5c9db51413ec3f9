//! `TcpListener`: a bound, listening socket whose `accept` waits on the reactor.

use super::TcpStream;
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
const BACKLOG: libc::c_int = 1024;

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
/// `accept` returns errors it cannot recover from itself, such as `EMFILE` when the process is out
/// of fds. The pending connection stays queued (and the listener readable), so retrying at once
/// would spin the CPU until an fd frees up: a robust accept loop pauses on `EMFILE`/`ENFILE`,
/// and skips connections that died before they were accepted:
///
/// ```no_run
/// use std::time::Duration;
/// # async fn handle(_stream: mini_net::TcpStream) {}
/// # async fn serve(listener: mini_net::TcpListener) -> std::io::Result<()> {
/// loop {
///     match listener.accept().await {
///         Ok((stream, _peer)) => drop(mini_runtime::spawn(handle(stream))),
///         // Out of fds (this process, or the whole system): wait for some to close.
///         Err(error) if matches!(error.raw_os_error(), Some(libc::EMFILE | libc::ENFILE)) => {
///             mini_runtime::time::sleep(Duration::from_millis(100)).await;
///         }
///         // The client reset the connection before we accepted it: nothing to do.
///         Err(error) if error.kind() == std::io::ErrorKind::ConnectionAborted => {}
///         Err(error) => return Err(error),
///     }
/// }
/// # }
/// ```
pub struct TcpListener {
    io: AsyncFd<std::net::TcpListener>,
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
        Ok(TcpListener {
            io: AsyncFd::new(std::net::TcpListener::from(fd))?,
        })
    }

    /// Waits for a connection and returns it with the peer's address.
    ///
    /// Cancel-safe: dropping the future before it completes loses no connection.
    pub async fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        poll_fn(|cx| self.poll_accept(cx)).await
    }

    /// Polls for a connection; the task is woken when one arrives.
    pub fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<(TcpStream, SocketAddr)>> {
        let (fd, peer) = ready!(self.io.poll_read_with(cx, |listener| sys::accept(listener.as_fd())))?;
        // Registered with the listener's runtime, wherever this is polled.
        let io = self.io.new_sibling(std::net::TcpStream::from(fd))?;
        Poll::Ready(Ok((TcpStream::from_accepted(io), peer)))
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

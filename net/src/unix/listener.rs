//! `UnixListener`: a listening Unix-domain socket whose `accept` waits on the reactor.

use super::UnixStream;
use crate::accept_backoff::{AcceptBackoff, FdExhaustion};
use mini_runtime::io::AsyncFd;
use std::fmt;
use std::future::poll_fn;
use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::net::{self, SocketAddr};
use std::path::Path;
use std::task::{ready, Context, Poll};

/// A Unix-domain socket listening for connections.
///
/// ```
/// use mini_net::{UnixListener, UnixStream};
///
/// mini_runtime::Runtime::new().unwrap().block_on(async {
///     let dir = std::env::temp_dir().join(format!("mini-doc-{}", std::process::id()));
///     std::fs::create_dir_all(&dir).unwrap();
///     let path = dir.join("echo.sock");
///     let listener = UnixListener::bind(&path).unwrap();
///     mini_runtime::spawn(async move {
///         let (mut stream, _) = listener.accept().await.unwrap();
///         let mut buf = [0; 4];
///         stream.read_exact(&mut buf).await.unwrap();
///         stream.write_all(&buf).await.unwrap();
///     });
///     let mut stream = UnixStream::connect(&path).await.unwrap();
///     stream.write_all(b"ping").await.unwrap();
///     let mut echo = [0; 4];
///     stream.read_exact(&mut echo).await.unwrap();
///     assert_eq!(&echo, b"ping");
///     std::fs::remove_dir_all(dir).unwrap();
/// });
/// ```
///
/// The socket file is not removed when the listener is dropped (remove it yourself); binding a
/// path that exists fails with `AddrInUse`.
pub struct UnixListener {
    io: AsyncFd<net::UnixListener>,
    backoff: AcceptBackoff,
}

impl UnixListener {
    /// Binds to the filesystem path `path` and listens.
    ///
    /// # Errors
    /// `AddrInUse` if `path` exists, `NotFound` if its directory does not, `InvalidInput` if it
    /// is too long for a socket address (108 bytes).
    ///
    /// # Panics
    /// Outside a mini runtime.
    pub fn bind(path: impl AsRef<Path>) -> io::Result<UnixListener> {
        UnixListener::from_std(net::UnixListener::bind(path)?)
    }

    /// Binds to `addr` (for example an abstract name made with
    /// `std::os::linux::net::SocketAddrExt::from_abstract_name`) and listens.
    pub fn bind_addr(addr: &SocketAddr) -> io::Result<UnixListener> {
        UnixListener::from_std(net::UnixListener::bind_addr(addr)?)
    }

    /// Waits for a connection and returns it with the peer's address (usually unnamed).
    ///
    /// Cancel-safe: dropping the future before it completes loses no connection.
    pub async fn accept(&self) -> io::Result<(UnixStream, SocketAddr)> {
        poll_fn(|cx| self.poll_accept(cx)).await
    }

    /// Polls for a connection; the task is woken when one arrives. Out of fds or memory, it
    /// returns the error and the next call waits before it retries, as
    /// [`TcpListener::poll_accept`](crate::TcpListener::poll_accept) does.
    pub fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<(UnixStream, SocketAddr)>> {
        // `std` accepts with `SOCK_CLOEXEC`; the stream is made non-blocking before it is used.
        let accept = |cx: &mut Context<'_>| self.io.poll_read_with(cx, |listener| listener.accept());
        let (stream, peer) = ready!(self.backoff.poll_accept(cx, accept))?;
        stream.set_nonblocking(true)?;
        // Registered with the listener's runtime, wherever this is polled.
        let io = self.io.new_sibling(stream)?;
        Poll::Ready(Ok((UnixStream::from_registered(io), peer)))
    }

    /// What to do with queued connections while the process is out of fds; see
    /// [`TcpListener::set_fd_exhaustion`](crate::TcpListener::set_fd_exhaustion).
    ///
    /// # Errors
    /// If the reserve fd (`/dev/null`) cannot be opened.
    pub fn set_fd_exhaustion(&self, policy: FdExhaustion) -> io::Result<()> {
        self.backoff.set_fd_exhaustion(policy)
    }

    /// Accepts failed for lack of fds or memory, and connections shed; see
    /// [`TcpListener::fd_exhaustion_counts`](crate::TcpListener::fd_exhaustion_counts).
    pub fn fd_exhaustion_counts(&self) -> (u64, u64) {
        (self.backoff.exhausted_count(), self.backoff.shed_count())
    }

    /// The address the listener is bound to.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// Wraps a listener made with `std`, switching it to non-blocking mode.
    ///
    /// # Panics
    /// Outside a mini runtime.
    pub fn from_std(listener: net::UnixListener) -> io::Result<UnixListener> {
        listener.set_nonblocking(true)?;
        Ok(UnixListener {
            io: AsyncFd::new(listener)?,
            backoff: AcceptBackoff::default(),
        })
    }

    /// Unregisters the listener and returns it as a blocking `std` listener.
    pub fn into_std(self) -> io::Result<net::UnixListener> {
        let listener = self.io.into_inner();
        listener.set_nonblocking(false)?;
        Ok(listener)
    }
}

crate::fd::impl_as_fd!(UnixListener, io);

impl fmt::Debug for UnixListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnixListener")
            .field("local_addr", &self.local_addr().ok())
            .field("fd", &self.as_raw_fd())
            .finish()
    }
}

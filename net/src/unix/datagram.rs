//! `UnixDatagram`: a Unix-domain datagram socket whose sends and receives wait on the reactor.

use mini_runtime::io::{AsyncFd, Interest};
use std::fmt;
use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::net::{self, SocketAddr};
use std::path::Path;
use std::task::{Context, Poll};

/// A Unix-domain datagram socket: bound to a path, to an abstract name (Linux; see
/// [`bind_addr`](UnixDatagram::bind_addr)), or unnamed.
///
/// ```
/// use mini_net::UnixDatagram;
///
/// mini_runtime::Runtime::new().unwrap().block_on(async {
///     let (a, b) = UnixDatagram::pair().unwrap();
///     a.send(b"ping").await.unwrap();
///     let mut buf = [0; 16];
///     let n = b.recv(&mut buf).await.unwrap();
///     assert_eq!(&buf[..n], b"ping");
/// });
/// ```
///
/// The socket file of a path-bound socket is not removed when the socket is dropped (remove it
/// yourself); binding a path that exists fails with `AddrInUse`. As with UDP, a datagram longer
/// than the receiving buffer is truncated and its tail lost.
pub struct UnixDatagram {
    io: AsyncFd<net::UnixDatagram>,
}

impl UnixDatagram {
    /// Binds a socket to the filesystem path `path`.
    ///
    /// # Errors
    /// `AddrInUse` if `path` exists, `NotFound` if its directory does not, `InvalidInput` if it
    /// is too long for a socket address (108 bytes).
    ///
    /// # Panics
    /// Outside a mini runtime.
    pub fn bind(path: impl AsRef<Path>) -> io::Result<UnixDatagram> {
        UnixDatagram::from_nonblocking(net::UnixDatagram::bind(path)?)
    }

    /// Binds a socket to `addr`, for example an abstract name made with
    /// `std::os::linux::net::SocketAddrExt::from_abstract_name` (no file; gone with the socket).
    pub fn bind_addr(addr: &SocketAddr) -> io::Result<UnixDatagram> {
        UnixDatagram::from_nonblocking(net::UnixDatagram::bind_addr(addr)?)
    }

    /// A socket bound to no address: it can send to bound sockets (or `connect` to one), but
    /// nobody can address a datagram to it.
    pub fn unbound() -> io::Result<UnixDatagram> {
        UnixDatagram::from_nonblocking(net::UnixDatagram::unbound()?)
    }

    /// Two sockets connected to each other.
    pub fn pair() -> io::Result<(UnixDatagram, UnixDatagram)> {
        let (a, b) = net::UnixDatagram::pair()?;
        Ok((UnixDatagram::from_nonblocking(a)?, UnixDatagram::from_nonblocking(b)?))
    }

    fn from_nonblocking(socket: net::UnixDatagram) -> io::Result<UnixDatagram> {
        // `std` creates the socket close-on-exec; switch it to non-blocking before anyone uses it.
        socket.set_nonblocking(true)?;
        Ok(UnixDatagram {
            io: AsyncFd::new(socket)?,
        })
    }

    /// Sets the default destination of `send` and the only source `recv` accepts.
    pub fn connect(&self, path: impl AsRef<Path>) -> io::Result<()> {
        self.io.get_ref().connect(path)
    }

    /// Sends `buf` as one datagram to the connected peer.
    pub async fn send(&self, buf: &[u8]) -> io::Result<usize> {
        self.io.write_with(|socket| socket.send(buf)).await
    }

    /// Polls [`send`](UnixDatagram::send).
    pub fn poll_send(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.io.poll_write_with(cx, |socket| socket.send(buf))
    }

    /// Receives one datagram into `buf`; returns its length (truncated to `buf.len()`).
    pub async fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io.read_with(|socket| socket.recv(buf)).await
    }

    /// Polls [`recv`](UnixDatagram::recv).
    pub fn poll_recv(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        self.io.poll_read_with(cx, |socket| socket.recv(buf))
    }

    /// Sends `buf` as one datagram to the socket bound at `path`.
    pub async fn send_to(&self, buf: &[u8], path: impl AsRef<Path>) -> io::Result<usize> {
        let path = path.as_ref();
        self.io.write_with(|socket| socket.send_to(buf, path)).await
    }

    /// `send_to` without waiting: `WouldBlock` if the socket cannot take it now.
    pub fn try_send_to(&self, buf: &[u8], path: impl AsRef<Path>) -> io::Result<usize> {
        self.io
            .try_io(Interest::WRITABLE, |socket| socket.send_to(buf, path.as_ref()))
    }

    /// Sends `buf` as one datagram to `addr` (a path or an abstract name).
    pub async fn send_to_addr(&self, buf: &[u8], addr: &SocketAddr) -> io::Result<usize> {
        self.io.write_with(|socket| socket.send_to_addr(buf, addr)).await
    }

    /// Receives one datagram into `buf`; returns its length (truncated to `buf.len()`) and
    /// the sender's address (unnamed if it is not bound).
    pub async fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.io.read_with(|socket| socket.recv_from(buf)).await
    }

    /// The address the socket is bound to.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// The connected peer's address.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().peer_addr()
    }

    /// Takes the pending socket error (`SO_ERROR`).
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.io.get_ref().take_error()
    }

    /// Wraps a socket made with `std`, switching it to non-blocking mode.
    ///
    /// # Panics
    /// Outside a mini runtime.
    pub fn from_std(socket: net::UnixDatagram) -> io::Result<UnixDatagram> {
        UnixDatagram::from_nonblocking(socket)
    }

    /// Unregisters the socket and returns it as a blocking `std` socket.
    pub fn into_std(self) -> io::Result<net::UnixDatagram> {
        let socket = self.io.into_inner();
        socket.set_nonblocking(false)?;
        Ok(socket)
    }
}

crate::fd::impl_as_fd!(UnixDatagram, io);

impl fmt::Debug for UnixDatagram {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnixDatagram")
            .field("local_addr", &self.local_addr().ok())
            .field("fd", &self.as_raw_fd())
            .finish()
    }
}

crate::readiness::datagram_readiness_methods!(UnixDatagram, SocketAddr, |this| &this.io);

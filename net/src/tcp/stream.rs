//! `TcpStream`: a connected socket whose reads and writes wait on the reactor.

use super::split::{split, split_owned, OwnedReadHalf, OwnedWriteHalf, ReadHalf, WriteHalf};
use crate::addr::{each_addr, ToSocketAddrs};
use crate::stream::{impl_async_read, impl_async_write, read_methods, write_methods};
use crate::sys;
use mini_runtime::io::AsyncFd;
use std::fmt;
use std::io;
use std::net::{Shutdown, SocketAddr};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};

/// A TCP connection.
///
/// ```
/// use mini_net::{TcpListener, TcpStream};
///
/// mini_runtime::Runtime::new().unwrap().block_on(async {
///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
///     let addr = listener.local_addr().unwrap();
///     mini_runtime::spawn(async move {
///         let (mut stream, _) = listener.accept().await.unwrap();
///         let mut buf = [0; 5];
///         stream.read_exact(&mut buf).await.unwrap();
///         stream.write_all(&buf).await.unwrap();
///     });
///     let mut stream = TcpStream::connect(addr).await.unwrap();
///     stream.write_all(b"hello").await.unwrap();
///     let mut echo = [0; 5];
///     stream.read_exact(&mut echo).await.unwrap();
///     assert_eq!(&echo, b"hello");
/// });
/// ```
///
/// It also implements `futures_io::AsyncRead` and `AsyncWrite` (for `TcpStream` and
/// `&TcpStream`), so the `futures` crate's extension traits and codecs work with it. Writes use
/// `MSG_NOSIGNAL`: writing to a closed connection returns `EPIPE` or `ECONNRESET`, and never
/// kills the process with `SIGPIPE`. Every read and write future is cancel-safe: dropping it
/// before it completes loses no data.
pub struct TcpStream {
    pub(crate) io: AsyncFd<std::net::TcpStream>,
}

impl TcpStream {
    /// Connects to `addr`. If it names several addresses (a host name), each is tried in turn
    /// and the last error is returned if none accepts.
    ///
    /// # Errors
    /// `ConnectionRefused` when nothing listens there, `InvalidInput` for an address that cannot
    /// be parsed, and lookup errors.
    pub async fn connect(addr: impl ToSocketAddrs) -> io::Result<TcpStream> {
        each_addr(&addr, TcpStream::connect_addr).await
    }

    async fn connect_addr(addr: SocketAddr) -> io::Result<TcpStream> {
        TcpStream::connect_socket(sys::stream_socket(&addr)?, addr).await
    }

    /// Connects the non-blocking socket `fd` (made by `connect` or by `TcpSocket`) to `addr`.
    pub(crate) async fn connect_socket(fd: OwnedFd, addr: SocketAddr) -> io::Result<TcpStream> {
        let connected = sys::connect(fd.as_fd(), &addr)?;
        let stream = TcpStream::from_connected(fd)?;
        if !connected {
            // The handshake is under way: the socket turns writable when it ends, and SO_ERROR
            // says how.
            stream.io.writable().await?;
            if let Some(error) = stream.io.get_ref().take_error()? {
                return Err(error);
            }
        }
        Ok(stream)
    }

    /// Wraps a socket registered by its listener.
    pub(crate) fn from_accepted(io: AsyncFd<std::net::TcpStream>) -> TcpStream {
        TcpStream { io }
    }

    /// Wraps a connected (or connecting) non-blocking socket.
    fn from_connected(fd: OwnedFd) -> io::Result<TcpStream> {
        Ok(TcpStream {
            io: AsyncFd::new(std::net::TcpStream::from(fd))?,
        })
    }

    /// Wraps a stream made with `std`, switching it to non-blocking mode.
    ///
    /// # Panics
    /// Outside a mini runtime.
    pub fn from_std(stream: std::net::TcpStream) -> io::Result<TcpStream> {
        stream.set_nonblocking(true)?;
        Ok(TcpStream {
            io: AsyncFd::new(stream)?,
        })
    }

    /// Unregisters the stream and returns it as a blocking `std` stream.
    pub fn into_std(self) -> io::Result<std::net::TcpStream> {
        let stream = self.io.into_inner();
        stream.set_nonblocking(false)?;
        Ok(stream)
    }

    /// Shuts down the reading side, the writing side (the peer reads end-of-file), or both.
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.io.get_ref().shutdown(how)
    }

    /// Sets `TCP_NODELAY`: small writes go out at once instead of waiting to be coalesced
    /// (Nagle's algorithm).
    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        self.io.get_ref().set_nodelay(nodelay)
    }

    /// Whether `TCP_NODELAY` is set.
    pub fn nodelay(&self) -> io::Result<bool> {
        self.io.get_ref().nodelay()
    }

    /// `SO_LINGER`: `Some(d)` makes closing wait up to `d` for unsent data (`Some(0)`: close
    /// with a reset, dropping it); `None` closes in the background (the default).
    pub fn set_linger(&self, linger: Option<std::time::Duration>) -> io::Result<()> {
        sys::set_linger(self.io.as_fd(), linger)
    }

    /// The `SO_LINGER` setting.
    pub fn linger(&self) -> io::Result<Option<std::time::Duration>> {
        sys::linger(self.io.as_fd())
    }

    /// `IP_TOS` (IPv4): the type-of-service byte of the packets sent (DSCP and ECN).
    pub fn set_tos(&self, tos: u32) -> io::Result<()> {
        sys::setsockopt(self.io.as_fd(), libc::IPPROTO_IP, libc::IP_TOS, tos as libc::c_int)
    }

    /// The `IP_TOS` setting.
    pub fn tos(&self) -> io::Result<u32> {
        sys::getsockopt::<libc::c_int>(self.io.as_fd(), libc::IPPROTO_IP, libc::IP_TOS).map(|tos| tos as u32)
    }

    /// `IPV6_TCLASS` (IPv6): the traffic class of the packets sent.
    pub fn set_tclass_v6(&self, tclass: u32) -> io::Result<()> {
        sys::setsockopt(
            self.io.as_fd(),
            libc::IPPROTO_IPV6,
            libc::IPV6_TCLASS,
            tclass as libc::c_int,
        )
    }

    /// The `IPV6_TCLASS` setting.
    pub fn tclass_v6(&self) -> io::Result<u32> {
        sys::getsockopt::<libc::c_int>(self.io.as_fd(), libc::IPPROTO_IPV6, libc::IPV6_TCLASS).map(|class| class as u32)
    }

    /// The remote address.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().peer_addr()
    }

    /// The local address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// Borrowed halves, to read and write at once from one task (for example with `join!`).
    pub fn split(&mut self) -> (ReadHalf<'_>, WriteHalf<'_>) {
        split(self)
    }

    /// Owned halves, to read in one task and write in another. Dropping the write half shuts
    /// down the writing side; [`OwnedReadHalf::reunite`] puts them back together.
    pub fn into_split(self) -> (OwnedReadHalf, OwnedWriteHalf) {
        split_owned(self)
    }
}

crate::fd::impl_as_fd!(TcpStream, io);

impl fmt::Debug for TcpStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TcpStream")
            .field("local_addr", &self.local_addr().ok())
            .field("peer_addr", &self.peer_addr().ok())
            .field("fd", &self.as_raw_fd())
            .finish()
    }
}

read_methods!(TcpStream, |this| &this.io);
crate::readiness::stream_readiness_methods!(TcpStream, |this| &this.io);
write_methods!(TcpStream, |this| &this.io);
impl_async_read!(&TcpStream, |this| &this.io);
impl_async_write!(&TcpStream, |this| &this.io);

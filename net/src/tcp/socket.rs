//! `TcpSocket`: a TCP socket configured before it becomes a listener (`listen`) or a stream
//! (`connect`), for the options that must be set first (`SO_REUSEPORT`, buffer sizes,
//! `IPV6_V6ONLY`, binding the local end of an outgoing connection).

use super::{TcpListener, TcpStream};
use crate::sys;
use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::time::Duration;

/// A TCP socket that is neither listening nor connected yet.
///
/// ```
/// use mini_net::TcpSocket;
///
/// mini_runtime::Runtime::new().unwrap().block_on(async {
///     let socket = TcpSocket::new_v4().unwrap();
///     socket.set_reuseaddr(true).unwrap();
///     socket.set_recv_buffer_size(1 << 20).unwrap();
///     socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
///     let listener = socket.listen(128).unwrap();
///     let stream = TcpSocket::new_v4().unwrap().connect(listener.local_addr().unwrap()).await.unwrap();
///     assert_eq!(stream.peer_addr().unwrap(), listener.local_addr().unwrap());
/// });
/// ```
///
/// Created non-blocking and close-on-exec; it joins the reactor only when `listen` or `connect`
/// turns it into a `TcpListener` or a `TcpStream` (so making one needs no runtime).
pub struct TcpSocket {
    fd: OwnedFd,
}

fn int(on: bool) -> libc::c_int {
    libc::c_int::from(on)
}

impl TcpSocket {
    /// An IPv4 socket.
    pub fn new_v4() -> io::Result<TcpSocket> {
        let any: SocketAddr = (std::net::Ipv4Addr::UNSPECIFIED, 0).into();
        Ok(TcpSocket {
            fd: sys::stream_socket(&any)?,
        })
    }

    /// An IPv6 socket. By default Linux lets it accept IPv4 connections too (as
    /// `::ffff:a.b.c.d`) when bound to `[::]`; see [`set_only_v6`](TcpSocket::set_only_v6).
    pub fn new_v6() -> io::Result<TcpSocket> {
        let any: SocketAddr = (std::net::Ipv6Addr::UNSPECIFIED, 0).into();
        Ok(TcpSocket {
            fd: sys::stream_socket(&any)?,
        })
    }

    fn set(&self, level: libc::c_int, name: libc::c_int, value: libc::c_int) -> io::Result<()> {
        sys::setsockopt(self.fd.as_fd(), level, name, value)
    }

    fn get(&self, level: libc::c_int, name: libc::c_int) -> io::Result<libc::c_int> {
        sys::getsockopt(self.fd.as_fd(), level, name)
    }

    /// `SO_REUSEADDR`: bind a port whose earlier connections are still in `TIME_WAIT`.
    pub fn set_reuseaddr(&self, on: bool) -> io::Result<()> {
        self.set(libc::SOL_SOCKET, libc::SO_REUSEADDR, int(on))
    }

    /// Whether `SO_REUSEADDR` is set.
    pub fn reuseaddr(&self) -> io::Result<bool> {
        Ok(self.get(libc::SOL_SOCKET, libc::SO_REUSEADDR)? != 0)
    }

    /// `SO_REUSEPORT`: several sockets (of the same user) listen on one port, and the kernel
    /// spreads connections between them.
    pub fn set_reuseport(&self, on: bool) -> io::Result<()> {
        self.set(libc::SOL_SOCKET, libc::SO_REUSEPORT, int(on))
    }

    /// Whether `SO_REUSEPORT` is set.
    pub fn reuseport(&self) -> io::Result<bool> {
        Ok(self.get(libc::SOL_SOCKET, libc::SO_REUSEPORT)? != 0)
    }

    /// Asks for a send buffer of `size` bytes (`SO_SNDBUF`; Linux doubles it for bookkeeping
    /// and caps it at `net.core.wmem_max`).
    pub fn set_send_buffer_size(&self, size: u32) -> io::Result<()> {
        self.set(
            libc::SOL_SOCKET,
            libc::SO_SNDBUF,
            size.min(i32::MAX as u32) as libc::c_int,
        )
    }

    /// The send buffer's size as the kernel reports it.
    pub fn send_buffer_size(&self) -> io::Result<u32> {
        Ok(self.get(libc::SOL_SOCKET, libc::SO_SNDBUF)? as u32)
    }

    /// Asks for a receive buffer of `size` bytes (`SO_RCVBUF`; doubled and capped as above).
    pub fn set_recv_buffer_size(&self, size: u32) -> io::Result<()> {
        self.set(
            libc::SOL_SOCKET,
            libc::SO_RCVBUF,
            size.min(i32::MAX as u32) as libc::c_int,
        )
    }

    /// The receive buffer's size as the kernel reports it.
    pub fn recv_buffer_size(&self) -> io::Result<u32> {
        Ok(self.get(libc::SOL_SOCKET, libc::SO_RCVBUF)? as u32)
    }

    /// `SO_KEEPALIVE`: probe an idle connection so that a vanished peer is noticed.
    pub fn set_keepalive(&self, on: bool) -> io::Result<()> {
        self.set(libc::SOL_SOCKET, libc::SO_KEEPALIVE, int(on))
    }

    /// Whether `SO_KEEPALIVE` is set.
    pub fn keepalive(&self) -> io::Result<bool> {
        Ok(self.get(libc::SOL_SOCKET, libc::SO_KEEPALIVE)? != 0)
    }

    /// `SO_LINGER`: `Some(d)` makes closing wait up to `d` for unsent data (`Some(0)`: close
    /// with a reset, dropping it); `None` closes in the background (the default).
    pub fn set_linger(&self, linger: Option<Duration>) -> io::Result<()> {
        sys::set_linger(self.fd.as_fd(), linger)
    }

    /// The `SO_LINGER` setting.
    pub fn linger(&self) -> io::Result<Option<Duration>> {
        sys::linger(self.fd.as_fd())
    }

    /// `TCP_NODELAY`: send small writes at once (no Nagle coalescing).
    pub fn set_nodelay(&self, on: bool) -> io::Result<()> {
        self.set(libc::IPPROTO_TCP, libc::TCP_NODELAY, int(on))
    }

    /// Whether `TCP_NODELAY` is set.
    pub fn nodelay(&self) -> io::Result<bool> {
        Ok(self.get(libc::IPPROTO_TCP, libc::TCP_NODELAY)? != 0)
    }

    /// `IPV6_V6ONLY` (IPv6 sockets): `true` refuses IPv4 connections on a `[::]` listener.
    pub fn set_only_v6(&self, on: bool) -> io::Result<()> {
        self.set(libc::IPPROTO_IPV6, libc::IPV6_V6ONLY, int(on))
    }

    /// Binds the socket to `addr` (for a connection: its local end).
    ///
    /// # Errors
    /// `AddrInUse`, `AddrNotAvailable`, or `InvalidInput` for an address of the other family.
    pub fn bind(&self, addr: SocketAddr) -> io::Result<()> {
        sys::bind(self.fd.as_fd(), &addr)
    }

    /// The address the socket is bound to.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        sys::local_addr(self.fd.as_fd())
    }

    /// Listens with a queue of `backlog` pending connections (the kernel caps it at
    /// `net.core.somaxconn`), and registers the listener with the current runtime.
    ///
    /// # Panics
    /// Outside a mini runtime.
    pub fn listen(self, backlog: u32) -> io::Result<TcpListener> {
        TcpListener::listen_on(self.fd, backlog.min(libc::c_int::MAX as u32) as libc::c_int)
    }

    /// Connects to `addr`, registering the stream with the current runtime.
    ///
    /// # Errors
    /// As [`TcpStream::connect`].
    pub async fn connect(self, addr: SocketAddr) -> io::Result<TcpStream> {
        TcpStream::connect_socket(self.fd, addr).await
    }
}

crate::fd::impl_as_fd!(TcpSocket, fd);

impl fmt::Debug for TcpSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TcpSocket").field("fd", &self.as_raw_fd()).finish()
    }
}

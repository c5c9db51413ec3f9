//! `UdpSocket`: a datagram socket whose sends and receives wait on the reactor.

use crate::addr::{each_addr, resolve, ToSocketAddrs};
use crate::sys;
use mini_runtime::io::{AsyncFd, Interest};
use std::fmt;
use std::future::poll_fn;
use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::os::fd::{AsFd, AsRawFd};
use std::task::{Context, Poll};

/// A UDP socket.
///
/// ```
/// use mini_net::UdpSocket;
///
/// mini_runtime::Runtime::new().unwrap().block_on(async {
///     let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
///     let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
///     a.send_to(b"ping", b.local_addr().unwrap()).await.unwrap();
///     let mut buf = [0; 16];
///     let (n, from) = b.recv_from(&mut buf).await.unwrap();
///     assert_eq!((&buf[..n], from), (&b"ping"[..], a.local_addr().unwrap()));
/// });
/// ```
///
/// A datagram longer than the buffer it is received into is truncated, as the OS does: the
/// rest of it is lost, and the length returned is the buffer's (use a buffer as large as the
/// largest datagram you expect, up to 65,507 bytes for IPv4).
///
/// All methods take `&self`: share the socket between tasks with an `Arc` to send and receive
/// at once. Several tasks may wait to receive on one socket; each datagram goes to one of them.
pub struct UdpSocket {
    io: AsyncFd<std::net::UdpSocket>,
}

impl UdpSocket {
    /// Binds a socket to `addr` (port 0: the kernel picks one). If `addr` names several
    /// addresses, each is tried in turn and the last error is returned if none works.
    ///
    /// # Errors
    /// `AddrInUse`, `AddrNotAvailable` (not a local address), `InvalidInput` (cannot be parsed),
    /// lookup errors.
    pub async fn bind(addr: impl ToSocketAddrs) -> io::Result<UdpSocket> {
        each_addr(&addr, |addr| async move {
            let fd = sys::datagram_socket(&addr)?;
            sys::bind(fd.as_fd(), &addr)?;
            Ok(UdpSocket {
                io: AsyncFd::new(std::net::UdpSocket::from(fd))?,
            })
        })
        .await
    }

    /// Sets the default destination of `send` and the only source `recv` accepts.
    pub async fn connect(&self, addr: impl ToSocketAddrs) -> io::Result<()> {
        let socket = self.io.get_ref();
        each_addr(&addr, |addr| async move { socket.connect(addr) }).await
    }

    /// Sends `buf` as one datagram to the connected peer; returns the bytes sent.
    ///
    /// # Errors
    /// `NotConnected` without `connect`; `ConnectionRefused` when an earlier datagram was
    /// answered by an ICMP port-unreachable.
    pub async fn send(&self, buf: &[u8]) -> io::Result<usize> {
        self.io.write_with(|socket| socket.send(buf)).await
    }

    /// Polls [`send`](UdpSocket::send).
    pub fn poll_send(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.io.poll_write_with(cx, |socket| socket.send(buf))
    }

    /// Receives one datagram from the connected peer into `buf`; returns its length (at most
    /// `buf.len()`: the rest of a longer datagram is lost).
    pub async fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io.read_with(|socket| socket.recv(buf)).await
    }

    /// Polls [`recv`](UdpSocket::recv).
    pub fn poll_recv(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        self.io.poll_read_with(cx, |socket| socket.recv(buf))
    }

    /// Sends `buf` as one datagram to `target` (the first address it resolves to).
    pub async fn send_to(&self, buf: &[u8], target: impl ToSocketAddrs) -> io::Result<usize> {
        let target = *resolve(&target)
            .await?
            .first()
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "the address resolved to no socket address"))?;
        poll_fn(|cx| self.poll_send_to(cx, buf, target)).await
    }

    /// Polls sending `buf` to `target`.
    pub fn poll_send_to(&self, cx: &mut Context<'_>, buf: &[u8], target: SocketAddr) -> Poll<io::Result<usize>> {
        self.io.poll_write_with(cx, |socket| socket.send_to(buf, target))
    }

    /// Receives one datagram into `buf`; returns its length (truncated to `buf.len()`) and
    /// its sender.
    pub async fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.io.read_with(|socket| socket.recv_from(buf)).await
    }

    /// Polls [`recv_from`](UdpSocket::recv_from).
    pub fn poll_recv_from(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<(usize, SocketAddr)>> {
        self.io.poll_read_with(cx, |socket| socket.recv_from(buf))
    }

    /// Like [`recv_from`](UdpSocket::recv_from), but leaves the datagram queued: the next
    /// receive returns it again.
    pub async fn peek_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.io.read_with(|socket| socket.peek_from(buf)).await
    }

    /// `peek_from` without waiting: `WouldBlock` if no datagram is queued.
    pub fn try_peek_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.io.try_io(Interest::READABLE, |socket| socket.peek_from(buf))
    }

    /// The sender of the datagram at the head of the queue, waiting for one; the datagram stays
    /// queued (a peek into no buffer).
    pub async fn peek_sender(&self) -> io::Result<SocketAddr> {
        self.io
            .read_with(|socket| socket.peek_from(&mut []).map(|(_, from)| from))
            .await
    }

    /// `peek_sender` without waiting: `WouldBlock` if no datagram is queued.
    pub fn try_peek_sender(&self) -> io::Result<SocketAddr> {
        self.io.try_io(Interest::READABLE, |socket| {
            socket.peek_from(&mut []).map(|(_, from)| from)
        })
    }

    /// Sends `buf` to `target` without waiting: `WouldBlock` if the socket cannot take it now.
    pub fn try_send_to(&self, buf: &[u8], target: SocketAddr) -> io::Result<usize> {
        self.io.try_io(Interest::WRITABLE, |socket| socket.send_to(buf, target))
    }

    /// The address the socket is bound to.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// The connected peer's address; `NotConnected` without `connect`.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().peer_addr()
    }

    /// Allows sending to broadcast addresses (`SO_BROADCAST`).
    pub fn set_broadcast(&self, on: bool) -> io::Result<()> {
        self.io.get_ref().set_broadcast(on)
    }

    /// Whether `SO_BROADCAST` is set.
    pub fn broadcast(&self) -> io::Result<bool> {
        self.io.get_ref().broadcast()
    }

    /// Sets the time-to-live of outgoing packets (`IP_TTL`).
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.io.get_ref().set_ttl(ttl)
    }

    /// The time-to-live of outgoing packets.
    pub fn ttl(&self) -> io::Result<u32> {
        self.io.get_ref().ttl()
    }

    /// Joins the IPv4 multicast group `group` on the interface with address `interface`
    /// (`0.0.0.0`: the default one).
    pub fn join_multicast_v4(&self, group: Ipv4Addr, interface: Ipv4Addr) -> io::Result<()> {
        self.io.get_ref().join_multicast_v4(&group, &interface)
    }

    /// Leaves an IPv4 multicast group.
    pub fn leave_multicast_v4(&self, group: Ipv4Addr, interface: Ipv4Addr) -> io::Result<()> {
        self.io.get_ref().leave_multicast_v4(&group, &interface)
    }

    /// Joins the IPv6 multicast group `group` on interface index `interface` (0: the default).
    pub fn join_multicast_v6(&self, group: &Ipv6Addr, interface: u32) -> io::Result<()> {
        self.io.get_ref().join_multicast_v6(group, interface)
    }

    /// Leaves an IPv6 multicast group.
    pub fn leave_multicast_v6(&self, group: &Ipv6Addr, interface: u32) -> io::Result<()> {
        self.io.get_ref().leave_multicast_v6(group, interface)
    }

    /// Whether multicast datagrams this socket sends to IPv4 groups loop back to local sockets.
    pub fn set_multicast_loop_v4(&self, on: bool) -> io::Result<()> {
        self.io.get_ref().set_multicast_loop_v4(on)
    }

    /// Whether multicast datagrams this socket sends to IPv6 groups loop back to local sockets.
    pub fn set_multicast_loop_v6(&self, on: bool) -> io::Result<()> {
        self.io.get_ref().set_multicast_loop_v6(on)
    }

    /// Whether IPv4 multicast sent from this socket is looped back to it.
    pub fn multicast_loop_v4(&self) -> io::Result<bool> {
        self.io.get_ref().multicast_loop_v4()
    }

    /// Whether IPv6 multicast sent from this socket is looped back to it.
    pub fn multicast_loop_v6(&self) -> io::Result<bool> {
        self.io.get_ref().multicast_loop_v6()
    }

    /// The time-to-live of IPv4 multicast sent from this socket.
    pub fn multicast_ttl_v4(&self) -> io::Result<u32> {
        self.io.get_ref().multicast_ttl_v4()
    }

    /// The time-to-live of outgoing IPv4 multicast packets (default 1: this network only).
    pub fn set_multicast_ttl_v4(&self, ttl: u32) -> io::Result<()> {
        self.io.get_ref().set_multicast_ttl_v4(ttl)
    }

    /// Takes the pending socket error (`SO_ERROR`), such as an ICMP error for an earlier send.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.io.get_ref().take_error()
    }

    /// Wraps a socket made with `std`, switching it to non-blocking mode.
    ///
    /// # Panics
    /// Outside a mini runtime.
    pub fn from_std(socket: std::net::UdpSocket) -> io::Result<UdpSocket> {
        socket.set_nonblocking(true)?;
        Ok(UdpSocket {
            io: AsyncFd::new(socket)?,
        })
    }

    /// Unregisters the socket and returns it as a blocking `std` socket.
    pub fn into_std(self) -> io::Result<std::net::UdpSocket> {
        let socket = self.io.into_inner();
        socket.set_nonblocking(false)?;
        Ok(socket)
    }
}

crate::fd::impl_as_fd!(UdpSocket, io);

impl fmt::Debug for UdpSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UdpSocket")
            .field("local_addr", &self.local_addr().ok())
            .field("fd", &self.as_raw_fd())
            .finish()
    }
}

crate::readiness::datagram_readiness_methods!(UdpSocket, SocketAddr, |this| &this.io);

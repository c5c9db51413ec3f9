//! `TcpStream`: a connected socket whose reads and writes wait on the reactor.

use super::split::{split, split_owned, OwnedReadHalf, OwnedWriteHalf, ReadHalf, WriteHalf};
use crate::addr::{each_addr, ToSocketAddrs};
use crate::sys;
use mini_runtime::io::{AsyncFd, ReadyGuard};
use std::fmt;
use std::future::{poll_fn, Future};
use std::io::{self, IoSlice, IoSliceMut};
use std::net::{Shutdown, SocketAddr};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::pin::Pin;
use std::task::{ready, Context, Poll};

/// The registered socket inside a [`TcpStream`].
type Io = AsyncFd<std::net::TcpStream>;

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
    io: AsyncFd<std::net::TcpStream>,
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
        let fd = sys::stream_socket(&addr)?;
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

    /// Reads into `buf`, waiting until some data is there; `Ok(0)` means the peer closed its
    /// writing side (or `buf` is empty).
    pub fn read<'a>(&'a mut self, buf: &'a mut [u8]) -> impl Future<Output = io::Result<usize>> + 'a {
        self.read_shared(buf)
    }

    /// Reads exactly `buf.len()` bytes.
    ///
    /// # Errors
    /// `UnexpectedEof` if the peer closes first; the bytes read until then are in `buf` but lost
    /// to the caller, so this is not cancel-safe past its first read.
    pub fn read_exact<'a>(&'a mut self, buf: &'a mut [u8]) -> impl Future<Output = io::Result<()>> + 'a {
        self.read_exact_shared(buf)
    }

    /// Reads into `buf` without removing the data from the socket: the next read returns it again.
    pub fn peek<'a>(&'a mut self, buf: &'a mut [u8]) -> impl Future<Output = io::Result<usize>> + 'a {
        self.peek_shared(buf)
    }

    /// Writes some of `buf`, waiting until the socket has room; returns how much was written.
    pub fn write<'a>(&'a mut self, buf: &'a [u8]) -> impl Future<Output = io::Result<usize>> + 'a {
        self.write_shared(buf)
    }

    /// Writes all of `buf`.
    pub fn write_all<'a>(&'a mut self, buf: &'a [u8]) -> impl Future<Output = io::Result<()>> + 'a {
        self.write_all_shared(buf)
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

    // The operations themselves, on `&self`, shared by the stream, `&TcpStream` and the halves.

    pub(crate) fn poll_read_shared(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        let wanted = buf.len();
        self.poll_io(
            cx,
            AsyncFd::poll_read_ready,
            |fd| sys::recv(fd, buf, 0),
            |n| n > 0 && n < wanted,
        )
    }

    pub(crate) fn poll_read_vectored_shared(
        &self,
        cx: &mut Context<'_>,
        bufs: &mut [IoSliceMut<'_>],
    ) -> Poll<io::Result<usize>> {
        let wanted: usize = bufs.iter().take(sys::IOV_MAX).map(|buf| buf.len()).sum();
        self.poll_io(
            cx,
            AsyncFd::poll_read_ready,
            |fd| sys::recv_vectored(fd, bufs),
            |n| n > 0 && n < wanted,
        )
    }

    pub(crate) fn poll_write_shared(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.poll_io(
            cx,
            AsyncFd::poll_write_ready,
            |fd| sys::send(fd, buf),
            |n| n < buf.len(),
        )
    }

    pub(crate) fn poll_write_vectored_shared(
        &self,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let wanted: usize = bufs.iter().take(sys::IOV_MAX).map(|buf| buf.len()).sum();
        self.poll_io(
            cx,
            AsyncFd::poll_write_ready,
            |fd| sys::send_vectored(fd, bufs),
            |n| n < wanted,
        )
    }

    /// Runs `op` once the socket is ready in `op`'s direction, waiting again on `WouldBlock`.
    ///
    /// When `exhausted(n)` says the operation moved fewer bytes than it could have (a stream
    /// read that came back short emptied the receive queue; a short write filled the send
    /// buffer), the readiness is cleared at once: the next call waits for a new event instead of
    /// spending a syscall to learn `EAGAIN`.
    ///
    /// `poll_ready` is `AsyncFd::poll_read_ready` or `AsyncFd::poll_write_ready` (a generic
    /// parameter rather than a function pointer, so that it inlines).
    #[inline]
    fn poll_io<P>(
        &self,
        cx: &mut Context<'_>,
        poll_ready: P,
        mut op: impl FnMut(BorrowedFd<'_>) -> io::Result<usize>,
        exhausted: impl Fn(usize) -> bool,
    ) -> Poll<io::Result<usize>>
    where
        P: for<'a> Fn(&'a Io, &mut Context<'_>) -> Poll<io::Result<ReadyGuard<'a, std::net::TcpStream>>>,
    {
        loop {
            let mut guard = ready!(poll_ready(&self.io, cx))?;
            match guard.try_io(|stream| op(stream.as_fd())) {
                Ok(Ok(n)) => {
                    if exhausted(n) {
                        guard.clear_ready();
                    }
                    return Poll::Ready(Ok(n));
                }
                Ok(Err(error)) => return Poll::Ready(Err(error)),
                Err(_would_block) => continue,
            }
        }
    }

    pub(crate) fn read_shared<'a>(&'a self, buf: &'a mut [u8]) -> impl Future<Output = io::Result<usize>> + 'a {
        poll_fn(move |cx| self.poll_read_shared(cx, buf))
    }

    pub(crate) fn read_exact_shared<'a>(&'a self, mut buf: &'a mut [u8]) -> impl Future<Output = io::Result<()>> + 'a {
        poll_fn(move |cx| {
            while !buf.is_empty() {
                match ready!(self.poll_read_shared(cx, buf))? {
                    0 => {
                        let message = "the peer closed the connection before `read_exact` filled the buffer";
                        return Poll::Ready(Err(io::Error::new(io::ErrorKind::UnexpectedEof, message)));
                    }
                    n => buf = &mut std::mem::take(&mut buf)[n..],
                }
            }
            Poll::Ready(Ok(()))
        })
    }

    pub(crate) async fn peek_shared(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io
            .read_with(|stream| sys::recv(stream.as_fd(), buf, libc::MSG_PEEK))
            .await
    }

    pub(crate) fn write_shared<'a>(&'a self, buf: &'a [u8]) -> impl Future<Output = io::Result<usize>> + 'a {
        poll_fn(move |cx| self.poll_write_shared(cx, buf))
    }

    pub(crate) fn write_all_shared<'a>(&'a self, mut buf: &'a [u8]) -> impl Future<Output = io::Result<()>> + 'a {
        poll_fn(move |cx| {
            while !buf.is_empty() {
                match ready!(self.poll_write_shared(cx, buf))? {
                    0 => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                    n => buf = &buf[n..],
                }
            }
            Poll::Ready(Ok(()))
        })
    }
}

impl AsRawFd for TcpStream {
    fn as_raw_fd(&self) -> RawFd {
        self.io.as_raw_fd()
    }
}

impl AsFd for TcpStream {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.io.as_fd()
    }
}

impl fmt::Debug for TcpStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TcpStream")
            .field("local_addr", &self.local_addr().ok())
            .field("peer_addr", &self.peer_addr().ok())
            .field("fd", &self.as_raw_fd())
            .finish()
    }
}

/// Implements `futures_io::AsyncRead` for a type that reaches a `TcpStream` through `$stream`.
macro_rules! impl_async_read {
    ($ty:ty, |$this:ident| $stream:expr) => {
        impl futures_io::AsyncRead for $ty {
            fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
                let $this = &*self;
                $stream.poll_read_shared(cx, buf)
            }

            fn poll_read_vectored(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                bufs: &mut [IoSliceMut<'_>],
            ) -> Poll<io::Result<usize>> {
                let $this = &*self;
                $stream.poll_read_vectored_shared(cx, bufs)
            }
        }
    };
}

/// Implements `futures_io::AsyncWrite` for a type that reaches a `TcpStream` through `$stream`;
/// closing shuts down the writing side.
macro_rules! impl_async_write {
    ($ty:ty, |$this:ident| $stream:expr) => {
        impl futures_io::AsyncWrite for $ty {
            fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
                let $this = &*self;
                $stream.poll_write_shared(cx, buf)
            }

            fn poll_write_vectored(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                bufs: &[IoSlice<'_>],
            ) -> Poll<io::Result<usize>> {
                let $this = &*self;
                $stream.poll_write_vectored_shared(cx, bufs)
            }

            fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                // Writes go straight to the socket; there is no buffer here to flush.
                Poll::Ready(Ok(()))
            }

            fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                let $this = &*self;
                Poll::Ready($stream.shutdown(Shutdown::Write))
            }
        }
    };
}

pub(crate) use {impl_async_read, impl_async_write};

impl_async_read!(TcpStream, |this| this);
impl_async_read!(&TcpStream, |this| this);
impl_async_write!(TcpStream, |this| this);
impl_async_write!(&TcpStream, |this| this);

//! The read and write paths of a connected stream socket, written once for every stream type
//! (`TcpStream`, `UnixStream`) and every shape of it (the stream, `&stream`, the halves): an
//! extension trait on the registered fd, and macros that stamp the public methods and the
//! futures-io traits onto each shape.

use crate::sys;
use mini_runtime::io::{AsyncFd, ReadyGuard};
use std::future::{poll_fn, Future};
use std::io::{self, IoSlice, IoSliceMut};
use std::os::fd::{AsFd, BorrowedFd};
use std::task::{ready, Context, Poll};

/// Reads and writes on a registered, connected stream socket, on `&self`.
pub(crate) trait StreamOps {
    fn poll_read_shared(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>>;
    fn poll_read_vectored_shared(&self, cx: &mut Context<'_>, bufs: &mut [IoSliceMut<'_>]) -> Poll<io::Result<usize>>;
    fn poll_write_shared(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>>;
    fn poll_write_vectored_shared(&self, cx: &mut Context<'_>, bufs: &[IoSlice<'_>]) -> Poll<io::Result<usize>>;

    fn read_shared<'a>(&'a self, buf: &'a mut [u8]) -> impl Future<Output = io::Result<usize>> + 'a {
        poll_fn(move |cx| self.poll_read_shared(cx, buf))
    }

    fn read_exact_shared<'a>(&'a self, mut buf: &'a mut [u8]) -> impl Future<Output = io::Result<()>> + 'a {
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

    fn peek_shared<'a>(&'a self, buf: &'a mut [u8]) -> impl Future<Output = io::Result<usize>> + 'a;

    /// Like `poll_read_shared`, into memory that may be uninitialised (hyper's buffers).
    #[cfg(feature = "hyper")]
    fn poll_read_uninit_shared(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [std::mem::MaybeUninit<u8>],
    ) -> Poll<io::Result<usize>>;

    fn write_shared<'a>(&'a self, buf: &'a [u8]) -> impl Future<Output = io::Result<usize>> + 'a {
        poll_fn(move |cx| self.poll_write_shared(cx, buf))
    }

    fn write_all_shared<'a>(&'a self, mut buf: &'a [u8]) -> impl Future<Output = io::Result<()>> + 'a {
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

    /// Shuts down the writing side (the peer reads end-of-file), or reading, or both.
    fn shutdown_shared(&self, how: std::net::Shutdown) -> io::Result<()>;
}

impl<S: AsFd> StreamOps for AsyncFd<S> {
    fn poll_read_shared(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        let wanted = buf.len();
        poll_io(
            self,
            cx,
            AsyncFd::poll_read_ready,
            |fd| sys::recv(fd, buf, 0),
            |n| n > 0 && n < wanted,
        )
    }

    fn poll_read_vectored_shared(&self, cx: &mut Context<'_>, bufs: &mut [IoSliceMut<'_>]) -> Poll<io::Result<usize>> {
        let wanted: usize = bufs.iter().take(sys::IOV_MAX).map(|buf| buf.len()).sum();
        poll_io(
            self,
            cx,
            AsyncFd::poll_read_ready,
            |fd| sys::recv_vectored(fd, bufs),
            |n| n > 0 && n < wanted,
        )
    }

    fn poll_write_shared(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        poll_io(
            self,
            cx,
            AsyncFd::poll_write_ready,
            |fd| sys::send(fd, buf),
            |n| n < buf.len(),
        )
    }

    fn poll_write_vectored_shared(&self, cx: &mut Context<'_>, bufs: &[IoSlice<'_>]) -> Poll<io::Result<usize>> {
        let wanted: usize = bufs.iter().take(sys::IOV_MAX).map(|buf| buf.len()).sum();
        poll_io(
            self,
            cx,
            AsyncFd::poll_write_ready,
            |fd| sys::send_vectored(fd, bufs),
            |n| n < wanted,
        )
    }

    fn peek_shared<'a>(&'a self, buf: &'a mut [u8]) -> impl Future<Output = io::Result<usize>> + 'a {
        self.read_with(|stream| sys::recv(stream.as_fd(), buf, libc::MSG_PEEK))
    }

    #[cfg(feature = "hyper")]
    fn poll_read_uninit_shared(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [std::mem::MaybeUninit<u8>],
    ) -> Poll<io::Result<usize>> {
        let wanted = buf.len();
        poll_io(
            self,
            cx,
            AsyncFd::poll_read_ready,
            |fd| sys::recv_uninit(fd, buf),
            |n| n > 0 && n < wanted,
        )
    }

    fn shutdown_shared(&self, how: std::net::Shutdown) -> io::Result<()> {
        sys::shutdown(self.as_fd(), how)
    }
}

/// Runs `op` once the socket is ready in `op`'s direction, waiting again on `WouldBlock`.
///
/// When `exhausted(n)` says the operation moved fewer bytes than it could have (a stream read
/// that came back short emptied the receive queue; a short write filled the send buffer), the
/// readiness is cleared at once: the next call waits for a new event instead of spending a
/// syscall to learn `EAGAIN`.
///
/// `poll_ready` is `AsyncFd::poll_read_ready` or `AsyncFd::poll_write_ready` (a generic
/// parameter rather than a function pointer, so that it inlines).
#[inline]
fn poll_io<S: AsFd, P>(
    io: &AsyncFd<S>,
    cx: &mut Context<'_>,
    poll_ready: P,
    mut op: impl FnMut(BorrowedFd<'_>) -> io::Result<usize>,
    exhausted: impl Fn(usize) -> bool,
) -> Poll<io::Result<usize>>
where
    P: for<'a> Fn(&'a AsyncFd<S>, &mut Context<'_>) -> Poll<io::Result<ReadyGuard<'a, S>>>,
{
    loop {
        let mut guard = ready!(poll_ready(io, cx))?;
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

/// Implements `futures_io::AsyncRead` for `$ty`, which reaches its registered fd (a
/// `StreamOps`) through `$io`.
macro_rules! impl_async_read {
    ($ty:ty, |$this:ident| $io:expr) => {
        $crate::stream::impl_tokio_read!($ty, |$this| $io);
        $crate::stream::impl_hyper_read!($ty, |$this| $io);
        impl futures_io::AsyncRead for $ty {
            fn poll_read(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                buf: &mut [u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                let $this = &*self;
                $crate::stream::StreamOps::poll_read_shared($io, cx, buf)
            }

            fn poll_read_vectored(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                bufs: &mut [std::io::IoSliceMut<'_>],
            ) -> std::task::Poll<std::io::Result<usize>> {
                let $this = &*self;
                $crate::stream::StreamOps::poll_read_vectored_shared($io, cx, bufs)
            }
        }
    };
}

/// Implements `futures_io::AsyncWrite` for `$ty`, which reaches its registered fd through
/// `$io`; closing shuts down the writing side.
macro_rules! impl_async_write {
    ($ty:ty, |$this:ident| $io:expr) => {
        $crate::stream::impl_tokio_write!($ty, |$this| $io);
        $crate::stream::impl_hyper_write!($ty, |$this| $io);
        impl futures_io::AsyncWrite for $ty {
            fn poll_write(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                buf: &[u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                let $this = &*self;
                $crate::stream::StreamOps::poll_write_shared($io, cx, buf)
            }

            fn poll_write_vectored(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                bufs: &[std::io::IoSlice<'_>],
            ) -> std::task::Poll<std::io::Result<usize>> {
                let $this = &*self;
                $crate::stream::StreamOps::poll_write_vectored_shared($io, cx, bufs)
            }

            fn poll_flush(
                self: std::pin::Pin<&mut Self>,
                _cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                // Writes go straight to the socket; there is no buffer here to flush.
                std::task::Poll::Ready(Ok(()))
            }

            fn poll_close(
                self: std::pin::Pin<&mut Self>,
                _cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                let $this = &*self;
                std::task::Poll::Ready($crate::stream::StreamOps::shutdown_shared(
                    $io,
                    std::net::Shutdown::Write,
                ))
            }
        }
    };
}

/// Inherent reading methods (`read`, `read_exact`, `peek`) and `AsyncRead` for `$ty`, which
/// reaches its registered fd through `$io`.
macro_rules! read_methods {
    ($ty:ty, |$this:ident| $io:expr) => {
        impl $ty {
            /// Reads into `buf`, waiting until some data is there; `Ok(0)` means the peer closed
            /// its writing side (or `buf` is empty). Cancel-safe: dropping the future before it
            /// completes loses no data.
            pub fn read<'a>(
                &'a mut self,
                buf: &'a mut [u8],
            ) -> impl std::future::Future<Output = std::io::Result<usize>> + 'a {
                let $this = &*self;
                $crate::stream::StreamOps::read_shared($io, buf)
            }

            /// Reads exactly `buf.len()` bytes.
            ///
            /// # Errors
            /// `UnexpectedEof` if the peer closes first; the bytes read until then are in `buf`
            /// but lost to the caller, so this is not cancel-safe past its first read.
            pub fn read_exact<'a>(
                &'a mut self,
                buf: &'a mut [u8],
            ) -> impl std::future::Future<Output = std::io::Result<()>> + 'a {
                let $this = &*self;
                $crate::stream::StreamOps::read_exact_shared($io, buf)
            }

            /// Reads into several buffers with one `readv(2)`, filling them in order; returns the
            /// bytes read in all. Cancel-safe.
            pub async fn read_vectored(&mut self, bufs: &mut [std::io::IoSliceMut<'_>]) -> std::io::Result<usize> {
                let $this = &*self;
                let io = $io;
                std::future::poll_fn(|cx| $crate::stream::StreamOps::poll_read_vectored_shared(io, cx, bufs)).await
            }

            /// Reads into `buf` without removing the data from the socket: the next read returns
            /// it again.
            pub fn peek<'a>(
                &'a mut self,
                buf: &'a mut [u8],
            ) -> impl std::future::Future<Output = std::io::Result<usize>> + 'a {
                let $this = &*self;
                $crate::stream::StreamOps::peek_shared($io, buf)
            }
        }
        $crate::stream::impl_async_read!($ty, |$this| $io);
    };
}

/// Inherent writing methods (`write`, `write_all`) and `AsyncWrite` for `$ty`.
macro_rules! write_methods {
    ($ty:ty, |$this:ident| $io:expr) => {
        impl $ty {
            /// Writes some of `buf`, waiting until the socket has room; returns how much was
            /// written. Cancel-safe.
            pub fn write<'a>(
                &'a mut self,
                buf: &'a [u8],
            ) -> impl std::future::Future<Output = std::io::Result<usize>> + 'a {
                let $this = &*self;
                $crate::stream::StreamOps::write_shared($io, buf)
            }

            /// Writes several buffers with one `sendmsg(2)` (a response's header and body in one
            /// syscall); returns the bytes written in all, which may stop short. Cancel-safe.
            pub async fn write_vectored(&mut self, bufs: &[std::io::IoSlice<'_>]) -> std::io::Result<usize> {
                let $this = &*self;
                let io = $io;
                std::future::poll_fn(|cx| $crate::stream::StreamOps::poll_write_vectored_shared(io, cx, bufs)).await
            }

            /// Writes all of `buf`.
            pub fn write_all<'a>(
                &'a mut self,
                buf: &'a [u8],
            ) -> impl std::future::Future<Output = std::io::Result<()>> + 'a {
                let $this = &*self;
                $crate::stream::StreamOps::write_all_shared($io, buf)
            }
        }
        $crate::stream::impl_async_write!($ty, |$this| $io);
    };
}

/// With the `tokio-io` feature: tokio's `AsyncRead` for `$ty` (filling the `ReadBuf`'s
/// unfilled part through the same read path).
#[cfg(feature = "tokio-io")]
macro_rules! impl_tokio_read {
    ($ty:ty, |$this:ident| $io:expr) => {
        impl tokio::io::AsyncRead for $ty {
            fn poll_read(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                buf: &mut tokio::io::ReadBuf<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                let $this = &*self;
                let n = std::task::ready!($crate::stream::StreamOps::poll_read_shared(
                    $io,
                    cx,
                    buf.initialize_unfilled()
                ))?;
                buf.advance(n);
                std::task::Poll::Ready(Ok(()))
            }
        }
    };
}

/// With the `tokio-io` feature: tokio's `AsyncWrite` for `$ty`; `poll_shutdown` shuts down the
/// writing side.
#[cfg(feature = "tokio-io")]
macro_rules! impl_tokio_write {
    ($ty:ty, |$this:ident| $io:expr) => {
        $crate::stream::impl_shutdown_write!(tokio::io::AsyncWrite, $ty, |$this| $io);
    };
}

/// Implements `$trait` — tokio's `AsyncWrite` or hyper's `rt::Write`, which have the same five
/// methods — for `$ty`; `poll_shutdown` shuts down the writing side.
#[cfg(any(feature = "tokio-io", feature = "hyper"))]
macro_rules! impl_shutdown_write {
    ($trait:path, $ty:ty, |$this:ident| $io:expr) => {
        impl $trait for $ty {
            fn poll_write(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                buf: &[u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                let $this = &*self;
                $crate::stream::StreamOps::poll_write_shared($io, cx, buf)
            }

            fn poll_write_vectored(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                bufs: &[std::io::IoSlice<'_>],
            ) -> std::task::Poll<std::io::Result<usize>> {
                let $this = &*self;
                $crate::stream::StreamOps::poll_write_vectored_shared($io, cx, bufs)
            }

            fn is_write_vectored(&self) -> bool {
                true
            }

            fn poll_flush(
                self: std::pin::Pin<&mut Self>,
                _cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                // Writes go straight to the socket; there is no buffer here to flush.
                std::task::Poll::Ready(Ok(()))
            }

            fn poll_shutdown(
                self: std::pin::Pin<&mut Self>,
                _cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                let $this = &*self;
                std::task::Poll::Ready($crate::stream::StreamOps::shutdown_shared(
                    $io,
                    std::net::Shutdown::Write,
                ))
            }
        }
    };
}

/// Without the `tokio-io` feature: nothing.
#[cfg(not(feature = "tokio-io"))]
macro_rules! impl_tokio_read {
    ($($anything:tt)*) => {};
}

/// Without the `tokio-io` feature: nothing.
#[cfg(not(feature = "tokio-io"))]
macro_rules! impl_tokio_write {
    ($($anything:tt)*) => {};
}

/// With the `hyper` feature: hyper's `rt::Read` for `$ty`, receiving straight into hyper's
/// (possibly uninitialised) buffer.
#[cfg(feature = "hyper")]
macro_rules! impl_hyper_read {
    ($ty:ty, |$this:ident| $io:expr) => {
        impl hyper::rt::Read for $ty {
            fn poll_read(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                mut buf: hyper::rt::ReadBufCursor<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                let $this = &*self;
                // SAFETY: the slice is only written by `recv` (never read), so no uninitialised
                // byte is exposed; `advance(n)` then covers exactly the `n` bytes the kernel wrote.
                let unfilled = unsafe { buf.as_mut() };
                let n = std::task::ready!($crate::stream::StreamOps::poll_read_uninit_shared(
                    $io, cx, unfilled
                ))?;
                // SAFETY: see above: the first `n` bytes of the unfilled part are initialised.
                unsafe { buf.advance(n) };
                std::task::Poll::Ready(Ok(()))
            }
        }
    };
}

/// With the `hyper` feature: hyper's `rt::Write` for `$ty`; `poll_shutdown` shuts down the
/// writing side.
#[cfg(feature = "hyper")]
macro_rules! impl_hyper_write {
    ($ty:ty, |$this:ident| $io:expr) => {
        $crate::stream::impl_shutdown_write!(hyper::rt::Write, $ty, |$this| $io);
    };
}

/// Without the `hyper` feature: nothing.
#[cfg(not(feature = "hyper"))]
macro_rules! impl_hyper_read {
    ($($anything:tt)*) => {};
}

/// Without the `hyper` feature: nothing.
#[cfg(not(feature = "hyper"))]
macro_rules! impl_hyper_write {
    ($($anything:tt)*) => {};
}

#[cfg(any(feature = "tokio-io", feature = "hyper"))]
pub(crate) use impl_shutdown_write;
pub(crate) use {
    impl_async_read, impl_async_write, impl_hyper_read, impl_hyper_write, impl_tokio_read, impl_tokio_write,
    read_methods, write_methods,
};

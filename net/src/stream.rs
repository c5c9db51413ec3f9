//! The read and write paths of a connected stream socket (`TcpStream`, `UnixStream`), written
//! once as plain generic functions on its registered fd (`&AsyncFd<S>`), and the macros that stamp
//! thin forwarding methods and trait impls onto each shape of a stream: the stream, `&stream`, and
//! the halves (`split.rs`).
//!
//! Top to bottom: `poll_io` (wait for readiness, run the syscall, clear the readiness after a
//! short transfer); the `poll_*` functions built on it, which every read and write trait calls;
//! the futures that the inherent methods return; then the macros. tokio's and hyper's write
//! traits are `impl_write!` here, with their trait's path; their read traits fill their own buffer
//! types (`crate::compat`).

use crate::sys;
use mini_runtime::io::{AsyncFd, ReadyGuard};
use std::future::{poll_fn, Future};
use std::io::{self, IoSlice, IoSliceMut};
use std::net::Shutdown;
use std::ops::Deref;
use std::os::fd::{AsFd, BorrowedFd};
use std::task::{ready, Context, Poll};

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

/// A receive of at most `wanted` bytes by `op`: one that came back short, but not at end-of-file,
/// emptied the receive queue.
#[inline]
pub(crate) fn poll_recv<S: AsFd>(
    io: &AsyncFd<S>,
    cx: &mut Context<'_>,
    wanted: usize,
    op: impl FnMut(BorrowedFd<'_>) -> io::Result<usize>,
) -> Poll<io::Result<usize>> {
    poll_io(io, cx, AsyncFd::poll_read_ready, op, |n| n > 0 && n < wanted)
}

/// A send of at most `wanted` bytes by `op`: one that came back short filled the send buffer.
#[inline]
fn poll_send<S: AsFd>(
    io: &AsyncFd<S>,
    cx: &mut Context<'_>,
    wanted: usize,
    op: impl FnMut(BorrowedFd<'_>) -> io::Result<usize>,
) -> Poll<io::Result<usize>> {
    poll_io(io, cx, AsyncFd::poll_write_ready, op, |n| n < wanted)
}

/// The bytes one `readv`/`sendmsg` of `bufs` can move: the first `IOV_MAX` buffers'.
fn vectored_len(bufs: &[impl Deref<Target = [u8]>]) -> usize {
    bufs.iter().take(sys::IOV_MAX).map(|buf| buf.len()).sum()
}

/// Receives into `buf`; `Ok(0)` is end-of-file (or an empty `buf`).
#[inline]
pub(crate) fn poll_read<S: AsFd>(io: &AsyncFd<S>, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
    poll_recv(io, cx, buf.len(), |fd| sys::recv(fd, buf, 0))
}

/// Receives into several buffers with one `readv(2)`.
#[inline]
pub(crate) fn poll_read_vectored<S: AsFd>(
    io: &AsyncFd<S>,
    cx: &mut Context<'_>,
    bufs: &mut [IoSliceMut<'_>],
) -> Poll<io::Result<usize>> {
    poll_recv(io, cx, vectored_len(bufs), |fd| sys::recv_vectored(fd, bufs))
}

/// Sends some of `buf` (with `MSG_NOSIGNAL`).
#[inline]
pub(crate) fn poll_write<S: AsFd>(io: &AsyncFd<S>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
    poll_send(io, cx, buf.len(), |fd| sys::send(fd, buf))
}

/// Sends several buffers with one `sendmsg(2)`.
#[inline]
pub(crate) fn poll_write_vectored<S: AsFd>(
    io: &AsyncFd<S>,
    cx: &mut Context<'_>,
    bufs: &[IoSlice<'_>],
) -> Poll<io::Result<usize>> {
    poll_send(io, cx, vectored_len(bufs), |fd| sys::send_vectored(fd, bufs))
}

/// Shuts down the writing side (the peer reads end-of-file): what closing a write trait does.
///
/// `NotConnected` (the peer reset the connection, or it is already shut down) is success, as
/// in tokio (tokio#4665): whether `shutdown(2)` still finds a connection depends on packet
/// timing the caller cannot see, and either way the writing side is closed.
pub(crate) fn poll_shutdown_write<S: AsFd>(io: &AsyncFd<S>) -> Poll<io::Result<()>> {
    match sys::shutdown(io.as_fd(), Shutdown::Write) {
        Err(error) if error.kind() == io::ErrorKind::NotConnected => Poll::Ready(Ok(())),
        result => Poll::Ready(result),
    }
}

pub(crate) fn read<'a, S: AsFd>(io: &'a AsyncFd<S>, buf: &'a mut [u8]) -> impl Future<Output = io::Result<usize>> + 'a {
    poll_fn(move |cx| poll_read(io, cx, buf))
}

pub(crate) fn read_exact<'a, S: AsFd>(
    io: &'a AsyncFd<S>,
    mut buf: &'a mut [u8],
) -> impl Future<Output = io::Result<()>> + 'a {
    poll_fn(move |cx| {
        while !buf.is_empty() {
            match ready!(poll_read(io, cx, buf))? {
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

pub(crate) fn peek<'a, S: AsFd>(io: &'a AsyncFd<S>, buf: &'a mut [u8]) -> impl Future<Output = io::Result<usize>> + 'a {
    io.read_with(|stream| sys::recv(stream.as_fd(), buf, libc::MSG_PEEK))
}

pub(crate) fn write<'a, S: AsFd>(io: &'a AsyncFd<S>, buf: &'a [u8]) -> impl Future<Output = io::Result<usize>> + 'a {
    poll_fn(move |cx| poll_write(io, cx, buf))
}

pub(crate) fn write_all<'a, S: AsFd>(
    io: &'a AsyncFd<S>,
    mut buf: &'a [u8],
) -> impl Future<Output = io::Result<()>> + 'a {
    poll_fn(move |cx| {
        while !buf.is_empty() {
            match ready!(poll_write(io, cx, buf))? {
                0 => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                n => buf = &buf[n..],
            }
        }
        Poll::Ready(Ok(()))
    })
}

/// The inherent reading methods (`read`, `read_exact`, `read_vectored`, `peek`) and the read
/// traits (`impl_async_read!`) for `$ty`, which reaches its registered fd through `$io`. Each
/// method forwards to the function of the same name above (`read_vectored` polls
/// `poll_read_vectored`).
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
                $crate::stream::read($io, buf)
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
                $crate::stream::read_exact($io, buf)
            }

            /// Reads into several buffers with one `readv(2)`, filling them in order; returns the
            /// bytes read in all. Cancel-safe.
            pub async fn read_vectored(&mut self, bufs: &mut [std::io::IoSliceMut<'_>]) -> std::io::Result<usize> {
                let $this = &*self;
                let io = $io;
                std::future::poll_fn(|cx| $crate::stream::poll_read_vectored(io, cx, bufs)).await
            }

            /// Reads into `buf` without removing the data from the socket: the next read returns
            /// it again.
            pub fn peek<'a>(
                &'a mut self,
                buf: &'a mut [u8],
            ) -> impl std::future::Future<Output = std::io::Result<usize>> + 'a {
                let $this = &*self;
                $crate::stream::peek($io, buf)
            }
        }
        $crate::stream::impl_async_read!($ty, |$this| $io);
    };
}

/// The inherent writing methods (`write`, `write_vectored`, `write_all`) and the write traits
/// (`impl_async_write!`) for `$ty`, forwarding like `read_methods!`.
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
                $crate::stream::write($io, buf)
            }

            /// Writes several buffers with one `sendmsg(2)` (a response's header and body in one
            /// syscall); returns the bytes written in all, which may stop short. Cancel-safe.
            pub async fn write_vectored(&mut self, bufs: &[std::io::IoSlice<'_>]) -> std::io::Result<usize> {
                let $this = &*self;
                let io = $io;
                std::future::poll_fn(|cx| $crate::stream::poll_write_vectored(io, cx, bufs)).await
            }

            /// Writes all of `buf`.
            pub fn write_all<'a>(
                &'a mut self,
                buf: &'a [u8],
            ) -> impl std::future::Future<Output = std::io::Result<()>> + 'a {
                let $this = &*self;
                $crate::stream::write_all($io, buf)
            }
        }
        $crate::stream::impl_async_write!($ty, |$this| $io);
    };
}

/// The read traits for `$ty`, which reaches its registered fd through `$io`: futures-io's
/// `AsyncRead`, and with their features tokio's `AsyncRead` and hyper's `rt::Read`
/// (`crate::compat`).
macro_rules! impl_async_read {
    ($ty:ty, |$this:ident| $io:expr) => {
        impl futures_io::AsyncRead for $ty {
            fn poll_read(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                buf: &mut [u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                let $this = &*self;
                $crate::stream::poll_read($io, cx, buf)
            }

            fn poll_read_vectored(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                bufs: &mut [std::io::IoSliceMut<'_>],
            ) -> std::task::Poll<std::io::Result<usize>> {
                let $this = &*self;
                $crate::stream::poll_read_vectored($io, cx, bufs)
            }
        }

        #[cfg(feature = "tokio-io")]
        $crate::compat::impl_read!(
            ::tokio::io::AsyncRead, &mut ::tokio::io::ReadBuf<'_>, $crate::compat::tokio_io::poll_read_buf;
            $ty, |$this| $io
        );

        #[cfg(feature = "hyper")]
        $crate::compat::impl_read!(
            ::hyper::rt::Read, ::hyper::rt::ReadBufCursor<'_>, $crate::compat::hyper::poll_read_cursor;
            $ty, |$this| $io
        );
    };
}

/// The write traits for `$ty`, which reaches its registered fd through `$io`: futures-io's
/// `AsyncWrite`, and with their features tokio's `AsyncWrite` and hyper's `rt::Write`. Closing
/// shuts down the writing side.
macro_rules! impl_async_write {
    ($ty:ty, |$this:ident| $io:expr) => {
        $crate::stream::impl_write!(futures_io::AsyncWrite, poll_close; $ty, |$this| $io);

        #[cfg(feature = "tokio-io")]
        $crate::stream::impl_write!(::tokio::io::AsyncWrite, poll_shutdown, is_write_vectored; $ty, |$this| $io);

        #[cfg(feature = "hyper")]
        $crate::stream::impl_write!(::hyper::rt::Write, poll_shutdown, is_write_vectored; $ty, |$this| $io);
    };
}

/// Implements the write trait `$trait` for `$ty`: futures-io's `AsyncWrite`, tokio's `AsyncWrite`
/// and hyper's `rt::Write` have the same methods but for the name of the one that shuts down the
/// writing side (`$close`: `poll_close` or `poll_shutdown`) and `is_write_vectored`, which tokio
/// and hyper ask (`$is_write_vectored`, given for them).
macro_rules! impl_write {
    ($trait:path, $close:ident $(, $is_write_vectored:ident)?; $ty:ty, |$this:ident| $io:expr) => {
        impl $trait for $ty {
            fn poll_write(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                buf: &[u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                let $this = &*self;
                $crate::stream::poll_write($io, cx, buf)
            }

            fn poll_write_vectored(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                bufs: &[std::io::IoSlice<'_>],
            ) -> std::task::Poll<std::io::Result<usize>> {
                let $this = &*self;
                $crate::stream::poll_write_vectored($io, cx, bufs)
            }

            $(
                fn $is_write_vectored(&self) -> bool {
                    true
                }
            )?

            fn poll_flush(
                self: std::pin::Pin<&mut Self>,
                _cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                // Writes go straight to the socket; there is no buffer here to flush.
                std::task::Poll::Ready(Ok(()))
            }

            fn $close(
                self: std::pin::Pin<&mut Self>,
                _cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                let $this = &*self;
                $crate::stream::poll_shutdown_write($io)
            }
        }
    };
}

pub(crate) use {impl_async_read, impl_async_write, impl_write, read_methods, write_methods};

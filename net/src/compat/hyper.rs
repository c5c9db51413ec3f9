//! hyper 1.x on mini (the `hyper` feature): hyper's `rt::Read`/`rt::Write` on mini's streams, an
//! [`Executor`] that spawns hyper's background tasks on mini, and a [`Timer`] backed by mini's
//! timers (for header-read timeouts and keep-alive): the three things hyper asks of a runtime.
//!
//! Why: hyper is runtime-agnostic and reaches its runtime only through these traits, so with
//! them an HTTP server or client runs on mini with no tokio runtime.
//!
//! ```no_run
//! use mini_net::hyper_rt::{Executor, Timer};
//! # async fn serve(stream: mini_net::TcpStream) {
//! let service = hyper::service::service_fn(|_request| async {
//!     Ok::<_, std::convert::Infallible>(hyper::Response::new(String::from("hello")))
//! });
//! hyper::server::conn::http1::Builder::new()
//!     .timer(Timer)
//!     .serve_connection(stream, service)
//!     .await
//!     .unwrap();
//! # let _ = Executor; }
//! ```

// This module is public as `crate::hyper_rt`. The stream impls are stamped onto each stream shape
// by `crate::stream`'s macros: `rt::Write` is `impl_write!` with hyper's trait path, and `rt::Read`
// is `crate::compat::impl_read!` forwarding to `poll_read_cursor` below, which receives straight
// into hyper's (possibly uninitialised) buffer.

use crate::{stream, sys};
use hyper::rt::ReadBufCursor;
use mini_runtime::io::AsyncFd;
use mini_runtime::time::Sleep as MiniSleep;
use std::future::Future;
use std::io;
use std::os::fd::AsFd;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use std::time::{Duration, Instant};

/// hyper's `poll_read`: receives straight into `buf`'s unfilled, possibly uninitialised part and
/// advances `buf` past what arrived.
#[inline]
pub(crate) fn poll_read_cursor<S: AsFd>(
    io: &AsyncFd<S>,
    cx: &mut Context<'_>,
    mut buf: ReadBufCursor<'_>,
) -> Poll<io::Result<()>> {
    // SAFETY: the slice is only written by `recv` (never read), so no uninitialised byte is
    // exposed; `advance(n)` then covers exactly the `n` bytes the kernel wrote.
    let unfilled = unsafe { buf.as_mut() };
    let wanted = unfilled.len();
    let n = ready!(stream::poll_recv(io, cx, wanted, |fd| sys::recv_uninit(fd, unfilled)))?;
    // SAFETY: see above: the first `n` bytes of the unfilled part are initialised.
    unsafe { buf.advance(n) };
    Poll::Ready(Ok(()))
}

/// Spawns the futures hyper hands it (HTTP/2 streams, client connection tasks) on the current
/// mini runtime.
#[derive(Clone, Copy, Debug, Default)]
pub struct Executor;

impl<F> hyper::rt::Executor<F> for Executor
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    fn execute(&self, future: F) {
        drop(mini_runtime::spawn(future));
    }
}

/// hyper's timer on mini's timing wheel.
#[derive(Clone, Copy, Debug, Default)]
pub struct Timer;

/// A mini `Sleep` as hyper's `rt::Sleep`.
struct HyperSleep(MiniSleep);

impl Future for HyperSleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        Pin::new(&mut self.0).poll(cx)
    }
}

impl hyper::rt::Sleep for HyperSleep {}

impl hyper::rt::Timer for Timer {
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn hyper::rt::Sleep>> {
        Box::pin(HyperSleep(mini_runtime::time::sleep(duration)))
    }

    fn sleep_until(&self, deadline: Instant) -> Pin<Box<dyn hyper::rt::Sleep>> {
        Box::pin(HyperSleep(mini_runtime::time::sleep_until(deadline.into())))
    }
}

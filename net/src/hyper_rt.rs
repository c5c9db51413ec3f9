//! hyper 1.x on mini (the `hyper` feature): hyper's `rt::Read`/`rt::Write` are implemented on
//! mini's streams (`crate::stream`), and this module adds the two other pieces hyper asks of a
//! runtime: an [`Executor`] that spawns hyper's background tasks on mini, and a [`Timer`] backed
//! by mini's timers (for header-read timeouts and keep-alive).
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

use mini_runtime::time::Sleep as MiniSleep;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

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

//! Registering your own file descriptors with the runtime's reactor, and copying between
//! readers and writers.
//!
//! [`AsyncFd`] is the one door into the reactor: mini's own sockets are built on it, and any
//! non-blocking fd (a pipe, an eventfd, a socket from another crate) can use it the same way.
//! [`copy`] and [`copy_bidirectional`] move bytes between anything implementing futures-io's
//! `AsyncRead`/`AsyncWrite` (a proxy is one `copy_bidirectional`).

mod async_fd;
mod copy;
mod interest;

pub use crate::reactor::Ready;
pub use async_fd::{AsyncFd, ReadyGuard, TryIoError};
pub use copy::{copy, copy_bidirectional};
pub use interest::Interest;

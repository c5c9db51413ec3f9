//! Registering your own file descriptors with the runtime's reactor.
//!
//! [`AsyncFd`] is the one door into the reactor: mini's own sockets are built on it, and any
//! non-blocking fd (a pipe, an eventfd, a socket from another crate) can use it the same way.

mod async_fd;

pub use crate::reactor::Ready;
pub use async_fd::{AsyncFd, ReadyGuard, TryIoError};

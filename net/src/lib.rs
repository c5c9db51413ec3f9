//! mini's sockets, built only on mini-runtime's public [`AsyncFd`](mini_runtime::io::AsyncFd):
//! anything here could be written outside the runtime crate, by anyone.
//!
//! Every socket is created non-blocking and close-on-exec, registered once with the reactor
//! (edge-triggered), and deregistered before it is closed.

#![deny(missing_docs)]
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(clippy::undocumented_unsafe_blocks)]

// Backing off (and optionally shedding) when `accept` runs out of fds.
mod accept_backoff;
mod addr;
// The tokio-io and hyper adapters, each behind its feature (hyper's is public as `hyper_rt`).
mod compat;
mod fd;
mod readiness;
// The halves of a stream, stamped into `tcp` and `unix` alike.
mod split;
// The read and write paths of every stream and every shape of it.
mod stream;
mod sys;
mod syscall;
mod tcp;
mod udp;
pub mod unix;

pub use accept_backoff::FdExhaustion;
pub use addr::{lookup_host, ToSocketAddrs};
#[cfg(feature = "hyper")]
pub use compat::hyper as hyper_rt;
pub use tcp::{
    Incoming, OwnedReadHalf, OwnedWriteHalf, PerWorkerListener, ReadHalf, ReuniteError, TcpListener, TcpSocket,
    TcpStream, WriteHalf,
};
pub use udp::UdpSocket;
pub use unix::{UnixDatagram, UnixListener, UnixStream};

/// The sockets are `Send + Sync` (checked at compile time).
const _: () = {
    const fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<TcpListener>();
    assert_send_sync::<TcpStream>();
    assert_send_sync::<TcpSocket>();
    assert_send_sync::<UdpSocket>();
    assert_send_sync::<UnixDatagram>();
    assert_send_sync::<UnixListener>();
    assert_send_sync::<UnixStream>();
    assert_send_sync::<unix::OwnedReadHalf>();
    assert_send_sync::<unix::OwnedWriteHalf>();
    assert_send_sync::<OwnedReadHalf>();
    assert_send_sync::<OwnedWriteHalf>();
};

//! mini's sockets, built only on mini-runtime's public [`AsyncFd`](mini_runtime::io::AsyncFd):
//! anything here could be written outside the runtime crate, by anyone.
//!
//! Every socket is created non-blocking and close-on-exec, registered once with the reactor
//! (edge-triggered), and deregistered before it is closed.

#![deny(missing_docs)]
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(clippy::undocumented_unsafe_blocks)]

mod addr;
mod fd;
#[cfg(feature = "hyper")]
pub mod hyper_rt;
mod split;
mod stream;
mod sys;
mod tcp;
mod udp;
pub mod unix;

pub use addr::{lookup_host, ToSocketAddrs};
pub use tcp::{
    Incoming, OwnedReadHalf, OwnedWriteHalf, ReadHalf, ReuniteError, TcpListener, TcpSocket, TcpStream, WriteHalf,
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

//! Unix-domain sockets: a listener and a stream (the same read and write paths as TCP's), and a
//! datagram socket. Addresses are filesystem paths or, on Linux, abstract names.
//!
//! The socket types are also at the crate root; this module adds the halves of
//! [`UnixStream::split`] and [`UnixStream::into_split`].

mod datagram;
mod listener;
mod split;
mod stream;

pub use datagram::UnixDatagram;
pub use listener::UnixListener;
pub use split::{OwnedReadHalf, OwnedWriteHalf, ReadHalf, ReuniteError, WriteHalf};
pub use stream::UnixStream;

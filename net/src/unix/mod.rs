//! Unix-domain sockets: a listener and a stream (the same read and write paths as TCP's), and a
//! datagram socket. Addresses are filesystem paths or, on Linux, abstract names.

mod datagram;
mod listener;
mod stream;

pub use datagram::UnixDatagram;
pub use listener::UnixListener;
pub use stream::UnixStream;

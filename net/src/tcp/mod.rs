//! TCP: a listener that accepts connections and a stream that reads and writes them.

mod listener;
mod per_worker;
mod socket;
mod split;
mod stream;

pub use listener::{Incoming, TcpListener};
pub use per_worker::PerWorkerListener;
pub use socket::TcpSocket;
pub use split::{OwnedReadHalf, OwnedWriteHalf, ReadHalf, ReuniteError, WriteHalf};
pub use stream::TcpStream;

//! `UnixStream`: a connected Unix-domain stream socket whose reads and writes wait on the
//! reactor, with TCP's read and write paths (`crate::stream`).

use super::split::{split, split_owned, OwnedReadHalf, OwnedWriteHalf, ReadHalf, WriteHalf};
use crate::stream::{impl_async_read, impl_async_write, read_methods, write_methods};
use crate::sys::{self, UnixAddr};
use mini_runtime::io::AsyncFd;
use std::fmt;
use std::io;
use std::net::Shutdown;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::linux::net::SocketAddrExt;
use std::os::unix::net::{self, SocketAddr};
use std::path::Path;

/// A connected Unix-domain stream socket.
///
/// ```
/// use mini_net::UnixStream;
///
/// mini_runtime::Runtime::new().unwrap().block_on(async {
///     let (mut a, mut b) = UnixStream::pair().unwrap();
///     a.write_all(b"hello").await.unwrap();
///     let mut buf = [0; 5];
///     b.read_exact(&mut buf).await.unwrap();
///     assert_eq!(&buf, b"hello");
/// });
/// ```
///
/// Like `TcpStream` it implements `futures_io::AsyncRead` and `AsyncWrite` (for `UnixStream` and
/// `&UnixStream`), writes with `MSG_NOSIGNAL` (a closed peer is `EPIPE`, never `SIGPIPE`), and
/// every read and write future is cancel-safe.
pub struct UnixStream {
    pub(crate) io: AsyncFd<net::UnixStream>,
}

impl UnixStream {
    /// Connects to the socket listening at `path`.
    ///
    /// # Errors
    /// `NotFound` if nothing is at `path`, `ConnectionRefused` if it is not a listening socket,
    /// `InvalidInput` if the path is too long for a socket address, `WouldBlock` if the
    /// listener's backlog is full.
    pub async fn connect(path: impl AsRef<Path>) -> io::Result<UnixStream> {
        UnixStream::connect_to(UnixAddr::Path(path.as_ref())).await
    }

    /// Connects to `addr`: a path, or an abstract name.
    pub async fn connect_addr(addr: &SocketAddr) -> io::Result<UnixStream> {
        match (addr.as_pathname(), addr.as_abstract_name()) {
            (Some(path), _) => UnixStream::connect_to(UnixAddr::Path(path)).await,
            (None, Some(name)) => UnixStream::connect_to(UnixAddr::Abstract(name)).await,
            (None, None) => Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "cannot connect to an unnamed Unix socket address",
            )),
        }
    }

    async fn connect_to(addr: UnixAddr<'_>) -> io::Result<UnixStream> {
        let (fd, connected): (OwnedFd, bool) = sys::unix_stream_connect(addr)?;
        let stream = UnixStream {
            io: AsyncFd::new(net::UnixStream::from(fd))?,
        };
        if !connected {
            stream.io.writable().await?;
            if let Some(error) = stream.io.get_ref().take_error()? {
                return Err(error);
            }
        }
        Ok(stream)
    }

    /// Two streams connected to each other.
    pub fn pair() -> io::Result<(UnixStream, UnixStream)> {
        let (a, b) = net::UnixStream::pair()?;
        Ok((UnixStream::from_std(a)?, UnixStream::from_std(b)?))
    }

    /// Wraps a stream registered by its listener.
    pub(crate) fn from_registered(io: AsyncFd<net::UnixStream>) -> UnixStream {
        UnixStream { io }
    }

    /// Wraps a stream made with `std`, switching it to non-blocking mode.
    ///
    /// # Panics
    /// Outside a mini runtime.
    pub fn from_std(stream: net::UnixStream) -> io::Result<UnixStream> {
        stream.set_nonblocking(true)?;
        Ok(UnixStream {
            io: AsyncFd::new(stream)?,
        })
    }

    /// Unregisters the stream and returns it as a blocking `std` stream.
    pub fn into_std(self) -> io::Result<net::UnixStream> {
        let stream = self.io.into_inner();
        stream.set_nonblocking(false)?;
        Ok(stream)
    }

    /// Shuts down the reading side, the writing side (the peer reads end-of-file), or both.
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.io.get_ref().shutdown(how)
    }

    /// Borrowed halves, to read and write at once from one task (for example with `join!`).
    pub fn split(&mut self) -> (ReadHalf<'_>, WriteHalf<'_>) {
        split(self)
    }

    /// Owned halves, to read in one task and write in another. Dropping the write half shuts
    /// down the writing side; [`OwnedReadHalf::reunite`] puts them back together.
    pub fn into_split(self) -> (OwnedReadHalf, OwnedWriteHalf) {
        split_owned(self)
    }

    /// The local address (usually unnamed for a connecting socket).
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// The peer's address.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().peer_addr()
    }
}

read_methods!(UnixStream, |this| &this.io);
crate::readiness::stream_readiness_methods!(UnixStream, |this| &this.io);
write_methods!(UnixStream, |this| &this.io);
impl_async_read!(&UnixStream, |this| &this.io);
impl_async_write!(&UnixStream, |this| &this.io);

crate::fd::impl_as_fd!(UnixStream, io);

impl fmt::Debug for UnixStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnixStream")
            .field("local_addr", &self.local_addr().ok())
            .field("peer_addr", &self.peer_addr().ok())
            .field("fd", &self.as_raw_fd())
            .finish()
    }
}

//! Halves of a `TcpStream`: borrowed ones for one task that reads and writes at once, owned ones
//! for a reader task and a writer task.

use super::TcpStream;
use crate::stream::{read_methods, write_methods};
use std::fmt;
use std::net::Shutdown;
use std::sync::Arc;

/// The reading half of [`TcpStream::split`].
#[derive(Debug)]
pub struct ReadHalf<'a>(&'a TcpStream);

/// The writing half of [`TcpStream::split`].
#[derive(Debug)]
pub struct WriteHalf<'a>(&'a TcpStream);

/// The reading half of [`TcpStream::into_split`].
#[derive(Debug)]
pub struct OwnedReadHalf {
    stream: Arc<TcpStream>,
}

/// The writing half of [`TcpStream::into_split`]. Dropping it shuts down the writing side, so the
/// peer reads end-of-file.
#[derive(Debug)]
pub struct OwnedWriteHalf {
    stream: Arc<TcpStream>,
    /// Cleared by `reunite`, which hands the stream back whole.
    shutdown_on_drop: bool,
}

pub(super) fn split(stream: &mut TcpStream) -> (ReadHalf<'_>, WriteHalf<'_>) {
    (ReadHalf(stream), WriteHalf(stream))
}

pub(super) fn split_owned(stream: TcpStream) -> (OwnedReadHalf, OwnedWriteHalf) {
    let stream = Arc::new(stream);
    (
        OwnedReadHalf { stream: stream.clone() },
        OwnedWriteHalf {
            stream,
            shutdown_on_drop: true,
        },
    )
}

/// The two halves given to [`OwnedReadHalf::reunite`] came from different streams; here they are
/// back.
#[derive(Debug)]
pub struct ReuniteError(pub OwnedReadHalf, pub OwnedWriteHalf);

impl fmt::Display for ReuniteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("tried to reunite halves that are not from the same TcpStream")
    }
}

impl std::error::Error for ReuniteError {}

impl OwnedReadHalf {
    /// Puts the halves back together into the stream they came from.
    pub fn reunite(self, other: OwnedWriteHalf) -> Result<TcpStream, ReuniteError> {
        if !Arc::ptr_eq(&self.stream, &other.stream) {
            return Err(ReuniteError(self, other));
        }
        let stream = self.stream.clone();
        let mut other = other;
        other.shutdown_on_drop = false;
        drop((self, other));
        Ok(Arc::into_inner(stream).expect("both halves are gone, so this is the last reference"))
    }
}

impl Drop for OwnedWriteHalf {
    fn drop(&mut self) {
        if self.shutdown_on_drop {
            // An error means it is already shut down or reset: nothing left to tell the peer.
            let _ = self.stream.shutdown(Shutdown::Write);
        }
    }
}

read_methods!(ReadHalf<'_>, |this| &this.0.io);
read_methods!(OwnedReadHalf, |this| &this.stream.io);
write_methods!(WriteHalf<'_>, |this| &this.0.io);
write_methods!(OwnedWriteHalf, |this| &this.stream.io);

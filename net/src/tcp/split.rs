//! Halves of a `TcpStream`: borrowed ones for one task that reads and writes at once, owned ones
//! for a reader task and a writer task.

use super::stream::{impl_async_read, impl_async_write};
use super::TcpStream;
use std::fmt;
use std::future::Future;
use std::io::{self, IoSlice, IoSliceMut};
use std::net::Shutdown;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

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

/// Inherent reading methods for a half that reaches its stream through `$stream`.
macro_rules! read_methods {
    ($ty:ty, |$this:ident| $stream:expr) => {
        impl $ty {
            /// Reads into `buf`; see [`TcpStream::read`].
            pub fn read<'a>(&'a mut self, buf: &'a mut [u8]) -> impl Future<Output = io::Result<usize>> + 'a {
                let $this = &*self;
                $stream.read_shared(buf)
            }

            /// Reads exactly `buf.len()` bytes; see [`TcpStream::read_exact`].
            pub fn read_exact<'a>(&'a mut self, buf: &'a mut [u8]) -> impl Future<Output = io::Result<()>> + 'a {
                let $this = &*self;
                $stream.read_exact_shared(buf)
            }

            /// Reads without consuming; see [`TcpStream::peek`].
            pub fn peek<'a>(&'a mut self, buf: &'a mut [u8]) -> impl Future<Output = io::Result<usize>> + 'a {
                let $this = &*self;
                $stream.peek_shared(buf)
            }
        }
        impl_async_read!($ty, |$this| $stream);
    };
}

/// Inherent writing methods for a half that reaches its stream through `$stream`.
macro_rules! write_methods {
    ($ty:ty, |$this:ident| $stream:expr) => {
        impl $ty {
            /// Writes some of `buf`; see [`TcpStream::write`].
            pub fn write<'a>(&'a mut self, buf: &'a [u8]) -> impl Future<Output = io::Result<usize>> + 'a {
                let $this = &*self;
                $stream.write_shared(buf)
            }

            /// Writes all of `buf`; see [`TcpStream::write_all`].
            pub fn write_all<'a>(&'a mut self, buf: &'a [u8]) -> impl Future<Output = io::Result<()>> + 'a {
                let $this = &*self;
                $stream.write_all_shared(buf)
            }
        }
        impl_async_write!($ty, |$this| $stream);
    };
}

read_methods!(ReadHalf<'_>, |this| this.0);
read_methods!(OwnedReadHalf, |this| this.stream);
write_methods!(WriteHalf<'_>, |this| this.0);
write_methods!(OwnedWriteHalf, |this| this.stream);

//! The pipes to a child's stdin, stdout and stderr, registered with the reactor (a pipe, unlike
//! a regular file, works with epoll), behind futures-io's `AsyncRead` and `AsyncWrite`.

use crate::io::AsyncFd;
use crate::sys;
use futures_io::{AsyncRead, AsyncWrite};
use std::fmt;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::pin::Pin;
use std::task::{Context, Poll};

/// One end of a pipe, non-blocking and registered.
struct Pipe {
    io: AsyncFd<OwnedFd>,
}

impl Pipe {
    fn new(fd: OwnedFd) -> io::Result<Pipe> {
        sys::set_nonblocking(fd.as_fd())?;
        Ok(Pipe { io: AsyncFd::new(fd)? })
    }

    fn poll_read(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        self.io.poll_read_with(cx, |fd| sys::read(fd.as_fd(), buf))
    }

    fn poll_write(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        // A reader that is gone gives EPIPE (Rust programs ignore SIGPIPE).
        self.io.poll_write_with(cx, |fd| sys::write(fd.as_fd(), buf))
    }
}

macro_rules! pipe_type {
    ($(#[$doc:meta])* $name:ident, $std:ty) => {
        $(#[$doc])*
        pub struct $name {
            pipe: Pipe,
        }

        impl $name {
            pub(crate) fn from_std(std: $std) -> io::Result<$name> {
                Ok($name { pipe: Pipe::new(OwnedFd::from(std))? })
            }
        }

        impl AsRawFd for $name {
            fn as_raw_fd(&self) -> RawFd {
                self.pipe.io.as_raw_fd()
            }
        }

        impl AsFd for $name {
            fn as_fd(&self) -> BorrowedFd<'_> {
                self.pipe.io.as_fd()
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($name)).field("fd", &self.as_raw_fd()).finish()
            }
        }
    };
}

pipe_type!(
    /// The child's standard input (`Stdio::piped()`); dropping it closes the pipe, so the child
    /// reads end-of-file.
    ChildStdin,
    std::process::ChildStdin
);
pipe_type!(
    /// The child's standard output (`Stdio::piped()`).
    ChildStdout,
    std::process::ChildStdout
);
pipe_type!(
    /// The child's standard error (`Stdio::piped()`).
    ChildStderr,
    std::process::ChildStderr
);

impl AsyncWrite for ChildStdin {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.pipe.poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        // The pipe closes when the value is dropped; nothing to do before.
        Poll::Ready(Ok(()))
    }
}

impl AsyncRead for ChildStdout {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        self.pipe.poll_read(cx, buf)
    }
}

impl AsyncRead for ChildStderr {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        self.pipe.poll_read(cx, buf)
    }
}

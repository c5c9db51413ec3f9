//! Readiness and non-blocking calls on every socket type (tokio's `ready`, `readable`,
//! `writable`, `poll_*_ready` and `try_*`): what QUIC stacks and custom protocols build on. One
//! macro per kind of socket stamps thin methods over `AsyncFd::ready`/`poll_ready_for` (wait,
//! clear nothing) and `AsyncFd::try_io` (no wait: `WouldBlock` unless the last event said
//! ready, and a `WouldBlock` from the syscall clears that readiness, so that `readable()` then
//! waits for the next event instead of spinning).

/// `ready`, `readable`, `writable`, `poll_read_ready`, `poll_write_ready` and the `try_read`,
/// `try_write` families for a stream socket `$ty` whose registered fd is `$io`.
macro_rules! stream_readiness_methods {
    ($ty:ty, |$this:ident| $io:expr) => {
        $crate::readiness::ready_method!($ty, |$this| $io);
        $crate::readiness::read_readiness_methods!($ty, |$this| $io);
        $crate::readiness::write_readiness_methods!($ty, |$this| $io);
    };
}

/// `ready(interest)` for `$ty` (a socket, or either half of a stream).
macro_rules! ready_method {
    ($ty:ty, |$this:ident| $io:expr) => {
        impl $ty {
            /// Waits until the socket is ready in one of `interest`'s directions and returns
            /// what it is ready for. Usually followed by a `try_*` call; a `WouldBlock` from
            /// one means the readiness was stale (it is then cleared), so call this again.
            pub async fn ready(
                &self,
                interest: mini_runtime::io::Interest,
            ) -> std::io::Result<mini_runtime::io::Ready> {
                let $this = self;
                $io.ready(interest).await
            }
        }
    };
}

/// The wait for one direction, `$wait` (`readable`, `writable`), and its poll form `$poll`, for
/// `$ty`: `AsyncFd::ready`/`poll_ready_for` with `Interest::$interest`.
macro_rules! wait_methods {
    ($ty:ty, |$this:ident| $io:expr, $wait:ident, $poll:ident, $interest:ident, $what:literal) => {
        impl $ty {
            #[doc = concat!("Waits until ", $what, ".")]
            pub async fn $wait(&self) -> std::io::Result<()> {
                let $this = self;
                $io.ready(mini_runtime::io::Interest::$interest).await.map(drop)
            }

            #[doc = concat!("Polls until ", $what, "; the task is woken when that changes.")]
            pub fn $poll(&self, cx: &mut std::task::Context<'_>) -> std::task::Poll<std::io::Result<()>> {
                let $this = self;
                $io.poll_ready_for(cx, mini_runtime::io::Interest::$interest)
                    .map(|ready| ready.map(drop))
            }
        }
    };
}

/// `readable`, `poll_read_ready`, `try_read` and `try_read_vectored` for `$ty` (a stream or its
/// reading half).
macro_rules! read_readiness_methods {
    ($ty:ty, |$this:ident| $io:expr) => {
        $crate::readiness::wait_methods!(
            $ty,
            |$this| $io,
            readable,
            poll_read_ready,
            READABLE,
            "the socket is readable (data, end-of-file or an error)"
        );
        impl $ty {
            /// Reads what is there into `buf` without waiting: `WouldBlock` if the socket is
            /// not readable (nothing is lost: `readable()` then waits for data), `Ok(0)` at
            /// end-of-file.
            pub fn try_read(&self, buf: &mut [u8]) -> std::io::Result<usize> {
                let $this = self;
                $io.try_io(mini_runtime::io::Interest::READABLE, |socket| {
                    $crate::sys::recv(std::os::fd::AsFd::as_fd(socket), buf, 0)
                })
            }

            /// `try_read` into several buffers with one `readv(2)`.
            pub fn try_read_vectored(&self, bufs: &mut [std::io::IoSliceMut<'_>]) -> std::io::Result<usize> {
                let $this = self;
                $io.try_io(mini_runtime::io::Interest::READABLE, |socket| {
                    $crate::sys::recv_vectored(std::os::fd::AsFd::as_fd(socket), bufs)
                })
            }
        }
    };
}

/// `writable`, `poll_write_ready`, `try_write` and `try_write_vectored` for `$ty` (a stream or
/// its writing half).
macro_rules! write_readiness_methods {
    ($ty:ty, |$this:ident| $io:expr) => {
        $crate::readiness::wait_methods!(
            $ty,
            |$this| $io,
            writable,
            poll_write_ready,
            WRITABLE,
            "the socket is writable (room, or the peer gone, or an error)"
        );
        impl $ty {
            /// Writes what fits of `buf` without waiting: `WouldBlock` if the socket is not
            /// writable (`writable()` then waits for room).
            pub fn try_write(&self, buf: &[u8]) -> std::io::Result<usize> {
                let $this = self;
                $io.try_io(mini_runtime::io::Interest::WRITABLE, |socket| {
                    $crate::sys::send(std::os::fd::AsFd::as_fd(socket), buf)
                })
            }

            /// `try_write` of several buffers with one `sendmsg(2)`.
            pub fn try_write_vectored(&self, bufs: &[std::io::IoSlice<'_>]) -> std::io::Result<usize> {
                let $this = self;
                $io.try_io(mini_runtime::io::Interest::WRITABLE, |socket| {
                    $crate::sys::send_vectored(std::os::fd::AsFd::as_fd(socket), bufs)
                })
            }
        }
    };
}

/// `ready`, `readable`, `writable`, `poll_recv_ready`, `poll_send_ready`, `try_send`,
/// `try_recv` and `try_recv_from` for a datagram socket `$ty` whose registered fd is `$io` (a
/// `std` socket with `send`, `recv` and `recv_from`, which returns an `$addr`).
macro_rules! datagram_readiness_methods {
    ($ty:ty, $addr:ty, |$this:ident| $io:expr) => {
        $crate::readiness::ready_method!($ty, |$this| $io);
        $crate::readiness::wait_methods!(
            $ty,
            |$this| $io,
            readable,
            poll_recv_ready,
            READABLE,
            "a datagram (or an error) can be received"
        );
        $crate::readiness::wait_methods!(
            $ty,
            |$this| $io,
            writable,
            poll_send_ready,
            WRITABLE,
            "a datagram can be sent"
        );
        impl $ty {
            /// Sends `buf` to the connected peer without waiting: `WouldBlock` if the socket
            /// cannot take it now (`writable()` waits until it can).
            pub fn try_send(&self, buf: &[u8]) -> std::io::Result<usize> {
                let $this = self;
                $io.try_io(mini_runtime::io::Interest::WRITABLE, |socket| socket.send(buf))
            }

            /// Receives a datagram from the connected peer without waiting: `WouldBlock` if none
            /// is queued (`readable()` waits for one).
            pub fn try_recv(&self, buf: &mut [u8]) -> std::io::Result<usize> {
                let $this = self;
                $io.try_io(mini_runtime::io::Interest::READABLE, |socket| socket.recv(buf))
            }

            /// Receives a datagram and its sender's address without waiting.
            pub fn try_recv_from(&self, buf: &mut [u8]) -> std::io::Result<(usize, $addr)> {
                let $this = self;
                $io.try_io(mini_runtime::io::Interest::READABLE, |socket| {
                    socket.recv_from(buf)
                })
            }
        }
    };
}

pub(crate) use {
    datagram_readiness_methods, read_readiness_methods, ready_method, stream_readiness_methods, wait_methods,
    write_readiness_methods,
};

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

/// `ready(interest)` for `$ty` (a stream or either half of one).
macro_rules! ready_method {
    ($ty:ty, |$this:ident| $io:expr) => {
        impl $ty {
            /// Waits until the socket is ready in one of `interest`'s directions and returns
            /// what it is ready for. Usually followed by `try_read`/`try_write`; a
            /// `WouldBlock` from those means the readiness was stale (it is then cleared), so
            /// call this again.
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

/// `readable`, `poll_read_ready`, `try_read` and `try_read_vectored` for `$ty` (a stream or its
/// reading half).
macro_rules! read_readiness_methods {
    ($ty:ty, |$this:ident| $io:expr) => {
        impl $ty {
            /// Waits until the socket is readable (data, end-of-file or an error).
            pub async fn readable(&self) -> std::io::Result<()> {
                let $this = self;
                $io.ready(mini_runtime::io::Interest::READABLE).await.map(drop)
            }

            /// Polls for read readiness; the task is woken when the socket becomes readable.
            pub fn poll_read_ready(&self, cx: &mut std::task::Context<'_>) -> std::task::Poll<std::io::Result<()>> {
                let $this = self;
                $io.poll_ready_for(cx, mini_runtime::io::Interest::READABLE)
                    .map(|ready| ready.map(drop))
            }

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
        impl $ty {
            /// Waits until the socket is writable (room, or the peer gone, or an error).
            pub async fn writable(&self) -> std::io::Result<()> {
                let $this = self;
                $io.ready(mini_runtime::io::Interest::WRITABLE).await.map(drop)
            }

            /// Polls for write readiness; the task is woken when the socket becomes writable.
            pub fn poll_write_ready(&self, cx: &mut std::task::Context<'_>) -> std::task::Poll<std::io::Result<()>> {
                let $this = self;
                $io.poll_ready_for(cx, mini_runtime::io::Interest::WRITABLE)
                    .map(|ready| ready.map(drop))
            }

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

pub(crate) use {read_readiness_methods, ready_method, stream_readiness_methods, write_readiness_methods};

/// `ready`, `readable`, `writable`, `poll_recv_ready`, `poll_send_ready`, `try_send`,
/// `try_recv` and `try_recv_from` for a datagram socket `$ty` whose registered fd is `$io` (a
/// `std` socket with `send`, `recv` and `recv_from`, which returns an `$addr`).
macro_rules! datagram_readiness_methods {
    ($ty:ty, $addr:ty, |$this:ident| $io:expr) => {
        impl $ty {
            /// Waits until the socket is ready in one of `interest`'s directions and returns
            /// what it is ready for (see `try_send`/`try_recv`).
            pub async fn ready(
                &self,
                interest: mini_runtime::io::Interest,
            ) -> std::io::Result<mini_runtime::io::Ready> {
                let $this = self;
                $io.ready(interest).await
            }

            /// Waits until a datagram (or an error) can be received.
            pub async fn readable(&self) -> std::io::Result<()> {
                self.ready(mini_runtime::io::Interest::READABLE).await.map(drop)
            }

            /// Waits until a datagram can be sent.
            pub async fn writable(&self) -> std::io::Result<()> {
                self.ready(mini_runtime::io::Interest::WRITABLE).await.map(drop)
            }

            /// Polls until a datagram can be received; the task is woken when one can.
            pub fn poll_recv_ready(&self, cx: &mut std::task::Context<'_>) -> std::task::Poll<std::io::Result<()>> {
                let $this = self;
                $io.poll_ready_for(cx, mini_runtime::io::Interest::READABLE)
                    .map(|ready| ready.map(drop))
            }

            /// Polls until a datagram can be sent; the task is woken when one can.
            pub fn poll_send_ready(&self, cx: &mut std::task::Context<'_>) -> std::task::Poll<std::io::Result<()>> {
                let $this = self;
                $io.poll_ready_for(cx, mini_runtime::io::Interest::WRITABLE)
                    .map(|ready| ready.map(drop))
            }

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

pub(crate) use datagram_readiness_methods;

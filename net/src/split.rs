//! The halves of a stream (`TcpStream`, `UnixStream`): borrowed ones for one task that reads
//! and writes at once, owned ones for a reader task and a writer task. One macro stamps the same
//! types into each stream's module, as tokio has `tcp::ReadHalf` and `unix::ReadHalf`.

/// Defines `ReadHalf`, `WriteHalf`, `OwnedReadHalf`, `OwnedWriteHalf`, `ReuniteError` and the
/// `split`/`split_owned` functions for `$stream` (which has an `io: AsyncFd<_>` field and a
/// `shutdown(&self, Shutdown)` method) in the module that invokes it.
macro_rules! split_halves {
    ($stream:ident) => {
        #[doc = concat!("The reading half of [`", stringify!($stream), "::split`].")]
        #[derive(Debug)]
        pub struct ReadHalf<'a>(&'a $stream);

        #[doc = concat!("The writing half of [`", stringify!($stream), "::split`].")]
        #[derive(Debug)]
        pub struct WriteHalf<'a>(&'a $stream);

        #[doc = concat!("The reading half of [`", stringify!($stream), "::into_split`].")]
        #[derive(Debug)]
        pub struct OwnedReadHalf {
            stream: std::sync::Arc<$stream>,
        }

        #[doc = concat!("The writing half of [`", stringify!($stream), "::into_split`]. Dropping it shuts down the writing side, so the")]
        /// peer reads end-of-file.
        #[derive(Debug)]
        pub struct OwnedWriteHalf {
            stream: std::sync::Arc<$stream>,
            /// Cleared by `reunite`, which hands the stream back whole.
            shutdown_on_drop: bool,
        }

        pub(super) fn split(stream: &mut $stream) -> (ReadHalf<'_>, WriteHalf<'_>) {
            (ReadHalf(stream), WriteHalf(stream))
        }

        pub(super) fn split_owned(stream: $stream) -> (OwnedReadHalf, OwnedWriteHalf) {
            let stream = std::sync::Arc::new(stream);
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

        impl std::fmt::Display for ReuniteError {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(concat!("tried to reunite halves that are not from the same ", stringify!($stream)))
            }
        }

        impl std::error::Error for ReuniteError {}

        impl OwnedReadHalf {
            /// Puts the halves back together into the stream they came from.
            pub fn reunite(self, other: OwnedWriteHalf) -> Result<$stream, ReuniteError> {
                if !std::sync::Arc::ptr_eq(&self.stream, &other.stream) {
                    return Err(ReuniteError(self, other));
                }
                let stream = self.stream.clone();
                let mut other = other;
                other.shutdown_on_drop = false;
                drop((self, other));
                Ok(std::sync::Arc::into_inner(stream).expect("both halves are gone, so this is the last reference"))
            }
        }

        impl Drop for OwnedWriteHalf {
            fn drop(&mut self) {
                if self.shutdown_on_drop {
                    // An error means it is already shut down or reset: nothing left to tell the peer.
                    let _ = self.stream.shutdown(std::net::Shutdown::Write);
                }
            }
        }

        $crate::stream::read_methods!(ReadHalf<'_>, |this| &this.0.io);
        $crate::stream::read_methods!(OwnedReadHalf, |this| &this.stream.io);
        $crate::stream::write_methods!(WriteHalf<'_>, |this| &this.0.io);
        $crate::stream::write_methods!(OwnedWriteHalf, |this| &this.stream.io);
        $crate::readiness::ready_method!(ReadHalf<'_>, |this| &this.0.io);
        $crate::readiness::ready_method!(OwnedReadHalf, |this| &this.stream.io);
        $crate::readiness::ready_method!(WriteHalf<'_>, |this| &this.0.io);
        $crate::readiness::ready_method!(OwnedWriteHalf, |this| &this.stream.io);
        $crate::readiness::read_readiness_methods!(ReadHalf<'_>, |this| &this.0.io);
        $crate::readiness::read_readiness_methods!(OwnedReadHalf, |this| &this.stream.io);
        $crate::readiness::write_readiness_methods!(WriteHalf<'_>, |this| &this.0.io);
        $crate::readiness::write_readiness_methods!(OwnedWriteHalf, |this| &this.stream.io);
    };
}

pub(crate) use split_halves;

//! Adapters that put other crates' IO traits on mini's streams, each behind its feature, so that
//! code written for those crates runs on mini's sockets unchanged:
//!
//! - `tokio_io` (the `tokio-io` feature): tokio's `AsyncRead`/`AsyncWrite`, for crates that need
//!   only those traits (tokio-util codecs, tokio-rustls);
//! - `hyper` (the `hyper` feature, public as `crate::hyper_rt`): hyper 1.x's `rt::Read`/`rt::Write`,
//!   and the `Executor` and `Timer` that hyper asks of a runtime.
//!
//! `crate::stream`'s macros stamp the impls onto each stream shape: the write traits are its
//! `impl_write!` (one set of write bodies for every write trait), and the read traits are
//! `impl_read!` below, forwarding to each adapter's read function, which fills that crate's
//! buffer type through the same read path (`crate::stream`).

#[cfg(feature = "hyper")]
pub mod hyper;
#[cfg(feature = "tokio-io")]
pub(crate) mod tokio_io;

/// Implements `$trait` for `$ty`, a read trait with the one method `poll_read(self, cx, buf: $buf)
/// -> Poll<io::Result<()>>` (tokio's `AsyncRead`, hyper's `rt::Read`), forwarding to `$poll_read`
/// with the registered fd that `$ty` reaches through `$io`.
#[cfg(any(feature = "tokio-io", feature = "hyper"))]
macro_rules! impl_read {
    ($trait:path, $buf:ty, $poll_read:path; $ty:ty, |$this:ident| $io:expr) => {
        impl $trait for $ty {
            fn poll_read(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                buf: $buf,
            ) -> std::task::Poll<std::io::Result<()>> {
                let $this = &*self;
                $poll_read($io, cx, buf)
            }
        }
    };
}

#[cfg(any(feature = "tokio-io", feature = "hyper"))]
pub(crate) use impl_read;

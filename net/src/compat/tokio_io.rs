//! tokio's `AsyncRead` and `AsyncWrite` on mini's streams (the `tokio-io` feature).
//!
//! Why: crates written against tokio's IO traits alone (tokio-util's codecs, tokio-rustls) then
//! work on mini's sockets. tokio is an optional dependency with no default features: the traits,
//! no runtime.
//!
//! The impls are stamped onto each stream shape by `crate::stream`'s macros: `AsyncWrite` is
//! `impl_write!` with tokio's trait path (`poll_shutdown` shuts down the writing side), and
//! `AsyncRead` is `crate::compat::impl_read!` forwarding to `poll_read_buf` below, which fills
//! the `ReadBuf`'s unfilled part through the stream read path.

use crate::stream;
use mini_runtime::io::AsyncFd;
use std::io;
use std::os::fd::AsFd;
use std::task::{ready, Context, Poll};
use tokio::io::ReadBuf;

/// tokio's `poll_read`: receives into `buf`'s unfilled part (zeroing first what was never
/// initialised) and advances `buf` past what arrived.
#[inline]
pub(crate) fn poll_read_buf<S: AsFd>(
    io: &AsyncFd<S>,
    cx: &mut Context<'_>,
    buf: &mut ReadBuf<'_>,
) -> Poll<io::Result<()>> {
    let n = ready!(stream::poll_read(io, cx, buf.initialize_unfilled()))?;
    buf.advance(n);
    Poll::Ready(Ok(()))
}

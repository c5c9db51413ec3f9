//! `copy` and `copy_bidirectional`: moving bytes from a reader to a writer (a proxy's two
//! directions), on the futures-io traits, so they work with mini's sockets and anything else
//! that implements them.

use futures_io::{AsyncRead, AsyncWrite};
use std::future::{poll_fn, Future};
use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

/// Bytes moved per read: 64 KiB, so that a bulk transfer costs few syscalls per megabyte.
const BUFFER: usize = 64 * 1024;

/// One direction of a copy: a buffer, what of it is yet to be written, and the running total.
struct Transfer {
    buf: Box<[u8]>,
    /// `buf[start..end]` is read but not yet written.
    start: usize,
    end: usize,
    /// Set when the reader returned end-of-file.
    read_done: bool,
    /// Set when everything is written and the writer is shut down (`poll_close`).
    closed: bool,
    copied: u64,
}

impl Transfer {
    fn new() -> Transfer {
        Transfer {
            buf: vec![0; BUFFER].into_boxed_slice(),
            start: 0,
            end: 0,
            read_done: false,
            closed: false,
            copied: 0,
        }
    }

    /// Moves bytes until the reader ends and everything is written; then closes the writer if
    /// `close` says so. Returns the bytes copied.
    fn poll_copy<R, W>(
        &mut self,
        cx: &mut Context<'_>,
        mut reader: Pin<&mut R>,
        mut writer: Pin<&mut W>,
        close: bool,
    ) -> Poll<io::Result<u64>>
    where
        R: AsyncRead + ?Sized,
        W: AsyncWrite + ?Sized,
    {
        loop {
            if self.start == self.end && !self.read_done {
                let n = ready!(reader.as_mut().poll_read(cx, &mut self.buf))?;
                if n == 0 {
                    self.read_done = true;
                } else {
                    (self.start, self.end) = (0, n);
                }
            }
            while self.start < self.end {
                let n = ready!(writer.as_mut().poll_write(cx, &self.buf[self.start..self.end]))?;
                if n == 0 {
                    return Poll::Ready(Err(io::Error::new(
                        io::ErrorKind::WriteZero,
                        "the writer accepted no bytes during a copy",
                    )));
                }
                self.start += n;
                self.copied += n as u64;
            }
            if self.read_done {
                if close && !self.closed {
                    ready!(writer.as_mut().poll_close(cx))?;
                    self.closed = true;
                } else {
                    ready!(writer.as_mut().poll_flush(cx))?;
                }
                return Poll::Ready(Ok(self.copied));
            }
        }
    }
}

/// Copies everything `reader` yields into `writer` until the reader's end-of-file, then flushes
/// the writer; returns how many bytes were copied.
///
/// ```
/// let rt = mini_runtime::Runtime::new().unwrap();
/// rt.block_on(async {
///     let mut reader: &[u8] = b"hello";
///     let mut writer = futures::io::Cursor::new(Vec::new());
///     let copied = mini_runtime::io::copy(&mut reader, &mut writer).await.unwrap();
///     assert_eq!((copied, writer.into_inner()), (5, b"hello".to_vec()));
/// });
/// ```
pub fn copy<'a, R, W>(reader: &'a mut R, writer: &'a mut W) -> impl Future<Output = io::Result<u64>> + 'a
where
    R: AsyncRead + Unpin + ?Sized,
    W: AsyncWrite + Unpin + ?Sized,
{
    let mut transfer = Transfer::new();
    poll_fn(move |cx| transfer.poll_copy(cx, Pin::new(&mut *reader), Pin::new(&mut *writer), false))
}

/// Copies `a` to `b` and `b` to `a` at once, as a proxy does, until both directions reach
/// end-of-file; when one direction ends, the writer it fed is closed (for a socket: its writing
/// side shut down), so the peer sees the end too. Returns the bytes copied `a → b` and `b → a`.
///
/// An error in either direction ends both and is returned.
pub fn copy_bidirectional<'a, A, B>(a: &'a mut A, b: &'a mut B) -> impl Future<Output = io::Result<(u64, u64)>> + 'a
where
    A: AsyncRead + AsyncWrite + Unpin + ?Sized,
    B: AsyncRead + AsyncWrite + Unpin + ?Sized,
{
    let (mut a_to_b, mut b_to_a) = (Transfer::new(), Transfer::new());
    let (mut a_to_b_done, mut b_to_a_done) = (None, None);
    poll_fn(move |cx| {
        if a_to_b_done.is_none() {
            if let Poll::Ready(copied) = a_to_b.poll_copy(cx, Pin::new(&mut *a), Pin::new(&mut *b), true) {
                a_to_b_done = Some(copied?);
            }
        }
        if b_to_a_done.is_none() {
            if let Poll::Ready(copied) = b_to_a.poll_copy(cx, Pin::new(&mut *b), Pin::new(&mut *a), true) {
                b_to_a_done = Some(copied?);
            }
        }
        match (a_to_b_done, b_to_a_done) {
            (Some(there), Some(back)) => Poll::Ready(Ok((there, back))),
            _ => Poll::Pending,
        }
    })
}

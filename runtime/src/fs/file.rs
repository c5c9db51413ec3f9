//! `File`: an open file whose reads, writes and seeks run on the blocking pool, behind
//! futures-io's `AsyncRead`, `AsyncWrite` and `AsyncSeek`.
//!
//! One operation is in flight at a time. A read asks the pool for at most as many bytes as the
//! caller's buffer holds (so nothing is read ahead and the file position stays exact). A write
//! copies the caller's bytes (up to 64 KiB) and returns at once while the pool writes them
//! (write-behind, as in tokio); its error, if any, comes back from the next operation or from
//! `flush`, which waits for it.

use super::asyncify;
use crate::task::JoinHandle;
use futures_io::{AsyncRead, AsyncSeek, AsyncWrite};
use std::fmt;
use std::fs::Metadata;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

/// The most bytes one read or write hands to the pool, unless `set_max_buf_size` says
/// otherwise.
const DEFAULT_MAX_BUF_SIZE: usize = 64 * 1024;

/// An open file.
///
/// ```
/// use futures::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};
/// use std::io::SeekFrom;
///
/// mini_runtime::Runtime::new().unwrap().block_on(async {
///     let path = std::env::temp_dir().join(format!("mini-file-doc-{}", std::process::id()));
///     let mut file = mini_runtime::fs::File::create(&path).await.unwrap();
///     file.write_all(b"hello, file").await.unwrap();
///     file.flush().await.unwrap(); // the last write is done once this returns
///     let mut file = mini_runtime::fs::File::open(&path).await.unwrap();
///     file.seek(SeekFrom::Start(7)).await.unwrap();
///     let mut rest = String::new();
///     file.read_to_string(&mut rest).await.unwrap();
///     assert_eq!(rest, "file");
///     std::fs::remove_file(&path).unwrap();
/// });
/// ```
///
/// Writes return before the data is written: call `flush` (or `close`, or `sync_all`) to wait
/// for it and to see a write error. Dropping a `File` with a write in flight lets the write
/// finish on the pool, but its error is lost.
pub struct File {
    std: Arc<std::fs::File>,
    state: State,
    /// The most bytes one read or write hands to the pool.
    max_buf_size: usize,
}

enum State {
    /// No operation in flight; the buffer is kept for the next one.
    Idle(Vec<u8>),
    /// An operation runs on the pool and hands the buffer back with its result.
    Busy(JoinHandle<(Outcome, Vec<u8>)>),
}

enum Outcome {
    /// Bytes read into the buffer.
    Read(io::Result<usize>),
    Write(io::Result<()>),
    Seek(io::Result<u64>),
}

impl File {
    /// Opens the file at `path` for reading.
    pub async fn open(path: impl AsRef<Path>) -> io::Result<File> {
        let path = path.as_ref().to_owned();
        Ok(File::from_std(asyncify(move || std::fs::File::open(path)).await?))
    }

    /// Creates the file at `path` for writing, truncating it if it exists.
    pub async fn create(path: impl AsRef<Path>) -> io::Result<File> {
        let path = path.as_ref().to_owned();
        Ok(File::from_std(asyncify(move || std::fs::File::create(path)).await?))
    }

    /// Wraps a file opened with `std` (any `OpenOptions`).
    pub fn from_std(file: std::fs::File) -> File {
        File {
            std: Arc::new(file),
            state: State::Idle(Vec::new()),
            max_buf_size: DEFAULT_MAX_BUF_SIZE,
        }
    }

    /// The most bytes one read or write hands to the blocking pool (default 64 KiB): a larger
    /// buffer means fewer trips to the pool for big transfers, and more memory per file.
    ///
    /// # Panics
    /// If `max` is 0.
    pub fn set_max_buf_size(&mut self, max: usize) {
        assert!(max > 0, "`set_max_buf_size`: the buffer must hold at least one byte");
        self.max_buf_size = max;
    }

    /// A second `File` for the same open file (`dup`: they share the offset), once the
    /// operation in flight, if any, is done.
    pub async fn try_clone(&self) -> io::Result<File> {
        let std = self.std.clone();
        Ok(File::from_std(asyncify(move || std.try_clone()).await?))
    }

    /// The `std` file, if no operation is in flight (else the `File` back): the synchronous
    /// `into_std`.
    pub fn try_into_std(mut self) -> Result<std::fs::File, File> {
        if let State::Busy(_) = self.state {
            return Err(self);
        }
        match Arc::try_unwrap(self.std) {
            Ok(std) => Ok(std),
            Err(std) => {
                self.std = std;
                Err(self)
            }
        }
    }

    /// Waits for the operation in flight, then hands back the `std` file.
    pub async fn into_std(mut self) -> io::Result<std::fs::File> {
        std::future::poll_fn(|cx| self.poll_complete(cx)).await?;
        Ok(Arc::try_unwrap(self.std).expect("no operation holds the file once it is idle"))
    }

    /// The file's metadata.
    pub async fn metadata(&self) -> io::Result<Metadata> {
        let std = self.std.clone();
        asyncify(move || std.metadata()).await
    }

    /// Flushes what was written, then waits for the data and metadata to reach the disk.
    pub async fn sync_all(&mut self) -> io::Result<()> {
        std::future::poll_fn(|cx| self.poll_complete(cx)).await?;
        let std = self.std.clone();
        asyncify(move || std.sync_all()).await
    }

    /// Truncates or extends the file to `len` bytes.
    pub async fn set_len(&mut self, len: u64) -> io::Result<()> {
        std::future::poll_fn(|cx| self.poll_complete(cx)).await?;
        let std = self.std.clone();
        asyncify(move || std.set_len(len)).await
    }

    /// Waits for the operation in flight (if any) and returns the buffer; the outcome of a write
    /// is its error, if it failed; a read's or seek's outcome was already returned.
    fn poll_idle(&mut self, cx: &mut Context<'_>) -> Poll<(Option<Outcome>, Vec<u8>)> {
        match &mut self.state {
            State::Idle(buf) => Poll::Ready((None, std::mem::take(buf))),
            State::Busy(job) => {
                let (outcome, buf) = match ready!(Pin::new(job).poll(cx)) {
                    Ok(done) => done,
                    Err(error) if error.is_panic() => std::panic::resume_unwind(error.into_panic()),
                    Err(_) => (
                        Outcome::Write(Err(io::Error::other(
                            "the mini runtime shut down during the file operation",
                        ))),
                        Vec::new(),
                    ),
                };
                self.state = State::Idle(Vec::new());
                Poll::Ready((Some(outcome), buf))
            }
        }
    }

    /// Waits for a write in flight and surfaces its error.
    fn poll_complete(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let (outcome, buf) = ready!(self.poll_idle(cx));
        self.state = State::Idle(buf);
        match outcome {
            Some(Outcome::Write(Err(error))) => Poll::Ready(Err(error)),
            _ => Poll::Ready(Ok(())),
        }
    }

    /// Writes all of `buf` on the pool (write-behind: the caller has been told it is written).
    fn start_write(&mut self, buf: Vec<u8>) {
        self.start(buf, |mut file, buf| {
            let result = file.write_all(&buf);
            (Outcome::Write(result), buf)
        });
    }

    fn start(
        &mut self,
        buf: Vec<u8>,
        job: impl FnOnce(&std::fs::File, Vec<u8>) -> (Outcome, Vec<u8>) + Send + 'static,
    ) {
        let std = self.std.clone();
        self.state = State::Busy(crate::task::spawn_blocking(move || job(&std, buf)));
    }
}

use std::future::Future as _;

impl AsyncRead for File {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, dst: &mut [u8]) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        loop {
            let (outcome, mut buf) = ready!(this.poll_idle(cx));
            match outcome {
                Some(Outcome::Read(result)) => {
                    this.state = State::Idle(Vec::new());
                    let n = result?;
                    dst[..n].copy_from_slice(&buf[..n]);
                    buf.clear();
                    this.state = State::Idle(buf);
                    return Poll::Ready(Ok(n));
                }
                Some(Outcome::Write(Err(error))) => {
                    this.state = State::Idle(buf);
                    return Poll::Ready(Err(error));
                }
                _ => {}
            }
            if dst.is_empty() {
                this.state = State::Idle(buf);
                return Poll::Ready(Ok(0));
            }
            let want = dst.len().min(this.max_buf_size);
            buf.resize(want, 0);
            this.start(buf, |mut file, mut buf| {
                let result = file.read(&mut buf);
                (Outcome::Read(result), buf)
            });
        }
    }
}

impl AsyncWrite for File {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, src: &[u8]) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let (outcome, mut buf) = ready!(this.poll_idle(cx));
        if let Some(Outcome::Write(Err(error))) = outcome {
            this.state = State::Idle(buf);
            return Poll::Ready(Err(error));
        }
        let n = src.len().min(this.max_buf_size);
        buf.clear();
        buf.extend_from_slice(&src[..n]);
        this.start_write(buf);
        Poll::Ready(Ok(n))
    }

    /// Takes as much of `bufs`, in order, as one chunk holds (futures-io's default would take
    /// only the first non-empty buffer).
    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let (outcome, mut buf) = ready!(this.poll_idle(cx));
        if let Some(Outcome::Write(Err(error))) = outcome {
            this.state = State::Idle(buf);
            return Poll::Ready(Err(error));
        }
        buf.clear();
        for slice in bufs {
            let room = this.max_buf_size - buf.len();
            buf.extend_from_slice(&slice[..slice.len().min(room)]);
            if buf.len() == this.max_buf_size {
                break;
            }
        }
        let n = buf.len();
        this.start_write(buf);
        Poll::Ready(Ok(n))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().poll_complete(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().poll_complete(cx)
    }
}

impl AsyncSeek for File {
    fn poll_seek(self: Pin<&mut Self>, cx: &mut Context<'_>, pos: SeekFrom) -> Poll<io::Result<u64>> {
        let this = self.get_mut();
        loop {
            let (outcome, buf) = ready!(this.poll_idle(cx));
            match outcome {
                Some(Outcome::Seek(result)) => {
                    this.state = State::Idle(buf);
                    return Poll::Ready(result);
                }
                Some(Outcome::Write(Err(error))) => {
                    this.state = State::Idle(buf);
                    return Poll::Ready(Err(error));
                }
                _ => {}
            }
            this.start(buf, move |mut file, buf| (Outcome::Seek(file.seek(pos)), buf));
        }
    }
}

impl std::os::fd::AsFd for File {
    fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        self.std.as_fd()
    }
}

impl std::os::fd::AsRawFd for File {
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        self.std.as_raw_fd()
    }
}

impl std::os::fd::FromRawFd for File {
    /// # Safety
    /// `fd` is an open file descriptor that nothing else owns (as for `std::fs::File`).
    unsafe fn from_raw_fd(fd: std::os::fd::RawFd) -> File {
        // SAFETY: forwarded: the caller gives us sole ownership of the open `fd`.
        File::from_std(unsafe { std::fs::File::from_raw_fd(fd) })
    }
}

impl fmt::Debug for File {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("File").field("std", &self.std).finish_non_exhaustive()
    }
}

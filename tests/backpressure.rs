//! Backpressure: a reader that stops reading makes the writer wait, with no buffering in mini
//! (what the writer got rid of is bounded by the kernel's socket buffers, and the waiting writer
//! is not polled again and again), and then 64 MiB through a slow reader arrive intact.

mod common;

use common::*;
use futures::io::{AsyncWrite, AsyncWriteExt};
use mini::net::TcpStream;
use std::io;
use std::os::fd::AsRawFd;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

const TOTAL: usize = 64 << 20;
const CHUNK: usize = 256 << 10;

/// A writer that counts the bytes its inner stream accepted and the polls that had to wait.
struct Counting {
    inner: TcpStream,
    accepted: Arc<AtomicUsize>,
    waits: Arc<AtomicUsize>,
}

impl AsyncWrite for Counting {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let result = Pin::new(&mut self.inner).poll_write(cx, buf);
        match &result {
            Poll::Ready(Ok(n)) => {
                self.accepted.fetch_add(*n, SeqCst);
            }
            Poll::Pending => {
                self.waits.fetch_add(1, SeqCst);
            }
            Poll::Ready(Err(_)) => {}
        }
        result
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_close(cx)
    }
}

fn buffer_size(socket: &impl AsRawFd, option: libc::c_int) -> usize {
    let mut size: libc::c_int = 0;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: passes a live c_int and its size to getsockopt on an open socket.
    let result = unsafe {
        libc::getsockopt(
            socket.as_raw_fd(),
            libc::SOL_SOCKET,
            option,
            &mut size as *mut libc::c_int as *mut libc::c_void,
            &mut len,
        )
    };
    assert_eq!(result, 0, "getsockopt: {}", io::Error::last_os_error());
    size as usize
}

async fn a_stalled_reader_stops_the_writer_then_a_slow_one_gets_everything() {
    let (mut reader, writer) = connected_pair().await;
    let kernel_buffers = buffer_size(&writer, libc::SO_SNDBUF) + buffer_size(&reader, libc::SO_RCVBUF);
    let (accepted, waits) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let mut counting = Counting {
        inner: writer,
        accepted: accepted.clone(),
        waits: waits.clone(),
    };
    let data = pattern(TOTAL);
    let sender = mini::spawn(async move {
        for chunk in data.chunks(CHUNK) {
            counting.write_all(chunk).await?;
        }
        counting.close().await
    });

    // The reader reads nothing: the writer must come to wait ...
    for _ in 0..MAX_ROUNDS {
        if waits.load(SeqCst) > 0 {
            break;
        }
        mini::task::yield_now().await;
    }
    assert!(waits.load(SeqCst) > 0, "the writer never had to wait");
    // ... and stay waiting while the reader is stalled: a window of real time, with the
    // reactor turning.
    mini::time::sleep(Duration::from_millis(200)).await;
    let (stalled_at, waits_while_stalled) = (accepted.load(SeqCst), waits.load(SeqCst));
    println!(
        "stalled reader: the writer got rid of {stalled_at} bytes ({kernel_buffers} bytes of socket buffers), \
         polled {waits_while_stalled} times while it waited"
    );
    assert!(
        stalled_at <= 2 * kernel_buffers,
        "{stalled_at} bytes left the writer while the reader read nothing: more than the socket buffers hold"
    );
    assert!(
        waits_while_stalled <= 4,
        "the waiting writer was polled {waits_while_stalled} times: it spins instead of waiting"
    );

    // Now a slow reader: 64 KiB at a time, a pause after every MiB.
    let mut buf = vec![0u8; 64 << 10];
    let mut received = 0;
    loop {
        let n = reader.read(&mut buf).await.expect("read");
        if n == 0 {
            break;
        }
        for (offset, byte) in buf[..n].iter().enumerate() {
            let position = received + offset;
            assert_eq!(*byte, (position % 251) as u8, "byte {position} is wrong");
        }
        let before = received;
        received += n;
        if before >> 20 != received >> 20 {
            mini::time::sleep(Duration::from_millis(1)).await;
        }
    }
    sender.await.unwrap().expect("the writer");
    assert_eq!(received, TOTAL, "every byte arrived");
    assert_eq!(accepted.load(SeqCst), TOTAL);
}

#[test]
fn backpressure_on_the_current_thread_runtime() {
    run(a_stalled_reader_stops_the_writer_then_a_slow_one_gets_everything);
}

#[test]
fn backpressure_on_a_multi_threaded_runtime() {
    run_on_worker_flavors(2, a_stalled_reader_stops_the_writer_then_a_slow_one_gets_everything);
}

//! `AsyncFd`: any non-blocking fd (here Unix socket pairs) waits on the runtime's reactor.

mod common;

use common::*;
use mini::io::AsyncFd;
use std::io::{ErrorKind, Read, Write};
use std::os::unix::net::UnixStream;
use std::pin::pin;
use std::thread;

fn nonblocking_pair() -> (UnixStream, UnixStream) {
    let (a, b) = UnixStream::pair().unwrap();
    a.set_nonblocking(true).unwrap();
    (a, b)
}

#[test]
fn read_with_waits_until_a_std_thread_writes() {
    run(|| async {
        let (a, mut b) = nonblocking_pair();
        let a = AsyncFd::new(a).unwrap();
        let tid = current_tid();
        let writer = thread::spawn(move || {
            let parked = wait_until_parked(tid);
            b.write_all(b"ping").unwrap();
            (parked, b)
        });
        let mut buf = [0u8; 4];
        let mut filled = 0;
        for _ in 0..4 {
            if filled == buf.len() {
                break;
            }
            filled += a.read_with(|mut sock| sock.read(&mut buf[filled..])).await.unwrap();
        }
        assert_eq!(&buf, b"ping");
        let (parked, _b) = writer.join().unwrap();
        assert!(parked, "the runtime never parked while the read waited");
    })
}

#[test]
fn clearing_readiness_makes_the_next_wait_last_until_new_data() {
    run(|| async {
        let (a, mut b) = nonblocking_pair();
        let a = AsyncFd::new(a).unwrap();
        b.write_all(b"x").unwrap();
        let mut buf = [0u8; 8];

        let mut guard = a.readable().await.unwrap();
        assert!(guard.ready().is_readable());
        assert_eq!(guard.try_io(|mut sock| sock.read(&mut buf)).unwrap().unwrap(), 1);
        // Drained: the next try says WouldBlock and clears the readiness.
        let mut guard = a.readable().await.unwrap();
        assert!(guard.try_io(|mut sock| sock.read(&mut buf)).is_err());

        let mut readable = pin!(a.readable());
        assert!(futures::poll!(readable.as_mut()).is_pending(), "readiness was cleared");
        b.write_all(b"y").unwrap();
        let guard = readable.await.unwrap();
        assert!(guard.ready().is_readable());
        assert_eq!(a.read_with(|mut sock| sock.read(&mut buf)).await.unwrap(), 1);
        assert_eq!(buf[0], b'y');
    })
}

#[test]
fn a_fresh_socket_is_writable_and_a_hang_up_is_read_closed() {
    run(|| async {
        let (a, b) = nonblocking_pair();
        let a = AsyncFd::new(a).unwrap();
        assert!(a.writable().await.unwrap().ready().is_writable());
        drop(b);
        let guard = a.readable().await.unwrap();
        assert!(guard.ready().is_read_closed(), "{:?}", guard.ready());
        let mut buf = [0u8; 1];
        assert_eq!(a.read_with(|mut sock| sock.read(&mut buf)).await.unwrap(), 0);
    })
}

#[mini::test]
async fn registering_a_regular_file_fails_with_eperm() {
    let file = std::fs::File::open(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml")).unwrap();
    let error = AsyncFd::new(file).unwrap_err();
    assert_eq!(error.raw_os_error(), Some(libc::EPERM), "{error}");
}

#[mini::test]
async fn registering_one_fd_twice_fails_and_into_inner_allows_registering_again() {
    let (a, _b) = nonblocking_pair();
    let first = AsyncFd::new(&a).unwrap();
    let error = AsyncFd::new(&a).unwrap_err();
    assert_eq!(error.raw_os_error(), Some(libc::EEXIST), "{error}");
    let _ = first.into_inner();
    let again = AsyncFd::new(a).unwrap();
    assert_eq!(again.get_ref().peer_addr().unwrap().as_pathname(), None);
}

#[test]
fn async_fd_new_outside_a_runtime_panics() {
    let (a, _b) = nonblocking_pair();
    let payload = std::panic::catch_unwind(|| drop(AsyncFd::new(a))).unwrap_err();
    let message = payload.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(
        message.contains("must be called from within a mini runtime"),
        "{message}"
    );
}

#[test]
fn operations_that_would_block_report_would_block_not_an_error() {
    run(|| async {
        let (a, _b) = nonblocking_pair();
        let a = AsyncFd::new(a).unwrap();
        let mut buf = [0u8; 1];
        let error = a.get_ref().read(&mut buf).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::WouldBlock, "the wrapped fd is non-blocking");
    })
}

#[test]
fn an_error_that_was_consumed_does_not_make_read_with_spin() {
    run(|| async {
        // A connected UDP socket to a port nobody listens on: the ICMP port-unreachable raises
        // EPOLLERR, and the first recv returns ECONNREFUSED (consuming the error).
        let closed = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let closed_addr = closed.local_addr().unwrap();
        drop(closed);
        let socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        socket.set_nonblocking(true).unwrap();
        socket.connect(closed_addr).unwrap();
        let socket = AsyncFd::new(socket).unwrap();
        socket.get_ref().send(b"anyone?").unwrap();
        let mut buf = [0u8; 16];
        let error = socket.read_with(|s| s.recv(&mut buf)).await.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::ConnectionRefused);
        // Now nothing is pending: the next read must wait (Pending), not loop on WouldBlock.
        let mut attempts = 0;
        let next = futures::FutureExt::now_or_never(socket.read_with(|s| {
            attempts += 1;
            assert!(attempts < 100, "read_with is spinning on a stale error flag");
            s.recv(&mut buf)
        }));
        assert!(next.is_none(), "nothing was sent, so the read must wait");
    })
}

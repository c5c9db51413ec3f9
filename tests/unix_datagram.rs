//! `UnixDatagram`: pairs, path-bound and abstract sockets, truncation, waiting for a datagram,
//! a send that must wait for room, and the errors of a vanished peer or a taken path.

mod common;

use common::*;
use mini::net::UnixDatagram;
use std::io::ErrorKind;
use std::os::linux::net::SocketAddrExt;
use std::os::unix::net::SocketAddr;
use std::path::PathBuf;
use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::task::Poll;
use std::thread;

/// A fresh path in a fresh directory under the system temp dir (removed by the caller).
fn socket_path(name: &str) -> (PathBuf, PathBuf) {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "mini-test-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Relaxed)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    (dir.join(name), dir)
}

#[test]
fn a_pair_exchanges_datagrams_both_ways() {
    run(|| async {
        let (a, b) = UnixDatagram::pair().unwrap();
        let mut buf = [0u8; 16];
        for i in 0..500u32 {
            a.send(&i.to_be_bytes()).await.unwrap();
            let n = b.recv(&mut buf).await.unwrap();
            assert_eq!(&buf[..n], &i.to_be_bytes());
            b.send(&buf[..n]).await.unwrap();
            let n = a.recv(&mut buf).await.unwrap();
            assert_eq!(&buf[..n], &i.to_be_bytes());
        }
    })
}

#[test]
fn path_bound_sockets_reply_to_their_senders_and_the_path_outlives_the_socket() {
    let (path, dir) = socket_path("server.sock");
    let client_path = dir.join("client.sock");
    run({
        let (path, client_path) = (path.clone(), client_path.clone());
        || async move {
            let server = UnixDatagram::bind(&path).unwrap();
            assert_eq!(server.local_addr().unwrap().as_pathname(), Some(path.as_path()));
            let client = UnixDatagram::bind(&client_path).unwrap();
            client.send_to(b"hello", &path).await.unwrap();
            let mut buf = [0u8; 16];
            let (n, from) = server.recv_from(&mut buf).await.unwrap();
            assert_eq!(&buf[..n], b"hello");
            assert_eq!(from.as_pathname(), Some(client_path.as_path()));
            server.send_to(b"hi back", from.as_pathname().unwrap()).await.unwrap();
            let n = client.recv(&mut buf).await.unwrap();
            assert_eq!(&buf[..n], b"hi back");

            let unbound = UnixDatagram::unbound().unwrap();
            unbound.send_to(b"anonymous", &path).await.unwrap();
            let (_, from) = server.recv_from(&mut buf).await.unwrap();
            assert!(from.is_unnamed());

            let error = UnixDatagram::bind(&path).expect_err("the path exists");
            assert_eq!(error.kind(), ErrorKind::AddrInUse);
        }
    });
    assert!(path.exists(), "mini does not unlink the socket file");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn abstract_names_need_no_file() {
    run(|| async {
        let name = format!("mini-test-abstract-{}", std::process::id());
        let addr = SocketAddr::from_abstract_name(name.as_bytes()).unwrap();
        let server = UnixDatagram::bind_addr(&addr).unwrap();
        assert_eq!(server.local_addr().unwrap().as_abstract_name(), Some(name.as_bytes()));
        let client = UnixDatagram::unbound().unwrap();
        client.send_to_addr(b"abstract", &addr).await.unwrap();
        let mut buf = [0u8; 16];
        let n = server.recv(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"abstract");
        let error = UnixDatagram::bind_addr(&addr).expect_err("the name is taken");
        assert_eq!(error.kind(), ErrorKind::AddrInUse);
    })
}

#[test]
fn a_datagram_longer_than_the_buffer_is_truncated() {
    run(|| async {
        let (a, b) = UnixDatagram::pair().unwrap();
        let long = pattern(500);
        a.send(&long).await.unwrap();
        a.send(b"next").await.unwrap();
        let mut small = [0u8; 8];
        assert_eq!(b.recv(&mut small).await.unwrap(), 8);
        assert_eq!(&small[..], &long[..8]);
        let n = b.recv(&mut small).await.unwrap();
        assert_eq!(&small[..n], b"next");
    })
}

#[test]
fn recv_waits_until_a_std_thread_sends() {
    run(|| async {
        let (a, b) = UnixDatagram::pair().unwrap();
        let a = a.into_std().unwrap();
        let tid = current_tid();
        let sender = thread::spawn(move || {
            let parked = wait_until_parked(tid);
            a.send(b"late").unwrap();
            parked
        });
        let mut buf = [0u8; 8];
        let n = b.recv(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"late");
        assert!(sender.join().unwrap(), "the runtime never parked while recv waited");
    })
}

#[test]
fn a_send_into_a_full_socket_waits_until_the_peer_drains_it() {
    run(|| async {
        let (a, b) = UnixDatagram::pair().unwrap();
        let datagram = [7u8; 1024];
        let mut sent = 0;
        loop {
            assert!(sent < 100_000, "the socket never filled up");
            let send = pin!(a.send(&datagram));
            match futures::poll!(send) {
                Poll::Ready(result) => {
                    result.unwrap();
                    sent += 1;
                }
                Poll::Pending => break,
            }
        }
        // Full: this send must wait until the receiver makes room.
        let drain = mini::spawn(async move {
            let mut buf = [0u8; 2048];
            let mut received = 0;
            while received < sent + 1 {
                assert_eq!(b.recv(&mut buf).await.unwrap(), 1024);
                received += 1;
            }
            received
        });
        a.send(&datagram).await.unwrap();
        assert_eq!(drain.await.unwrap(), sent + 1);
    })
}

#[test]
fn sending_to_a_vanished_peer_is_connection_refused() {
    run(|| async {
        let (a, b) = UnixDatagram::pair().unwrap();
        drop(b);
        let error = a.send(b"anyone?").await.expect_err("the peer is gone");
        assert_eq!(error.kind(), ErrorKind::ConnectionRefused);
        let (path, dir) = socket_path("nobody.sock");
        let error = a.send_to(b"x", &path).await.expect_err("nothing is bound there");
        assert_eq!(error.kind(), ErrorKind::NotFound);
        std::fs::remove_dir_all(dir).unwrap();
    })
}

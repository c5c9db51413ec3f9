//! Readiness and non-blocking calls on every socket type, as tokio documents them: `try_read`
//! on an empty socket is `WouldBlock` and loses no readiness (`readable()` then resolves when
//! data arrives); `try_write` into a full socket is `WouldBlock` until `writable()`; `ready`
//! reports both directions; UDP's `try_*`, `peek_sender`; Unix streams and datagrams.

mod common;

use common::*;
use futures::FutureExt;
use mini::io::Interest;
use mini::net::{TcpStream, UdpSocket, UnixDatagram, UnixStream};
use std::io::{ErrorKind, IoSlice, IoSliceMut};
use std::pin::pin;

fn would_block<T: std::fmt::Debug>(result: std::io::Result<T>) -> bool {
    matches!(result, Err(ref error) if error.kind() == ErrorKind::WouldBlock)
}

#[test]
fn tcp_try_read_would_block_then_readable_resolves_when_data_arrives_on_every_flavor() {
    with_timeout(|| {
        for (flavor, runtime) in runtimes() {
            runtime.block_on(async {
                let (mut client, server) = connected_pair().await;
                let mut buf = [0u8; 16];
                assert!(would_block(server.try_read(&mut buf)), "{flavor}: nothing sent yet");
                // Not readable yet: the wait pends.
                assert!(futures::poll!(pin!(server.readable())).is_pending(), "{flavor}");
                client.write_all(b"hello").await.unwrap();
                server.readable().await.unwrap();
                assert_eq!(server.try_read(&mut buf).unwrap(), 5, "{flavor}");
                assert_eq!(&buf[..5], b"hello");
                // Drained: the next try is WouldBlock, which clears the readiness, so the next
                // wait blocks until new data rather than spinning.
                assert!(would_block(server.try_read(&mut buf)), "{flavor}");
                assert!(futures::poll!(pin!(server.readable())).is_pending(), "{flavor}");
                client.write_all(b"again").await.unwrap();
                server.readable().await.unwrap();
                let mut first = [0u8; 2];
                let mut rest = [0u8; 8];
                let n = server
                    .try_read_vectored(&mut [IoSliceMut::new(&mut first), IoSliceMut::new(&mut rest)])
                    .unwrap();
                assert_eq!((n, &first, &rest[..3]), (5, b"ag", &b"ain"[..]), "{flavor}");
                // End-of-file is Ok(0), at once.
                drop(client);
                server.readable().await.unwrap();
                assert_eq!(server.try_read(&mut buf).unwrap(), 0, "{flavor}");
            });
        }
    });
}

#[test]
fn tcp_try_write_fills_the_socket_then_writable_waits_for_room() {
    with_timeout(|| {
        run(|| async {
            let (mut client, server) = connected_pair().await;
            server.writable().await.unwrap();
            let chunk = vec![7u8; 64 * 1024];
            let mut written = 0usize;
            for _ in 0..MAX_ROUNDS {
                match server.try_write(&chunk) {
                    Ok(n) => written += n,
                    Err(error) if error.kind() == ErrorKind::WouldBlock => break,
                    Err(error) => panic!("try_write: {error}"),
                }
            }
            assert!(written > 0);
            assert!(would_block(server.try_write(&chunk)), "full");
            let mut writable = pin!(server.writable());
            assert!(
                futures::poll!(writable.as_mut()).is_pending(),
                "no room until the peer reads"
            );
            // The peer reads everything; room comes back.
            let mut sink = vec![0u8; 64 * 1024];
            let mut read = 0;
            while read < written {
                read += client.read(&mut sink).await.unwrap();
            }
            writable.await.unwrap();
            let n = server
                .try_write_vectored(&[IoSlice::new(b"ab"), IoSlice::new(b"cd")])
                .unwrap();
            assert_eq!(n, 4);
            let mut back = [0u8; 4];
            client.read_exact(&mut back).await.unwrap();
            assert_eq!(&back, b"abcd");
        })
    });
}

#[test]
fn tcp_ready_reports_every_direction_that_is_ready() {
    with_timeout(|| {
        run(|| async {
            let (mut client, server) = connected_pair().await;
            let both = Interest::READABLE | Interest::WRITABLE;
            let ready = server.ready(both).await.unwrap();
            assert!(ready.is_writable() && !ready.is_readable(), "{ready:?}");
            client.write_all(b"x").await.unwrap();
            server.readable().await.unwrap();
            let ready = server.ready(both).await.unwrap();
            assert!(ready.is_writable() && ready.is_readable(), "{ready:?}");
            let ready = server.ready(Interest::READABLE).await.unwrap();
            assert!(
                ready.is_readable() && !ready.is_writable(),
                "only what was asked: {ready:?}"
            );
            // The poll forms.
            let mut cx = std::task::Context::from_waker(futures::task::noop_waker_ref());
            assert!(server.poll_read_ready(&mut cx).is_ready());
            assert!(server.poll_write_ready(&mut cx).is_ready());
        })
    });
}

#[test]
fn udp_try_calls_would_block_and_the_readiness_waits_resolve() {
    with_timeout(|| {
        for (flavor, runtime) in runtimes() {
            runtime.block_on(async {
                let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
                let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
                let (a_addr, b_addr) = (a.local_addr().unwrap(), b.local_addr().unwrap());
                let mut buf = [0u8; 32];
                assert!(would_block(b.try_recv_from(&mut buf)), "{flavor}");
                assert!(would_block(b.try_peek_from(&mut buf)), "{flavor}");
                assert!(would_block(b.try_peek_sender()), "{flavor}");
                assert!(futures::poll!(pin!(b.readable())).is_pending(), "{flavor}");

                a.writable().await.unwrap();
                assert_eq!(a.try_send_to(b"one", b_addr).unwrap(), 3);
                b.readable().await.unwrap();
                assert_eq!(b.peek_sender().await.unwrap(), a_addr, "{flavor}");
                assert_eq!(b.try_peek_sender().unwrap(), a_addr, "{flavor}");
                assert_eq!(b.try_peek_from(&mut buf).unwrap(), (3, a_addr), "{flavor}");
                assert_eq!(
                    b.try_recv_from(&mut buf).unwrap(),
                    (3, a_addr),
                    "{flavor}: the peek left it"
                );
                assert_eq!(&buf[..3], b"one");
                assert!(would_block(b.try_recv_from(&mut buf)), "{flavor}");

                // Connected: try_send and try_recv, and the poll forms.
                a.connect(b_addr).await.unwrap();
                b.connect(a_addr).await.unwrap();
                assert_eq!(a.try_send(b"two").unwrap(), 3);
                std::future::poll_fn(|cx| b.poll_recv_ready(cx)).await.unwrap();
                assert_eq!(b.try_recv(&mut buf).unwrap(), 3, "{flavor}");
                std::future::poll_fn(|cx| b.poll_send_ready(cx)).await.unwrap();
                let ready = b.ready(Interest::READABLE | Interest::WRITABLE).await.unwrap();
                assert!(ready.is_writable(), "{flavor}: {ready:?}");
            });
        }
    });
}

#[test]
fn unix_streams_and_datagrams_have_them_too() {
    with_timeout(|| {
        run(|| async {
            let (left, right) = UnixStream::pair().unwrap();
            let mut buf = [0u8; 8];
            assert!(would_block(right.try_read(&mut buf)));
            left.writable().await.unwrap();
            assert_eq!(left.try_write(b"unix").unwrap(), 4);
            right.readable().await.unwrap();
            assert_eq!(right.try_read(&mut buf).unwrap(), 4);

            let (a, b) = UnixDatagram::pair().unwrap();
            assert!(would_block(b.try_recv(&mut buf)));
            assert!(futures::poll!(pin!(b.readable())).is_pending());
            a.writable().await.unwrap();
            assert_eq!(a.try_send(b"gram").unwrap(), 4);
            b.readable().await.unwrap();
            assert_eq!(b.try_recv_from(&mut buf).unwrap().0, 4);
            assert_eq!(&buf[..4], b"gram");

            // To a path.
            let dir = std::env::temp_dir().join(format!("mini-readiness-{}", std::process::id()));
            std::fs::create_dir_all(&dir).unwrap();
            let path = dir.join("bound.sock");
            let _ = std::fs::remove_file(&path);
            let bound = UnixDatagram::bind(&path).unwrap();
            let unbound = UnixDatagram::unbound().unwrap();
            // A new socket is writable once the reactor has seen it so (as in tokio).
            unbound.writable().await.unwrap();
            assert_eq!(unbound.try_send_to(b"to", &path).unwrap(), 2);
            bound.readable().await.unwrap();
            assert_eq!(bound.try_recv(&mut buf).unwrap(), 2);
            std::fs::remove_dir_all(&dir).unwrap();
            // The readiness stays until a try says `WouldBlock` (as in tokio), which clears it.
            assert!(would_block(b.try_recv(&mut buf)));
            assert!(
                b.readable().now_or_never().is_none(),
                "drained: the readiness was cleared"
            );
        })
    });
}

/// A stream type whose `try_read` borrows `&self`: it is usable from two tasks through an `Arc`.
#[test]
fn try_read_and_try_write_take_a_shared_reference() {
    fn assert_shared(stream: &TcpStream) {
        let _ = stream.try_read(&mut [0u8; 1]);
        let _ = stream.try_write(b"");
    }
    let _ = assert_shared;
}

#[test]
fn the_split_halves_have_their_direction_s_calls() {
    with_timeout(|| {
        run(|| async {
            let (client, server) = connected_pair().await;
            let (server_read, _server_write) = server.into_split();
            let (_client_read, client_write) = client.into_split();
            let mut buf = [0u8; 8];
            assert!(would_block(server_read.try_read(&mut buf)));
            client_write.writable().await.unwrap();
            assert_eq!(client_write.try_write(b"half").unwrap(), 4);
            server_read.readable().await.unwrap();
            assert_eq!(server_read.try_read(&mut buf).unwrap(), 4);
            let ready = client_write.ready(Interest::WRITABLE).await.unwrap();
            assert!(ready.is_writable());

            let (mut a, mut b) = UnixStream::pair().unwrap();
            let (a_read, _a_write) = a.split();
            let (_b_read, b_write) = b.split();
            b_write.writable().await.unwrap();
            assert_eq!(b_write.try_write(b"u").unwrap(), 1);
            a_read.readable().await.unwrap();
            assert_eq!(a_read.try_read(&mut buf).unwrap(), 1);
        })
    });
}

//! `UnixListener` and `UnixStream`: echo over a path and an abstract name, pairs, many clients
//! on a multi-threaded runtime, a large transfer that must wait for the reader (checked byte for
//! byte), the peer going away, and the errors of bad or taken addresses.

mod common;

use common::*;
use futures::io::{AsyncReadExt, AsyncWriteExt};
use mini::net::{UnixListener, UnixStream};
use std::io::ErrorKind;
use std::net::Shutdown;
use std::os::linux::net::SocketAddrExt;
use std::os::unix::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

/// A fresh directory under the system temp dir, for socket files (removed by the caller).
fn socket_dir() -> PathBuf {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "mini-unix-test-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Relaxed)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

async fn echo_unix(mut stream: UnixStream) -> std::io::Result<usize> {
    let mut buf = vec![0u8; 4096];
    let mut echoed = 0;
    loop {
        match stream.read(&mut buf).await? {
            0 => return Ok(echoed),
            n => {
                stream.write_all(&buf[..n]).await?;
                echoed += n;
            }
        }
    }
}

#[test]
fn a_client_echoes_through_a_listener_bound_to_a_path() {
    let dir = socket_dir();
    let path = dir.join("echo.sock");
    run({
        let path = path.clone();
        || async move {
            let listener = UnixListener::bind(&path).unwrap();
            assert_eq!(listener.local_addr().unwrap().as_pathname(), Some(path.as_path()));
            let server = mini::spawn(async move {
                let (stream, _peer) = listener.accept().await.unwrap();
                echo_unix(stream).await.unwrap()
            });
            let mut client = UnixStream::connect(&path).await.unwrap();
            assert_eq!(client.peer_addr().unwrap().as_pathname(), Some(path.as_path()));
            for i in 0..100u32 {
                client.write_all(&i.to_be_bytes()).await.unwrap();
                let mut back = [0u8; 4];
                client.read_exact(&mut back).await.unwrap();
                assert_eq!(back, i.to_be_bytes());
            }
            client.shutdown(Shutdown::Write).unwrap();
            let mut rest = [0u8; 1];
            assert_eq!(client.read(&mut rest).await.unwrap(), 0, "the server closed after EOF");
            assert_eq!(server.await.unwrap(), 400);
            let error = UnixListener::bind(&path).expect_err("the path is taken");
            assert_eq!(error.kind(), ErrorKind::AddrInUse);
        }
    });
    assert!(path.exists(), "mini does not unlink the socket file");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn abstract_names_connect_without_a_file() {
    run(|| async {
        let name = format!("mini-unix-abstract-{}", std::process::id());
        let addr = SocketAddr::from_abstract_name(name.as_bytes()).unwrap();
        let listener = UnixListener::bind_addr(&addr).unwrap();
        let server = mini::spawn(async move {
            let (stream, _) = listener.accept().await.unwrap();
            echo_unix(stream).await.unwrap()
        });
        let mut client = UnixStream::connect_addr(&addr).await.unwrap();
        client.write_all(b"abstract").await.unwrap();
        let mut back = [0u8; 8];
        client.read_exact(&mut back).await.unwrap();
        assert_eq!(&back, b"abstract");
        drop(client);
        assert_eq!(server.await.unwrap(), 8);
    })
}

#[test]
fn a_pair_works_through_the_futures_io_traits() {
    run(|| async {
        let (mut a, mut b) = UnixStream::pair().unwrap();
        AsyncWriteExt::write_all(&mut a, b"through futures-io").await.unwrap();
        AsyncWriteExt::close(&mut a).await.unwrap();
        let mut received = Vec::new();
        AsyncReadExt::read_to_end(&mut b, &mut received).await.unwrap();
        assert_eq!(received, b"through futures-io");
    })
}

#[test]
fn eight_mebibytes_wait_for_a_slow_reader_and_arrive_intact() {
    run(|| async {
        let (mut a, mut b) = UnixStream::pair().unwrap();
        let data = pattern(8 << 20);
        let expected = data.clone();
        let writer = mini::spawn(async move {
            a.write_all(&data).await.unwrap();
            a.shutdown(Shutdown::Write).unwrap();
        });
        // Let the writer fill the socket buffer and wait before reading anything.
        for _ in 0..10 {
            mini::task::yield_now().await;
        }
        assert!(
            !writer.is_finished(),
            "8 MiB cannot fit in a socket buffer: the writer must wait"
        );
        let mut received = Vec::with_capacity(expected.len());
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            match b.read(&mut buf).await.unwrap() {
                0 => break,
                n => received.extend_from_slice(&buf[..n]),
            }
        }
        writer.await.unwrap();
        assert!(received == expected, "the bytes arrived changed, lost or reordered");
    })
}

#[test]
fn many_clients_on_a_multi_threaded_runtime() {
    let dir = socket_dir();
    let path = dir.join("mt.sock");
    run_on_worker_flavors(2, {
        let path = path.clone();
        move || {
            let path = path.clone();
            async move {
                // Each flavor binds it anew.
                let _ = std::fs::remove_file(&path);
                let listener = UnixListener::bind(&path).unwrap();
                let server = mini::spawn(async move {
                    let mut handlers = Vec::new();
                    for _ in 0..50 {
                        let (stream, _) = listener.accept().await.unwrap();
                        handlers.push(mini::spawn(echo_unix(stream)));
                    }
                    let mut total = 0;
                    for handler in handlers {
                        total += handler.await.unwrap().unwrap();
                    }
                    total
                });
                let clients: Vec<_> = (0..50u8)
                    .map(|client| {
                        let path = path.clone();
                        mini::spawn(async move {
                            let mut stream = UnixStream::connect(&path).await.unwrap();
                            for i in 0..20u8 {
                                stream.write_all(&[client, i]).await.unwrap();
                                let mut back = [0u8; 2];
                                stream.read_exact(&mut back).await.unwrap();
                                assert_eq!(back, [client, i]);
                            }
                        })
                    })
                    .collect();
                for client in clients {
                    client.await.unwrap();
                }
                assert_eq!(server.await.unwrap(), 50 * 20 * 2);
            }
        }
    });
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn writing_to_a_closed_peer_is_broken_pipe_not_sigpipe() {
    run(|| async {
        let (mut a, b) = UnixStream::pair().unwrap();
        drop(b);
        let error = a.write_all(&[0u8; 1024]).await.expect_err("the peer is gone");
        assert!(
            matches!(error.kind(), ErrorKind::BrokenPipe | ErrorKind::ConnectionReset),
            "unexpected error: {error:?}"
        );
    })
}

#[test]
fn bad_and_missing_addresses_are_clear_errors() {
    let dir = socket_dir();
    run({
        let dir = dir.clone();
        || async move {
            let error = UnixStream::connect(dir.join("nobody.sock"))
                .await
                .expect_err("no such file");
            assert_eq!(error.kind(), ErrorKind::NotFound);
            let not_a_socket = dir.join("plain-file");
            std::fs::write(&not_a_socket, b"").unwrap();
            let error = UnixStream::connect(&not_a_socket).await.expect_err("not a socket");
            assert_eq!(error.kind(), ErrorKind::ConnectionRefused);
            let too_long = dir.join("x".repeat(200));
            let error = UnixStream::connect(&too_long).await.expect_err("too long");
            assert_eq!(error.kind(), ErrorKind::InvalidInput);
            let error = UnixListener::bind(dir.join("missing-dir").join("x.sock")).expect_err("no such directory");
            assert_eq!(error.kind(), ErrorKind::NotFound);
        }
    });
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn vectored_writes_and_reads_move_several_buffers_in_one_call() {
    run(|| async {
        let (mut a, mut b) = UnixStream::pair().unwrap();
        let header = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n";
        let body = b"hello";
        let parts = [std::io::IoSlice::new(header), std::io::IoSlice::new(body)];
        let written = a.write_vectored(&parts).await.unwrap();
        assert_eq!(written, header.len() + body.len(), "both parts in one call");
        let (mut first, mut second) = ([0u8; 17], [0u8; 64]);
        let mut bufs = [
            std::io::IoSliceMut::new(&mut first),
            std::io::IoSliceMut::new(&mut second),
        ];
        let read = b.read_vectored(&mut bufs).await.unwrap();
        assert_eq!(read, written);
        assert_eq!(&first[..], &header[..17]);
        assert_eq!(&second[..read - 17], &[&header[17..], &body[..]].concat()[..]);
    })
}

#[test]
fn split_halves_read_and_write_at_once_and_owned_halves_reunite() {
    run(|| async {
        let (mut a, mut b) = UnixStream::pair().unwrap();
        {
            let (mut read, mut write) = UnixStream::split(&mut a); // not futures' AsyncReadExt::split
            let (written, received) = futures::join!(
                async {
                    write.write_all(b"both ways").await.unwrap();
                },
                async {
                    let mut buf = [0u8; 9];
                    b.read_exact(&mut buf).await.unwrap();
                    b.write_all(&buf).await.unwrap();
                    let mut back = [0u8; 9];
                    read.read_exact(&mut back).await.unwrap();
                    back
                }
            );
            let () = written;
            assert_eq!(&received, b"both ways");
        }
        let (read, write) = a.into_split();
        let (other_read, other_write) = UnixStream::pair().unwrap().0.into_split();
        let mini::net::unix::ReuniteError(read, _) = read.reunite(other_write).expect_err("different streams");
        drop((other_read, ()));
        let mut a = read.reunite(write).expect("the same stream");
        a.write_all(b"!").await.unwrap();
        let mut one = [0u8; 1];
        b.read_exact(&mut one).await.unwrap();
        // Dropping an owned write half shuts down the writing side: the peer reads end-of-file.
        let (_read, write) = a.into_split();
        drop(write);
        assert_eq!(b.read(&mut one).await.unwrap(), 0);
    })
}

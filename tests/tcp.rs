//! TCP over real loopback sockets: echo, many clients, errors, halves, std conversions,
//! cancel-safety of reads, writes and accepts.

mod common;

use common::*;
use futures::future::{self, Either};
use futures::io::{AsyncReadExt, AsyncWriteExt};
use futures::StreamExt;
use mini::net::{lookup_host, TcpListener, TcpStream};
use mini::task::yield_now;
use std::collections::HashSet;
use std::future::Future;
use std::io::{ErrorKind, IoSlice, Read, Write};
use std::net::{Shutdown, SocketAddr};
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::task::{Context, Poll};

#[test]
fn echo_round_trip_over_loopback() {
    run(|| async {
        let (listener, addr) = bind_loopback().await;
        assert!(addr.ip().is_loopback());
        assert_ne!(addr.port(), 0, "binding port 0 reports the port the kernel chose");
        let server = mini::spawn(async move {
            let (stream, peer) = listener.accept().await.unwrap();
            (peer, echo(stream).await.unwrap())
        });

        let mut client = TcpStream::connect(addr).await.unwrap();
        assert_eq!(client.peer_addr().unwrap(), addr);
        client.write_all(b"hello, mini").await.unwrap();
        let mut reply = [0u8; 11];
        client.read_exact(&mut reply).await.unwrap();
        assert_eq!(&reply, b"hello, mini");

        client.shutdown(Shutdown::Write).unwrap();
        let (peer, echoed) = server.await.unwrap();
        assert_eq!(peer, client.local_addr().unwrap());
        assert_eq!(echoed, 11);
        assert_eq!(
            client.read(&mut reply).await.unwrap(),
            0,
            "the server closed: end-of-file"
        );
    })
}

#[test]
fn a_thousand_concurrent_clients_echo_through_one_runtime() {
    const CLIENTS: usize = 1000;
    const MESSAGES: usize = 3;
    // Each connection is two fds in this process (client and server side).
    ensure_fd_limit(2 * CLIENTS as u64 + 512);
    run(|| async {
        let (listener, addr) = bind_loopback().await;
        let server = mini::spawn(async move {
            let mut handlers = Vec::with_capacity(CLIENTS);
            for _ in 0..CLIENTS {
                let (stream, _) = listener.accept().await.unwrap();
                handlers.push(mini::spawn(echo(stream)));
            }
            handlers
        });
        let clients: Vec<_> = (0..CLIENTS)
            .map(|client| {
                mini::spawn(async move {
                    let mut stream = TcpStream::connect(addr).await?;
                    let mut sent = 0;
                    for message in 0..MESSAGES {
                        let message = format!("client {client} says {message}\n");
                        stream.write_all(message.as_bytes()).await?;
                        let mut back = vec![0; message.len()];
                        stream.read_exact(&mut back).await?;
                        assert_eq!(back, message.as_bytes(), "client {client} got someone else's echo");
                        sent += message.len();
                    }
                    std::io::Result::Ok(sent)
                })
            })
            .collect();
        let mut total_sent = 0;
        for (i, client) in clients.into_iter().enumerate() {
            total_sent += client.await.unwrap().unwrap_or_else(|e| panic!("client {i}: {e}"));
        }
        let mut total_echoed = 0;
        for handler in server.await.unwrap() {
            total_echoed += handler.await.unwrap().unwrap();
        }
        assert_eq!(total_echoed, total_sent);
    })
}

#[test]
fn connecting_to_a_closed_port_is_connection_refused() {
    run(|| async {
        let addr = closed_port().await;
        let error = TcpStream::connect(addr).await.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::ConnectionRefused, "{error}");
    })
}

#[test]
fn connect_tries_each_address_until_one_accepts() {
    run(|| async {
        let refused = closed_port().await;
        let (listener, good) = bind_loopback().await;
        let stream = TcpStream::connect(&[refused, good][..]).await.unwrap();
        assert_eq!(stream.peer_addr().unwrap(), good);
        let (_accepted, peer) = listener.accept().await.unwrap();
        assert_eq!(peer, stream.local_addr().unwrap());

        let error = TcpStream::connect(&[refused, refused][..]).await.unwrap_err();
        assert_eq!(
            error.kind(),
            ErrorKind::ConnectionRefused,
            "the last address's error: {error}"
        );
        let error = TcpStream::connect(&[][..] as &[SocketAddr]).await.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::InvalidInput, "no address at all: {error}");
    })
}

#[test]
fn connect_resolves_localhost_by_name() {
    run(|| async {
        let (listener, addr) = bind_loopback().await;
        let addrs: Vec<SocketAddr> = lookup_host(("localhost", addr.port())).await.unwrap().collect();
        assert!(!addrs.is_empty());
        assert!(
            addrs.iter().all(|a| a.ip().is_loopback() && a.port() == addr.port()),
            "{addrs:?}"
        );
        let stream = TcpStream::connect(("localhost", addr.port())).await.unwrap();
        let (_accepted, peer) = listener.accept().await.unwrap();
        assert_eq!(peer, stream.local_addr().unwrap());
    })
}

#[mini::test]
async fn lookup_host_returns_a_literal_address_as_is() {
    let addrs: Vec<SocketAddr> = lookup_host("127.0.0.1:80").await.unwrap().collect();
    assert_eq!(addrs, ["127.0.0.1:80".parse().unwrap()]);
    let addrs: Vec<SocketAddr> = lookup_host("[::1]:443").await.unwrap().collect();
    assert_eq!(addrs, ["[::1]:443".parse().unwrap()]);
}

#[test]
fn a_reset_from_the_peer_fails_a_pending_read_with_connection_reset() {
    run(|| async {
        let (listener, addr) = bind_loopback().await;
        // The kernel completes the handshake before `accept`, so a blocking std connect is instant.
        let peer = std::net::TcpStream::connect(addr).unwrap();
        let (mut stream, _) = listener.accept().await.unwrap();
        let mut buf = [0u8; 16];
        let mut read = pin!(stream.read(&mut buf));
        assert!(futures::poll!(read.as_mut()).is_pending(), "nothing was sent yet");

        set_linger_zero(&peer);
        drop(peer); // sends RST

        let error = read.await.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::ConnectionReset, "{error}");
    })
}

#[test]
fn a_reset_that_arrived_earlier_fails_the_next_read_with_connection_reset() {
    run(|| async {
        let (listener, addr) = bind_loopback().await;
        let peer = std::net::TcpStream::connect(addr).unwrap();
        set_linger_zero(&peer);
        drop(peer);
        let (mut stream, _) = listener.accept().await.unwrap();
        let mut buf = [0u8; 16];
        let error = stream.read(&mut buf).await.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::ConnectionReset, "{error}");
    })
}

#[mini::test]
async fn binding_an_address_in_use_fails_with_addr_in_use() {
    let (_first, addr) = bind_loopback().await;
    let error = TcpListener::bind(addr).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::AddrInUse, "{error}");

    let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let error = TcpListener::bind(std_listener.local_addr().unwrap()).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::AddrInUse, "{error}");
}

#[mini::test]
async fn binding_an_address_that_is_not_local_fails_with_addr_not_available() {
    // 192.0.2.0/24 is TEST-NET-1: never assigned to a host.
    let error = TcpListener::bind("192.0.2.1:0").await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::AddrNotAvailable, "{error}");
}

#[mini::test]
async fn bad_address_strings_are_invalid_input_for_bind_connect_and_lookup() {
    for bad in [
        "not-an-address",
        "127.0.0.1:notaport",
        "127.0.0.1:99999",
        "127.0.0.1",
        ":80",
        "",
    ] {
        let error = TcpListener::bind(bad).await.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::InvalidInput, "bind({bad:?}): {error}");
        let error = TcpStream::connect(bad).await.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::InvalidInput, "connect({bad:?}): {error}");
        let error = lookup_host(bad)
            .await
            .err()
            .unwrap_or_else(|| panic!("lookup_host({bad:?}) succeeded"));
        assert_eq!(error.kind(), ErrorKind::InvalidInput, "lookup_host({bad:?}): {error}");
    }
    let error = TcpStream::connect(("", 80)).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::InvalidInput, "an empty host: {error}");
}

#[test]
fn owned_halves_read_and_write_from_two_tasks() {
    run(|| async {
        let (listener, addr) = bind_loopback().await;
        let server = mini::spawn(async move { echo(listener.accept().await.unwrap().0).await.unwrap() });
        let (mut reader, mut writer) = TcpStream::connect(addr).await.unwrap().into_split();
        let messages: Vec<String> = (0..200).map(|i| format!("line {i:03}\n")).collect();
        let expected: Vec<u8> = messages.concat().into_bytes();

        let write_task = mini::spawn(async move {
            for message in messages {
                writer.write_all(message.as_bytes()).await.unwrap();
            }
            // Dropping the write half shuts down the writing side: the echo server sees EOF.
        });
        let read_task = mini::spawn(async move {
            let mut received = Vec::new();
            let mut buf = [0u8; 100];
            for _ in 0..MAX_ROUNDS {
                match reader.read(&mut buf).await.unwrap() {
                    0 => return received,
                    n => received.extend_from_slice(&buf[..n]),
                }
            }
            panic!("no end-of-file");
        });
        write_task.await.unwrap();
        assert_eq!(read_task.await.unwrap(), expected);
        assert_eq!(server.await.unwrap(), expected.len());
    })
}

#[test]
fn owned_halves_reunite_only_with_their_own_stream() {
    run(|| async {
        let (client, server) = connected_pair().await;
        let (client_read, client_write) = client.into_split();
        let (server_read, server_write) = server.into_split();
        let error = client_read.reunite(server_write).unwrap_err();
        let (client_read, server_write) = (error.0, error.1);

        let mut client = client_read.reunite(client_write).unwrap();
        let mut server = server_read.reunite(server_write).unwrap();
        // Reuniting did not shut anything down: both directions still work.
        client.write_all(b"ping").await.unwrap();
        let mut buf = [0u8; 4];
        server.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"ping");
        server.write_all(b"pong").await.unwrap();
        client.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"pong");
    })
}

#[test]
fn borrowed_halves_read_and_write_at_once_in_one_task() {
    run(|| async {
        let (listener, addr) = bind_loopback().await;
        mini::spawn(async move { echo(listener.accept().await.unwrap().0).await });
        let mut client = TcpStream::connect(addr).await.unwrap();
        // More than the socket buffers hold: written and read one after the other, this would
        // deadlock against the echo server.
        let data = pattern(8 << 20);
        // (Spelled out: with `futures::io::AsyncReadExt` in scope, `client.split()` would pick that
        // trait's by-value `split` over the inherent one.)
        let (mut reader, mut writer) = TcpStream::split(&mut client);
        let (written, received) = futures::join!(
            async {
                writer.write_all(&data).await.unwrap();
                data.len()
            },
            async {
                let mut received = vec![0u8; data.len()];
                reader.read_exact(&mut received).await.unwrap();
                received
            },
        );
        assert_eq!(written, data.len());
        assert!(received == data, "the echo came back different");
    })
}

#[test]
fn peek_then_read_returns_the_same_bytes() {
    run(|| async {
        let (mut client, mut server) = connected_pair().await;
        client.write_all(b"peekaboo").await.unwrap();
        let mut peeked = [0u8; 8];
        let n = server.peek(&mut peeked).await.unwrap();
        assert!(n > 0);
        let mut peeked_again = [0u8; 8];
        let m = server.peek(&mut peeked_again).await.unwrap();
        assert!(m >= n && peeked_again[..n] == peeked[..n], "peeking consumed data");
        let mut read = [0u8; 8];
        server.read_exact(&mut read).await.unwrap();
        assert_eq!(&read, b"peekaboo");
        assert_eq!(peeked[..n], read[..n]);
    })
}

#[test]
fn shutdown_write_makes_the_peer_read_eof_and_leaves_the_other_direction_open() {
    run(|| async {
        let (mut client, mut server) = connected_pair().await;
        client.write_all(b"last words").await.unwrap();
        client.shutdown(Shutdown::Write).unwrap();
        let mut received = Vec::new();
        let mut buf = [0u8; 4];
        for _ in 0..MAX_ROUNDS {
            match server.read(&mut buf).await.unwrap() {
                0 => break,
                n => received.extend_from_slice(&buf[..n]),
            }
        }
        assert_eq!(received, b"last words");
        assert_eq!(server.read(&mut buf).await.unwrap(), 0, "end-of-file stays end-of-file");

        server.write_all(b"reply").await.unwrap();
        let mut reply = [0u8; 5];
        client.read_exact(&mut reply).await.unwrap();
        assert_eq!(&reply, b"reply");
    })
}

#[test]
fn incoming_yields_each_connection_as_a_stream() {
    run(|| async {
        let (listener, addr) = bind_loopback().await;
        let clients: Vec<_> = (0..3).map(|_| mini::spawn(TcpStream::connect(addr))).collect();
        let accepted: Vec<TcpStream> = listener
            .incoming()
            .take(3)
            .map(|stream| stream.unwrap())
            .collect()
            .await;
        let mut client_addrs = HashSet::new();
        let mut streams = Vec::new();
        for client in clients {
            let stream = client.await.unwrap().unwrap();
            client_addrs.insert(stream.local_addr().unwrap());
            streams.push(stream);
        }
        let peers: HashSet<SocketAddr> = accepted.iter().map(|s| s.peer_addr().unwrap()).collect();
        assert_eq!(peers, client_addrs);
    })
}

#[test]
fn nodelay_can_be_set_and_read_back() {
    run(|| async {
        let (client, server) = connected_pair().await;
        for stream in [&client, &server] {
            stream.set_nodelay(true).unwrap();
            assert!(stream.nodelay().unwrap());
            stream.set_nodelay(false).unwrap();
            assert!(!stream.nodelay().unwrap());
        }
    })
}

#[test]
fn std_sockets_convert_to_mini_and_back() {
    run(|| async {
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = std_listener.local_addr().unwrap();
        let listener = TcpListener::from_std(std_listener).unwrap();
        assert!(is_nonblocking(&listener));
        assert_eq!(listener.local_addr().unwrap(), addr);

        let (client, accepted) = futures::join!(TcpStream::connect(addr), listener.accept());
        let mut client = client.unwrap();
        let (server, _) = accepted.unwrap();

        // mini -> std: blocking again, and the bytes go through.
        let mut std_server = server.into_std().unwrap();
        assert!(!is_nonblocking(&std_server));
        std_server.write_all(b"from std").unwrap();
        let mut buf = [0u8; 8];
        client.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"from std");

        // ... and back to mini (registering again must work: into_std deregistered it).
        let mut server = TcpStream::from_std(std_server).unwrap();
        assert!(is_nonblocking(&server));
        client.write_all(b"to mini!").await.unwrap();
        server.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"to mini!");

        let mut std_client = client.into_std().unwrap();
        assert!(!is_nonblocking(&std_client));
        server.write_all(b"blocking").await.unwrap();
        std_client.read_exact(&mut buf).unwrap();
        assert_eq!(&buf, b"blocking");

        let std_listener = listener.into_std().unwrap();
        assert!(!is_nonblocking(&std_listener));
        let connected = std::net::TcpStream::connect(addr).unwrap();
        let (_, peer) = std_listener.accept().unwrap();
        assert_eq!(peer, connected.local_addr().unwrap());
    })
}

#[test]
fn from_std_outside_a_runtime_panics() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let stream = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    assert!(std::panic::catch_unwind(|| drop(TcpListener::from_std(listener))).is_err());
    assert!(std::panic::catch_unwind(|| drop(TcpStream::from_std(stream))).is_err());
}

#[test]
fn shutdown_read_wakes_a_pending_read_with_eof() {
    run(|| async {
        let (_client, server) = connected_pair().await;
        let mut reader = &server;
        let mut buf = [0u8; 8];
        let mut read = pin!(AsyncReadExt::read(&mut reader, &mut buf));
        assert!(futures::poll!(read.as_mut()).is_pending());
        server.shutdown(Shutdown::Read).unwrap();
        assert_eq!(read.await.unwrap(), 0);
    })
}

#[test]
fn the_peer_closing_wakes_a_pending_read_with_eof() {
    run(|| async {
        let (client, mut server) = connected_pair().await;
        let mut buf = [0u8; 8];
        let mut read = pin!(server.read(&mut buf));
        assert!(futures::poll!(read.as_mut()).is_pending());
        drop(client);
        assert_eq!(read.await.unwrap(), 0);
    })
}

#[test]
fn futures_io_copy_echoes_through_async_read_and_write() {
    run(|| async {
        let (listener, addr) = bind_loopback().await;
        let server = mini::spawn(async move {
            let (stream, _) = listener.accept().await.unwrap();
            let (reader, mut writer) = (&stream, &stream);
            futures::io::copy(reader, &mut writer).await.unwrap()
        });
        let client = TcpStream::connect(addr).await.unwrap();
        let data = pattern(1 << 20);
        let (mut reader, mut writer) = (&client, &client);
        let ((), received) = futures::join!(
            async {
                writer.write_all(&data).await.unwrap();
                writer.close().await.unwrap(); // shuts down the writing side: copy sees EOF
            },
            async {
                let mut received = Vec::new();
                reader.read_to_end(&mut received).await.unwrap();
                received
            },
        );
        assert_eq!(server.await.unwrap(), data.len() as u64);
        assert!(received == data, "the copy came back different");
    })
}

#[test]
fn vectored_reads_and_writes_carry_every_slice() {
    run(|| async {
        let (client, server) = connected_pair().await;
        let (mut writer, mut reader) = (&client, &server);
        let slices = [IoSlice::new(b"one,"), IoSlice::new(b"two,"), IoSlice::new(b"three")];
        let written = writer.write_vectored(&slices).await.unwrap();
        assert!(written > 0, "a fresh socket has room for a few bytes");
        let mut received = vec![0u8; written];
        reader.read_exact(&mut received).await.unwrap();
        assert_eq!(received, &b"one,two,three"[..written]);
    })
}

#[test]
fn dropping_a_pending_read_loses_no_bytes() {
    run(|| async {
        let (mut client, mut server) = connected_pair().await;
        let mut buf = [0u8; 64];
        {
            let mut read = pin!(server.read(&mut buf));
            assert!(futures::poll!(read.as_mut()).is_pending(), "nothing was sent yet");
        } // the read future is dropped half way

        let data = pattern(100_000);
        client.write_all(&data).await.unwrap();
        let mut received = vec![0u8; data.len()];
        server.read_exact(&mut received).await.unwrap();
        assert!(received == data, "bytes were lost or reordered");
    })
}

/// Pending on its first poll, which wakes the task at once, and ready on the next: what a read
/// or write is raced against, so that it is dropped half way whenever it is not ready at once
/// (`yield_now` waits for the reactor's next turn, which readies the socket as well).
fn ready_on_next_poll() -> impl Future<Output = ()> {
    let mut polled = false;
    future::poll_fn(move |cx| {
        if std::mem::replace(&mut polled, true) {
            return Poll::Ready(());
        }
        cx.waker().wake_by_ref();
        Poll::Pending
    })
}

#[test]
fn reads_raced_against_yield_and_dropped_lose_no_bytes() {
    run(|| async {
        let (mut client, mut server) = connected_pair().await;
        let data = pattern(1 << 20);
        // Spawned first, so its first read finds nothing and is dropped.
        let reader = mini::spawn(async move {
            let mut received = Vec::new();
            let mut dropped_reads = 0;
            let mut buf = [0u8; 3000];
            for _ in 0..MAX_ROUNDS {
                let outcome = {
                    let read = pin!(server.read(&mut buf));
                    match future::select(read, pin!(ready_on_next_poll())).await {
                        Either::Left((result, _)) => Some(result.unwrap()),
                        Either::Right(((), _pending_read)) => None, // dropped here, half way
                    }
                };
                match outcome {
                    Some(0) => return (received, dropped_reads),
                    Some(n) => received.extend_from_slice(&buf[..n]),
                    None => dropped_reads += 1,
                }
            }
            panic!(
                "no end-of-file after {MAX_ROUNDS} reads ({} bytes received)",
                received.len()
            );
        });
        let to_send = data.clone();
        let writer = mini::spawn(async move {
            for chunk in to_send.chunks(7919) {
                client.write_all(chunk).await.unwrap();
                yield_now().await;
            }
            // client dropped: end-of-file
        });

        writer.await.unwrap();
        let (received, dropped_reads) = reader.await.unwrap();
        assert!(
            dropped_reads > 0,
            "the first read had nothing to read, so it must have been dropped"
        );
        assert_eq!(received.len(), data.len());
        assert!(received == data, "bytes were lost or reordered across dropped reads");
    })
}

#[test]
fn writes_raced_against_yield_and_dropped_lose_no_bytes() {
    run(|| async {
        let (mut client, mut server) = connected_pair().await;
        let reader = mini::spawn(async move {
            let mut received = Vec::new();
            let mut buf = [0u8; 4096];
            for _ in 0..MAX_ROUNDS {
                match server.read(&mut buf).await.unwrap() {
                    0 => return received,
                    n => received.extend_from_slice(&buf[..n]),
                }
                yield_now().await;
            }
            panic!("no end-of-file after {MAX_ROUNDS} reads");
        });
        let data = pattern(8 << 20);
        let to_send = data.clone();
        let writer = mini::spawn(async move {
            let mut sent = 0;
            for _ in 0..MAX_ROUNDS {
                if sent == to_send.len() {
                    client.shutdown(Shutdown::Write).unwrap();
                    return;
                }
                let write = pin!(client.write(&to_send[sent..]));
                if let Either::Left((result, _)) = future::select(write, pin!(ready_on_next_poll())).await {
                    sent += result.unwrap();
                }
            }
            panic!("only {sent} bytes written after {MAX_ROUNDS} tries");
        });
        writer.await.unwrap();
        let received = reader.await.unwrap();
        assert_eq!(received.len(), data.len());
        assert!(received == data, "bytes were lost or repeated across dropped writes");
    })
}

#[test]
fn dropping_a_pending_accept_loses_no_connection() {
    run(|| async {
        let (listener, addr) = bind_loopback().await;
        {
            let mut accept = pin!(listener.accept());
            assert!(futures::poll!(accept.as_mut()).is_pending(), "nobody connected yet");
        }
        let client = TcpStream::connect(addr).await.unwrap();
        let (_server, peer) = listener.accept().await.unwrap();
        assert_eq!(peer, client.local_addr().unwrap());
    })
}

/// Counts the polls of the future it wraps.
struct CountPolls<F> {
    polls: Arc<AtomicUsize>,
    inner: Pin<Box<F>>,
}

impl<F: Future> Future for CountPolls<F> {
    type Output = F::Output;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        self.polls.fetch_add(1, SeqCst);
        self.inner.as_mut().poll(cx)
    }
}

#[test]
fn two_tasks_waiting_to_read_one_socket_both_get_data_without_spinning() {
    run(|| async {
        let (mut client, server) = connected_pair().await;
        let server = Arc::new(server);
        let polls = Arc::new(AtomicUsize::new(0));
        let readers: Vec<_> = (0..2)
            .map(|_| {
                let server = server.clone();
                let inner = Box::pin(async move {
                    let mut stream: &TcpStream = &server;
                    let mut byte = [0u8; 1];
                    AsyncReadExt::read(&mut stream, &mut byte).await.unwrap()
                });
                mini::spawn(CountPolls {
                    polls: polls.clone(),
                    inner,
                })
            })
            .collect();

        // Give the runtime plenty of turns while both readers wait and nothing arrives: waiting
        // tasks are polled when woken, not over and over.
        for _ in 0..200 {
            yield_now().await;
        }
        let idle_polls = polls.load(SeqCst);
        assert!(
            idle_polls <= 10,
            "two idle readers of one socket were polled {idle_polls} times while no data came"
        );

        client.write_all(b"a").await.unwrap();
        client.write_all(b"b").await.unwrap();
        client.shutdown(Shutdown::Write).unwrap();
        let mut total = 0;
        for reader in readers {
            total += reader.await.unwrap();
        }
        assert!(total >= 1);
    })
}

#[test]
fn vectored_io_sends_a_header_and_body_in_one_call_over_tcp() {
    run(|| async {
        let (mut client, mut server) = connected_pair().await;
        let parts = [std::io::IoSlice::new(b"head:"), std::io::IoSlice::new(b"body")];
        assert_eq!(client.write_vectored(&parts).await.unwrap(), 9);
        let (mut a, mut b) = ([0u8; 5], [0u8; 4]);
        let mut filled: usize = 0;
        while filled < 9 {
            let (x, y) = (filled.min(5), filled.saturating_sub(5));
            let mut bufs = [
                std::io::IoSliceMut::new(&mut a[x..]),
                std::io::IoSliceMut::new(&mut b[y..]),
            ];
            filled += server.read_vectored(&mut bufs).await.unwrap();
        }
        assert_eq!((&a, &b), (b"head:", b"body"));
    })
}

//! Peers that misbehave: a reset in the middle of a big write, a half-close before the answer,
//! a port that never answers a connect, and a client that sends one byte per second. Each ends
//! in a clear result (an error, EOF, a timeout, or the whole message), never a hang or a dead
//! process. (A reset in the middle of a read is in `tests/tcp.rs`; writing to a closed peer in
//! `tests/write_after_close.rs`.)

mod common;

use common::*;
use futures::io::AsyncReadExt;
use mini::net::{TcpSocket, TcpStream};
use std::io::{ErrorKind, Write};
use std::net::Shutdown;
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[test]
fn a_reset_in_the_middle_of_a_big_write_fails_it_with_reset_or_broken_pipe() {
    run_on_worker_flavors(2, || async {
        let (mut client, mut server_side) = connected_pair().await;
        // 16 MiB: several times what the socket buffers hold, so the write is still waiting.
        let writer = mini::spawn(async move { server_side.write_all(&vec![0x5a; 16 << 20]).await });
        // The writer is under way: the client takes a MiB, then resets.
        let mut first = vec![0u8; 1 << 20];
        client.read_exact(&mut first).await.unwrap();
        assert!(first.iter().all(|&byte| byte == 0x5a));
        set_linger_zero(&client);
        drop(client);
        let error = writer
            .await
            .unwrap()
            .expect_err("a write to a reset connection succeeded");
        assert!(
            matches!(error.kind(), ErrorKind::ConnectionReset | ErrorKind::BrokenPipe),
            "expected ECONNRESET or EPIPE, got {error:?}"
        );
    });
}

#[test]
fn a_client_that_half_closes_gets_its_answer_after_the_server_reads_to_eof() {
    run(|| async {
        let (listener, addr) = bind_loopback().await;
        let server = mini::spawn(async move {
            let (mut stream, _) = listener.accept().await?;
            let mut request = Vec::new();
            stream.read_to_end(&mut request).await?;
            stream
                .write_all(format!("got {} bytes", request.len()).as_bytes())
                .await?;
            std::io::Result::Ok(request)
        });
        let mut client = TcpStream::connect(addr).await.unwrap();
        client.write_all(&pattern(100_000)).await.unwrap();
        client.shutdown(Shutdown::Write).unwrap();
        let mut answer = String::new();
        futures::io::AsyncReadExt::read_to_string(&mut client, &mut answer)
            .await
            .unwrap();
        assert_eq!(answer, "got 100000 bytes");
        assert_eq!(server.await.unwrap().unwrap(), pattern(100_000));
    });
}

/// How many of this machine's IPv4 TCP sockets are in `SYN_SENT` to `port` (from
/// `/proc/net/tcp`, so that other tests' sockets, on other ports, do not count).
fn connecting_to(port: u16) -> usize {
    std::fs::read_to_string("/proc/net/tcp")
        .expect("read /proc/net/tcp")
        .lines()
        .skip(1)
        .filter(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let remote_port = fields[2]
                .rsplit(':')
                .next()
                .and_then(|hex| u16::from_str_radix(hex, 16).ok());
            // State 02 is SYN_SENT.
            remote_port == Some(port) && fields[3] == "02"
        })
        .count()
}

#[test]
fn a_connect_to_a_port_that_never_answers_ends_at_its_timeout_and_closes_its_socket() {
    run(|| async {
        // A listener that never accepts, with a backlog of 0: once one connection waits in its
        // queue, the kernel drops every further SYN, so those connects get no answer at all.
        let socket = TcpSocket::new_v4().unwrap();
        socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let listener = socket.listen(0).unwrap();
        let addr = listener.local_addr().unwrap();
        let mut connected = Vec::new();
        let mut timed_out = 0;
        for _ in 0..4 {
            let started = Instant::now();
            match mini::time::timeout(Duration::from_millis(300), TcpStream::connect(addr)).await {
                Ok(stream) => connected.push(stream.expect("a connect that got an answer succeeds")),
                Err(_elapsed) => {
                    assert!(started.elapsed() >= Duration::from_millis(300));
                    timed_out += 1;
                }
            }
        }
        assert!(!connected.is_empty(), "the first connect fills the queue and succeeds");
        assert!(timed_out >= 2, "connects beyond the full queue must time out, not fail");
        assert_eq!(
            connecting_to(addr.port()),
            0,
            "a timed-out connect left its socket open, still sending SYNs"
        );
        // The probe sees a connect that is still waiting, and its end when it is dropped.
        let mut waiting = Box::pin(TcpStream::connect(addr));
        assert!(futures::poll!(waiting.as_mut()).is_pending());
        assert_eq!(connecting_to(addr.port()), 1, "a waiting connect is in SYN_SENT");
        drop(waiting);
        assert_eq!(connecting_to(addr.port()), 0, "a dropped connect closed its socket");
    });
}

#[test]
fn a_client_sending_one_byte_per_second_gets_its_answer_while_others_are_served() {
    const MESSAGE: &[u8] = b"slow\n";
    run_on_worker_flavors(2, || async {
        let (listener, addr) = bind_loopback().await;
        let server = mini::spawn(async move {
            let mut served = Vec::new();
            loop {
                let (stream, _) = listener.accept().await.unwrap();
                served.push(mini::spawn(echo(stream)));
                if served.len() == 2 {
                    return served;
                }
            }
        });
        // The slow client, on a plain thread: one byte a second, then it reads the echo.
        let slow_sent_all = Arc::new(AtomicBool::new(false));
        let sent_all = slow_sent_all.clone();
        let slow = std::thread::spawn(move || {
            let mut stream = std::net::TcpStream::connect(addr).unwrap();
            for byte in MESSAGE {
                stream.write_all(&[*byte]).unwrap();
                std::thread::sleep(Duration::from_secs(1));
            }
            sent_all.store(true, SeqCst);
            let mut echo = vec![0u8; MESSAGE.len()];
            std::io::Read::read_exact(&mut stream, &mut echo).unwrap();
            echo
        });
        // Meanwhile a normal client makes 100 round trips.
        let mut fast = TcpStream::connect(addr).await.unwrap();
        for round in 0..100u32 {
            fast.write_all(&round.to_le_bytes()).await.unwrap();
            let mut echo = [0u8; 4];
            fast.read_exact(&mut echo).await.unwrap();
            assert_eq!(u32::from_le_bytes(echo), round);
        }
        assert!(
            !slow_sent_all.load(SeqCst),
            "the fast client was served only after the slow one had sent everything"
        );
        let slow_echo = mini::task::spawn_blocking(move || slow.join().unwrap()).await.unwrap();
        assert_eq!(slow_echo, MESSAGE, "the slow client's bytes all came back, in order");
        drop(fast);
        for handler in server.await.unwrap() {
            handler.await.unwrap().unwrap();
        }
    });
}

//! C10K: 15,000 concurrent TCP connections to the `echo` example, run as a separate process,
//! each echoing 10 messages: every connection open at once, every echo exact, zero errors.
//! (`cargo run --release -p mini-bench -- soak` measures the same in release builds beside
//! tokio and smol: time and memory per connection.)

mod common;

use common::*;
use mini::net::TcpStream;
use std::time::{Duration, Instant};

const CONNECTIONS: usize = 15_000;
const MESSAGES: usize = 10;
/// Connects in flight at once: well under the listen backlog (1024), so no SYN is dropped and
/// retried a second later.
const CONNECT_BATCH: usize = 500;

fn message(connection: usize, round: usize) -> Vec<u8> {
    format!("connection {connection:05} message {round}\n").into_bytes()
}

#[test]
fn fifteen_thousand_concurrent_connections_each_echo_ten_messages() {
    // This process holds the client ends; the child (which inherits the limit) the server ends.
    ensure_fd_limit(CONNECTIONS as u64 + 500);
    let server = ExampleServer::start("echo", &["127.0.0.1:0"], |_| {});
    let (sockets_before, rss_before) = (server.sockets(), server.rss_kib());
    let report = with_timeout(move || {
        let runtime = mini::runtime::Builder::new_current_thread().build().unwrap();
        runtime.block_on(async move {
            let started = Instant::now();
            let mut streams = Vec::with_capacity(CONNECTIONS);
            while streams.len() < CONNECTIONS {
                let batch: Vec<_> = (0..CONNECT_BATCH.min(CONNECTIONS - streams.len()))
                    .map(|_| mini::spawn(TcpStream::connect(server.addr)))
                    .collect();
                for connect in batch {
                    streams.push(connect.await.unwrap().expect("connect"));
                }
            }
            let connected = started.elapsed();
            // Nothing else runs on this runtime meanwhile, so this thread may block.
            let deadline = Instant::now() + Duration::from_secs(20);
            while server.sockets() < sockets_before + CONNECTIONS {
                let held = server.sockets() - sockets_before;
                assert!(
                    Instant::now() < deadline,
                    "the server holds {held} of {CONNECTIONS} connections"
                );
                std::thread::sleep(Duration::from_millis(10));
            }

            let started = Instant::now();
            let clients: Vec<_> = streams
                .into_iter()
                .enumerate()
                .map(|(connection, mut stream)| {
                    mini::spawn(async move {
                        let mut echo = Vec::new();
                        for round in 0..MESSAGES {
                            let message = message(connection, round);
                            stream.write_all(&message).await?;
                            echo.resize(message.len(), 0);
                            stream.read_exact(&mut echo).await?;
                            assert_eq!(echo, message, "connection {connection} got another echo");
                        }
                        std::io::Result::Ok(stream)
                    })
                })
                .collect();
            let mut streams = Vec::with_capacity(CONNECTIONS);
            for (connection, client) in clients.into_iter().enumerate() {
                let stream = client.await.unwrap();
                streams.push(stream.unwrap_or_else(|e| panic!("connection {connection}: {e}")));
            }
            let served = started.elapsed();
            let rss_with = server.rss_kib();
            assert_eq!(
                server.sockets(),
                sockets_before + CONNECTIONS,
                "every connection stays open on the server until its client closes it"
            );
            format!(
                "{CONNECTIONS} connections: connected in {connected:?}, {} echoes in {served:?}; server RSS \
                 {rss_before} KiB before, {rss_with} KiB with them ({:.0} bytes per connection)",
                streams.len() * MESSAGES,
                (rss_with - rss_before) as f64 * 1024.0 / CONNECTIONS as f64
            )
        })
    });
    println!("{report}");
}

//! The client side of the soaks, on tokio's current-thread runtime (so that mini is only on the
//! server side), 127.0.0.1 only, every loop bounded in count and time.
//!
//! - `soak_load c10k ADDR CONNECTIONS MESSAGES`: opens CONNECTIONS connections (500 connects in
//!   flight at most, under the listen backlog), then every connection echoes MESSAGES messages at
//!   once; prints `connected_s`, `served_s`, `errors`, then `ready`, holds every connection open
//!   until a line arrives on stdin (so that the harness can read the server's memory), and closes
//!   them.
//! - `soak_load churn ADDR CLIENTS CYCLES SECONDS`: CLIENTS tasks each loop connect / send 1 KiB /
//!   read the 1 KiB echo / close until CYCLES cycles are done in all or SECONDS pass; prints
//!   `cycles`, `errors`, `seconds`.

use mini_bench::raise_fd_limit;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const CONNECT_BATCH: usize = 500;
const CHURN_MESSAGE: usize = 1024;

/// One round trip of `message`, checked byte for byte.
async fn echo(stream: &mut TcpStream, message: &[u8], echo: &mut Vec<u8>) -> std::io::Result<()> {
    stream.write_all(message).await?;
    echo.resize(message.len(), 0);
    stream.read_exact(echo).await?;
    if echo != message {
        return Err(std::io::Error::other("the echo differs from the message"));
    }
    Ok(())
}

async fn c10k(addr: String, connections: usize, messages: usize) {
    let started = Instant::now();
    let mut streams = Vec::with_capacity(connections);
    let mut errors = 0;
    while streams.len() + errors < connections {
        let batch: Vec<_> = (0..CONNECT_BATCH.min(connections - streams.len() - errors))
            .map(|_| tokio::spawn(TcpStream::connect(addr.clone())))
            .collect();
        for connect in batch {
            match connect.await.expect("a connect task panicked") {
                Ok(stream) => streams.push(stream),
                Err(_) => errors += 1,
            }
        }
    }
    let connected = started.elapsed();
    let started = Instant::now();
    let clients: Vec<_> = streams
        .into_iter()
        .enumerate()
        .map(|(connection, mut stream)| {
            tokio::spawn(async move {
                let mut buf = Vec::new();
                for round in 0..messages {
                    let message = format!("connection {connection} message {round}\n");
                    echo(&mut stream, message.as_bytes(), &mut buf).await?;
                }
                std::io::Result::Ok(stream)
            })
        })
        .collect();
    let mut streams = Vec::with_capacity(connections);
    for client in clients {
        match tokio::time::timeout(Duration::from_secs(60), client).await {
            Ok(Ok(Ok(stream))) => streams.push(stream),
            _ => errors += 1,
        }
    }
    println!("connected_s {:.3}", connected.as_secs_f64());
    println!("served_s {:.3}", started.elapsed().as_secs_f64());
    println!("errors {errors}");
    println!("ready");
    let mut line = String::new();
    let _ = std::io::stdin().read_line(&mut line);
    drop(streams);
}

async fn churn(addr: String, clients: usize, cycles: usize, seconds: f64) {
    let started = Instant::now();
    let deadline = started + Duration::from_secs_f64(seconds);
    let claimed = Arc::new(AtomicUsize::new(0));
    let errors = Arc::new(AtomicUsize::new(0));
    let workers: Vec<_> = (0..clients)
        .map(|client| {
            let (addr, claimed, errors) = (addr.clone(), claimed.clone(), errors.clone());
            tokio::spawn(async move {
                let message: Vec<u8> = (0..CHURN_MESSAGE).map(|i| (i * 7 + client) as u8).collect();
                let mut buf = Vec::new();
                let mut done = 0;
                while Instant::now() < deadline && claimed.fetch_add(1, Relaxed) < cycles {
                    let cycle = async {
                        let mut stream = TcpStream::connect(&addr).await?;
                        echo(&mut stream, &message, &mut buf).await
                    };
                    match tokio::time::timeout(Duration::from_secs(10), cycle).await {
                        Ok(Ok(())) => done += 1,
                        Ok(Err(error)) => {
                            if errors.fetch_add(1, Relaxed) < 5 {
                                eprintln!("churn: {error}");
                            }
                        }
                        Err(_) => {
                            errors.fetch_add(1, Relaxed);
                        }
                    }
                }
                done
            })
        })
        .collect();
    let mut total = 0;
    for worker in workers {
        total += worker.await.expect("a churn task panicked");
    }
    println!("cycles {total}");
    println!("errors {}", errors.load(Relaxed));
    println!("seconds {:.3}", started.elapsed().as_secs_f64());
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: soak_load c10k ADDR CONNECTIONS MESSAGES | soak_load churn ADDR CLIENTS CYCLES SECONDS";
    let number = |i: usize| -> usize { args.get(i).and_then(|v| v.parse().ok()).expect(usage) };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    match args.first().map(String::as_str) {
        Some("c10k") => {
            raise_fd_limit(number(2) as u64 + 100);
            runtime.block_on(c10k(args[1].clone(), number(2), number(3)));
        }
        Some("churn") => {
            let seconds = args.get(4).and_then(|v| v.parse().ok()).expect(usage);
            runtime.block_on(churn(args[1].clone(), number(2), number(3), seconds));
        }
        _ => panic!("{usage}"),
    }
}

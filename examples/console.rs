//! An echo server to watch with tokio-console (the `tracing` feature), and `tracing`'s own
//! `Instrument` for a span per request that follows the request across its `.await`s.
//!
//! ```text
//! cargo run --features tracing --example console     # console on 127.0.0.1:6669
//! tokio-console                                       # in another terminal
//! ```
//!
//! It serves echo on 127.0.0.1 (a port of its own, printed first) and, so that there is
//! something to watch, runs a client that connects every 50 ms for ten minutes, and a ticker.

use mini::net::{TcpListener, TcpStream};
use std::time::Duration;
use tracing::Instrument;
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::prelude::*;

#[mini::main]
async fn main() -> std::io::Result<()> {
    // The console's layer takes mini's task spans and waker events (TRACE); the fmt layer prints
    // this program's own INFO events, inside their request spans.
    tracing_subscriber::registry()
        .with(console_subscriber::spawn())
        .with(tracing_subscriber::fmt::layer().with_filter(LevelFilter::INFO))
        .init();

    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    println!("console example: echo on {addr}");

    mini::task::Builder::new().name("ticker").spawn(async {
        let mut ticks = mini::time::interval(Duration::from_millis(100));
        loop {
            ticks.tick().await;
        }
    })?;
    mini::task::Builder::new().name("client").spawn(client(addr))?;

    loop {
        let (stream, peer) = listener.accept().await?;
        // A span per request: entered each time the task is polled, so every event inside
        // `serve` (across its awaits) is recorded within it.
        let request = tracing::info_span!("request", %peer);
        mini::task::Builder::new()
            .name(&format!("conn {peer}"))
            .spawn(serve(stream).instrument(request))?;
    }
}

async fn serve(mut stream: TcpStream) {
    let mut buf = [0u8; 64];
    loop {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => {
                // Slow on purpose, so that the console shows the task idle between polls.
                mini::time::sleep(Duration::from_millis(20)).await;
                if stream.write_all(&buf[..n]).await.is_err() {
                    return;
                }
                tracing::info!(bytes = n, "echoed");
            }
        }
    }
}

/// Connects every 50 ms for ten minutes, each time sending a ping and reading it back.
async fn client(addr: std::net::SocketAddr) {
    for _ in 0..12_000 {
        mini::time::sleep(Duration::from_millis(50)).await;
        let Ok(mut stream) = TcpStream::connect(addr).await else {
            continue;
        };
        let mut back = [0u8; 4];
        if stream.write_all(b"ping").await.is_ok() {
            let _ = stream.read_exact(&mut back).await;
        }
    }
}

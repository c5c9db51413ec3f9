//! A TCP echo server that shuts down gracefully: on Ctrl-C (SIGINT) or SIGTERM it stops
//! accepting, lets the open connections finish for up to a deadline, then exits 0.
//!
//! ```text
//! cargo run --example graceful_shutdown                    # 127.0.0.1:8083, 5 s deadline
//! cargo run --example graceful_shutdown 127.0.0.1:0 2      # any port, 2 s deadline
//! ```

use futures::FutureExt;
use mini::net::TcpListener;
use mini::signal::{signal, SignalKind};
use std::time::Duration;

#[mini::main]
async fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:8083".to_string());
    let deadline = Duration::from_secs(args.next().map_or(5, |s| s.parse().expect("a deadline in seconds")));
    // Listen for both before serving, so neither signal can kill the process from here on.
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut terminate = signal(SignalKind::terminate())?;
    let listener = TcpListener::bind(addr.as_str()).await?;
    println!("graceful_shutdown: listening on {}", listener.local_addr()?);

    let mut connections = Vec::new();
    loop {
        futures::select! {
            accepted = listener.accept().fuse() => {
                let (mut stream, _) = accepted?;
                connections.push(mini::spawn(async move {
                    let mut buf = vec![0u8; 4096];
                    while let Ok(n @ 1..) = stream.read(&mut buf).await {
                        if stream.write_all(&buf[..n]).await.is_err() {
                            break;
                        }
                    }
                }));
                connections.retain(|connection| !connection.is_finished());
            }
            _ = interrupt.recv().fuse() => break,
            _ = terminate.recv().fuse() => break,
        }
    }
    drop(listener); // stop accepting: new clients are refused from now on
    connections.retain(|connection| !connection.is_finished());
    println!(
        "graceful_shutdown: stopping; waiting up to {deadline:?} for {} open connection(s)",
        connections.len()
    );
    match mini::time::timeout(deadline, futures::future::join_all(connections)).await {
        Ok(_) => println!("graceful_shutdown: every connection finished"),
        Err(_) => println!("graceful_shutdown: deadline passed; closing the rest"),
    }
    Ok(())
}

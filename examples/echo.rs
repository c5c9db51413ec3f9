//! A TCP echo server: everything a client sends comes back.
//!
//! ```text
//! cargo run --release --example echo            # listens on 127.0.0.1:8080
//! cargo run --release --example echo 127.0.0.1:7000
//! cargo run --release --example echo 127.0.0.1:7000 --shed   # out of fds: close what is queued
//! ```
//!
//! Its accept loop is the plain one: log an error and go on. Out of fds (`EMFILE`), the listener
//! itself waits before the next try (5 ms, doubling up to 1 s), so the loop does not spin, and it
//! goes on accepting once connections close (`tests/fd_exhaustion.rs` runs it that way).

use mini::net::{FdExhaustion, TcpListener};

#[mini::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:8080".to_string());
    let listener = TcpListener::bind(addr.as_str()).await?;
    println!("echo: listening on {}", listener.local_addr()?);
    if std::env::args().any(|arg| arg == "--shed") {
        listener.set_fd_exhaustion(FdExhaustion::Shed)?;
    }
    loop {
        let mut stream = match listener.accept().await {
            Ok((stream, _peer)) => stream,
            // Out of fds, or a client that reset before it was accepted.
            Err(error) => {
                eprintln!("echo: accept: {error}");
                continue;
            }
        };
        mini::spawn(async move {
            let mut buf = vec![0u8; 4096];
            loop {
                match stream.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        if stream.write_all(&buf[..n]).await.is_err() {
                            break;
                        }
                    }
                }
            }
        });
    }
}

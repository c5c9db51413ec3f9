//! A TCP echo server: everything a client sends comes back.
//!
//! ```text
//! cargo run --release --example echo            # listens on 127.0.0.1:8080
//! cargo run --release --example echo 127.0.0.1:7000
//! ```
//!
//! Its accept loop is the robust one from `TcpListener`'s docs: out of fds (`EMFILE`), it pauses
//! instead of spinning, and goes on accepting once connections close (`tests/fd_exhaustion.rs`
//! runs it that way).

use mini::net::TcpListener;
use std::time::Duration;

#[mini::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:8080".to_string());
    let listener = TcpListener::bind(addr.as_str()).await?;
    println!("echo: listening on {}", listener.local_addr()?);
    loop {
        let mut stream = match listener.accept().await {
            Ok((stream, _peer)) => stream,
            // Out of fds: wait for some connections to close.
            Err(error) if matches!(error.raw_os_error(), Some(libc::EMFILE | libc::ENFILE)) => {
                mini::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
            // The client reset the connection before we accepted it.
            Err(error) if error.kind() == std::io::ErrorKind::ConnectionAborted => continue,
            Err(error) => return Err(error),
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

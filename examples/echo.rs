//! A TCP echo server: everything a client sends comes back.
//!
//! ```text
//! cargo run --release --example echo            # listens on 127.0.0.1:8080
//! cargo run --release --example echo 127.0.0.1:7000
//! ```

use mini::net::TcpListener;

#[mini::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:8080".to_string());
    let listener = TcpListener::bind(addr.as_str()).await?;
    println!("echo: listening on {}", listener.local_addr()?);
    loop {
        let (mut stream, _peer) = listener.accept().await?;
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

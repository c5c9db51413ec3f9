//! A Unix-domain socket echo server: everything a client sends comes back.
//!
//! ```text
//! cargo run --release --example unix_echo                  # listens on /tmp/mini-echo.sock
//! cargo run --release --example unix_echo /run/echo.sock
//! # then, for instance: echo hello | nc -U -q1 /tmp/mini-echo.sock
//! ```
//!
//! The socket file is removed first if it is left over from an earlier run (binding a path that
//! exists fails with `AddrInUse`).

use mini::net::UnixListener;

#[mini::main]
async fn main() -> std::io::Result<()> {
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "/tmp/mini-echo.sock".to_string());
    match std::fs::remove_file(&path) {
        Err(error) if error.kind() != std::io::ErrorKind::NotFound => return Err(error),
        _ => {}
    }
    let listener = UnixListener::bind(&path)?;
    println!("unix_echo: listening on {path}");
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

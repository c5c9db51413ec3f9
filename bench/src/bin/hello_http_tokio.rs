//! `examples/hello_http.rs`, line for line, on tokio's current-thread runtime.

use mini_bench::http;
use std::io;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

fn main() -> io::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(async {
        let addr = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:8080".to_string());
        let listener = TcpListener::bind(addr.as_str()).await?;
        println!("hello_http_tokio: serving http://{}/", listener.local_addr()?);
        loop {
            match listener.accept().await {
                Ok((stream, _peer)) => {
                    tokio::spawn(async move {
                        let _ = serve(stream).await;
                    });
                }
                Err(error) => eprintln!("hello_http_tokio: accept failed: {error}"),
            }
        }
    })
}

async fn serve(mut stream: TcpStream) -> io::Result<()> {
    stream.set_nodelay(true)?;
    let mut buf = vec![0u8; http::REQUEST_BUFFER];
    let mut filled = 0;
    let mut responses = Vec::with_capacity(4096);
    loop {
        let n = stream.read(&mut buf[filled..]).await?;
        if n == 0 {
            return Ok(());
        }
        let consumed = http::respond(&buf[..filled + n], &mut responses);
        let Some(left) = http::keep_tail(&mut buf, filled + n, consumed) else {
            return Err(io::Error::new(io::ErrorKind::InvalidData, "request headers too large"));
        };
        filled = left;
        if !responses.is_empty() {
            stream.write_all(&responses).await?;
            responses.clear();
        }
    }
}

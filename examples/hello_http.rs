//! A minimal HTTP/1.1 server: keep-alive, and every complete request in the buffer is answered,
//! so pipelining works.
//!
//! ```text
//! cargo run --release --example hello_http            # serves http://127.0.0.1:8080/
//! cargo run --release --example hello_http 0.0.0.0:3000
//! curl http://127.0.0.1:8080/
//! ```

#[path = "support/http.rs"]
mod http;

use mini::net::{TcpListener, TcpStream};
use std::io;

#[mini::main]
async fn main() -> io::Result<()> {
    let addr = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:8080".to_string());
    let listener = TcpListener::bind(addr.as_str()).await?;
    println!("hello_http: serving http://{}/", listener.local_addr()?);
    loop {
        match listener.accept().await {
            Ok((stream, _peer)) => {
                mini::spawn(async move {
                    // A connection error only ends that connection.
                    let _ = serve_http(stream).await;
                });
            }
            Err(error) => eprintln!("hello_http: accept failed: {error}"),
        }
    }
}

http::define_serve_http!(TcpStream, crate::http);

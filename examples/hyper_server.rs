//! An HTTP/1.1 server with hyper 1.x on mini (needs the `hyper` feature).
//!
//! ```text
//! cargo run --release --features hyper --example hyper_server      # 127.0.0.1:8085
//! curl http://127.0.0.1:8085/hello
//! ```

use http_body_util::Full;
use hyper::body::Bytes;
use hyper::{Request, Response};
use mini::net::TcpListener;
use std::convert::Infallible;

async fn hello(request: Request<hyper::body::Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let body = format!(
        "Hello from hyper on mini: {} {}\n",
        request.method(),
        request.uri().path()
    );
    Ok(Response::new(Full::new(Bytes::from(body))))
}

#[mini::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:8085".to_string());
    let listener = TcpListener::bind(addr.as_str()).await?;
    println!("hyper_server: listening on http://{}", listener.local_addr()?);
    loop {
        let (stream, peer) = listener.accept().await?;
        mini::spawn(async move {
            let served = hyper::server::conn::http1::Builder::new()
                .timer(mini::hyper::Timer)
                .serve_connection(stream, hyper::service::service_fn(hello))
                .await;
            if let Err(error) = served {
                eprintln!("hyper_server: {peer}: {error}");
            }
        });
    }
}

//! hello_http on the thread-per-core flavor: one `SO_REUSEPORT` listener per worker, each worker
//! accepting and serving its own connections, with nothing shared between them. The handler is
//! hello_http's; the differences are the flavor, `bind_per_worker` and `run_on_each`.
//!
//! ```text
//! cargo run --release --example hello_http_per_core            # serves http://127.0.0.1:8080/
//! MINI_WORKER_THREADS=4 cargo run --release --example hello_http_per_core 0.0.0.0:3000
//! curl http://127.0.0.1:8080/
//! ```

#[path = "support/http.rs"]
mod http;

use mini::net::{TcpListener, TcpStream};
use mini::runtime::Handle;
use std::io;

#[mini::main(flavor = "thread_per_core")]
async fn main() -> io::Result<()> {
    let addr = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:8080".to_string());
    let listener = TcpListener::bind_per_worker(addr.as_str()).await?;
    println!("hello_http_per_core: serving http://{}/", listener.local_addr());
    Handle::current()
        .run_on_each(move |_worker| {
            let listener = listener.clone();
            async move {
                loop {
                    match listener.accept().await {
                        Ok((stream, _peer)) => {
                            // Spawned on this worker, where the connection stays.
                            mini::spawn(async move {
                                // A connection error only ends that connection.
                                let _ = serve_http(stream).await;
                            });
                        }
                        Err(error) => eprintln!("hello_http_per_core: accept failed: {error}"),
                    }
                }
            }
        })
        .await;
    Ok(())
}

http::define_serve_http!(TcpStream, crate::http);

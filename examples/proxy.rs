//! A TCP proxy: each client connection is forwarded to a target server, both directions at
//! once, with `mini::io::copy_bidirectional`.
//!
//! ```text
//! cargo run --release --example hello_http &                 # the target, on 127.0.0.1:8080
//! cargo run --release --example proxy                         # 127.0.0.1:8082 -> 127.0.0.1:8080
//! cargo run --release --example proxy 127.0.0.1:9000 127.0.0.1:8080
//! curl http://127.0.0.1:8082/
//! ```

use mini::net::{TcpListener, TcpStream};

#[mini::main]
async fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let listen = args.next().unwrap_or_else(|| "127.0.0.1:8082".to_string());
    let target = args.next().unwrap_or_else(|| "127.0.0.1:8080".to_string());
    let listener = TcpListener::bind(listen.as_str()).await?;
    println!("proxy: {} -> {target}", listener.local_addr()?);
    loop {
        let (mut client, peer) = listener.accept().await?;
        let target = target.clone();
        mini::spawn(async move {
            let result = async {
                let mut server = TcpStream::connect(target.as_str()).await?;
                mini::io::copy_bidirectional(&mut client, &mut server).await
            };
            if let Err(error) = result.await {
                eprintln!("proxy: {peer}: {error}");
            }
        });
    }
}

//! A UDP echo server: every datagram goes back to its sender.
//!
//! ```text
//! cargo run --release --example udp_echo            # listens on 127.0.0.1:8081
//! cargo run --release --example udp_echo 127.0.0.1:7001
//! # then, for instance: echo hello | nc -u -w1 127.0.0.1 8081
//! ```

use mini::net::UdpSocket;

#[mini::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:8081".to_string());
    let socket = UdpSocket::bind(addr.as_str()).await?;
    println!("udp_echo: listening on {}", socket.local_addr()?);
    // 65,507 bytes: the largest UDP payload over IPv4, so no datagram is truncated.
    let mut buf = vec![0u8; 65_507];
    loop {
        let (n, peer) = socket.recv_from(&mut buf).await?;
        socket.send_to(&buf[..n], peer).await?;
    }
}

//! A server with the commonest async bug, to show what mini says about it (docs/debugging.md):
//! one request path makes a blocking call inside its task, and every other connection on that
//! worker waits.
//!
//! ```text
//! cargo run --example stuck_server          # a short demonstration: requests, a stall, a dump
//! cargo run --example stuck_server -- serve # serves http://127.0.0.1:8080/ until Ctrl-C;
//!                                           # curl /slow to stall it, `kill -USR1 <pid>` to dump
//! ```

use mini::net::{TcpListener, TcpStream};
use mini::runtime::{Builder, Handle};
use mini::signal::SignalKind;
use std::io;
use std::net::SocketAddr;
use std::time::Duration;

fn main() -> io::Result<()> {
    let serve = std::env::args().nth(1).as_deref() == Some("serve");
    let runtime = Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("server-worker")
        .dump_on_signal(SignalKind::user_defined1())
        .build()?;
    runtime.block_on(async {
        let listener = TcpListener::bind(if serve { "127.0.0.1:8080" } else { "127.0.0.1:0" }).await?;
        let addr = listener.local_addr()?;
        mini::task::Builder::new().name("accept").spawn(accept_loop(listener))?;
        if serve {
            println!(
                "stuck_server: http://{addr}/ (and /slow); kill -USR1 {} prints a task dump",
                std::process::id()
            );
            mini::signal::ctrl_c().await
        } else {
            demonstrate(addr).await
        }
    })
}

async fn accept_loop(listener: TcpListener) -> io::Result<()> {
    loop {
        let (stream, peer) = listener.accept().await?;
        mini::task::Builder::new()
            .name(&format!("conn {peer}"))
            .spawn(async move {
                let _ = serve_connection(stream).await;
            })?;
    }
}

/// HTTP/1.1 with keep-alive, one request at a time: `/slow` renders its page with the bug.
async fn serve_connection(mut stream: TcpStream) -> io::Result<()> {
    let mut buf = vec![0u8; 4096];
    let mut filled = 0;
    loop {
        let n = stream.read(&mut buf[filled..]).await?;
        if n == 0 {
            return Ok(());
        }
        filled += n;
        let Some(end) = buf[..filled].windows(4).position(|w| w == b"\r\n\r\n") else {
            continue;
        };
        let body = if buf.starts_with(b"GET /slow ") {
            render_report()
        } else {
            "hello\n".to_owned()
        };
        let response = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{body}", body.len());
        stream.write_all(response.as_bytes()).await?;
        buf.copy_within(end + 4..filled, 0);
        filled -= end + 4;
    }
}

/// The bug: a synchronous call (standing for a blocking database driver, a file read or a DNS
/// lookup) inside an async handler. It holds its worker thread for 300 ms.
fn render_report() -> String {
    std::thread::sleep(Duration::from_millis(300));
    "a slow report\n".to_owned()
}

/// Opens a few keep-alive connections, asks for `/slow`, and prints a task dump while it blocks.
async fn demonstrate(addr: SocketAddr) -> io::Result<()> {
    let mut idle = Vec::new();
    for _ in 0..3 {
        let mut client = TcpStream::connect(addr).await?;
        get(&mut client, "/").await?;
        idle.push(client);
    }
    let slow = mini::spawn(async move {
        let mut client = TcpStream::connect(addr).await?;
        get(&mut client, "/slow").await
    });
    // While /slow blocks its worker, the stall report comes on stderr; then a dump.
    mini::time::sleep(Duration::from_millis(200)).await;
    eprintln!("{}", Handle::current().dump());
    slow.await.expect("the client task")?;
    Ok(())
}

async fn get(client: &mut TcpStream, path: &str) -> io::Result<String> {
    let request = format!("GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n");
    client.write_all(request.as_bytes()).await?;
    let mut buf = vec![0u8; 1024];
    let n = client.read(&mut buf).await?;
    Ok(String::from_utf8_lossy(&buf[..n]).into_owned())
}

//! A chat server: every line a client sends goes to every other client.
//!
//! ```text
//! cargo run --example chat                  # listens on 127.0.0.1:8084
//! nc 127.0.0.1 8084                         # in two or more terminals
//! ```
//!
//! Each connection is split: its read half runs in the connection's task, which broadcasts each
//! line; its write half belongs to a writer task fed by a channel, so a slow client delays only
//! its own messages (its channel is bounded: a client that stops reading is dropped).

use futures::channel::mpsc;
use futures::StreamExt;
use mini::net::TcpListener;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Each client's outgoing channel, by client number.
type Clients = Arc<Mutex<HashMap<u64, mpsc::Sender<Arc<str>>>>>;

#[mini::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:8084".to_string());
    let listener = TcpListener::bind(addr.as_str()).await?;
    println!("chat: listening on {}", listener.local_addr()?);
    let clients = Clients::default();
    for id in 0.. {
        let (stream, peer) = listener.accept().await?;
        let (mut reader, mut writer) = stream.into_split();
        let (sender, mut outgoing) = mpsc::channel::<Arc<str>>(64);
        clients.lock().unwrap().insert(id, sender);
        mini::spawn(async move {
            while let Some(line) = outgoing.next().await {
                if writer.write_all(line.as_bytes()).await.is_err() {
                    break;
                }
            }
        });
        let clients = clients.clone();
        mini::spawn(async move {
            broadcast(&clients, id, format!("* {peer} joined\n").into());
            let mut pending = Vec::new();
            let mut buf = [0u8; 1024];
            while let Ok(n @ 1..) = reader.read(&mut buf).await {
                pending.extend_from_slice(&buf[..n]);
                while let Some(end) = pending.iter().position(|&b| b == b'\n') {
                    let line: Vec<u8> = pending.drain(..=end).collect();
                    let text = format!("{peer}: {}", String::from_utf8_lossy(&line));
                    broadcast(&clients, id, text.into());
                }
            }
            clients.lock().unwrap().remove(&id);
            broadcast(&clients, id, format!("* {peer} left\n").into());
        });
    }
    Ok(())
}

/// Sends `line` to every client but `from`; drops the clients whose channel is full or closed
/// (`try_send`: waiting for one slow client would hold up everyone).
fn broadcast(clients: &Clients, from: u64, line: Arc<str>) {
    let targets: Vec<_> = clients
        .lock()
        .unwrap()
        .iter()
        .filter(|(id, _)| **id != from)
        .map(|(id, sender)| (*id, sender.clone()))
        .collect();
    for (id, mut sender) in targets {
        if sender.try_send(line.clone()).is_err() {
            clients.lock().unwrap().remove(&id);
        }
    }
}

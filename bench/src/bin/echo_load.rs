//! `echo_load ADDR CONNECTIONS SECONDS [SIZE]`: one thread per connection, each sending a
//! SIZE-byte message (default 64) and reading its echo back, as fast as it can, until SECONDS
//! pass; prints `messages N` (all threads together) and `messages/s X`. Plain threads and
//! blocking sockets, so the runtime under test is only on the server side. 127.0.0.1 only.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let usage = "usage: echo_load ADDR CONNECTIONS SECONDS [SIZE]";
    let addr = args.next().expect(usage);
    let connections: usize = args.next().expect(usage).parse().expect(usage);
    let seconds: f64 = args.next().expect(usage).parse().expect(usage);
    let size: usize = args.next().map_or(64, |s| s.parse().expect(usage));
    let streams = (0..connections)
        .map(|_| {
            let stream = TcpStream::connect(&addr)?;
            stream.set_nodelay(true)?;
            stream.set_read_timeout(Some(Duration::from_secs(10)))?;
            Ok(stream)
        })
        .collect::<std::io::Result<Vec<_>>>()?;
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let workers: Vec<_> = streams
        .into_iter()
        .map(|mut stream| {
            let stop = stop.clone();
            std::thread::spawn(move || -> std::io::Result<u64> {
                let message = vec![0x5au8; size];
                let mut echo = vec![0u8; size];
                let mut count = 0;
                while !stop.load(Ordering::Relaxed) {
                    stream.write_all(&message)?;
                    stream.read_exact(&mut echo)?;
                    assert_eq!(echo, message, "the echo differs from the message");
                    count += 1;
                }
                Ok(count)
            })
        })
        .collect();
    std::thread::sleep(Duration::from_secs_f64(seconds));
    stop.store(true, Ordering::Relaxed);
    let mut total = 0;
    for worker in workers {
        total += worker.join().expect("a load thread panicked")?;
    }
    let elapsed = started.elapsed().as_secs_f64();
    println!("messages {total}");
    println!("messages/s {:.0}", total as f64 / elapsed);
    Ok(())
}

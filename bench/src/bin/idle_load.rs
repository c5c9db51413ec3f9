//! `idle_load ADDR COUNT SERVER_PID`: opens COUNT connections that send nothing, in batches,
//! waiting after each batch until the server holds them (its fd count in /proc rises), so that
//! the listen backlog never overflows. Then prints `ready` and waits for a line on stdin; then
//! closes them all and exits. 127.0.0.1 only; every wait is bounded.

use mini_bench::raise_fd_limit;
use std::io::BufRead;
use std::net::TcpStream;
use std::time::{Duration, Instant};

const BATCH: usize = 500;

fn open_fds(pid: &str) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, |dir| dir.count())
}

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let usage = "usage: idle_load ADDR COUNT SERVER_PID";
    let addr = args.next().expect(usage);
    let count: usize = args.next().expect(usage).parse().expect(usage);
    let pid = args.next().expect(usage);
    raise_fd_limit(count as u64 + 100);
    let base = open_fds(&pid);
    let mut streams = Vec::with_capacity(count);
    while streams.len() < count {
        for _ in 0..BATCH.min(count - streams.len()) {
            streams.push(TcpStream::connect(&addr)?);
        }
        let deadline = Instant::now() + Duration::from_secs(20);
        while open_fds(&pid) < base + streams.len() {
            assert!(
                Instant::now() < deadline,
                "the server did not accept {} connections within 20 s",
                streams.len()
            );
            std::thread::sleep(Duration::from_millis(2));
        }
    }
    println!("ready");
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    drop(streams);
    Ok(())
}

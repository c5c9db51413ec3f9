//! A small, deterministic HTTP load generator for instruction counts: `connections` keep-alive
//! connections, each sending one request and reading its response per round, until `requests`
//! responses have arrived. One thread, blocking sockets, 127.0.0.1 only.
//!
//! `http_load ADDR CONNECTIONS REQUESTS`

use mini_bench::http::RESPONSE;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

const REQUEST: &[u8] = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:8080".into());
    let connections: usize = args.next().map_or(50, |n| n.parse().expect("CONNECTIONS is a number"));
    let requests: usize = args
        .next()
        .map_or(100_000, |n| n.parse().expect("REQUESTS is a number"));
    let deadline = Instant::now() + Duration::from_secs(600);
    let mut streams = (0..connections)
        .map(|_| {
            let stream = TcpStream::connect(&addr)?;
            stream.set_nodelay(true)?;
            stream.set_read_timeout(Some(Duration::from_secs(60)))?;
            Ok(stream)
        })
        .collect::<std::io::Result<Vec<_>>>()?;
    let mut response = vec![0u8; RESPONSE.len()];
    let mut done = 0;
    while done < requests {
        assert!(Instant::now() < deadline, "http_load: gave up after 600 s");
        let round = connections.min(requests - done);
        for stream in &mut streams[..round] {
            stream.write_all(REQUEST)?;
        }
        for stream in &mut streams[..round] {
            stream.read_exact(&mut response)?;
            assert_eq!(response, RESPONSE, "unexpected response");
        }
        done += round;
    }
    println!("http_load: {done} requests over {connections} connections");
    Ok(())
}

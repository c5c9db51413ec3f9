//! A small, deterministic HTTP load generator for instruction counts: CONNECTIONS keep-alive
//! connections, each sending PIPELINE requests in one write and reading their responses per
//! round, until REQUESTS responses have arrived. One thread, blocking sockets, 127.0.0.1 only.
//!
//! `http_load ADDR CONNECTIONS REQUESTS [PIPELINE]`

use mini_bench::http::RESPONSE;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

const REQUEST: &[u8] = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let usage = "usage: http_load ADDR CONNECTIONS REQUESTS [PIPELINE]";
    let addr = args.next().expect(usage);
    let connections: usize = args.next().expect(usage).parse().expect(usage);
    let requests: usize = args.next().expect(usage).parse().expect(usage);
    let pipeline: usize = args.next().map_or(1, |n| n.parse().expect(usage));
    let deadline = Instant::now() + Duration::from_secs(900);
    let mut streams = (0..connections)
        .map(|_| {
            let stream = TcpStream::connect(&addr)?;
            stream.set_nodelay(true)?;
            stream.set_read_timeout(Some(Duration::from_secs(60)))?;
            Ok(stream)
        })
        .collect::<std::io::Result<Vec<_>>>()?;
    let batch = REQUEST.repeat(pipeline);
    let mut responses = vec![0u8; RESPONSE.len() * pipeline];
    let mut done = 0;
    while done < requests {
        assert!(Instant::now() < deadline, "http_load: gave up after 900 s");
        let round = connections.min((requests - done).div_ceil(pipeline));
        for stream in &mut streams[..round] {
            stream.write_all(&batch)?;
        }
        for stream in &mut streams[..round] {
            stream.read_exact(&mut responses)?;
            assert!(
                responses.chunks(RESPONSE.len()).all(|r| r == RESPONSE),
                "unexpected response"
            );
        }
        done += round * pipeline;
    }
    println!("http_load: {done} requests over {connections} connections, {pipeline} per write");
    Ok(())
}

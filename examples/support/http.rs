//! The HTTP/1.1 "hello world" handler shared by `hello_http` and the benchmark servers in
//! `bench/`, so that every runtime is measured on exactly the same request handling.

/// The one response: a keep-alive 200 with a 13-byte body.
pub const RESPONSE: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 13\r\nContent-Type: text/plain\r\n\r\nHello, World!";

/// Answers every complete request (headers ended by a blank line; bodies are not supported) at
/// the front of `input` by appending one response each to `output`, so that pipelined requests
/// all get answered. Returns how many bytes of `input` those requests used.
pub fn respond(input: &[u8], output: &mut Vec<u8>) -> usize {
    let mut consumed = 0;
    while let Some(end) = input[consumed..].windows(4).position(|window| window == b"\r\n\r\n") {
        consumed += end + 4;
        output.extend_from_slice(RESPONSE);
    }
    consumed
}

/// The size of a connection's request buffer; a request with larger headers is refused.
pub const REQUEST_BUFFER: usize = 8192;

/// Moves the unanswered tail of a request buffer to its front; returns the new fill level, or
/// `None` when the buffer is full of one incomplete request (the connection should be closed).
pub fn keep_tail(buf: &mut [u8], filled: usize, consumed: usize) -> Option<usize> {
    buf.copy_within(consumed..filled, 0);
    let left = filled - consumed;
    (left < buf.len()).then_some(left)
}

/// Defines `async fn serve_http(stream) -> io::Result<()>`, the connection loop, for a stream type
/// whose `read`, `write_all` and `set_nodelay` are in scope: `hello_http` and every benchmark
/// server stamp it out, so they run the very same code. `$http` is the path of this module.
macro_rules! define_serve_http {
    ($stream:ty, $http:path) => {
        async fn serve_http(mut stream: $stream) -> std::io::Result<()> {
            use $http as http;
            stream.set_nodelay(true)?;
            let mut buf = vec![0u8; http::REQUEST_BUFFER];
            let mut filled = 0;
            let mut responses = Vec::with_capacity(4096);
            loop {
                let n = stream.read(&mut buf[filled..]).await?;
                if n == 0 {
                    return Ok(());
                }
                let consumed = http::respond(&buf[..filled + n], &mut responses);
                let Some(left) = http::keep_tail(&mut buf, filled + n, consumed) else {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::InvalidData,
                        "request headers too large",
                    ));
                };
                filled = left;
                if !responses.is_empty() {
                    stream.write_all(&responses).await?;
                    responses.clear();
                }
            }
        }
    };
}

#[allow(unused_imports)]
pub(crate) use define_serve_http;

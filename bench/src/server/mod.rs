//! The benchmark servers: one per runtime, each serving the same workloads with the same
//! connection code, stamped out by `connection_handlers!` so that only the runtime differs.

pub mod floor;
pub mod mini;
pub mod smol;
pub mod tokio;

/// What a server does with each connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Workload {
    /// HTTP/1.1 keep-alive "hello world" (`crate::http`), answering every complete request in
    /// the buffer.
    Http,
    /// Echo every byte back.
    Echo,
    /// Read into a 4 KiB buffer until the peer closes; nothing else.
    Idle,
}

impl Workload {
    pub fn parse(name: &str) -> Workload {
        match name {
            "http" => Workload::Http,
            "echo" => Workload::Echo,
            "idle" => Workload::Idle,
            other => panic!("unknown workload {other:?}: expected http, echo or idle"),
        }
    }
}

/// The read buffer of an idle connection. Filled with a non-zero byte so that its pages are
/// really resident (a zeroed allocation may not be), which makes "RSS per connection minus
/// this buffer" the runtime's own cost.
pub const IDLE_BUFFER: usize = 4096;

/// The echo buffer: one read's worth.
pub const ECHO_BUFFER: usize = 4096;

/// Defines `serve_http`, `serve_echo` and `serve_idle` for a stream type whose `read` and
/// `write_all` methods are in scope (inherent for mini, the runtime's extension traits for tokio
/// and smol), so every runtime runs the very same connection code.
macro_rules! connection_handlers {
    ($stream:ty) => {
        pub async fn serve(workload: $crate::server::Workload, stream: $stream) -> std::io::Result<()> {
            match workload {
                $crate::server::Workload::Http => serve_http(stream).await,
                $crate::server::Workload::Echo => serve_echo(stream).await,
                $crate::server::Workload::Idle => serve_idle(stream).await,
            }
        }

        $crate::http::define_serve_http!($stream, $crate::http);

        async fn serve_echo(mut stream: $stream) -> std::io::Result<()> {
            stream.set_nodelay(true)?;
            let mut buf = vec![0u8; $crate::server::ECHO_BUFFER];
            loop {
                let n = stream.read(&mut buf).await?;
                if n == 0 {
                    return Ok(());
                }
                stream.write_all(&buf[..n]).await?;
            }
        }

        async fn serve_idle(mut stream: $stream) -> std::io::Result<()> {
            let mut buf = vec![0xa5u8; $crate::server::IDLE_BUFFER];
            while stream.read(&mut buf).await? != 0 {}
            Ok(())
        }
    };
}

pub(crate) use connection_handlers;

/// Prints the address a server listens on, the line the harness waits for.
pub fn announce(addr: std::net::SocketAddr) {
    use std::io::Write;
    let mut out = std::io::stdout();
    let _ = writeln!(out, "listening on {addr}");
    let _ = out.flush();
}

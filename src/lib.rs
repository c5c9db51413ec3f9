//! # mini
//!
//! An async runtime for Linux servers, built directly on epoll: an executor with a waker-driven
//! task queue and an edge-triggered reactor that wakes exactly the task whose socket is ready.
//!
//! ```no_run
//! use mini::net::TcpListener;
//!
//! #[mini::main]
//! async fn main() -> std::io::Result<()> {
//!     let listener = TcpListener::bind("127.0.0.1:8080").await?;
//!     loop {
//!         let (mut stream, _peer) = listener.accept().await?;
//!         mini::spawn(async move {
//!             let mut buf = vec![0u8; 4096];
//!             loop {
//!                 match stream.read(&mut buf).await {
//!                     Ok(0) | Err(_) => break,
//!                     Ok(n) => if stream.write_all(&buf[..n]).await.is_err() { break },
//!                 }
//!             }
//!         });
//!     }
//! }
//! ```
//!
//! This crate only re-exports: the runtime lives in `mini-runtime`, the sockets in `mini-net`,
//! the attribute macros in `mini-macros`. ARCHITECTURE.md in the repository is the map.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub use mini_macros::{main, test};
pub use mini_runtime::{fs, io, process, runtime, signal, spawn, task, time, Runtime};

/// hyper 1.x on mini (the `hyper` feature): an executor and a timer; mini's streams implement
/// hyper's `rt::Read`/`rt::Write` directly.
#[cfg(feature = "hyper")]
pub mod hyper {
    pub use mini_net::hyper_rt::{Executor, Timer};
}

/// Networking: TCP listeners and streams, and address resolution that never blocks the runtime.
pub mod net {
    pub use mini_net::*;
}

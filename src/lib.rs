#![doc = include_str!("../README.md")]
//!
//! ## This crate
//!
//! `mini` only re-exports: the runtime lives in `mini-runtime`, the sockets in `mini-net`, the
//! attribute macros in `mini-macros`. ARCHITECTURE.md in the repository is the map.

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

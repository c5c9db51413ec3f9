//! The synchronisation primitives the runtime is built on, from `std` normally and from
//! [loom](https://docs.rs/loom) under `--cfg loom`, so that the same code is model-checked.

#[cfg(loom)]
pub(crate) use loom::sync::atomic::{AtomicBool, AtomicUsize};

#[cfg(not(loom))]
pub(crate) use std::sync::atomic::{AtomicBool, AtomicUsize};

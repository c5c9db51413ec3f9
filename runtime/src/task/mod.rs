//! Tasks: a spawned future in one heap allocation, shared by the scheduler, its wakers and its
//! `JoinHandle`.
//!
//! The allocation (`raw.rs`) holds a header (the atomic state word of `state.rs`, a vtable, the
//! join waker), the scheduler handle, and the future, later replaced by its output. Each of these
//! owns one reference and releases it on drop:
//!
//! - [`Task`]: the runtime's list of owned tasks (`owned.rs`) holds one until the task completes;
//! - [`Notified`]: a task sitting in a run queue; running it consumes the reference;
//! - [`JoinHandle`]: the user's handle to the output;
//! - `Waker`: one per clone (`waker.rs`); waking queues a `Notified`.
//!
//! # Who may touch what
//!
//! The future and the output (the *stage*) are guarded by the state word: before `COMPLETE`,
//! only the thread that set `RUNNING` touches the stage; after it, only the `JoinHandle` (or the
//! completing thread, when there is no `JoinHandle`). A task is therefore never polled by two
//! threads at once, and a wake during a poll sets `NOTIFIED` so that the poller queues it again
//! (no lost wake-up).
//!
//! The join waker field follows these rules, arbitrated by the `JOIN_WAKER` bit:
//!
//! 1. `JOIN_INTEREST` is set while the `JoinHandle` exists; only the `JoinHandle` clears it.
//! 2. While `JOIN_WAKER` is clear, only the `JoinHandle` may read or write the field.
//! 3. While `JOIN_WAKER` is set, nobody writes the field; the `JoinHandle` may read it, and the
//!    task reads it to wake it after setting `COMPLETE`.
//! 4. After waking it, the completing task clears `JOIN_WAKER`. If the `JoinHandle` is gone by
//!    then, the task drops the waker; otherwise the `JoinHandle` does (on drop). A `JoinHandle`
//!    dropped before completion clears `JOIN_WAKER` with `JOIN_INTEREST` and drops the waker.
//! 5. To store a different waker, the `JoinHandle` clears `JOIN_WAKER` (this fails once
//!    `COMPLETE` is set: then it reads the output instead), writes, and sets it again (this fails
//!    if the task completed meanwhile: then it empties the field and reads the output).

mod block_in_place;
mod builder;
pub(crate) mod current;
mod harness;
mod identity;
mod join;
mod join_set;
#[cfg(all(test, loom))]
mod loom_models;
mod owned;
mod raw;
mod schedule;
mod span;
mod spawn;
mod state;
pub(crate) mod trace;
mod waker;
mod yield_now;

pub use crate::coop::{consume_budget, unconstrained, Unconstrained};
pub use crate::scheduler::local_set::{LocalEnterGuard, LocalSet, RunUntil};
pub use block_in_place::block_in_place;
pub use builder::Builder;
pub use current::{id, try_id};
pub use identity::Id;
pub(crate) use identity::SpawnSite;
pub use join::{AbortHandle, JoinError, JoinHandle};
pub use join_set::JoinSet;
pub(crate) use owned::OwnedTasks;
pub(crate) use raw::Header;
pub(crate) use schedule::{new_task, Notified, Schedule, Task};
pub(crate) use spawn::spawn_blocking_on;
pub use spawn::{spawn, spawn_blocking, spawn_local};
pub use yield_now::yield_now;

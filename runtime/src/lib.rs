//! mini's runtime: tasks, the current-thread and work-stealing multi-threaded schedulers, and
//! the epoll reactor.
//!
//! Most users depend on the `mini` facade crate instead, which re-exports this one. Reading
//! order for newcomers: `task/` (what a task is), `scheduler/current_thread.rs` (who runs it),
//! `scheduler/multi_thread/` (who runs it on several threads),
//! `reactor/` (who wakes it), `io/async_fd.rs` (how sockets plug in). ARCHITECTURE.md at the
//! repository root is the map.
//!
//! ```
//! let rt = mini_runtime::Runtime::new().unwrap();
//! rt.block_on(async {
//!     let task = mini_runtime::spawn(async { 1 + 1 });
//!     assert_eq!(task.await.unwrap(), 2);
//! });
//! ```

#![deny(missing_docs)]
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(clippy::undocumented_unsafe_blocks)]

mod context;
mod coop;
mod defer;
mod loom;
mod reactor;
mod scheduler;
mod sys;
mod util;

pub mod fs;
pub mod time;

pub mod io;
pub mod process;
pub mod runtime;
pub mod signal;
pub mod task;

pub use runtime::Runtime;
pub use task::spawn;

/// The types users move between threads are `Send + Sync` (checked at compile time).
const _: () = {
    const fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Runtime>();
    assert_send_sync::<runtime::Handle>();
    assert_send_sync::<task::JoinHandle<()>>();
    assert_send_sync::<task::JoinError>();
    assert_send_sync::<io::AsyncFd<std::os::fd::OwnedFd>>();
};

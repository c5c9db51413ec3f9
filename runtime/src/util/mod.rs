//! Small data structures shared by the scheduler and the reactor.

#[cfg(all(test, loom))]
pub(crate) mod flag_waker;
pub(crate) mod rng;
pub(crate) mod shuffle;
pub(crate) mod slab;
pub(crate) mod thread_id;
pub(crate) mod thread_stack;
pub(crate) mod thread_waker;
pub(crate) mod ticks;
pub(crate) mod wake_all;

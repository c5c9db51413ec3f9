//! Small data structures shared by the scheduler and the reactor.

pub(crate) mod slab;
pub(crate) mod thread_id;

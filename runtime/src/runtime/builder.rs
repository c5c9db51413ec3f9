//! `Builder`: how a runtime is configured before it starts.

use super::Runtime;
use crate::scheduler::{self, current_thread};
use std::io;

/// Configures and builds a [`Runtime`].
///
/// ```
/// let rt = mini_runtime::runtime::Builder::new_current_thread()
///     .event_interval(31)
///     .build()
///     .unwrap();
/// assert_eq!(rt.block_on(async { 1 + 1 }), 2);
/// ```
#[derive(Debug, Clone)]
pub struct Builder {
    config: current_thread::Config,
}

impl Builder {
    /// A runtime that runs every task on the thread that calls `block_on`.
    pub fn new_current_thread() -> Builder {
        Builder {
            config: current_thread::Config::default(),
        }
    }

    /// How many tasks run between two checks of the reactor for ready I/O (default 61). Lower
    /// values make I/O wait less behind busy tasks; higher ones spend fewer syscalls.
    ///
    /// # Panics
    /// If `interval` is 0.
    pub fn event_interval(&mut self, interval: u32) -> &mut Self {
        assert!(interval > 0, "event_interval must be at least 1");
        self.config.event_interval = interval;
        self
    }

    /// How often (in tasks run) the queue of tasks woken from other threads is checked before
    /// the local queue (default 31).
    ///
    /// # Panics
    /// If `interval` is 0.
    pub fn global_queue_interval(&mut self, interval: u32) -> &mut Self {
        assert!(interval > 0, "global_queue_interval must be at least 1");
        self.config.global_queue_interval = interval;
        self
    }

    /// Starts the runtime with its clock paused (see [`time::pause`](crate::time::pause)): for
    /// tests of timeouts that run in no real time.
    pub fn start_paused(&mut self, paused: bool) -> &mut Self {
        self.config.start_paused = paused;
        self
    }

    /// The most threads the blocking pool (`spawn_blocking`) runs at once (default 512); more
    /// jobs wait in its queue.
    ///
    /// # Panics
    /// If `threads` is 0.
    pub fn max_blocking_threads(&mut self, threads: usize) -> &mut Self {
        assert!(threads > 0, "max_blocking_threads must be at least 1");
        self.config.max_blocking_threads = threads;
        self
    }

    /// How long an idle blocking thread waits for a job before it exits (default 10 s).
    pub fn thread_keep_alive(&mut self, keep_alive: std::time::Duration) -> &mut Self {
        self.config.blocking_keep_alive = keep_alive;
        self
    }

    /// Creates the runtime: its epoll instance and eventfd.
    ///
    /// # Errors
    /// If those cannot be created (for example, out of fds).
    pub fn build(&mut self) -> io::Result<Runtime> {
        let (scheduler, handle) = current_thread::CurrentThread::new(self.config)?;
        Ok(Runtime::from_parts(scheduler, scheduler::Handle::CurrentThread(handle)))
    }
}

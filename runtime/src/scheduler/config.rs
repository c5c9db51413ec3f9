//! How a scheduler is configured: the tunables the runtime `Builder` sets (the threads' names
//! and callbacks among them, `thread_hooks.rs`), and how worker threads report that they
//! started.

use super::stats::HistogramConfig;
use super::thread_hooks::ThreadHooks;
use std::io;
use std::sync::Arc;
use std::time::Duration;

/// Tunables, set through the runtime `Builder`.
#[derive(Clone, Debug)]
pub(crate) struct Config {
    /// Tasks run between two non-blocking checks of the reactor. 61, as in tokio: an
    /// `epoll_wait` costs about as much as a short poll, so this keeps its cost near 2 % of a
    /// busy loop while a ready socket waits at most 61 polls.
    pub(crate) event_interval: u32,
    /// Every this many ticks the inject queue is checked before the local queue. 31, as in tokio,
    /// so that wakes from other threads are never starved by a busy local queue.
    pub(crate) global_queue_interval: u32,
    /// Whether the clock starts paused (tests; current-thread only).
    pub(crate) start_paused: bool,
    /// The most threads the blocking pool starts.
    pub(crate) max_blocking_threads: usize,
    /// How long an idle blocking thread waits for work before it exits.
    pub(crate) blocking_keep_alive: Duration,
    /// The opt-in poll-time histogram (`None`: off, no clock read per poll).
    pub(crate) poll_time_histogram: Option<HistogramConfig>,
    /// Shuffled scheduling (`shuffle.rs`); `None`: the usual order.
    pub(crate) shuffle: Option<ShuffleConfig>,
    /// What the runtime's threads (workers, blocking pool) are named and run when they start
    /// and stop.
    pub(crate) threads: ThreadHooks,
}

/// The seed of a shuffled scheduler, and whether it keeps its whole decision log.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ShuffleConfig {
    pub(crate) seed: u64,
    pub(crate) keep_log: bool,
}

impl ShuffleConfig {
    /// The `Shuffle` of worker `index`: worker 0 draws from the seed itself, the others from
    /// seeds derived from it.
    pub(crate) fn for_worker(&self, index: usize) -> Arc<crate::util::shuffle::Shuffle> {
        let seed = self.seed ^ (index as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        crate::util::shuffle::Shuffle::new(seed, self.keep_log)
    }
}

impl Config {
    /// The blocking pool `Builder` configured: `max_blocking_threads`, `thread_keep_alive`.
    pub(crate) fn new_blocking_pool(&self) -> super::blocking::BlockingPool {
        super::blocking::BlockingPool::new(
            self.max_blocking_threads,
            self.blocking_keep_alive,
            self.threads.clone(),
        )
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            event_interval: 61,
            global_queue_interval: 31,
            start_paused: false,
            max_blocking_threads: super::blocking::DEFAULT_MAX_THREADS,
            blocking_keep_alive: super::blocking::DEFAULT_KEEP_ALIVE,
            poll_time_histogram: None,
            shuffle: None,
            threads: ThreadHooks::default(),
        }
    }
}

/// How worker threads report that they started: each pins itself to its CPU (if asked) and
/// reports before it runs anything, and the runtime's constructor waits for every report, so
/// that `build` returns with every worker pinned, or fails if one could not be (a worker that
/// silently did not start would keep its share of the work).
pub(crate) struct WorkerStarts {
    reports: std::sync::mpsc::Sender<io::Result<()>>,
    received: std::sync::mpsc::Receiver<io::Result<()>>,
}

impl WorkerStarts {
    pub(crate) fn new() -> WorkerStarts {
        let (reports, received) = std::sync::mpsc::channel();
        WorkerStarts { reports, received }
    }

    /// For a worker thread's body: `start(cpu)` pins it and reports; `false` if pinning failed
    /// (the thread then returns at once).
    pub(crate) fn reporter(&self) -> impl FnOnce(Option<usize>) -> bool + Send + 'static {
        let reports = self.reports.clone();
        move |cpu| {
            let pinned = cpu.map_or(Ok(()), crate::sys::affinity::pin_current_thread);
            let started = pinned.is_ok();
            let _ = reports.send(pinned.map_err(|error| {
                let cpu = cpu.unwrap_or_default();
                io::Error::new(
                    error.kind(),
                    format!("`pin_workers`: pinning a worker to CPU {cpu} failed ({error}); did the process's cpuset shrink?"),
                )
            }));
            started
        }
    }

    /// Waits for `workers` reports; the first failure, if any.
    pub(crate) fn wait(self, workers: usize) -> io::Result<()> {
        drop(self.reports);
        for _ in 0..workers {
            // A closed channel: a worker died before it reported, which `reporter` cannot do.
            if let Ok(Err(error)) = self.received.recv() {
                return Err(error);
            }
        }
        Ok(())
    }
}

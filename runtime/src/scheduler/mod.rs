//! Schedulers: who runs tasks, on which threads, in which order. Two flavors sit behind the same
//! `Handle`: the current-thread scheduler (every task on the thread in `block_on`) and the
//! work-stealing multi-threaded one (worker threads, each with its own run queue).

pub(crate) mod current_thread;
mod inject;
pub(crate) mod multi_thread;

use crate::blocking::BlockingPool;
use crate::reactor::{Driver, Reactor};
use crate::task::JoinHandle;
use crate::time::timers::Timers;
use std::future::Future;
use std::sync::Arc;
use std::task::Wake;
use std::thread::Thread;

/// Tunables, set through the runtime `Builder`.
#[derive(Clone, Copy, Debug)]
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
    pub(crate) blocking_keep_alive: std::time::Duration,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            event_interval: 61,
            global_queue_interval: 31,
            start_paused: false,
            max_blocking_threads: crate::blocking::DEFAULT_MAX_THREADS,
            blocking_keep_alive: crate::blocking::DEFAULT_KEEP_ALIVE,
        }
    }
}

/// What every runtime has besides its scheduler, whatever the flavor: the reactor (its shared
/// half), the timers and the blocking pool.
pub(crate) struct Drivers {
    pub(crate) reactor: Arc<Reactor>,
    pub(crate) timers: Timers,
    pub(crate) blocking: BlockingPool,
}

impl Drivers {
    /// Creates them for `config`; the reactor's `Driver` (the half that waits in `epoll_wait`)
    /// goes to the scheduler.
    pub(crate) fn new(config: &Config) -> std::io::Result<(Drivers, Driver)> {
        let (reactor, driver) = Reactor::new()?;
        let drivers = Drivers {
            reactor,
            timers: Timers::new(config.start_paused),
            blocking: BlockingPool::new(config.max_blocking_threads, config.blocking_keep_alive),
        };
        Ok((drivers, driver))
    }

    /// Runtime shutdown, once the tasks are cancelled: I/O that outlives the runtime fails,
    /// sleeps that outlive it panic when polled, and blocking jobs are waited for (at most
    /// `blocking_timeout`).
    pub(crate) fn shutdown(&self, blocking_timeout: Option<std::time::Duration>) {
        self.reactor.shutdown();
        self.timers.shutdown();
        self.blocking.shutdown(blocking_timeout);
    }
}

/// What the `Runtime` owns besides the handle: the parts only it may drive or shut down.
pub(crate) enum Scheduler {
    CurrentThread(current_thread::CurrentThread),
    MultiThread(multi_thread::MultiThread),
}

/// A cheap, cloneable reference to a runtime's scheduler, shared by every task it runs.
#[derive(Clone)]
pub(crate) enum Handle {
    CurrentThread(Arc<current_thread::Handle>),
    MultiThread(Arc<multi_thread::Handle>),
}

impl Handle {
    pub(crate) fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        match self {
            Handle::CurrentThread(handle) => handle.spawn(future),
            Handle::MultiThread(handle) => handle.spawn(future),
        }
    }

    /// The reactor, timers and blocking pool, which both flavors hold the same way.
    pub(crate) fn drivers(&self) -> &Drivers {
        match self {
            Handle::CurrentThread(handle) => &handle.drivers,
            Handle::MultiThread(handle) => &handle.drivers,
        }
    }

    pub(crate) fn reactor(&self) -> &Arc<Reactor> {
        &self.drivers().reactor
    }

    pub(crate) fn blocking(&self) -> &BlockingPool {
        &self.drivers().blocking
    }

    pub(crate) fn timers(&self) -> &Timers {
        &self.drivers().timers
    }

    /// A timer was armed or moved to `tick`: a thread blocked in `epoll_wait` until a later
    /// tick must wake up and recompute how long it may sleep.
    pub(crate) fn timer_armed(&self, tick: u64) {
        match self {
            Handle::CurrentThread(handle) => handle.wake_parked_from_elsewhere(),
            Handle::MultiThread(handle) => handle.timer_armed(tick),
        }
    }

    /// A blocking job ended: a current-thread runtime with paused time may be waiting for it
    /// before it lets the clock jump.
    pub(crate) fn blocking_job_done(&self) {
        match self {
            Handle::CurrentThread(handle) => handle.wake_parked_from_elsewhere(),
            // Paused time is current-thread only.
            Handle::MultiThread(_) => {}
        }
    }
}

/// Wakes a thread sleeping in `std::thread::park` (one waiting in `block_on`).
pub(crate) struct ThreadWaker(pub(crate) Thread);

impl Wake for ThreadWaker {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.unpark();
    }
}

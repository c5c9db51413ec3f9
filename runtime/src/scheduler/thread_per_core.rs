//! The thread-per-core scheduler: worker threads that share nothing on the hot path, each a
//! whole current-thread scheduler (`current_thread.rs`) with its own epoll instance, timers and
//! run queue.
//!
//! Work stealing balances load but makes every wake, spawn and park touch shared state; here a
//! task stays on the worker it was spawned on for its whole life, so the usual server (one
//! `SO_REUSEPORT` listener per worker, a task per connection) never crosses a core.
//!
//! # Where a task runs
//!
//! - `spawn` on a worker's thread queues the task on that worker (its local queue, no lock).
//!   From any other thread (the `block_on` thread, a blocking job, a foreign thread) it goes to
//!   the next worker in turn, through that worker's inject queue.
//! - `spawn_on(worker)` picks the worker; `spawn_local` works on every worker, since a task never
//!   moves.
//! - A waker called on another worker or thread queues the task on its own worker's inject queue
//!   and writes that worker's eventfd if it is parked (`current_thread.rs`, "Parking without lost
//!   wake-ups").
//!
//! # What is shared
//!
//! The blocking pool, the counters (one `SchedulerStats`, `workers[i]` written by worker `i`
//! only) and so the stall detector and metrics. Nothing else: an I/O object or a timer belongs
//! to the reactor and wheel of the worker it was created on (worker 0's, when created on a
//! thread that is no worker) and stays there; used from a task on another worker it still
//! works, each readiness crossing over through the inject queue.
//!
//! # Shutdown
//!
//! Each worker is told to stop (its `block_on` future returns), then cancels its own tasks on
//! its own thread (so `!Send` futures are dropped where they live), shuts its reactor and timers
//! and exits; the runtime joins the workers, then shuts the blocking pool. When the runtime is
//! dropped from a task on a worker, that worker cannot be waited for (it is the one dropping);
//! it shuts the blocking pool itself once it has cancelled its tasks, since a running blocking
//! job may wait for one of them or for its timers.

use super::blocking::{BlockingPool, JobOwner};
use super::current_core;
use super::current_thread::CurrentThread;
use super::stats::SchedulerStats;
use super::{Config, WorkerStarts, WORKER_THREAD};
use crate::task::{JoinHandle, SpawnSite};
use crate::time::timers::TimerDriver;
use crate::util::shuffle::Shuffle;
use crate::util::thread_waker::block_on_parked;
use parking_lot::Mutex;
use std::future::{poll_fn, Future};
use std::io;
use std::ptr;
use std::sync::atomic::Ordering::{Relaxed, SeqCst};
use std::sync::atomic::{AtomicBool, AtomicUsize};
use std::sync::Arc;
use std::task::{Poll, Wake};
use std::thread;
use std::time::Duration;

/// The scheduler, shared by every worker and by the runtime's handles.
pub(crate) struct ThreadPerCore {
    /// One current-thread scheduler per worker, driven by that worker's thread for its life.
    workers: Box<[Arc<CurrentThread>]>,
    /// The worker threads, joined at shutdown.
    threads: Mutex<Vec<thread::JoinHandle<()>>>,
    /// Set once, at shutdown: each worker's `block_on` future returns when it sees it.
    stopping: AtomicBool,
    /// The worker that the next spawn from outside the workers goes to (modulo their number).
    next_worker: AtomicUsize,
    blocking: Arc<BlockingPool>,
    /// Set when a worker's own task shut the runtime down: that worker shuts the blocking pool,
    /// with this timeout, after it has cancelled its tasks.
    blocking_shutdown_left_to_worker: Mutex<Option<Option<Duration>>>,
    pub(crate) stats: Arc<SchedulerStats>,
    /// Each worker's `Shuffle`, in worker order; empty with shuffle off.
    pub(super) shuffles: Box<[Arc<Shuffle>]>,
}

impl ThreadPerCore {
    /// Starts `workers` worker threads (worker `n` pinned to `cpus[n]` if given); each calls
    /// `enter` first and keeps what it returns until it exits.
    pub(crate) fn new<G: 'static>(
        config: Config,
        workers: usize,
        cpus: Option<Vec<usize>>,
        enter: impl Fn(&Arc<ThreadPerCore>) -> G + Send + Sync + 'static,
    ) -> io::Result<Arc<ThreadPerCore>> {
        let stats = Arc::new(SchedulerStats::new(workers, config.poll_time_histogram));
        let blocking = Arc::new(config.new_blocking_pool());
        let hooks = config.threads.clone();
        let workers = (0..workers)
            .map(|index| CurrentThread::new_worker(config.clone(), index, stats.clone(), blocking.clone()))
            .collect::<io::Result<Box<[_]>>>()?;
        let handle = Arc::new(ThreadPerCore {
            shuffles: workers
                .iter()
                .flat_map(|worker| worker.shuffles.iter().cloned())
                .collect(),
            threads: Mutex::new(Vec::with_capacity(workers.len())),
            workers,
            stopping: AtomicBool::new(false),
            next_worker: AtomicUsize::new(0),
            blocking,
            blocking_shutdown_left_to_worker: Mutex::new(None),
            stats,
        });
        let enter = Arc::new(enter);
        // Each worker says whether it started (pinned, if asked): a worker that did not would
        // silently keep its share of the tasks, which nothing else runs.
        let starts = WorkerStarts::new();
        for (index, worker) in handle.workers.iter().enumerate() {
            let (runtime, worker, enter, start) = (handle.clone(), worker.clone(), enter.clone(), starts.reporter());
            let cpu = cpus.as_ref().map(|cpus| cpus[index]);
            let body = move || {
                if !start(cpu) {
                    return;
                }
                let _entered = enter(&runtime);
                worker.block_on(poll_fn(|_| match runtime.stopping.load(SeqCst) {
                    true => Poll::Ready(()),
                    false => Poll::Pending,
                }));
                worker.cancel_tasks();
                worker.drivers.shutdown_io_and_timers();
                if let Some(timeout) = runtime.blocking_shutdown_left_to_worker.lock().take() {
                    runtime.blocking.shutdown(timeout);
                }
            };
            match hooks.spawn(WORKER_THREAD, body) {
                Ok(thread) => handle.threads.lock().push(thread),
                Err(error) => return Err(handle.stop_after_failed_start(error)),
            }
        }
        if let Err(error) = starts.wait(handle.workers.len()) {
            return Err(handle.stop_after_failed_start(error));
        }
        Ok(handle)
    }

    /// Stops the workers already started, then returns `error` to report.
    fn stop_after_failed_start(&self, error: io::Error) -> io::Error {
        self.shutdown(None);
        error
    }

    /// Runs `future` on this thread (not a worker), sleeping between polls; the workers run the
    /// tasks meanwhile. The caller has entered the runtime.
    pub(crate) fn block_on<F: Future>(&self, future: F) -> F::Output {
        block_on_parked(future)
    }

    /// Runtime shutdown (see "Shutdown" above). A worker dropping its own runtime (from a task)
    /// is not waited for: it stops when that task returns.
    pub(crate) fn shutdown(&self, blocking_timeout: Option<Duration>) {
        if self.stopping.swap(true, SeqCst) {
            // `shutdown_timeout` ran already; `Drop` must not wait for blocking jobs again.
            return;
        }
        // Wakes each worker's `block_on` future, which sees `stopping`.
        self.workers.iter().for_each(Wake::wake_by_ref);
        let current = thread::current().id();
        for worker in std::mem::take(&mut *self.threads.lock()) {
            if worker.thread().id() != current {
                // A worker only panics on a bug in mini; its tasks are cancelled anyway.
                let _ = worker.join();
            }
        }
        if self.worker_here().is_some() {
            // This worker still runs the task dropping the runtime: it shuts the pool once it
            // has cancelled its tasks (see "Shutdown" above).
            *self.blocking_shutdown_left_to_worker.lock() = Some(blocking_timeout);
        } else {
            self.blocking.shutdown(blocking_timeout);
        }
    }

    pub(crate) fn spawn<F>(&self, future: F, site: SpawnSite) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let worker = match self.worker_here() {
            Some(worker) => worker,
            None => &self.workers[self.next_worker.fetch_add(1, Relaxed) % self.workers.len()],
        };
        worker.spawn(future, site)
    }

    /// Spawns `future` on worker `index` (which the caller checked exists).
    pub(crate) fn spawn_on<F>(&self, index: usize, future: F, site: SpawnSite) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.workers[index].spawn(future, site)
    }

    /// The worker whose thread this is, if any.
    #[inline]
    pub(crate) fn worker_here(&self) -> Option<&Arc<CurrentThread>> {
        let (owner, index) = current_core::running();
        let worker = self.workers.get(index)?;
        ptr::eq(owner, Arc::as_ptr(worker).cast()).then_some(worker)
    }

    /// The worker whose thread this is, or worker 0 on any other thread: whose reactor, timers
    /// and blocking-job bookkeeping an I/O object, timer or job created here uses.
    pub(crate) fn worker_here_or_first(&self) -> &Arc<CurrentThread> {
        self.worker_here().unwrap_or(&self.workers[0])
    }

    pub(crate) fn workers(&self) -> &[Arc<CurrentThread>] {
        &self.workers
    }

    pub(crate) fn timer_driver(&self) -> Arc<dyn TimerDriver> {
        self.worker_here_or_first().clone()
    }

    pub(crate) fn job_owner(&self) -> Arc<dyn JobOwner> {
        self.worker_here_or_first().clone()
    }
}

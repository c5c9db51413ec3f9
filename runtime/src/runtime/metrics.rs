//! `RuntimeMetrics`: what a running runtime has done and is doing, read from any thread.
//!
//! Stable and always on (no cfg flag), with tokio's names where tokio has the metric, so that
//! dashboards port. Each read sums or copies counters that their owners write with plain
//! stores (`scheduler/stats.rs`); nothing here slows the runtime down, and nothing here waits
//! for a blocked worker.

use crate::scheduler::Scheduler;
use std::fmt;
use std::ops::Range;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

/// A handle to a runtime's metrics, from [`Handle::metrics`](super::Handle::metrics) or
/// [`Runtime::metrics`](super::Runtime::metrics). Cheap to clone; it keeps the runtime's shared
/// state alive, not the runtime (after shutdown the figures stop moving).
///
/// Worker `n` is the `n`th worker thread of a multi-threaded or thread-per-core runtime, or
/// (worker 0) the thread inside `block_on` of a current-thread one. Methods that take a worker panic if it is not
/// below [`num_workers`](RuntimeMetrics::num_workers).
///
/// ```
/// let rt = mini_runtime::runtime::Builder::new_multi_thread().worker_threads(2).build().unwrap();
/// rt.block_on(async {
///     for _ in 0..100 {
///         mini_runtime::spawn(async {}).await.unwrap();
///     }
/// });
/// let metrics = rt.metrics();
/// assert_eq!(metrics.num_workers(), 2);
/// assert_eq!(metrics.spawned_tasks_count(), 100);
/// let polls: u64 = (0..2).map(|worker| metrics.worker_poll_count(worker)).sum();
/// assert!(polls >= 100);
/// ```
#[derive(Clone)]
pub struct RuntimeMetrics {
    scheduler: Scheduler,
}

impl RuntimeMetrics {
    pub(crate) fn new(scheduler: Scheduler) -> RuntimeMetrics {
        RuntimeMetrics { scheduler }
    }

    fn worker(&self, worker: usize) -> crate::scheduler::stats::WorkerSnapshot {
        self.worker_stats(worker).snapshot()
    }

    fn worker_stats(&self, worker: usize) -> &crate::scheduler::stats::WorkerStats {
        let workers = &self.scheduler.stats().workers;
        workers.get(worker).unwrap_or_else(|| {
            panic!(
                "worker {worker} out of range: this runtime has {} worker(s)",
                workers.len()
            )
        })
    }

    /// How many workers run tasks: the worker threads, or 1 for a current-thread runtime.
    pub fn num_workers(&self) -> usize {
        self.scheduler.stats().workers.len()
    }

    /// Tasks spawned and not yet completed (blocking jobs are not counted). A task leaves the
    /// count just after its `JoinHandle` learns that it completed, as in tokio: on a
    /// multi-threaded runtime it may still be counted for a moment after it was awaited.
    pub fn num_alive_tasks(&self) -> usize {
        self.scheduler.task_counts().0
    }

    /// Tasks ever spawned on this runtime (blocking jobs are not counted).
    pub fn spawned_tasks_count(&self) -> u64 {
        self.scheduler.task_counts().1
    }

    /// Tasks waiting in the global (inject) queue: spawned or woken from outside the runtime's
    /// threads, or moved there when a worker's queue overflowed.
    pub fn global_queue_depth(&self) -> usize {
        self.scheduler.inject_counts().0
    }

    /// Tasks ever spawned or woken from outside the runtime's threads (queued on the global queue;
    /// on a thread-per-core runtime, from outside the task's own worker, other workers included).
    pub fn remote_schedule_count(&self) -> u64 {
        self.scheduler.inject_counts().1
    }

    /// Polls that were made to return `Pending` because the task spent its cooperative budget
    /// (see [`task::consume_budget`](crate::task::consume_budget)).
    pub fn budget_forced_yield_count(&self) -> u64 {
        (0..self.num_workers())
            .map(|worker| self.worker(worker).forced_yield_count)
            .sum()
    }

    /// How many times the worker parked (went to sleep with nothing to run).
    pub fn worker_park_count(&self, worker: usize) -> u64 {
        self.worker(worker).park_count
    }

    /// How many times the worker parked plus how many times it unparked, as tokio counts it
    /// (odd while it sleeps).
    pub fn worker_park_unpark_count(&self, worker: usize) -> u64 {
        let snapshot = self.worker(worker);
        snapshot.park_count + snapshot.unpark_count
    }

    /// How many times the worker woke up and parked again without polling a task.
    pub fn worker_noop_count(&self, worker: usize) -> u64 {
        self.worker(worker).noop_count
    }

    /// Tasks the worker stole from other workers' queues.
    pub fn worker_steal_count(&self, worker: usize) -> u64 {
        self.worker(worker).steal_count
    }

    /// Steals the worker made (each takes one or more tasks).
    pub fn worker_steal_operations(&self, worker: usize) -> u64 {
        self.worker(worker).steal_operations
    }

    /// Polls of tasks the worker started (one in progress included).
    pub fn worker_poll_count(&self, worker: usize) -> u64 {
        self.worker(worker).polls
    }

    /// Time the worker spent awake (running tasks and checking the reactor), up to its last
    /// park.
    pub fn worker_total_busy_duration(&self, worker: usize) -> Duration {
        self.worker(worker).busy
    }

    /// Tasks spawned or woken on the worker's own thread (queued locally).
    pub fn worker_local_schedule_count(&self, worker: usize) -> u64 {
        self.worker(worker).local_schedule_count
    }

    /// How many times the worker's local queue overflowed, moving half of it to the global
    /// queue.
    pub fn worker_overflow_count(&self, worker: usize) -> u64 {
        self.worker(worker).overflow_count
    }

    /// Tasks waiting in the worker's local queue (current-thread: as of its last reactor turn,
    /// since only its own thread can read the queue).
    pub fn worker_local_queue_depth(&self, worker: usize) -> usize {
        self.worker_stats(worker);
        self.scheduler.local_queue_depth(worker)
    }

    /// A moving average of the time the worker spends per poll, from each busy stretch's time
    /// divided by its polls (so it includes the reactor turns in between). Zero until the
    /// worker has polled and parked once.
    pub fn worker_mean_poll_time(&self, worker: usize) -> Duration {
        self.worker(worker).mean_poll_time
    }

    /// fds ever registered with the reactor (each socket, pipe, pidfd, signal fd …).
    pub fn io_driver_fd_registered_count(&self) -> u64 {
        self.sum_over_drivers(|drivers| drivers.reactor.counts().registered)
    }

    /// fds ever deregistered from the reactor.
    pub fn io_driver_fd_deregistered_count(&self) -> u64 {
        self.sum_over_drivers(|drivers| drivers.reactor.counts().deregistered)
    }

    /// Readiness events the reactor delivered to registered fds.
    pub fn io_driver_ready_count(&self) -> u64 {
        self.sum_over_drivers(|drivers| drivers.reactor.counts().ready)
    }

    /// Timers (sleeps, timeouts, intervals) armed and not yet fired.
    pub fn num_armed_timers(&self) -> usize {
        self.sum_over_drivers(|drivers| drivers.timers.armed_count() as u64) as usize
    }

    /// The sum of `count` over the runtime's reactors and timer wheels (a thread-per-core
    /// runtime has one of each per worker).
    fn sum_over_drivers(&self, count: impl Fn(&crate::scheduler::Drivers) -> u64) -> u64 {
        let mut sum = 0;
        self.scheduler.for_each_drivers(|drivers| sum += count(drivers));
        sum
    }

    /// Threads in the blocking pool (running a job or idle).
    pub fn num_blocking_threads(&self) -> usize {
        self.scheduler.drivers().blocking.counts().0
    }

    /// Blocking-pool threads waiting for a job.
    pub fn num_idle_blocking_threads(&self) -> usize {
        self.scheduler.drivers().blocking.counts().1
    }

    /// Jobs waiting for a blocking-pool thread.
    pub fn blocking_queue_depth(&self) -> usize {
        self.scheduler.drivers().blocking.counts().2
    }

    /// Stalls the stall detector reported (polls that ran longer than its threshold).
    pub fn stall_count(&self) -> u64 {
        self.scheduler.stats().stall_count.load(Relaxed)
    }

    /// Whether the poll-time histogram is on
    /// ([`Builder::enable_poll_time_histogram`](super::Builder::enable_poll_time_histogram)).
    pub fn poll_time_histogram_enabled(&self) -> bool {
        self.scheduler.stats().histogram().is_some()
    }

    /// How many buckets the poll-time histogram has (0 when it is off).
    pub fn poll_time_histogram_num_buckets(&self) -> usize {
        self.scheduler.stats().histogram().map_or(0, |config| config.buckets)
    }

    /// The poll times that bucket `bucket` counts; the last bucket's range ends at
    /// `Duration::MAX`.
    ///
    /// # Panics
    /// If the histogram is off or `bucket` is not below `poll_time_histogram_num_buckets`.
    pub fn poll_time_histogram_bucket_range(&self, bucket: usize) -> Range<Duration> {
        let config = self
            .scheduler
            .stats()
            .histogram()
            .expect("the poll-time histogram is off: turn it on with `Builder::enable_poll_time_histogram`");
        config.bucket_range(bucket)
    }

    /// Polls of `worker` whose time fell in `bucket` (0 when the histogram is off).
    pub fn poll_time_histogram_bucket_count(&self, worker: usize, bucket: usize) -> u64 {
        self.worker_stats(worker).histogram_count(bucket)
    }
}

impl fmt::Debug for RuntimeMetrics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RuntimeMetrics")
            .field("num_workers", &self.num_workers())
            .field("num_alive_tasks", &self.num_alive_tasks())
            .field("spawned_tasks_count", &self.spawned_tasks_count())
            .finish_non_exhaustive()
    }
}

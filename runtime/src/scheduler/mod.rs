//! Schedulers: who runs tasks, on which threads, in which order.
//!
//! A runtime's [`Scheduler`] is one of three flavors: the current-thread scheduler (every task on
//! the thread in `block_on`), the work-stealing multi-threaded one (worker threads, each with
//! its own run queue, sharing one reactor) and the thread-per-core one (worker threads, each a
//! current-thread scheduler of its own). Each holds [`Drivers`] (reactor, timers, blocking pool):
//! one set, or thread-per-core one per worker with the pool shared. Two
//! more schedulers run tasks inside a runtime: the blocking pool (`blocking.rs`, closures on
//! threads of their own) and `LocalSet` (`local_set.rs`, `!Send` tasks inside one future).
//!
//! Every decision that depends on the flavor is in this file: what every flavor does alike goes
//! through `each_flavor!` (a new flavor is one line there), what only some do is a `match`. The
//! flavors know nothing of each other, nor of the thread-local "current runtime" (`context.rs`,
//! one floor up), which the caller enters before it drives a scheduler.

pub(crate) mod blocking;
mod burst_queue;
mod config;
pub(crate) mod current_core;
mod current_thread;
mod drivers;
mod inject;
pub(crate) mod local_set;
mod multi_thread;
pub(crate) mod stall_report;
pub(crate) mod stats;
mod task_queue;
mod thread_hooks;
mod thread_per_core;
pub(crate) mod watchdog;

pub(crate) use config::{Config, ShuffleConfig, WorkerStarts};
pub(crate) use drivers::Drivers;
use stats::SchedulerStats;
pub(crate) use thread_hooks::WORKER_THREAD;

use self::blocking::JobOwner;
use self::current_thread::CurrentThread;
use self::multi_thread::MultiThread;
use self::thread_per_core::ThreadPerCore;
use crate::task::{Header, JoinHandle, SpawnSite};
use crate::time::timers::TimerDriver;
use std::future::Future;
use std::io;
use std::sync::Arc;
use std::time::Duration;

/// A runtime's scheduler: the cheap, cloneable handle that every task, waker and thread of the
/// runtime shares, and that the `Runtime` drives and shuts down. One variant per flavor.
#[derive(Clone)]
pub(crate) enum Scheduler {
    CurrentThread(Arc<CurrentThread>),
    MultiThread(Arc<MultiThread>),
    ThreadPerCore(Arc<ThreadPerCore>),
}

/// Why `spawn_local` cannot spawn on a runtime.
pub(crate) enum SpawnLocalError {
    /// The runtime is multi-threaded: its tasks move between threads.
    MultiThread,
    /// This thread is not inside the runtime's `block_on`.
    NotOnRuntimeThread,
}

/// Readies this thread to block in `block_in_place`: a multi-threaded worker gives its core to
/// a new thread (`MultiThread::hand_off_core`). `false` if the thread runs a scheduler's tasks
/// that cannot move (a current-thread runtime's, a thread-per-core worker's), which blocking it
/// would stop.
pub(crate) fn prepare_to_block() -> bool {
    // No core here (a blocking job, the thread inside a multi-threaded runtime's `block_on`, a
    // thread of the user's): blocking stops nothing.
    current_core::running().0.is_null() || multi_thread::hand_off_this_worker()
}

/// Runs `$body` with `$flavor` bound to the scheduler, whichever its flavor (each flavor has the
/// methods and trait impls the body uses).
macro_rules! each_flavor {
    ($scheduler:expr, $flavor:ident => $body:expr) => {
        match $scheduler {
            Scheduler::CurrentThread($flavor) => $body,
            Scheduler::MultiThread($flavor) => $body,
            Scheduler::ThreadPerCore($flavor) => $body,
        }
    };
}

impl Scheduler {
    pub(crate) fn new_current_thread(config: Config) -> io::Result<Scheduler> {
        Ok(Scheduler::CurrentThread(CurrentThread::new(config)?))
    }

    /// Starts a runtime with `workers` worker threads, multi-threaded or thread-per-core
    /// (worker `n` pinned to `cpus[n]` if given); each calls `enter` with the new scheduler
    /// first and keeps what it returns until it exits.
    pub(crate) fn new_with_workers<G: 'static>(
        per_core: bool,
        config: Config,
        workers: usize,
        cpus: Option<Vec<usize>>,
        enter: impl Fn(Scheduler) -> G + Send + Sync + 'static,
    ) -> io::Result<Scheduler> {
        Ok(if per_core {
            let enter = move |scheduler: &Arc<ThreadPerCore>| enter(Scheduler::ThreadPerCore(scheduler.clone()));
            Scheduler::ThreadPerCore(ThreadPerCore::new(config, workers, cpus, enter)?)
        } else {
            let enter = move |scheduler: &Arc<MultiThread>| enter(Scheduler::MultiThread(scheduler.clone()));
            Scheduler::MultiThread(MultiThread::new(config, workers, cpus, enter)?)
        })
    }

    /// Runs `future` to completion on this thread. The caller has entered the runtime.
    pub(crate) fn block_on<F: Future>(&self, future: F) -> F::Output {
        each_flavor!(self, scheduler => scheduler.block_on(future))
    }

    /// Cancels every task, then shuts the drivers down. The caller has entered the runtime.
    pub(crate) fn shutdown(&self, blocking_timeout: Option<Duration>) {
        each_flavor!(self, scheduler => scheduler.shutdown(blocking_timeout))
    }

    pub(crate) fn spawn<F>(&self, future: F, site: SpawnSite) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        each_flavor!(self, scheduler => scheduler.spawn(future, site))
    }

    /// Spawns `future` on worker `worker` (a thread-per-core runtime's; the other flavors have
    /// one queue for all their workers, and spawn as `spawn` does).
    ///
    /// # Panics
    /// If the runtime has no worker `worker`.
    pub(crate) fn spawn_on<F>(&self, worker: usize, future: F, site: SpawnSite) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let workers = self.stats().workers.len();
        assert!(
            worker < workers,
            "`spawn_on`: there is no worker {worker}: this runtime has {workers} (see `RuntimeMetrics::num_workers`)"
        );
        match self {
            Scheduler::ThreadPerCore(scheduler) => scheduler.spawn_on(worker, future, site),
            _ => self.spawn(future, site),
        }
    }

    /// Spawns a `!Send` future, if this thread is the one inside this runtime's `block_on`, or
    /// a thread-per-core runtime's worker (the only places its tasks are polled).
    pub(crate) fn spawn_local<F>(&self, future: F, site: SpawnSite) -> Result<JoinHandle<F::Output>, SpawnLocalError>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        match self {
            Scheduler::CurrentThread(scheduler) if scheduler.is_current() => Ok(scheduler.spawn_local(future, site)),
            Scheduler::CurrentThread(_) => Err(SpawnLocalError::NotOnRuntimeThread),
            Scheduler::MultiThread(_) => Err(SpawnLocalError::MultiThread),
            Scheduler::ThreadPerCore(scheduler) => match scheduler.worker_here() {
                Some(worker) => Ok(worker.spawn_local(future, site)),
                None => Err(SpawnLocalError::NotOnRuntimeThread),
            },
        }
    }

    /// The reactor, timers and blocking pool that I/O objects, timers and blocking jobs created
    /// on this thread use: the runtime's, or a thread-per-core runtime's worker's (worker 0's on
    /// a thread that is no worker).
    pub(crate) fn drivers(&self) -> &Drivers {
        match self {
            Scheduler::CurrentThread(scheduler) => &scheduler.drivers,
            Scheduler::MultiThread(scheduler) => &scheduler.drivers,
            Scheduler::ThreadPerCore(scheduler) => &scheduler.worker_here_or_first().drivers,
        }
    }

    /// Calls `f` with every set of drivers of the runtime (one per worker on thread-per-core).
    pub(crate) fn for_each_drivers(&self, mut f: impl FnMut(&Drivers)) {
        match self {
            Scheduler::CurrentThread(scheduler) => f(&scheduler.drivers),
            Scheduler::MultiThread(scheduler) => f(&scheduler.drivers),
            Scheduler::ThreadPerCore(scheduler) => scheduler.workers().iter().for_each(|worker| f(&worker.drivers)),
        }
    }

    /// Each worker's `Shuffle`, in worker order; empty with shuffle off.
    pub(crate) fn shuffles(&self) -> &[Arc<crate::util::shuffle::Shuffle>] {
        each_flavor!(self, scheduler => &scheduler.shuffles)
    }

    /// Every worker's counters, for metrics and the stall detector.
    pub(crate) fn stats(&self) -> &SchedulerStats {
        each_flavor!(self, scheduler => &scheduler.stats)
    }

    /// Calls `f` with the header of every task the runtime owns (see `OwnedTasks::for_each_header`).
    pub(crate) fn for_each_task(&self, mut f: impl FnMut(&Header)) {
        match self {
            Scheduler::CurrentThread(scheduler) => scheduler.owned.for_each_header(f),
            Scheduler::MultiThread(scheduler) => scheduler.owned.for_each_header(f),
            Scheduler::ThreadPerCore(scheduler) => {
                (scheduler.workers().iter()).for_each(|worker| worker.owned.for_each_header(&mut f))
            }
        }
    }

    /// How many tasks are alive, and how many were ever spawned (blocking jobs not counted).
    pub(crate) fn task_counts(&self) -> (usize, u64) {
        match self {
            Scheduler::CurrentThread(scheduler) => scheduler.owned.counts(),
            Scheduler::MultiThread(scheduler) => scheduler.owned.counts(),
            Scheduler::ThreadPerCore(scheduler) => (scheduler.workers().iter())
                .map(|worker| worker.owned.counts())
                .fold((0, 0), |(alive, spawned), (a, s)| (alive + a, spawned + s)),
        }
    }

    /// How many tasks wait in the inject queue (or queues), and how many were ever queued there
    /// from outside the runtime's threads (from outside their worker's, on thread-per-core).
    pub(crate) fn inject_counts(&self) -> (usize, u64) {
        match self {
            Scheduler::CurrentThread(scheduler) => (scheduler.inject.len(), scheduler.inject.remote_pushes()),
            Scheduler::MultiThread(scheduler) => (scheduler.inject.len(), scheduler.inject.remote_pushes()),
            Scheduler::ThreadPerCore(scheduler) => (scheduler.workers().iter())
                .map(|worker| (worker.inject.len(), worker.inject.remote_pushes()))
                .fold((0, 0), |(len, pushes), (l, p)| (len + l, pushes + p)),
        }
    }

    /// How many tasks wait in `worker`'s local queue.
    pub(crate) fn local_queue_depth(&self, worker: usize) -> usize {
        match self {
            Scheduler::MultiThread(scheduler) => scheduler.local_queue_depth(worker),
            _ => self.stats().workers[worker].recorded_local_queue_depth(),
        }
    }

    /// What a timer holds: the timers and how to wake the thread parked on them.
    pub(crate) fn timer_driver(&self) -> Arc<dyn TimerDriver> {
        match self {
            Scheduler::CurrentThread(scheduler) => scheduler.clone(),
            Scheduler::MultiThread(scheduler) => scheduler.clone(),
            Scheduler::ThreadPerCore(scheduler) => scheduler.timer_driver(),
        }
    }

    /// What a blocking job tells when it is done.
    pub(crate) fn job_owner(&self) -> Arc<dyn JobOwner> {
        match self {
            Scheduler::CurrentThread(scheduler) => scheduler.clone(),
            Scheduler::MultiThread(scheduler) => scheduler.clone(),
            Scheduler::ThreadPerCore(scheduler) => scheduler.job_owner(),
        }
    }

    /// Called when the stall detector's thread starts: it will call `hand_off_if_unattended`
    /// once per sample (see `multi_thread/mod.rs`, "The reactor is never left unattended").
    pub(crate) fn watch_reactor(&self) {
        if let Scheduler::MultiThread(scheduler) = self {
            scheduler.watch_reactor();
        }
    }

    /// The stall detector's sample for the reactor: wakes a sleeping worker to take over a
    /// reactor that nobody turned since the last sample (multi-thread; the other flavors turn
    /// their reactors on their own threads). Takes and returns the turn count.
    pub(crate) fn hand_off_if_unattended(&self, turns_at_last_sample: u64) -> u64 {
        match self {
            Scheduler::MultiThread(scheduler) => scheduler.hand_off_if_unattended(turns_at_last_sample),
            _ => 0,
        }
    }

    /// Whether the clock may be paused: only with every task on one thread is there a moment
    /// when "every task is idle" is known.
    pub(crate) fn supports_paused_time(&self) -> bool {
        matches!(self, Scheduler::CurrentThread(_))
    }

    pub(crate) fn flavor_name(&self) -> &'static str {
        match self {
            Scheduler::CurrentThread(_) => "current_thread",
            Scheduler::MultiThread(_) => "multi_thread",
            Scheduler::ThreadPerCore(_) => "thread_per_core",
        }
    }
}

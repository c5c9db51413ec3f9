//! The multi-threaded scheduler: worker threads that each run tasks from their own queue and
//! steal from one another when theirs runs dry.
//!
//! # Queues and who touches them
//!
//! - `lifo_slot` (a worker's `Core`): the task most recently woken or spawned by the task running
//!   on that worker; it runs next, while its data is still in cache (message passing). Only the
//!   owner touches it, and it is not stolen. At most `MAX_LIFO_POLLS` in a row run from it, so
//!   two tasks waking each other cannot starve the rest of the queue.
//! - `run_queue` (a worker's `Core`, `queue.rs`): a 256-slot ring. The owner pushes and pops
//!   without locks; idle workers steal half of it through `Remote::steal`. When full, half of it
//!   moves to `inject`.
//! - `inject` (shared): tasks spawned or woken outside any worker (the `block_on` thread, a
//!   blocking job, a foreign thread), and overflow. Workers take a batch from it when their own
//!   queue is empty, and check it first every `global_queue_interval` ticks.
//!
//! # Parking
//!
//! A worker with nothing queued becomes *searching* (at most half of them at once, `idle.rs`)
//! and tries to steal from every other worker, starting at a random one, then from `inject`.
//! Finding nothing, it parks (`park.rs`): the first to find the reactor's driver free blocks in
//! `epoll_wait` for I/O and timers; the others sleep on their condvar. New work wakes at most one
//! sleeper, and only when no worker is searching already (no thundering herd); a searching worker
//! that finds work wakes the next one, so the search goes on while there may be work left.
//!
//! # The reactor is never left unattended
//!
//! - A worker that comes back from `epoll_wait` with tasks to run while every other worker
//!   sleeps releases the driver. If one of its polls then runs long, a sleeper is woken to take
//!   the driver over (a worker that is awake takes it when it parks), so one task that runs long
//!   never stalls the I/O and timers of the others for good (in tokio the driver stays
//!   unattended until that worker parks again: tokio#4730). The stall detector's thread,
//!   which samples the workers anyway, does the waking (`hand_off_if_unattended`): when the
//!   reactor was not turned for a whole sample period and no worker waits in it. So the usual
//!   short batch of polls costs no wake-up at all, where waking a sleeper at once cost a futex
//!   wake and two extra sleeps per reactor turn. With the detector off, the worker leaving the
//!   reactor wakes a sleeper at once, as before.
//! - New work wakes a condvar sleeper rather than the worker in `epoll_wait`, when there is one.
//! - A parker that finds the driver held by a busy worker's non-blocking check (not by a
//!   parked worker) waits for it instead of sleeping on its condvar.
//! - Busy workers check the reactor without blocking every `event_interval` polls, so sockets
//!   are served even when no worker ever parks.
//!
//! A waker that panics while the reactor or the timers wake tasks (a foreign executor's) is
//! contained: every other waker is still woken, and the worker goes on.

mod idle;
#[cfg(all(test, loom))]
mod loom_models;
mod park;
mod queue;
mod worker;

pub(crate) use worker::hand_off_this_worker;

use self::idle::Idle;
use self::park::Parker;
use super::blocking::JobOwner;
use super::inject::Inject;
use super::stats::SchedulerStats;
use super::{Config, Drivers};
use crate::loom::AtomicU64;
use crate::reactor::Driver;
use crate::task::OwnedTasks;
use crate::time::timers::{TimerDriver, Timers};
use crate::util::shuffle::Shuffle;
use crate::util::thread_waker::block_on_parked;
use parking_lot::Mutex;
use std::future::Future;
use std::sync::atomic::Ordering::{Relaxed, SeqCst};
use std::sync::atomic::{AtomicBool, AtomicUsize};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

/// `driver_wake_tick` when no worker is blocked in the driver: no timer tick is below it.
const NOBODY_IN_DRIVER: u64 = 0;
/// `driver_holder` when no worker is parked in the driver.
const NO_WORKER: usize = usize::MAX;

/// The scheduler, shared by every task, waker and worker of the runtime.
pub(crate) struct MultiThread {
    /// The worker threads, joined at shutdown.
    threads: Mutex<Vec<thread::JoinHandle<()>>>,
    /// One per worker: how others steal from it and wake it.
    remotes: Box<[Remote]>,
    pub(super) inject: Inject<Arc<MultiThread>>,
    idle: Idle,
    pub(super) owned: OwnedTasks<Arc<MultiThread>>,
    /// Whoever holds this lock may turn the reactor: a parking worker blocks in it, a busy one
    /// checks it without blocking.
    driver: Mutex<Driver>,
    /// The wheel tick at which the worker blocked in the driver wakes by itself: `u64::MAX` if
    /// it waits without a timeout, `NOBODY_IN_DRIVER` if no worker is blocked there (then a
    /// timer armed is seen by the next park); see `Timers::park_timeout_announced`.
    driver_wake_tick: AtomicU64,
    /// The index of the worker parked in the driver, `NO_WORKER` if none. Notifiers wake another
    /// sleeper first, and a parker that finds the driver briefly taken by a busy worker's
    /// non-blocking check waits for it instead of sleeping on its condvar.
    driver_holder: AtomicUsize,
    /// Reactor turns so far, written by whoever holds the driver: the watchdog tells an
    /// unattended reactor by this not moving.
    reactor_turns: AtomicU64,
    /// Set when the stall detector's thread watches the reactor (`hand_off_if_unattended`);
    /// otherwise a worker leaving the reactor with tasks wakes a sleeper at once.
    reactor_watched: AtomicBool,
    is_shutdown: AtomicBool,
    pub(crate) drivers: Drivers,
    /// One `WorkerStats` per worker, written by that worker only.
    pub(crate) stats: SchedulerStats,
    /// Each worker's `Shuffle` (empty with shuffle off), for `Handle::schedule_hash`.
    pub(super) shuffles: Box<[Arc<Shuffle>]>,
    /// How a worker thread starts (besides `config.threads`): the CPU of each worker (if
    /// pinned), and what it enters first; kept for the threads `block_in_place` starts.
    cpus: Option<Vec<usize>>,
    enter: EnterWorker,
    config: Config,
}

/// What a worker thread calls first, keeping what it returns (its hold on the thread's
/// context) until it exits.
type EnterWorker = Box<dyn Fn(&Arc<MultiThread>) -> Box<dyn std::any::Any> + Send + Sync>;

struct Remote {
    steal: queue::Steal<Arc<MultiThread>>,
    parker: Parker,
}

impl MultiThread {
    /// Runs `future` on this thread (not a worker), sleeping between polls; the workers run the
    /// tasks meanwhile. The caller has entered the runtime.
    pub(crate) fn block_on<F: Future>(&self, future: F) -> F::Output {
        block_on_parked(future)
    }

    /// Runtime shutdown (the caller has entered the runtime): stops and joins the workers, then
    /// cancels every task (dropping its future on this thread), drops every queued task and
    /// fails every I/O registration.
    pub(crate) fn shutdown(&self, blocking_timeout: Option<Duration>) {
        if self.is_shutdown.swap(true, SeqCst) {
            // `shutdown_timeout` ran already; `Drop` must not wait for blocking jobs again.
            return;
        }
        for remote in self.remotes.iter() {
            remote.parker.unpark(&self.drivers.reactor);
        }
        let current = thread::current().id();
        for worker in std::mem::take(&mut *self.threads.lock()) {
            // A worker dropping its own runtime (from a task) cannot wait for itself; it stops
            // when that task returns.
            if worker.thread().id() != current {
                // A worker only panics on a bug in mini; its tasks are cancelled below anyway.
                let _ = worker.join();
            }
        }
        for task in self.owned.close_and_drain() {
            task.shutdown();
        }
        // Dropping queued tasks can drop outputs, whose Drop can wake or spawn: repeat until dry.
        while !self.inject.close().is_empty() {}
        self.drivers.shutdown(blocking_timeout);
    }

    /// Wakes one sleeping worker, unless one is searching already (it will find the work).
    fn notify_parked(&self) {
        let driver_holder = self.driver_holder.load(SeqCst);
        if let Some(index) = self.idle.worker_to_notify(driver_holder) {
            self.remotes[index].parker.unpark(&self.drivers.reactor);
        }
    }

    /// Called by the stall detector's thread once per sample, with what this returned the last
    /// time (start with 0): if no worker waits in the reactor and it was not turned since,
    /// wakes a sleeper to take it over. Returns the turn count to pass next time.
    pub(crate) fn hand_off_if_unattended(&self, turns_at_last_sample: u64) -> u64 {
        let turns = self.reactor_turns.load(Relaxed);
        if turns == turns_at_last_sample && self.driver_holder.load(SeqCst) == NO_WORKER {
            self.notify_parked();
        }
        turns
    }

    /// From now on the stall detector's thread calls `hand_off_if_unattended`.
    pub(crate) fn watch_reactor(&self) {
        self.reactor_watched.store(true, Relaxed);
    }

    /// Counts a reactor turn; called with the driver held.
    fn count_reactor_turn(&self) {
        self.reactor_turns.store(self.reactor_turns.load(Relaxed) + 1, Relaxed);
    }

    /// Called by the last searcher before it sleeps: if any queue still holds work, wake a
    /// worker for it (see `idle.rs`, "No lost wake-ups").
    fn notify_if_work_pending(&self) {
        if self.remotes.iter().any(|remote| !remote.steal.is_empty()) || !self.inject.is_empty() {
            self.notify_parked();
        }
    }

    /// How many tasks wait in `worker`'s run queue (not counting its LIFO slot).
    pub(crate) fn local_queue_depth(&self, worker: usize) -> usize {
        self.remotes[worker].steal.len()
    }

    fn is_shutdown(&self) -> bool {
        self.is_shutdown.load(SeqCst)
    }
}

impl TimerDriver for MultiThread {
    fn timers(&self) -> &Timers {
        &self.drivers.timers
    }

    /// Wakes the worker blocked in `epoll_wait` if it would sleep past `tick`.
    fn timer_armed(&self, tick: u64) {
        if Timers::is_before_announced(tick, &self.driver_wake_tick) {
            self.drivers.reactor.unpark();
        }
    }
}

impl JobOwner for MultiThread {
    /// Nothing waits for it: paused time, which does, is current-thread only.
    fn blocking_job_done(&self) {}
}

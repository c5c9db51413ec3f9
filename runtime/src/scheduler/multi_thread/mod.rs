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
//!   sleeps releases the driver and wakes one of them, which takes the driver over (a worker
//!   that is awake takes it when it parks). One task that runs long therefore never
//!   stalls the I/O and timers of the others (in tokio the driver stays unattended until that
//!   worker parks again: tokio#4730).
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

use self::idle::Idle;
use self::park::Parker;
use super::inject::Inject;
use super::{Config, Drivers, ThreadWaker};
use crate::context;
use crate::loom::AtomicU64;
use crate::reactor::Driver;
use crate::runtime::ThreadHooks;
use crate::task::{self, JoinHandle, Notified, OwnedTasks, Schedule, Task};
use crate::time::timers::Timers;
use parking_lot::Mutex;
use std::future::Future;
use std::io;
use std::sync::atomic::Ordering::SeqCst;
use std::sync::atomic::{AtomicBool, AtomicUsize};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::thread;
use std::time::Duration;

/// `driver_wake_tick` when no worker is blocked in the driver: no timer tick is below it.
const NOBODY_IN_DRIVER: u64 = 0;
/// `driver_holder` when no worker is parked in the driver.
const NO_WORKER: usize = usize::MAX;

/// What the `Runtime` owns: the worker threads, joined at shutdown.
pub(crate) struct MultiThread {
    workers: Mutex<Vec<thread::JoinHandle<()>>>,
}

/// What every task, waker and worker shares.
pub(crate) struct Handle {
    shared: Shared,
    pub(crate) drivers: Drivers,
    config: Config,
}

struct Shared {
    /// One per worker: how others steal from it and wake it.
    remotes: Box<[Remote]>,
    inject: Inject<Arc<Handle>>,
    idle: Idle,
    owned: OwnedTasks<Arc<Handle>>,
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
    is_shutdown: AtomicBool,
}

struct Remote {
    steal: queue::Steal<Arc<Handle>>,
    parker: Parker,
}

impl MultiThread {
    pub(crate) fn new(config: Config, workers: usize, hooks: ThreadHooks) -> io::Result<(MultiThread, Arc<Handle>)> {
        let (drivers, driver) = Drivers::new(&config)?;
        let mut cores = Vec::with_capacity(workers);
        let mut remotes = Vec::with_capacity(workers);
        for index in 0..workers {
            let (run_queue, steal) = queue::local();
            cores.push(worker::Core::new(index, run_queue));
            remotes.push(Remote {
                steal,
                parker: Parker::new(),
            });
        }
        let handle = Arc::new(Handle {
            shared: Shared {
                remotes: remotes.into_boxed_slice(),
                inject: Inject::new(),
                idle: Idle::new(workers),
                owned: OwnedTasks::new(),
                driver: Mutex::new(driver),
                driver_wake_tick: AtomicU64::new(NOBODY_IN_DRIVER),
                driver_holder: AtomicUsize::new(NO_WORKER),
                is_shutdown: AtomicBool::new(false),
            },
            drivers,
            config,
        });
        let scheduler = MultiThread {
            workers: Mutex::new(Vec::with_capacity(workers)),
        };
        for core in cores {
            let worker_handle = handle.clone();
            match hooks.spawn(move || worker::run(worker_handle, core)) {
                Ok(thread) => scheduler.workers.lock().push(thread),
                Err(error) => {
                    // Stop the workers already started before reporting.
                    scheduler.shutdown(&handle, None);
                    return Err(error);
                }
            }
        }
        Ok((scheduler, handle))
    }

    /// Runs `future` on this thread (not a worker), sleeping between polls; the workers run the
    /// tasks meanwhile.
    pub(crate) fn block_on<F: Future>(&self, handle: &Arc<Handle>, future: F) -> F::Output {
        let _runtime = context::enter_runtime(super::Handle::MultiThread(handle.clone()));
        let waker = Waker::from(Arc::new(ThreadWaker(thread::current())));
        let mut cx = Context::from_waker(&waker);
        let mut future = std::pin::pin!(future);
        loop {
            if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
                return output;
            }
            thread::park();
        }
    }

    /// Runtime shutdown: stops and joins the workers, then cancels every task (dropping its
    /// future on this thread), drops every queued task and fails every I/O registration.
    pub(crate) fn shutdown(&self, handle: &Arc<Handle>, blocking_timeout: Option<Duration>) {
        let shared = &handle.shared;
        if shared.is_shutdown.swap(true, SeqCst) {
            // `shutdown_timeout` ran already; `Drop` must not wait for blocking jobs again.
            return;
        }
        for remote in shared.remotes.iter() {
            remote.parker.unpark(&handle.drivers.reactor);
        }
        let current = thread::current().id();
        for worker in std::mem::take(&mut *self.workers.lock()) {
            // A worker dropping its own runtime (from a task) cannot wait for itself; it stops
            // when that task returns.
            if worker.thread().id() != current {
                // A worker only panics on a bug in mini; its tasks are cancelled below anyway.
                let _ = worker.join();
            }
        }
        let _enter = context::enter(super::Handle::MultiThread(handle.clone()));
        for task in shared.owned.close_and_drain() {
            task.shutdown();
        }
        // Dropping queued tasks can drop outputs, whose Drop can wake or spawn: repeat until dry.
        while !shared.inject.close().is_empty() {}
        handle.drivers.shutdown(blocking_timeout);
    }
}

impl Handle {
    pub(crate) fn spawn<F>(self: &Arc<Self>, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let (task, notified, join) = task::new_task(future, self.clone(), false);
        if let Some(notified) = self.shared.owned.bind(task, notified) {
            self.schedule_task(notified, false);
        }
        join
    }

    /// Queues `task`: on this thread's worker if it is one of ours (its LIFO slot, or the back of
    /// its queue for a yield), else on the inject queue, waking a worker if none is searching.
    fn schedule_task(&self, task: Notified<Arc<Handle>>, is_yield: bool) {
        let Some(task) = worker::schedule_local(self, task, is_yield) else {
            return;
        };
        if self.shared.inject.push(task) {
            self.notify_parked();
        }
    }

    /// Wakes one sleeping worker, unless one is searching already (it will find the work).
    fn notify_parked(&self) {
        let driver_holder = self.shared.driver_holder.load(SeqCst);
        if let Some(index) = self.shared.idle.worker_to_notify(driver_holder) {
            self.shared.remotes[index].parker.unpark(&self.drivers.reactor);
        }
    }

    /// Called by the last searcher before it sleeps: if any queue still holds work, wake a
    /// worker for it (see `idle.rs`, "No lost wake-ups").
    fn notify_if_work_pending(&self) {
        let shared = &self.shared;
        if shared.remotes.iter().any(|remote| !remote.steal.is_empty()) || !shared.inject.is_empty() {
            self.notify_parked();
        }
    }

    /// A timer was armed for `tick`: wake the worker blocked in `epoll_wait` if it would sleep
    /// past it.
    pub(crate) fn timer_armed(&self, tick: u64) {
        if Timers::is_before_announced(tick, &self.shared.driver_wake_tick) {
            self.drivers.reactor.unpark();
        }
    }

    fn is_shutdown(&self) -> bool {
        self.shared.is_shutdown.load(SeqCst)
    }
}

impl Schedule for Arc<Handle> {
    fn schedule(&self, task: Notified<Self>) {
        self.schedule_task(task, false);
    }

    fn yield_now(&self, task: Notified<Self>) {
        self.schedule_task(task, true);
    }

    fn release(&self, task: &Task<Self>) -> Option<Task<Self>> {
        self.shared.owned.remove(task)
    }
}

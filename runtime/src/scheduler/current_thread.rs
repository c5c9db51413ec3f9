//! The current-thread scheduler: every task runs on the thread that calls `block_on`.
//!
//! # Queues and who touches them
//!
//! - `local_queue` (in the `Core`): a FIFO touched only by the thread inside `block_on`, without
//!   a lock. Tasks spawned or woken on that thread go here, behind the tasks already queued.
//!   While that thread drives the runtime, the core is its current core (`current_core.rs`).
//! - `inject` (in `CurrentThread`): tasks spawned or woken from any other thread (or while no thread is
//!   inside `block_on`) go here, under a lock; the runtime pops it when the local queue is empty,
//!   and first every `global_queue_interval` ticks so that remote work is never starved.
//!
//! # The loop (`CoreGuard::block_on`)
//!
//! 1. Poll the `block_on` future if its waker fired.
//! 2. Run up to `event_interval` tasks, then go to 1. If the queues run dry and the `block_on`
//!    future was not woken, park: block in `epoll_wait` until an fd is ready or another thread
//!    writes the eventfd.
//! 3. Every `event_interval` polls (of tasks or of the `block_on` future) without a park, check
//!    the reactor without blocking, so that a task that wakes itself forever cannot starve
//!    sockets.
//!
//! # Shuffled
//!
//! With `Builder::shuffle` (`shuffle.rs`), the loop runs one poll per round and draws each: the
//! `block_on` future (if woken) or any task of the local queue (into which the inject queue is
//! emptied first). With paused time, a park where nothing can progress panics (`park_paused`).
//!
//! # Parking without lost wake-ups
//!
//! The parking thread sets `parked`, then checks the inject queue and the `block_on` waker's
//! flag; a remote waker pushes or sets its flag, then checks `parked`. A `SeqCst` fence sits
//! between the write and the read on each side (the store-buffering pattern; loom checks it), so
//! at least one side sees the other: either the runtime does not block, or the waker
//! sees `parked` and writes the eventfd. The eventfd is written only then, so a busy runtime pays
//! no syscall per remote wake, and a wake from the runtime's own thread never pays one.

use super::blocking::BlockingPool;
use super::blocking::JobOwner;
use super::burst_queue::BurstQueue;
use super::current_core::{self, RunsCore};
use super::inject::Inject;
use super::stats::{BusyClock, SchedulerStats, WorkerStats};
use super::{Config, Drivers};
use crate::defer::{has_deferred, wake_deferred, DeferScope};
use crate::loom::{fence, AtomicBool};
use crate::reactor::Driver;
use crate::task::{new_task, JoinHandle, Notified, OwnedTasks, Schedule, SpawnSite, Task};
use crate::time::timers::{TimerDriver, Timers};
use crate::util::shuffle::{self, Choice, Shuffle};
use crate::util::thread_id;
use crate::util::thread_waker::ThreadWaker;
use parking_lot::Mutex;
use std::cell::{Cell, RefCell};
use std::future::Future;
use std::sync::atomic::AtomicU64;
use std::sync::atomic::Ordering::{AcqRel, Acquire, Relaxed, Release, SeqCst};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

/// The scheduler, shared by every task, waker and thread of the runtime.
pub(crate) struct CurrentThread {
    /// The core, waiting here while no thread runs `block_on`.
    slot: Mutex<CoreSlot>,
    pub(super) inject: Inject<Arc<CurrentThread>>,
    pub(super) owned: OwnedTasks<Arc<CurrentThread>>,
    /// Set while the runtime's thread is (about to be) blocked in `epoll_wait`.
    parked: AtomicBool,
    /// Set when the `block_on` future's waker fires.
    main_woken: AtomicBool,
    /// The thread (`util::thread_id`) whose `spawn_local` tasks this runtime holds; 0 if none ever.
    local_owner: AtomicU64,
    pub(crate) drivers: Drivers,
    /// The counters: `workers[index]` is this runtime's, written by the thread in `block_on`
    /// (a thread-per-core runtime's workers share one `SchedulerStats`).
    pub(crate) stats: Arc<SchedulerStats>,
    /// Which worker of its runtime this is: 0, or a thread-per-core worker's index.
    index: usize,
    /// The core's `Shuffle` (one, or none with shuffle off), for `Handle::schedule_hash`.
    pub(super) shuffles: Box<[Arc<Shuffle>]>,
    config: Config,
}

struct CoreSlot {
    core: Option<Box<Core>>,
    /// Threads in `block_on` waiting for the core, woken when it comes back.
    waiters: Vec<Waker>,
}

/// The local queue's ring (`burst_queue.rs`), as a multi-thread worker's: more ready tasks wait
/// in an overflow freed once the burst is over.
const LOCAL_RING: usize = 256;

/// What only the thread inside `block_on` touches.
pub(crate) struct Core {
    local_queue: RefCell<BurstQueue<Notified<Arc<CurrentThread>>>>,
    tick: Cell<u32>,
    /// Polls (of tasks and of the `block_on` future) since the reactor was last checked.
    polls_since_io: Cell<u32>,
    driver: RefCell<Driver>,
    /// When the current busy stretch began (for the busy-time metrics).
    busy: Cell<BusyClock>,
    /// Tasks queued on `local_queue`, ever (published to the stats now and then).
    local_schedules: Cell<u64>,
    /// Shuffled scheduling's generator, if on.
    shuffle: Option<Arc<Shuffle>>,
}

impl RunsCore for CurrentThread {
    type Core = Core;
}

impl CurrentThread {
    pub(crate) fn new(config: Config) -> std::io::Result<Arc<CurrentThread>> {
        let stats = Arc::new(SchedulerStats::new(1, config.poll_time_histogram));
        let blocking = Arc::new(config.new_blocking_pool());
        CurrentThread::new_worker(config, 0, stats, blocking)
    }

    /// Worker `index` of a thread-per-core runtime (or, `index` 0 and a pool of its own, a
    /// current-thread runtime): its counters are `stats.workers[index]`; the blocking pool may be
    /// shared.
    pub(crate) fn new_worker(
        config: Config,
        index: usize,
        stats: Arc<SchedulerStats>,
        blocking: Arc<BlockingPool>,
    ) -> std::io::Result<Arc<CurrentThread>> {
        let (drivers, driver) = Drivers::new(&config, blocking)?;
        let shuffle = config.shuffle.map(|shuffle| shuffle.for_worker(index));
        let core = Box::new(Core {
            shuffle: shuffle.clone(),
            busy: Cell::new(BusyClock::start(&stats.workers[index])),
            local_schedules: Cell::new(0),
            local_queue: RefCell::new(BurstQueue::new(LOCAL_RING)),
            tick: Cell::new(0),
            polls_since_io: Cell::new(0),
            driver: RefCell::new(driver),
        });
        Ok(Arc::new(CurrentThread {
            slot: Mutex::new(CoreSlot {
                core: Some(core),
                waiters: Vec::new(),
            }),
            inject: Inject::new(),
            owned: OwnedTasks::new(),
            parked: AtomicBool::new(false),
            main_woken: AtomicBool::new(false),
            local_owner: AtomicU64::new(0),
            drivers,
            stats,
            index,
            shuffles: shuffle.into_iter().collect(),
            config,
        }))
    }

    /// Runs `future` to completion on this thread, with the tasks (the caller has entered the
    /// runtime).
    pub(crate) fn block_on<F: Future>(self: &Arc<Self>, future: F) -> F::Output {
        // `Some` until it completes, so that it can be dropped in place while this thread still
        // holds the core (its `Drop` may use the runtime, with `spawn_local` for one).
        let mut future = std::pin::pin!(Some(future));
        // Another thread may be inside `block_on` with the core: poll our future meanwhile, and
        // take the core when it comes back.
        let (thread_waker, parker) = ThreadWaker::for_current_thread();
        let mut cx = Context::from_waker(&thread_waker);
        let core = loop {
            {
                let mut slot = self.slot.lock();
                if let Some(core) = slot.core.take() {
                    break core;
                }
                if !slot.waiters.iter().any(|waiter| waiter.will_wake(&thread_waker)) {
                    slot.waiters.push(thread_waker.clone());
                }
            }
            let running = future
                .as_mut()
                .as_pin_mut()
                .expect("the future is present until it completes");
            if let Poll::Ready(output) = running.poll(&mut cx) {
                return output;
            }
            parker.park();
        };
        let guard = CoreGuard {
            handle: self,
            core: Some(core),
        };
        // Checked with the core in hand: while we waited, the thread that held it may have
        // spawned `!Send` tasks. On panic the guard hands the core back.
        self.check_local_owner();
        guard.block_on(future)
    }

    /// Runtime shutdown (the caller has entered the runtime): cancels every task (dropping its
    /// future), drops every queued task, and fails every I/O registration.
    pub(crate) fn shutdown(self: &Arc<Self>, blocking_timeout: Option<std::time::Duration>) {
        if self.cancel_tasks() {
            self.drivers.shutdown(blocking_timeout);
        }
    }

    /// Cancels every task (dropping its future) and drops every queued task; `false` if it
    /// cannot, because a `block_on` on another thread still holds the core (it cannot, since
    /// dropping the runtime needs it unborrowed: then the tasks are left to leak). Done once:
    /// later calls find no core and return `false`.
    pub(crate) fn cancel_tasks(self: &Arc<Self>) -> bool {
        let Some(core) = self.slot.lock().core.take() else {
            return false;
        };
        current_core::run(&**self, &core, self.index, || {
            let local_owner = self.local_owner.load(Acquire);
            let owns_local_tasks = local_owner == 0 || local_owner == thread_id::current();
            for task in self.owned.close_and_drain() {
                if task.is_local() && !owns_local_tasks {
                    // A `!Send` future must not be dropped on this thread: leak it (documented
                    // on `spawn_local`).
                    std::mem::forget(task);
                } else {
                    task.shutdown();
                }
            }
            // Dropping queued tasks can drop outputs, whose Drop can wake or spawn: repeat until
            // dry.
            loop {
                let local = core.local_queue.borrow_mut().take_all();
                let remote = self.inject.close();
                if local.is_empty() && remote.is_empty() {
                    break;
                }
                drop(local);
                drop(remote);
            }
        });
        true
    }

    /// This worker's counters.
    #[inline(always)]
    fn worker_stats(&self) -> &WorkerStats {
        &self.stats.workers[self.index]
    }
}

/// Returns the core to its slot when `block_on` ends, by return or by panic.
struct CoreGuard<'a> {
    handle: &'a Arc<CurrentThread>,
    core: Option<Box<Core>>,
}

impl CoreGuard<'_> {
    fn block_on<F: Future>(self, future: std::pin::Pin<&mut Option<F>>) -> F::Output {
        let core: &Core = self.core.as_deref().expect("the core is present until the guard drops");
        let stats = self.handle.worker_stats();
        let _forced_yields = stats.drive_on_this_thread();
        core.busy.set(stats.unparked(&self.handle.stats.idle_bell));
        let _shuffle = core.shuffle.as_ref().map(shuffle::enter);
        current_core::run(&**self.handle, core, self.handle.index, || {
            let _defer = DeferScope::enter();
            core.block_on(self.handle, future)
        })
    }
}

impl Drop for CoreGuard<'_> {
    fn drop(&mut self) {
        if let Some(core) = &self.core {
            // No thread drives the runtime now: to the stats, the worker is parked.
            let stats = self.handle.worker_stats();
            stats.periodic_update(core.local_schedules.get());
            stats.parking(&core.busy.get());
        }
        let waiters = {
            let mut slot = self.handle.slot.lock();
            slot.core = self.core.take();
            std::mem::take(&mut slot.waiters)
        };
        waiters.into_iter().for_each(Waker::wake);
    }
}

impl Core {
    /// The loop: polls the `block_on` future when woken, runs tasks, parks.
    fn block_on<F: Future>(&self, handle: &Arc<CurrentThread>, mut future: std::pin::Pin<&mut Option<F>>) -> F::Output {
        let main_waker = Waker::from(handle.clone());
        let mut cx = Context::from_waker(&main_waker);
        handle.main_woken.store(true, Relaxed);
        loop {
            if self.block_on_future_is_next(handle) {
                let running = future
                    .as_mut()
                    .as_pin_mut()
                    .expect("the future is present until it completes");
                // A poll like a task's, for the stall detector (`None`: no task). One that panics
                // is ended by `parking` when the core is handed back.
                let worker = handle.worker_stats();
                let seq = worker.start_block_on_poll();
                let poll = running.poll(&mut cx);
                worker.end_poll(seq);
                if let Poll::Ready(output) = poll {
                    future.set(None);
                    return output;
                }
                self.count_poll(handle);
            }
            self.run_tasks(handle);
        }
    }

    /// Whether to poll the `block_on` future now: when it was woken; shuffled, when it was
    /// woken and the draw picks it among it and the queued tasks.
    #[inline(always)]
    fn block_on_future_is_next(&self, handle: &CurrentThread) -> bool {
        let Some(shuffle) = &self.shuffle else {
            return handle.main_woken.swap(false, AcqRel);
        };
        if !handle.main_woken.load(Acquire) {
            return false;
        }
        self.take_inject(handle);
        let queued = self.local_queue.borrow().len();
        shuffle.choose(Choice::BlockOnFuture, queued + 1) == 0 && handle.main_woken.swap(false, AcqRel)
    }

    /// Runs up to `event_interval` tasks (one when shuffled, so that the `block_on` future is
    /// a candidate for every poll); parks if the queues run dry (unless the `block_on` future is
    /// waiting to be polled, or tasks that yielded wait for the reactor's next turn: then it
    /// turns without blocking).
    fn run_tasks(&self, handle: &CurrentThread) {
        let stats = handle.worker_stats();
        let round = if self.shuffle.is_some() {
            1
        } else {
            handle.config.event_interval
        };
        for _ in 0..round {
            let Some(task) = self.next_task(handle) else {
                if has_deferred() {
                    self.turn(handle, Some(std::time::Duration::ZERO));
                    self.polls_since_io.set(0);
                } else if !handle.main_woken.load(Acquire) {
                    self.park(handle);
                }
                return;
            };
            stats.run(task);
            self.count_poll(handle);
        }
    }

    /// Counts one poll; after `event_interval` polls without a look at the reactor, checks it
    /// without blocking, so that tasks (or a `block_on` future) that keep waking themselves
    /// cannot starve I/O.
    #[inline(always)]
    fn count_poll(&self, handle: &CurrentThread) {
        let polls = self.polls_since_io.get() + 1;
        if polls < handle.config.event_interval {
            self.polls_since_io.set(polls);
            return;
        }
        self.polls_since_io.set(0);
        // Other threads cannot read the local queue: they read its depth as of the last park
        // or of this check (every `event_interval` polls).
        let depth = self.local_queue.borrow().len();
        handle.worker_stats().record_local_queue_depth(depth);
        handle.worker_stats().periodic_update(self.local_schedules.get());
        self.turn(handle, Some(std::time::Duration::ZERO));
    }

    /// Parking with the clock paused: first collect the I/O that is ready; if that woke nothing,
    /// jump the clock to the next timer instead of sleeping; with no timer, wait for I/O.
    fn park_paused(&self, handle: &CurrentThread) {
        self.turn(handle, Some(std::time::Duration::ZERO));
        // A running blocking job may be about to wake a task: let it, rather than jump the clock.
        // Read before the queues: a job stops counting only after its task woke the JoinHandle,
        // so a job not seen here has its wake in the queues read next.
        let busy = handle.drivers.blocking.is_busy();
        let idle = self.local_queue.borrow().is_empty() && handle.inject.is_empty() && !handle.main_woken.load(SeqCst);
        if idle && (busy || !handle.drivers.timers.auto_advance()) {
            if self.shuffle.is_some() && !busy && handle.drivers.reactor.live_registrations() == 0 {
                panic!(
                    "mini: no task can make progress: with time paused, every task and the `block_on` \
                     future wait, no timer is armed, no fd is registered and no blocking job runs \
                     (a deadlock, or a wait on a thread outside the runtime, which a shuffled \
                     test with paused time does not allow)"
                );
            }
            self.turn(handle, None);
        }
    }

    /// Waits for I/O events (at most `timeout`), fires the timers that are due, then wakes the
    /// tasks that yielded meanwhile (`defer.rs`).
    fn turn(&self, handle: &CurrentThread, timeout: Option<std::time::Duration>) {
        self.driver.borrow_mut().turn(timeout);
        handle.drivers.timers.process();
        wake_deferred();
    }

    fn next_task(&self, handle: &CurrentThread) -> Option<Notified<Arc<CurrentThread>>> {
        if let Some(shuffle) = &self.shuffle {
            self.take_inject(handle);
            let mut queue = self.local_queue.borrow_mut();
            let index = shuffle.choose(Choice::NextTask, queue.len());
            return queue.take(index);
        }
        let tick = self.tick.get();
        self.tick.set(tick.wrapping_add(1));
        let inject = &handle.inject;
        if tick % handle.config.global_queue_interval == 0 {
            inject.pop().or_else(|| self.local_queue.borrow_mut().pop_front())
        } else {
            let local = self.local_queue.borrow_mut().pop_front();
            local.or_else(|| inject.pop())
        }
    }

    /// Shuffled: moves the inject queue's tasks to the local queue, where the draws pick from.
    fn take_inject(&self, handle: &CurrentThread) {
        let mut queue = self.local_queue.borrow_mut();
        handle.inject.pop_batch(usize::MAX, |task| queue.push_back(task));
    }

    /// Blocks in `epoll_wait` until there is something to do (see "Parking" above).
    fn park(&self, handle: &CurrentThread) {
        if handle.prepare_park() {
            let stats = handle.worker_stats();
            // It parks with an empty local queue.
            stats.record_local_queue_depth(0);
            stats.periodic_update(self.local_schedules.get());
            stats.parking(&self.busy.get());
            if handle.drivers.timers.is_paused() {
                self.park_paused(handle);
            } else {
                self.turn(handle, handle.drivers.timers.park_timeout());
            }
            self.busy.set(stats.unparked(&handle.stats.idle_bell));
            self.polls_since_io.set(0);
        }
        handle.parked.store(false, SeqCst);
    }
}

impl CurrentThread {
    /// Announces that the runtime's thread is about to block; returns `false` if work arrived
    /// after all (then it must not block).
    fn prepare_park(&self) -> bool {
        self.parked.store(true, SeqCst);
        fence(SeqCst);
        !self.main_woken.load(SeqCst) && self.inject.is_empty()
    }

    /// Called by a remote waker after it queued work: whether the runtime's thread is parked
    /// and must be interrupted (`true` at most once per park).
    fn take_parked(&self) -> bool {
        fence(SeqCst);
        self.parked.swap(false, SeqCst)
    }
}

impl CurrentThread {
    pub(crate) fn spawn<F>(self: &Arc<Self>, future: F, site: SpawnSite) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.bind(future, false, site)
    }

    /// Spawns a `!Send` future. The caller (`task::spawn_local`) has checked that this thread is
    /// inside this runtime's `block_on`, which is the only place its tasks are polled.
    pub(crate) fn spawn_local<F>(self: &Arc<Self>, future: F, site: SpawnSite) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        self.local_owner.store(thread_id::current(), Release);
        self.bind(future, true, site)
    }

    fn bind<F: Future + 'static>(
        self: &Arc<Self>,
        future: F,
        is_local: bool,
        site: SpawnSite,
    ) -> JoinHandle<F::Output> {
        let (task, notified, join) = new_task(future, self.clone(), is_local, site);
        if let Some(notified) = self.owned.bind(task, notified) {
            self.schedule(notified);
        }
        join
    }

    /// Panics if the runtime holds `!Send` tasks that belong to another thread.
    fn check_local_owner(&self) {
        let owner = self.local_owner.load(Acquire);
        if owner != 0 && owner != thread_id::current() && self.owned.has_local_tasks() {
            panic!(
                "this mini runtime holds tasks from `spawn_local`, which may only run on the thread \
                 that spawned them; call `block_on` on that thread"
            );
        }
    }

    /// Wakes the runtime's thread if it is parked and this is another thread.
    pub(crate) fn wake_parked_from_elsewhere(&self) {
        if !self.is_current() {
            self.unpark();
        }
    }

    /// Wakes the runtime's thread if it is blocked in `epoll_wait`.
    fn unpark(&self) {
        if self.take_parked() {
            self.drivers.reactor.unpark();
        }
    }

    /// Whether this thread is inside `block_on` for this runtime.
    pub(crate) fn is_current(&self) -> bool {
        current_core::with(self, |core| core.is_some())
    }
}

impl TimerDriver for CurrentThread {
    fn timers(&self) -> &Timers {
        &self.drivers.timers
    }

    fn timer_armed(&self, _tick: u64) {
        self.wake_parked_from_elsewhere();
    }
}

impl JobOwner for CurrentThread {
    /// A runtime with paused time may be waiting for the job before it lets the clock jump.
    fn blocking_job_done(&self) {
        self.wake_parked_from_elsewhere();
    }
}

impl Schedule for Arc<CurrentThread> {
    fn schedule(&self, task: Notified<Self>) {
        current_core::with(&**self, |core| match core {
            Some(core) => {
                core.local_schedules.set(core.local_schedules.get() + 1);
                core.local_queue.borrow_mut().push_back(task);
            }
            None => {
                if self.inject.push(task) {
                    self.unpark();
                }
            }
        });
    }

    fn release(&self, task: &Task<Self>) -> Option<Task<Self>> {
        self.owned.remove(task)
    }
}

/// The `block_on` future's waker.
impl Wake for CurrentThread {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.main_woken.store(true, SeqCst);
        self.wake_parked_from_elsewhere();
    }
}

#[cfg(all(test, loom))]
mod loom_models {
    use super::super::Config;
    use super::CurrentThread;
    use loom::thread;

    /// A spawn from another thread races the runtime's decision to park: either the runtime sees
    /// the task and does not block, or the spawner sees `parked` and writes the eventfd.
    #[test]
    fn loom_remote_spawn_racing_park_wakes_the_runtime() {
        crate::loom::model(|| {
            let handle = CurrentThread::new(Config::default()).unwrap();
            let spawner = {
                let handle = handle.clone();
                thread::spawn(move || drop(handle.spawn(async {}, crate::task::SpawnSite::caller())))
            };
            let blocks = handle.prepare_park();
            spawner.join().unwrap();
            assert!(
                !blocks || handle.drivers.reactor.take_unpark(),
                "the runtime would sleep with a task queued"
            );
            handle.inject.close();
        });
    }
}

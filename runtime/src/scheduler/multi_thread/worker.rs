//! The workers: starting them (`MultiThread::new`), queueing a task on the worker that runs
//! the waker (`schedule_local`: its LIFO slot or its queue), and one worker thread's
//! `WorkerCore` (what only it touches) and its loop: run local tasks, steal, park; and
//! `block_in_place`'s hand-over of a core to a new thread. See `mod.rs` for the queues and the
//! parking protocol.

use super::idle::Idle;
use super::park::Parker;
use super::queue;
use super::{MultiThread, Remote, NOBODY_IN_DRIVER, NO_WORKER};
use crate::defer::{has_deferred, wake_deferred, DeferScope};
use crate::loom::AtomicU64;
use crate::scheduler::current_core::{self, RunsCore};
use crate::scheduler::inject::Inject;
use crate::scheduler::stats::{BusyClock, SchedulerStats, WorkerStats};
use crate::scheduler::{Config, Drivers, WorkerStarts, WORKER_THREAD};
use crate::task::{new_task, JoinHandle, Notified, OwnedTasks, Schedule, SpawnSite, Task};
use crate::util::rng::Rng;
use crate::util::shuffle::{self, Choice, Shuffle};
use parking_lot::Mutex;
use std::cell::RefCell;
use std::future::Future;
use std::io;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::sync::atomic::Ordering::{Relaxed, SeqCst};
use std::sync::atomic::{AtomicBool, AtomicUsize};
use std::sync::Arc;
use std::time::Duration;

/// Tasks run from the LIFO slot in a row before the slot's task goes to the back of the queue.
/// Three, as in tokio: enough for a request/response hand-off, too few to starve the queue.
const MAX_LIFO_POLLS: u32 = 3;

/// What only the worker's own thread touches.
pub(crate) struct WorkerCore {
    index: usize,
    lifo_slot: Option<Notified<Arc<MultiThread>>>,
    run_queue: queue::Local<Arc<MultiThread>>,
    /// Calls to `next_task` left before it checks `inject` first: `global_queue_interval`
    /// each time, or a drawn number when shuffled.
    until_inject_first: u32,
    /// Polls since the reactor was last checked.
    polls_since_io: u32,
    /// Counted in `Idle`'s `searching`.
    is_searching: bool,
    /// Set while the worker is in `park` (woken tasks then need no other worker notified).
    is_parked: bool,
    /// Picks the first victim of a steal.
    rand: Rng,
    /// Shuffled scheduling's generator, if on: it then picks the steal victims too.
    shuffle: Option<Arc<Shuffle>>,
    /// When the current busy stretch began (for the busy-time metrics).
    busy: Option<BusyClock>,
    /// Tasks queued on this core, ever (published to the stats now and then).
    local_schedules: u64,
    /// Set on the empty core left to a thread whose core `block_in_place` gave to another
    /// (`WorkerCore::given_away`): the thread stops when its poll returns.
    given_away: bool,
}

/// The worker's core, as its thread holds it (and `current_core` points at it): borrowed only
/// for short, non-reentrant steps, never while a task runs. Once `block_in_place` gave it to
/// another thread (in a task's poll), the cell holds an empty core marked `given_away`, and the
/// thread stops when that poll returns. (An empty core rather than an `Option`: the worker loop
/// borrows its core several times per task, and would check each time.)
pub(crate) type CoreCell = RefCell<Box<WorkerCore>>;

impl WorkerCore {
    pub(super) fn new(
        index: usize,
        run_queue: queue::Local<Arc<MultiThread>>,
        shuffle: Option<Arc<Shuffle>>,
    ) -> Box<WorkerCore> {
        Box::new(WorkerCore {
            index,
            lifo_slot: None,
            run_queue,
            until_inject_first: 1,
            polls_since_io: 0,
            is_searching: false,
            is_parked: false,
            rand: Rng::new(index as u64),
            shuffle,
            busy: None,
            local_schedules: 0,
            given_away: false,
        })
    }

    /// What a thread keeps of its worker once `block_in_place` gave the core away: a core with
    /// no task, and nothing queues there (the thread has left `current_core`).
    fn given_away(index: usize) -> Box<WorkerCore> {
        let mut core = WorkerCore::new(index, queue::local().0, None);
        core.given_away = true;
        core
    }

    fn has_tasks(&self) -> bool {
        self.lifo_slot.is_some() || !self.run_queue.is_empty()
    }
}

/// A worker thread's view of itself, on its stack.
struct Worker<'a> {
    handle: &'a Arc<MultiThread>,
    /// This worker's counters (`stats.rs`).
    stats: &'a WorkerStats,
    /// This thread's current core (`current_core`) while `run` is inside `Worker::run`.
    core: CoreCell,
}

thread_local! {
    /// The runtime whose worker this thread is, while it is one: `block_in_place` finds it here
    /// whatever runtime the task entered meanwhile.
    static THIS_WORKER: RefCell<Option<Arc<MultiThread>>> = const { RefCell::new(None) };
}

/// `block_in_place` on a thread that runs a scheduler's core: if it is a multi-threaded
/// worker's, gives the core to a new thread (`MultiThread::hand_off_core`) and returns `true`;
/// `false` if the core is another flavor's, whose tasks cannot move.
pub(crate) fn hand_off_this_worker() -> bool {
    let worker = THIS_WORKER.try_with(|worker| worker.borrow().clone()).ok().flatten();
    worker.is_some_and(|worker| worker.hand_off_core())
}

/// Clears `THIS_WORKER` when the worker's `run` ends.
struct WorkerThread;

impl WorkerThread {
    fn enter(handle: &Arc<MultiThread>) -> WorkerThread {
        let _ = THIS_WORKER.try_with(|worker| worker.replace(Some(handle.clone())));
        WorkerThread
    }
}

impl Drop for WorkerThread {
    fn drop(&mut self) {
        let _ = THIS_WORKER.try_with(|worker| worker.borrow_mut().take());
    }
}

/// The body of a worker thread (the caller has entered the runtime), until shutdown or until
/// it gives its core away (`block_in_place`).
pub(super) fn run(handle: Arc<MultiThread>, mut core: Box<WorkerCore>) {
    let stats = &handle.stats.workers[core.index];
    let _forced_yields = stats.drive_on_this_thread();
    if core.busy.is_none() {
        // A core handed over by `block_in_place` is in the middle of a busy stretch already.
        core.busy = Some(stats.unparked(&handle.stats.idle_bell));
    }
    let (shuffle, index) = (core.shuffle.clone(), core.index);
    let worker = Worker {
        handle: &handle,
        stats,
        core: RefCell::new(core),
    };
    let _shuffle = shuffle.as_ref().map(shuffle::enter);
    let _worker_thread = WorkerThread::enter(&handle);
    current_core::run(&*handle, &worker.core, index, || {
        let _defer = DeferScope::enter();
        worker.run();
    });
    let busy = worker.core.borrow().busy;
    if let Some(busy) = busy {
        stats.parking(&busy);
    }
}

// Starting the workers, and queueing tasks on them.

impl RunsCore for MultiThread {
    type Core = CoreCell;
}

impl MultiThread {
    /// Starts `workers` worker threads; each calls `enter` first and keeps what it returns (its
    /// hold on the thread's context) until it exits.
    pub(crate) fn new<G: 'static>(
        config: Config,
        workers: usize,
        cpus: Option<Vec<usize>>,
        enter: impl Fn(&Arc<MultiThread>) -> G + Send + Sync + 'static,
    ) -> io::Result<Arc<MultiThread>> {
        let (drivers, driver) = Drivers::new(&config, Arc::new(config.new_blocking_pool()))?;
        let mut cores = Vec::with_capacity(workers);
        let mut remotes = Vec::with_capacity(workers);
        let shuffles: Box<[Arc<Shuffle>]> = match config.shuffle {
            Some(shuffle) => (0..workers).map(|index| shuffle.for_worker(index)).collect(),
            None => Box::new([]),
        };
        for index in 0..workers {
            let (run_queue, steal) = queue::local();
            cores.push(WorkerCore::new(index, run_queue, shuffles.get(index).cloned()));
            remotes.push(Remote {
                steal,
                parker: Parker::new(),
            });
        }
        let handle = Arc::new(MultiThread {
            threads: Mutex::new(Vec::with_capacity(workers)),
            remotes: remotes.into_boxed_slice(),
            inject: Inject::new(),
            idle: Idle::new(workers),
            owned: OwnedTasks::new(),
            driver: Mutex::new(driver),
            driver_wake_tick: AtomicU64::new(NOBODY_IN_DRIVER),
            driver_holder: AtomicUsize::new(NO_WORKER),
            reactor_turns: AtomicU64::new(0),
            reactor_watched: AtomicBool::new(false),
            is_shutdown: AtomicBool::new(false),
            drivers,
            stats: SchedulerStats::new(workers, config.poll_time_histogram),
            shuffles,
            cpus,
            enter: Box::new(move |handle| Box::new(enter(handle))),
            config,
        });
        let starts = WorkerStarts::new();
        for core in cores {
            let (index, start) = (core.index, starts.reporter());
            let started = handle.start_worker(index, move || Some(core), start);
            if let Err(error) = started.map(|thread| handle.threads.lock().push(thread)) {
                // Stop the workers already started before reporting.
                handle.shutdown(None);
                return Err(error);
            }
        }
        if let Err(error) = starts.wait(workers) {
            handle.shutdown(None);
            return Err(error);
        }
        Ok(handle)
    }

    /// Starts a thread for worker `index`: once `start(cpu)` (which pins it, if the workers are
    /// pinned) says it may, it takes the worker's core from `core` and runs it.
    fn start_worker(
        self: &Arc<Self>,
        index: usize,
        core: impl FnOnce() -> Option<Box<WorkerCore>> + Send + 'static,
        start: impl FnOnce(Option<usize>) -> bool + Send + 'static,
    ) -> io::Result<std::thread::JoinHandle<()>> {
        let handle = self.clone();
        let cpu = self.cpus.as_ref().map(|cpus| cpus[index]);
        self.config.threads.spawn(WORKER_THREAD, move || {
            if start(cpu) {
                if let Some(core) = core() {
                    let _entered = (handle.enter)(&handle);
                    run(handle, core);
                }
            }
        })
    }

    /// `block_in_place` on this thread, one of our workers: inside a task's poll, gives its
    /// core (its queues, its LIFO slot) to a new worker thread, so that the tasks queued there
    /// run on while this thread blocks. This thread then stops being a worker: it finishes the
    /// poll (the blocking closure runs in it) and exits; until it exits it counts as a
    /// blocking-pool thread, which shutdown waits for as for a blocking job. Returns whether
    /// this thread runs one of our cores; if it is not in a task's poll (a waker or a `Drop`
    /// the worker runs), the core stays and the closure blocks the worker.
    ///
    /// # Panics
    /// If no thread can be started to take the core over (the core stays).
    fn hand_off_core(self: &Arc<Self>) -> bool {
        current_core::with(&**self, |cell| {
            let Some(cell) = cell else { return false };
            if crate::coop::current_task().is_some() {
                if let Ok(mut core) = cell.try_borrow_mut() {
                    self.hand_off(&mut core);
                }
            }
            true
        })
    }

    /// Moves the core in `slot` (this thread's) to a new thread; see `hand_off_core`.
    fn hand_off(self: &Arc<Self>, slot: &mut Box<WorkerCore>) {
        // Under the lock of the thread list, so that a shutdown either has not taken the list yet
        // (and will join the new thread, and not this one) or is seen here.
        let mut threads = self.threads.lock();
        let index = slot.index;
        let core = std::mem::replace(slot, WorkerCore::given_away(index));
        // From here the worker's stats are the next thread's to write (`stats.rs`).
        self.stats.workers[index].hand_over_poll();
        if self.is_shutdown() {
            // The workers are stopping, and shutdown cancels every task: no thread takes over,
            // and this core's queue is dropped here, as at a worker's exit. This thread still
            // leaves, so that shutdown waits for the closure only as long as for a blocking job.
            drop(core);
        } else {
            // The core travels through a shared slot, so that it comes back if no thread takes it.
            let passed = Arc::new(Mutex::new(Some(core)));
            let started = catch_unwind(AssertUnwindSafe(|| self.start_successor(index, &passed)));
            match started {
                Ok(Ok(thread)) => threads.push(thread),
                failed => {
                    // This thread stays the worker, and blocks it.
                    *slot = passed.lock().take().expect("the core is back when no thread took it");
                    drop(threads);
                    match failed {
                        Err(panic) => resume_unwind(panic),
                        Ok(Err(why)) => panic!(
                            "`block_in_place` could not hand this worker's tasks to a new thread: {why}; \
                             use `spawn_blocking` for this closure"
                        ),
                        Ok(Ok(_)) => unreachable!("a started thread is kept"),
                    }
                }
            }
        }
        // This thread is no longer a worker: shutdown waits for it as a blocking thread. Drop
        // the handles of the threads that left before and have exited since.
        let this_thread = std::thread::current().id();
        threads.retain(|thread| thread.thread().id() != this_thread && !thread.is_finished());
        drop(threads);
        self.drivers.blocking.count_this_thread();
        current_core::leave();
        shuffle::leave();
        crate::coop::stop_counting_forced_yields();
        let _ = THIS_WORKER.try_with(|worker| worker.borrow_mut().take());
    }

    /// Starts the thread that takes worker `index`'s core over from `passed`, and waits until it
    /// has (so that the core is never left in `passed`, stranded with its tasks).
    fn start_successor(
        self: &Arc<Self>,
        index: usize,
        passed: &Arc<Mutex<Option<Box<WorkerCore>>>>,
    ) -> Result<std::thread::JoinHandle<()>, String> {
        let (took, taken) = std::sync::mpsc::channel();
        let handover = passed.clone();
        let take_core = move || {
            let core = handover.lock().take();
            let _ = took.send(());
            core
        };
        let pin = |cpu: Option<usize>| {
            // Best effort: the worker's CPU was checked when the runtime was built.
            if let Some(cpu) = cpu {
                let _ = crate::sys::affinity::pin_current_thread(cpu);
            }
            true
        };
        let thread = self
            .start_worker(index, take_core, pin)
            .map_err(|error| format!("no thread could start ({error})"))?;
        taken.recv().map_err(|_| {
            "the new thread ended before it took the worker over (did an `on_thread_start` callback panic?)".to_owned()
        })?;
        Ok(thread)
    }

    pub(crate) fn spawn<F>(self: &Arc<Self>, future: F, site: SpawnSite) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let (task, notified, join) = new_task(future, self.clone(), false, site);
        if let Some(notified) = self.owned.bind(task, notified) {
            self.schedule_task(notified, false);
        }
        join
    }

    /// Queues `task`: on this thread's worker if it is one of ours (its LIFO slot, or the back of
    /// its queue for a yield), else on the inject queue, waking a worker if none is searching.
    #[inline]
    fn schedule_task(&self, task: Notified<Arc<MultiThread>>, is_yield: bool) {
        let Some(task) = schedule_local(self, task, is_yield) else {
            return;
        };
        if self.inject.push(task) {
            self.notify_parked();
        }
    }
}

impl Schedule for Arc<MultiThread> {
    fn schedule(&self, task: Notified<Self>) {
        self.schedule_task(task, false);
    }

    fn yield_now(&self, task: Notified<Self>) {
        self.schedule_task(task, true);
    }

    fn release(&self, task: &Task<Self>) -> Option<Task<Self>> {
        self.owned.remove(task)
    }
}

/// Queues `task` on this thread's worker if it belongs to `handle`'s runtime; otherwise hands
/// the task back for the inject queue.
#[inline]
pub(super) fn schedule_local(
    handle: &MultiThread,
    task: Notified<Arc<MultiThread>>,
    is_yield: bool,
) -> Option<Notified<Arc<MultiThread>>> {
    let notify = current_core::with(handle, |core| {
        // Not borrowable only if a step that borrows the core ran user code; stay safe.
        let Some(Ok(mut core)) = core.map(RefCell::try_borrow_mut) else {
            return Err(task);
        };
        Ok(queue_on_core(handle, &mut core, task, is_yield))
    });
    match notify {
        Ok(true) => handle.notify_parked(),
        Ok(false) => {}
        Err(task) => return Some(task),
    }
    None
}

/// Queues `task` on this worker's core; returns whether an idle worker should be woken.
#[inline]
fn queue_on_core(
    handle: &MultiThread,
    core: &mut WorkerCore,
    task: Notified<Arc<MultiThread>>,
    is_yield: bool,
) -> bool {
    let inject = &handle.inject;
    core.local_schedules += 1;
    // A yield goes to the back of the queue; so, shuffled, does a woken task the draw keeps out
    // of the LIFO slot this time.
    let to_back = is_yield || (core.shuffle.as_ref()).is_some_and(|shuffle| shuffle.choose(Choice::LifoSlot, 2) == 1);
    let should_notify = if to_back {
        if core.run_queue.push_back_or_overflow(task, inject) {
            handle.stats.workers[core.index].overflowed();
        }
        true
    } else {
        // The new task runs next; the one it displaces becomes stealable, so tell an idle worker.
        match core.lifo_slot.replace(task) {
            Some(previous) => {
                if core.run_queue.push_back_or_overflow(previous, inject) {
                    handle.stats.workers[core.index].overflowed();
                }
                true
            }
            None => false,
        }
    };
    should_notify && !core.is_parked && handle.idle.may_wake_one()
}

impl Worker<'_> {
    fn run(&self) {
        while !self.handle.is_shutdown() {
            let next = self.next_task().or_else(|| self.steal_work());
            match next {
                Some(task) => {
                    if !self.run_task(task) {
                        // The core went to another thread; this one's poll is done: stop.
                        return;
                    }
                }
                None => self.park(),
            }
        }
    }

    /// Runs `task`, then up to `MAX_LIFO_POLLS` from the LIFO slot; `false` if one of the polls
    /// gave the core away (`block_in_place`).
    fn run_task(&self, task: Notified<Arc<MultiThread>>) -> bool {
        let handle = self.handle;
        let was_last_searcher = {
            let mut core = self.core.borrow_mut();
            std::mem::take(&mut core.is_searching) && handle.idle.transition_worker_from_searching()
        };
        if was_last_searcher {
            // We found work, so there may be more: keep one worker looking.
            handle.notify_parked();
        }
        self.stats.run_on_movable_worker(task);
        if !self.count_poll() {
            return false;
        }
        for _ in 0..MAX_LIFO_POLLS {
            let Some(task) = self.core.borrow_mut().lifo_slot.take() else {
                return true;
            };
            self.stats.run_on_movable_worker(task);
            if !self.count_poll() {
                return false;
            }
        }
        let mut core = self.core.borrow_mut();
        if let Some(task) = core.lifo_slot.take() {
            if core.run_queue.push_back_or_overflow(task, &handle.inject) {
                self.stats.overflowed();
            }
        }
        true
    }

    /// After a poll: every `event_interval` polls, checks the reactor without blocking (if no
    /// other worker is using it), so that busy workers still serve sockets and timers. `false`,
    /// doing nothing, if the poll gave the core away.
    fn count_poll(&self) -> bool {
        let handle = self.handle;
        {
            let mut core = self.core.borrow_mut();
            if core.given_away {
                return false;
            }
            core.polls_since_io += 1;
            if core.polls_since_io < handle.config.event_interval {
                return true;
            }
            core.polls_since_io = 0;
            self.stats.periodic_update(core.local_schedules);
        }
        self.turn_without_blocking();
        true
    }

    /// Checks the reactor and the timers without blocking (if no other worker is using the
    /// driver, which then watches the I/O), and wakes the tasks that yielded meanwhile.
    fn turn_without_blocking(&self) {
        let handle = self.handle;
        if let Some(mut driver) = handle.driver.try_lock() {
            contain_waker_panics(|| driver.turn(Some(Duration::ZERO)));
            handle.count_reactor_turn();
            drop(driver);
            contain_waker_panics(|| handle.drivers.timers.process());
        }
        contain_waker_panics(wake_deferred);
    }

    /// The LIFO slot, then the local queue, then a batch from `inject`; `inject` first every
    /// `global_queue_interval` ticks so that it is never starved (its batch goes behind the
    /// tasks already queued, so they are not starved either).
    fn next_task(&self) -> Option<Notified<Arc<MultiThread>>> {
        let handle = self.handle;
        let mut core = self.core.borrow_mut();
        core.until_inject_first -= 1;
        if core.until_inject_first == 0 {
            let interval = handle.config.global_queue_interval;
            core.until_inject_first = match &core.shuffle {
                None => interval,
                // Anywhere from the next call to twice the usual interval.
                Some(shuffle) => 1 + shuffle.choose(Choice::InjectFirst, 2 * interval as usize) as u32,
            };
            // A batch, not one task: with busy tasks that keep the local queue full, a single
            // pop every 31 ticks would drain a burst of remote spawns far too slowly.
            if let Some(task) = take_from_inject(handle, &mut core) {
                return Some(task);
            }
        }
        if let Some(task) = core.lifo_slot.take().or_else(|| core.run_queue.pop()) {
            return Some(task);
        }
        take_from_inject(handle, &mut core)
    }

    /// Becomes a searcher (unless half the workers already are) and steals half of another
    /// worker's queue, trying each once from a random one, then `inject`.
    fn steal_work(&self) -> Option<Notified<Arc<MultiThread>>> {
        let handle = self.handle;
        let mut core = self.core.borrow_mut();
        if !core.is_searching {
            if !handle.idle.transition_worker_to_searching() {
                return None;
            }
            core.is_searching = true;
        }
        let workers = handle.remotes.len();
        let start = match &core.shuffle {
            None => core.rand.below(workers),
            Some(shuffle) => shuffle.choose(Choice::StealVictim, workers),
        };
        for offset in 0..workers {
            let victim = (start + offset) % workers;
            if victim == core.index {
                continue;
            }
            let queued = core.run_queue.len();
            if let Some(task) = handle.remotes[victim].steal.steal_into(&mut core.run_queue) {
                self.stats.stole(1 + (core.run_queue.len() - queued) as u64);
                return Some(task);
            }
        }
        take_from_inject(handle, &mut core)
    }

    /// Sleeps until there is work: in `epoll_wait` if the driver is free, else on the condvar.
    fn park(&self) {
        if has_deferred() {
            // Tasks that yielded are runnable once the reactor has been looked at: no sleep.
            self.core.borrow_mut().polls_since_io = 0;
            return self.turn_without_blocking();
        }
        let handle = self.handle;
        let index = {
            let mut core = self.core.borrow_mut();
            if core.has_tasks() {
                return;
            }
            let is_last_searcher = handle.idle.transition_worker_to_parked(core.index, core.is_searching);
            core.is_searching = false;
            core.is_parked = true;
            if let Some(busy) = core.busy.take() {
                self.stats.parking(&busy);
            }
            self.stats.periodic_update(core.local_schedules);
            let index = core.index;
            drop(core);
            if is_last_searcher {
                handle.notify_if_work_pending();
            }
            index
        };
        let mut held_driver;
        loop {
            held_driver = self.park_once(index);
            let mut core = self.core.borrow_mut();
            if core.has_tasks() {
                // Woken by events (or timers) it fired itself; a notifier may also have chosen it
                // meanwhile, and then counted it as searching.
                core.is_searching = !handle.idle.unpark_worker_by_id(index);
                break;
            }
            if handle.is_shutdown() {
                handle.idle.unpark_worker_by_id(index);
                break;
            }
            if !handle.idle.is_parked(index) {
                // A notifier chose us: we count as searching.
                core.is_searching = true;
                break;
            }
        }
        let mut core = self.core.borrow_mut();
        core.is_parked = false;
        core.busy = Some(self.stats.unparked(&handle.stats.idle_bell));
        let hand_off = held_driver
            && core.has_tasks()
            && !handle.reactor_watched.load(Relaxed)
            && handle.idle.is_only_awake_worker();
        drop(core);
        if hand_off {
            // We leave the reactor to run tasks, every other worker sleeps, and no watchdog
            // will notice if a poll runs long: wake one to take it over. (A worker that is awake
            // will take it when it parks, and turns it without blocking every `event_interval`
            // polls meanwhile; waking a sleeper anyway would cost a sleep and a wake-up per
            // reactor turn under load.)
            handle.notify_parked();
        }
    }

    /// Blocks once; returns whether it was in the driver.
    fn park_once(&self, index: usize) -> bool {
        let handle = self.handle;
        let parker = &handle.remotes[index].parker;
        let mut driver = loop {
            if let Some(driver) = handle.driver.try_lock() {
                break driver;
            }
            if handle.driver_holder.load(SeqCst) != NO_WORKER {
                // Another worker waits in the reactor: sleep on the condvar.
                parker.park_condvar();
                return false;
            }
            // A busy worker's non-blocking check (or a parker arriving or leaving) holds the
            // driver for a moment: wait for it, rather than leave the reactor with no waiter.
            std::thread::yield_now();
        };
        handle.driver_holder.store(index, SeqCst);
        parker.park_driver(|| {
            let timeout = handle.drivers.timers.park_timeout_announced(&handle.driver_wake_tick);
            contain_waker_panics(|| driver.turn(timeout));
            handle.count_reactor_turn();
            handle.driver_wake_tick.store(NOBODY_IN_DRIVER, SeqCst);
        });
        handle.driver_holder.store(NO_WORKER, SeqCst);
        drop(driver);
        contain_waker_panics(|| handle.drivers.timers.process());
        true
    }
}

/// Runs `wake` (a reactor turn or timer processing, which wake tasks) so that a waker that
/// panics (a foreign executor's) cannot unwind out of the worker and lose its queues:
/// `util::wake_all` has woken every other waker before it raises the first panic again, so
/// here the panic, already reported by the panic hook, is dropped.
fn contain_waker_panics(wake: impl FnOnce()) {
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(wake));
}

/// Takes a batch from `inject` (a fair share of it, as much as the local queue has room for),
/// keeping one to run now and queueing the rest locally.
fn take_from_inject(handle: &MultiThread, core: &mut WorkerCore) -> Option<Notified<Arc<MultiThread>>> {
    let inject = &handle.inject;
    if inject.is_empty() {
        return None;
    }
    let fair_share = inject.len() / handle.remotes.len() + 1;
    let max = fair_share.min(core.run_queue.remaining_slots() + 1);
    let mut first = None;
    inject.pop_batch(max, |task| {
        if first.is_none() {
            first = Some(task);
        } else {
            core.run_queue.push_back(task);
        }
    });
    first
}

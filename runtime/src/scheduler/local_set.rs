//! `LocalSet`: a group of `!Send` tasks that run on one thread, inside a future that the thread
//! polls, on any runtime flavor.
//!
//! The set is itself `!Send`, so everything that touches its futures (spawning, polling them in
//! `run_until`, dropping them in `Drop`) happens on the thread that created it. Only the
//! `Notified` pointers travel: a task woken from another thread is queued in `SetScheduler::queue`
//! under a lock, and the waker of whoever is polling `run_until` is woken to come and run it.

use super::task_queue::TaskQueue;
use crate::task::{new_task, JoinHandle, Notified, OwnedTasks, Schedule, SpawnSite, Task};
use crate::util::shuffle::{self, Choice};
use parking_lot::Mutex;
use std::cell::{Cell, RefCell};
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

/// Tasks run in one poll of `run_until` before it yields to its own executor (as the
/// runtimes' `event_interval`, so sockets and other tasks get their turn).
const TASKS_PER_POLL: usize = 61;

/// A set of `!Send` tasks ([`spawn_local`](crate::task::spawn_local)) that run on the thread that
/// polls [`run_until`](LocalSet::run_until), on a multi-threaded runtime as on a current-thread
/// one.
///
/// ```
/// use std::rc::Rc;
/// let rt = mini_runtime::Runtime::new().unwrap(); // multi-threaded
/// let local = mini_runtime::task::LocalSet::new();
/// let answer = local.block_on(&rt, async {
///     let shared = Rc::new(41); // `!Send`: cannot go to `spawn`
///     let task = mini_runtime::task::spawn_local({
///         let shared = shared.clone();
///         async move { *shared + 1 }
///     });
///     task.await.unwrap()
/// });
/// assert_eq!(answer, 42);
/// ```
///
/// Tasks spawned on the set run only while some future polls `run_until` (or `block_on`);
/// dropping the set drops the futures of the tasks still in it, on this thread.
pub struct LocalSet {
    scheduler: Arc<SetScheduler>,
    /// `!Send` and `!Sync`: the futures in the set may only be touched on this thread.
    _not_send: PhantomData<*const ()>,
}

/// The scheduler of the set's tasks, shared by the set and every task's waker.
struct SetScheduler {
    /// Tasks to run: spawned, or woken (from any thread).
    queue: Mutex<Queue>,
    owned: OwnedTasks<Arc<SetScheduler>>,
}

struct Queue {
    /// Closed when the `LocalSet` is dropped: queued tasks are dropped instead.
    tasks: TaskQueue<Notified<Arc<SetScheduler>>>,
    /// The waker of the task polling `run_until`, woken when a task is queued.
    runner: Option<Waker>,
}

thread_local! {
    /// The set whose `run_until` is being polled on this thread, for `spawn_local`.
    static CURRENT: RefCell<Option<Arc<SetScheduler>>> = const { RefCell::new(None) };
    /// Set while a set runs its tasks on this thread (`run_until`, the set as a future) or drops
    /// them.
    static DRIVING: Cell<bool> = const { Cell::new(false) };
}

/// Whether a `LocalSet` is running its tasks on this thread: then `block_in_place` refuses (as
/// tokio's does), since blocking would stop every task of the set.
pub(crate) fn is_driving() -> bool {
    DRIVING.try_with(Cell::get).unwrap_or(false)
}

/// Marks this thread as running a set's tasks until dropped.
struct Driving(bool);

impl Driving {
    fn enter() -> Driving {
        Driving(DRIVING.try_with(|driving| driving.replace(true)).unwrap_or(false))
    }
}

impl Drop for Driving {
    fn drop(&mut self) {
        let _ = DRIVING.try_with(|driving| driving.set(self.0));
    }
}

impl LocalSet {
    /// An empty set.
    pub fn new() -> LocalSet {
        LocalSet {
            scheduler: Arc::new(SetScheduler {
                queue: Mutex::new(Queue {
                    tasks: TaskQueue::new(),
                    runner: None,
                }),
                owned: OwnedTasks::new(),
            }),
            _not_send: PhantomData,
        }
    }

    /// Spawns a `!Send` task on this set; it runs when `run_until` is next polled.
    #[track_caller]
    pub fn spawn_local<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        self.spawn_local_at(future, SpawnSite::caller())
    }

    /// `spawn_local` with the spawn site given (`task::Builder` names it).
    pub(crate) fn spawn_local_at<F>(&self, future: F, site: SpawnSite) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        self.scheduler.spawn(future, site)
    }

    /// Runs `future` to completion, running the set's tasks meanwhile, on the thread that polls
    /// it. Inside, [`spawn_local`](crate::task::spawn_local) spawns on this set.
    pub fn run_until<F: Future>(&self, future: F) -> RunUntil<'_, F> {
        RunUntil { set: self, future }
    }

    /// Makes this set the one [`spawn_local`](crate::task::spawn_local) spawns on, on this
    /// thread, until the guard is dropped (outside `run_until` too). The tasks run when the set
    /// is next polled.
    ///
    /// ```
    /// let rt = mini_runtime::runtime::Builder::new_current_thread().build().unwrap();
    /// let local = mini_runtime::task::LocalSet::new();
    /// let task = {
    ///     let _entered = local.enter();
    ///     mini_runtime::task::spawn_local(async { 7 })
    /// };
    /// assert_eq!(local.block_on(&rt, task).unwrap(), 7);
    /// ```
    pub fn enter(&self) -> LocalEnterGuard {
        LocalEnterGuard {
            _current: CurrentGuard::set(self.scheduler.clone()),
            _not_send: PhantomData,
        }
    }

    /// Runs up to `TASKS_PER_POLL` queued tasks for the poll whose waker is `cx`'s; returns
    /// whether tasks are still queued (then that waker has been woken to come back).
    fn run_tasks(&self, cx: &mut Context<'_>) -> bool {
        let scheduler = &self.scheduler;
        for _ in 0..TASKS_PER_POLL {
            let Some(task) = scheduler.queue.lock().next_task() else {
                return false;
            };
            task.run();
        }
        // More queued: come back after the executor's other tasks have had a turn.
        cx.waker().wake_by_ref();
        true
    }

    /// Registers `cx`'s waker as the one to wake when a task is queued.
    fn register_runner(&self, cx: &mut Context<'_>) {
        let mut queue = self.scheduler.queue.lock();
        if !queue.runner.as_ref().is_some_and(|runner| runner.will_wake(cx.waker())) {
            queue.runner = Some(cx.waker().clone());
        }
    }
}

/// Awaiting a `LocalSet` runs its tasks until none is left (tokio's `impl Future for
/// LocalSet`).
///
/// ```
/// use std::rc::Rc;
/// let rt = mini_runtime::runtime::Builder::new_current_thread().build().unwrap();
/// let local = mini_runtime::task::LocalSet::new();
/// let seen = Rc::new(std::cell::Cell::new(0));
/// for _ in 0..3 {
///     let seen = seen.clone();
///     local.spawn_local(async move { seen.set(seen.get() + 1) });
/// }
/// rt.block_on(local);
/// assert_eq!(seen.get(), 3);
/// ```
impl Future for LocalSet {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let _current = CurrentGuard::set(self.scheduler.clone());
        let _driving = Driving::enter();
        self.register_runner(cx);
        if self.run_tasks(cx) || self.scheduler.owned.counts().0 > 0 {
            Poll::Pending
        } else {
            Poll::Ready(())
        }
    }
}

/// Returned by [`LocalSet::enter`]; the previous set (or none) is current again when it is
/// dropped.
#[must_use = "the set is current only while the guard lives"]
pub struct LocalEnterGuard {
    _current: CurrentGuard,
    _not_send: PhantomData<*const ()>,
}

impl fmt::Debug for LocalEnterGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalEnterGuard").finish_non_exhaustive()
    }
}

impl Default for LocalSet {
    fn default() -> Self {
        LocalSet::new()
    }
}

impl fmt::Debug for LocalSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalSet").finish_non_exhaustive()
    }
}

impl Drop for LocalSet {
    /// Drops the futures of the tasks still in the set (we are on their thread: the set is
    /// `!Send`), then the queued references.
    fn drop(&mut self) {
        let _current = CurrentGuard::set(self.scheduler.clone());
        // The tasks' `Drop`s run here as their polls do (tokio refuses `block_in_place` there too).
        let _driving = Driving::enter();
        for task in self.scheduler.owned.close_and_drain() {
            task.shutdown();
        }
        loop {
            let queued = {
                let mut queue = self.scheduler.queue.lock();
                queue.runner = None;
                queue.tasks.close()
            };
            if queued.is_empty() {
                break;
            }
            drop(queued);
        }
    }
}

impl SetScheduler {
    fn spawn<F>(self: &Arc<Self>, future: F, site: SpawnSite) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        // `is_local`: the set only polls and drops it on its own thread (the set is `!Send`).
        let (task, notified, join) = new_task(future, self.clone(), true, site);
        if let Some(notified) = self.owned.bind(task, notified) {
            self.schedule(notified);
        }
        join
    }
}

impl Queue {
    /// The oldest task; where a shuffled scheduler runs this thread (`shuffle.rs`), any of them.
    fn next_task(&mut self) -> Option<Notified<Arc<SetScheduler>>> {
        match shuffle::with_current(|shuffle| shuffle.choose(Choice::LocalSetTask, self.tasks.len())) {
            Some(index) => self.tasks.take(index),
            None => self.tasks.pop(),
        }
    }
}

impl Schedule for Arc<SetScheduler> {
    fn schedule(&self, task: Notified<Self>) {
        let runner = {
            let mut queue = self.queue.lock();
            if let Err(refused) = queue.tasks.push(task) {
                drop(queue);
                drop(refused);
                return;
            }
            queue.runner.clone()
        };
        if let Some(runner) = runner {
            runner.wake();
        }
    }

    fn release(&self, task: &Task<Self>) -> Option<Task<Self>> {
        self.owned.remove(task)
    }
}

/// Makes a set current for `spawn_local` until dropped. In a thread-local destructor that runs
/// after `CURRENT`'s (a `LocalSet` kept in a user's `thread_local!`), nothing is made current:
/// the set's tasks are still dropped, and `spawn_local` from their `Drop` finds no set.
struct CurrentGuard(Option<Arc<SetScheduler>>);

impl CurrentGuard {
    fn set(scheduler: Arc<SetScheduler>) -> CurrentGuard {
        CurrentGuard(
            CURRENT
                .try_with(|current| current.replace(Some(scheduler)))
                .ok()
                .flatten(),
        )
    }
}

impl Drop for CurrentGuard {
    fn drop(&mut self) {
        let previous = self.0.take();
        let _ = CURRENT.try_with(|current| current.replace(previous));
    }
}

/// Spawns on the set whose `run_until` this thread is polling; hands the future back if none.
pub(crate) fn spawn_on_current<F>(future: F, site: SpawnSite) -> Result<JoinHandle<F::Output>, (F, SpawnSite)>
where
    F: Future + 'static,
    F::Output: 'static,
{
    match CURRENT.try_with(|current| current.borrow().clone()).ok().flatten() {
        Some(scheduler) => Ok(scheduler.spawn(future, site)),
        None => Err((future, site)),
    }
}

/// The future of [`LocalSet::run_until`].
#[must_use = "futures do nothing unless polled"]
pub struct RunUntil<'a, F> {
    set: &'a LocalSet,
    future: F,
}

impl<F> fmt::Debug for RunUntil<'_, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RunUntil").finish_non_exhaustive()
    }
}

impl<F: Future> Future for RunUntil<'_, F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        // SAFETY: `future` is structurally pinned: it is never moved out of `self`, and `set`
        // (a shared reference) needs no pinning.
        let (set, future) = unsafe {
            let this = self.get_unchecked_mut();
            (this.set, Pin::new_unchecked(&mut this.future))
        };
        let _current = CurrentGuard::set(set.scheduler.clone());
        let _driving = Driving::enter();
        set.register_runner(cx);
        if let Poll::Ready(output) = future.poll(cx) {
            return Poll::Ready(output);
        }
        set.run_tasks(cx);
        Poll::Pending
    }
}

//! `LocalSet`: a group of `!Send` tasks that run on one thread, inside a future that the thread
//! polls, on any runtime flavor.
//!
//! The set is itself `!Send`, so everything that touches its futures (spawning, polling them in
//! `run_until`, dropping them in `Drop`) happens on the thread that created it. Only the
//! `Notified` pointers travel: a task woken from another thread is queued in `Shared::queue`
//! under a lock, and the waker of whoever is polling `run_until` is woken to come and run it.

use super::{new_task, JoinHandle, Notified, OwnedTasks, Schedule, Task};
use parking_lot::Mutex;
use std::cell::RefCell;
use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

/// Tasks run in one poll of `run_until` before it yields to its own executor (as the
/// runtimes' `event_interval`, so sockets and other tasks get their turn).
const TASKS_PER_POLL: usize = 61;

/// A set of `!Send` tasks ([`spawn_local`](super::spawn_local)) that run on the thread that
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
    shared: Arc<Shared>,
    /// `!Send` and `!Sync`: the futures in the set may only be touched on this thread.
    _not_send: PhantomData<*const ()>,
}

struct Shared {
    /// Tasks to run: spawned, or woken (from any thread).
    queue: Mutex<Queue>,
    owned: OwnedTasks<Arc<Shared>>,
}

struct Queue {
    tasks: VecDeque<Notified<Arc<Shared>>>,
    /// The waker of the task polling `run_until`, woken when a task is queued.
    runner: Option<Waker>,
    /// Set when the `LocalSet` is dropped: queued tasks are dropped instead.
    closed: bool,
}

thread_local! {
    /// The set whose `run_until` is being polled on this thread, for `spawn_local`.
    static CURRENT: RefCell<Option<Arc<Shared>>> = const { RefCell::new(None) };
}

impl LocalSet {
    /// An empty set.
    pub fn new() -> LocalSet {
        LocalSet {
            shared: Arc::new(Shared {
                queue: Mutex::new(Queue {
                    tasks: VecDeque::new(),
                    runner: None,
                    closed: false,
                }),
                owned: OwnedTasks::new(),
            }),
            _not_send: PhantomData,
        }
    }

    /// Spawns a `!Send` task on this set; it runs when `run_until` is next polled.
    pub fn spawn_local<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        self.shared.spawn(future)
    }

    /// Runs `future` to completion, running the set's tasks meanwhile, on the thread that polls
    /// it. Inside, [`spawn_local`](super::spawn_local) spawns on this set.
    pub fn run_until<F: Future>(&self, future: F) -> RunUntil<'_, F> {
        RunUntil { set: self, future }
    }

    /// `runtime.block_on(self.run_until(future))`: the runtime's I/O, timers and `spawn` are
    /// available to the set's tasks.
    pub fn block_on<F: Future>(&self, runtime: &crate::Runtime, future: F) -> F::Output {
        runtime.block_on(self.run_until(future))
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
        let _current = CurrentGuard::set(self.shared.clone());
        for task in self.shared.owned.close_and_drain() {
            task.shutdown();
        }
        loop {
            let queued = {
                let mut queue = self.shared.queue.lock();
                queue.closed = true;
                queue.runner = None;
                std::mem::take(&mut queue.tasks)
            };
            if queued.is_empty() {
                break;
            }
            drop(queued);
        }
    }
}

impl Shared {
    fn spawn<F>(self: &Arc<Self>, future: F) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        // `is_local`: the set only polls and drops it on its own thread (the set is `!Send`).
        let (task, notified, join) = new_task(future, self.clone(), true);
        if let Some(notified) = self.owned.bind(task, notified) {
            self.schedule(notified);
        }
        join
    }
}

impl Schedule for Arc<Shared> {
    fn schedule(&self, task: Notified<Self>) {
        let runner = {
            let mut queue = self.queue.lock();
            if queue.closed {
                drop(queue);
                drop(task);
                return;
            }
            queue.tasks.push_back(task);
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

/// Makes a set current for `spawn_local` until dropped.
struct CurrentGuard(Option<Arc<Shared>>);

impl CurrentGuard {
    fn set(shared: Arc<Shared>) -> CurrentGuard {
        CurrentGuard(CURRENT.with(|current| current.replace(Some(shared))))
    }
}

impl Drop for CurrentGuard {
    fn drop(&mut self) {
        let previous = self.0.take();
        let _ = CURRENT.try_with(|current| current.replace(previous));
    }
}

/// Spawns on the set whose `run_until` this thread is polling; hands the future back if none.
pub(super) fn spawn_on_current<F>(future: F) -> Result<JoinHandle<F::Output>, F>
where
    F: Future + 'static,
    F::Output: 'static,
{
    match CURRENT.try_with(|current| current.borrow().clone()).ok().flatten() {
        Some(shared) => Ok(shared.spawn(future)),
        None => Err(future),
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
        let shared = &set.shared;
        let _current = CurrentGuard::set(shared.clone());
        {
            let mut queue = shared.queue.lock();
            if !queue.runner.as_ref().is_some_and(|runner| runner.will_wake(cx.waker())) {
                queue.runner = Some(cx.waker().clone());
            }
        }
        if let Poll::Ready(output) = future.poll(cx) {
            return Poll::Ready(output);
        }
        for _ in 0..TASKS_PER_POLL {
            let Some(task) = shared.queue.lock().tasks.pop_front() else {
                return Poll::Pending;
            };
            crate::coop::budget(|| task.run());
        }
        // More queued: come back after the executor's other tasks have had a turn.
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

//! The blocking pool: threads for work that would stall the runtime (`spawn_blocking`), started
//! on demand up to a bound, and ended after a keep-alive without work.
//!
//! A blocking job is an ordinary task (same allocation, same `JoinHandle`, panics caught the same
//! way) whose future runs the closure on its first poll; its scheduler is this pool, so a queued
//! job is a `Notified` in the pool's queue, and `abort` before it starts cancels it.
//!
//! The pool knows nothing of the runtime around it: the caller wraps the job so that it runs
//! with its runtime entered, and hands over the [`JobOwner`] to tell when a job is done.

use super::task_queue::TaskQueue;
use super::thread_hooks::{ThreadHooks, BLOCKING_THREAD};
use crate::task::{new_task, JoinHandle, Notified, OwnedTasks, Schedule, SpawnSite, Task};
use parking_lot::{Condvar, Mutex};
use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

/// The default bound on blocking threads, as in tokio.
pub(crate) const DEFAULT_MAX_THREADS: usize = 512;
/// How long an idle blocking thread waits for work before it exits, as in tokio.
pub(crate) const DEFAULT_KEEP_ALIVE: Duration = Duration::from_secs(10);

/// The scheduler of the runtime a job belongs to, as the pool sees it.
pub(crate) trait JobOwner: Send + Sync + 'static {
    /// A job stopped counting as active: a runtime whose paused clock waits for the pool (see
    /// [`BlockingPool::is_busy`]) may go on.
    fn blocking_job_done(&self);
}

thread_local! {
    /// Set on pool threads: a job dropped while its task runs there leaves its countdown in
    /// `FINISHED_JOB` instead of counting down at once.
    static ON_POOL_THREAD: Cell<bool> = const { Cell::new(false) };
    /// The owner of the job whose task just ended on this pool thread (always a job of this
    /// thread's pool: a job runs, and its task completes, only where its pool polls it). Its task
    /// drops the job's future *before* it stores the output and wakes the `JoinHandle`; counting
    /// the job as done only once `run` returns keeps a paused clock from jumping in between,
    /// while the task that awaits the job is not yet woken.
    static FINISHED_JOB: Cell<Option<Arc<dyn JobOwner>>> = const { Cell::new(None) };
    /// Set on a thread that joined a pool (`count_this_thread`): its place there, given up when
    /// the thread exits (this thread-local's destructor).
    static JOINED_POOL: Cell<Option<PoolSeat>> = const { Cell::new(None) };
}

pub(crate) struct BlockingPool {
    pool: Arc<Pool>,
}

/// What the pool's threads and its jobs' tasks share; the jobs' scheduler.
struct Pool {
    state: Mutex<State>,
    /// Signalled when a job is queued or the pool shuts down.
    work: Condvar,
    /// Signalled when a thread exits (for `shutdown`'s wait).
    exited: Condvar,
    owned: OwnedTasks<Arc<Pool>>,
    max_threads: usize,
    keep_alive: Duration,
    /// The runtime's `thread_name` and start/stop callbacks (as in tokio, blocking threads run
    /// them too).
    hooks: ThreadHooks,
    /// Jobs queued or running: while any is, paused time does not jump ahead (the job may be
    /// about to wake a task).
    active: AtomicUsize,
}

struct State {
    /// Closed at shutdown: jobs queued later are cancelled.
    queue: TaskQueue<Notified<Arc<Pool>>>,
    threads: usize,
    idle: usize,
    /// Threads that joined the pool without being its own (`count_this_thread`): shutdown waits
    /// for them too, but they run no queued job, so they do not count against `max_threads`.
    joined: usize,
    /// Threads that left `threads` (they take no more jobs) and are running the `on_thread_stop`
    /// callback: shutdown waits for them too, as tokio's joins its threads.
    stopping: usize,
}

impl BlockingPool {
    pub(crate) fn new(max_threads: usize, keep_alive: Duration, hooks: ThreadHooks) -> BlockingPool {
        BlockingPool {
            pool: Arc::new(Pool {
                state: Mutex::new(State {
                    queue: TaskQueue::new(),
                    threads: 0,
                    idle: 0,
                    joined: 0,
                    stopping: 0,
                }),
                work: Condvar::new(),
                exited: Condvar::new(),
                owned: OwnedTasks::new(),
                max_threads,
                keep_alive,
                hooks,
                active: AtomicUsize::new(0),
            }),
        }
    }

    /// Runs `job` on a pool thread; `owner` hears when it is done.
    pub(crate) fn spawn<F, R>(&self, owner: Arc<dyn JobOwner>, job: F, site: SpawnSite) -> JoinHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        self.pool.active.fetch_add(1, Ordering::AcqRel);
        let future = BlockingJob {
            job: Some(job),
            owner,
            pool: self.pool.clone(),
        };
        let (task, notified, join) = new_task(future, self.pool.clone(), false, site);
        if let Some(notified) = self.pool.owned.bind(task, notified) {
            self.pool.schedule(notified);
        }
        join
    }

    /// The pool's threads (the joined ones included), how many of them are idle, and how many
    /// jobs are queued.
    pub(crate) fn counts(&self) -> (usize, usize, usize) {
        let state = self.pool.state.lock();
        (state.threads + state.joined, state.idle, state.queue.len())
    }

    /// Whether a job is queued or running.
    pub(crate) fn is_busy(&self) -> bool {
        self.pool.active.load(Ordering::Acquire) > 0
    }

    /// Counts this thread, which is not one of the pool's, as one of its threads running a job
    /// until the thread exits: `shutdown` waits for it as for its own (up to its timeout), and
    /// the metrics count it. For a multi-threaded worker that gave its core away to block in
    /// `block_in_place`.
    pub(crate) fn count_this_thread(&self) {
        self.pool.state.lock().joined += 1;
        let seat = PoolSeat(self.pool.clone());
        // If this thread is already exiting (no thread-locals left), the closure and the seat in
        // it are dropped at once: the thread leaves the pool now. A seat held before (none: a
        // thread gives its core away once) would be given up by the replace.
        let _ = JOINED_POOL.try_with(move |joined| joined.replace(Some(seat)));
    }

    /// Whether this thread joined this pool (`count_this_thread`).
    fn joined_by_this_thread(&self) -> bool {
        JOINED_POOL
            .try_with(|joined| {
                let seat = joined.take();
                let is_ours = seat.as_ref().is_some_and(|seat| Arc::ptr_eq(&seat.0, &self.pool));
                joined.set(seat);
                is_ours
            })
            .unwrap_or(false)
    }

    /// Cancels the queued jobs and waits up to `timeout` (`None`: forever) for the running ones;
    /// a job still running after that is left to its thread, which exits when it returns.
    pub(crate) fn shutdown(&self, timeout: Option<Duration>) {
        let pool = &self.pool;
        let queued = pool.state.lock().queue.close();
        drop(queued);
        pool.work.notify_all();
        for task in pool.owned.close_and_drain() {
            task.shutdown();
        }
        let deadline = timeout.map(|timeout| Instant::now() + timeout);
        // A thread that joined the pool and now shuts it down (it drops its runtime) cannot wait
        // for itself.
        let this_thread = usize::from(self.joined_by_this_thread());
        let mut state = pool.state.lock();
        while state.threads + state.joined + state.stopping > this_thread {
            match deadline {
                None => pool.exited.wait(&mut state),
                Some(deadline) => {
                    if pool.exited.wait_until(&mut state, deadline).timed_out() {
                        return;
                    }
                }
            }
        }
    }
}

impl Pool {
    /// The loop of one pool thread: run queued jobs; exit after `keep_alive` without one, or at
    /// shutdown once the queue is empty.
    fn run(self: Arc<Self>) {
        ON_POOL_THREAD.set(true);
        let mut state = self.state.lock();
        loop {
            if let Some(job) = state.queue.pop() {
                drop(state);
                job.run_unconstrained();
                if let Some(owner) = FINISHED_JOB.take() {
                    self.job_finished(&*owner);
                }
                state = self.state.lock();
                continue;
            }
            if state.queue.is_closed() {
                break;
            }
            state.idle += 1;
            let timeout = self.work.wait_for(&mut state, self.keep_alive);
            state.idle -= 1;
            if timeout.timed_out() && state.queue.is_empty() {
                break;
            }
        }
        // Out of `threads` in the same step as the decision to exit, so that a job queued
        // from now on starts a thread of its own.
        state.threads -= 1;
        state.stopping += 1;
    }

    /// A pool thread ended, its `on_thread_stop` callback included.
    fn thread_stopped(&self) {
        self.state.lock().stopping -= 1;
        self.exited.notify_all();
    }
}

/// A thread's place in a pool that it joined without being one of its threads; leaving it
/// counts the thread as exited.
struct PoolSeat(Arc<Pool>);

impl Drop for PoolSeat {
    fn drop(&mut self) {
        self.0.state.lock().joined -= 1;
        self.0.exited.notify_all();
    }
}

impl Pool {
    /// A job stopped counting as active (it ran and its task completed, or it was cancelled).
    fn job_finished(&self, owner: &dyn JobOwner) {
        self.active.fetch_sub(1, Ordering::AcqRel);
        // A runtime with paused time may be waiting for this job before it lets time jump.
        owner.blocking_job_done();
    }
}

impl Schedule for Arc<Pool> {
    fn schedule(&self, task: Notified<Self>) {
        let mut state = self.state.lock();
        if let Err(refused) = state.queue.push(task) {
            // Too late to start: dropping it cancels it (its JoinHandle says so).
            drop(state);
            drop(refused);
            return;
        }
        if state.idle > 0 {
            self.work.notify_one();
        } else if state.threads < self.max_threads {
            state.threads += 1;
            let pool = self.clone();
            let stopped = pool.clone();
            let spawned =
                self.hooks
                    .spawn_and_then(BLOCKING_THREAD, move || pool.run(), move |()| stopped.thread_stopped());
            if spawned.is_err() {
                // No thread now: the job waits for one of the running threads, if any.
                state.threads -= 1;
            }
        }
    }

    fn release(&self, task: &Task<Self>) -> Option<Task<Self>> {
        self.owned.remove(task)
    }

    const SPAWN_KIND: &'static str = "blocking";
}

/// The future of a blocking job: runs the closure on its first poll. It counts as active from
/// its spawn until it is dropped (after running, or cancelled) and, on a pool thread, its task
/// has completed.
struct BlockingJob<F> {
    job: Option<F>,
    owner: Arc<dyn JobOwner>,
    pool: Arc<Pool>,
}

impl<F> Unpin for BlockingJob<F> {}

impl<F: FnOnce() -> R, R> Future for BlockingJob<F> {
    type Output = R;

    fn poll(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<R> {
        let job = self.job.take().expect("a blocking job runs once");
        Poll::Ready(job())
    }
}

impl<F> Drop for BlockingJob<F> {
    fn drop(&mut self) {
        // A job that ran its closure on this pool thread is completing its task there: the
        // pool's loop finishes it once the `JoinHandle` is woken. Any other drop (a job that never
        // ran: cancelled, or refused at shutdown, possibly another pool's dropped by a closure
        // that drops its runtime) finishes at once.
        if self.job.is_none() && ON_POOL_THREAD.get() {
            let earlier = FINISHED_JOB.replace(Some(self.owner.clone()));
            debug_assert!(earlier.is_none(), "one blocking job finishes per task run");
            return;
        }
        self.pool.job_finished(&*self.owner);
    }
}

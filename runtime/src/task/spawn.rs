//! `spawn`, `spawn_local` and `spawn_blocking`: starting tasks on the current runtime. Each
//! records its caller as the task's spawn site (`#[track_caller]`).

use super::identity::SpawnSite;
use super::JoinHandle;
use crate::context;
use crate::scheduler::local_set;
use crate::scheduler::{Scheduler, SpawnLocalError};
use std::future::Future;

/// Spawns a task on the current runtime and returns its [`JoinHandle`].
///
/// The task starts running when the runtime next gets to it, after the tasks already queued;
/// it keeps running if the handle is dropped.
///
/// ```
/// mini_runtime::Runtime::new().unwrap().block_on(async {
///     let task = mini_runtime::spawn(async { "hello" });
///     assert_eq!(task.await.unwrap(), "hello");
/// });
/// ```
///
/// # Panics
/// If called outside a mini runtime ("must be called from within a mini runtime"): use
/// [`Runtime::spawn`](crate::Runtime::spawn) or [`Handle::spawn`](crate::runtime::Handle::spawn)
/// there.
#[track_caller]
pub fn spawn<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    spawn_at(future, SpawnSite::caller())
}

/// `spawn`, with the spawn site given.
pub(super) fn spawn_at<F>(future: F, site: SpawnSite) -> JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    match context::with_current(|handle| handle.spawn(future, site)) {
        Ok(join) => join,
        Err(error) if error.is_thread_local_destroyed() => panic!("`spawn`: {error}"),
        Err(_) => panic!("`spawn` {}", context::OUTSIDE_RUNTIME),
    }
}

/// Spawns a `!Send` task: on the [`LocalSet`](super::LocalSet) whose `run_until` this thread is
/// polling, else on the current-thread runtime this thread is running, or on the
/// thread-per-core worker this thread is.
///
/// The task only ever runs on this thread. On a current-thread runtime, the runtime remembers
/// it: calling `block_on` on another thread while such tasks are alive panics, and dropping the
/// runtime on another thread leaks them (their futures cannot be dropped there). A
/// thread-per-core worker drops its tasks on its own thread at shutdown. On a multi-threaded
/// runtime, use a `LocalSet`.
///
/// ```
/// use std::rc::Rc;
/// let rt = mini_runtime::runtime::Builder::new_current_thread().build().unwrap();
/// rt.block_on(async {
///     let shared = Rc::new(5);
///     let task = mini_runtime::task::spawn_local({
///         let shared = shared.clone();
///         async move { *shared + 1 }
///     });
///     assert_eq!(task.await.unwrap(), 6);
/// });
/// ```
///
/// # Panics
/// Outside a `LocalSet`'s `run_until`, if this thread is neither inside `block_on` of a
/// current-thread mini runtime nor a thread-per-core runtime's worker (the message says what to
/// use instead).
#[track_caller]
pub fn spawn_local<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    spawn_local_at(future, SpawnSite::caller())
}

/// `spawn_local`, with the spawn site given.
pub(super) fn spawn_local_at<F>(future: F, site: SpawnSite) -> JoinHandle<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    let (future, site) = match local_set::spawn_on_current(future, site) {
        Ok(join) => return join,
        Err(unspawned) => unspawned,
    };
    match context::with_current(|scheduler| scheduler.spawn_local(future, site)) {
        Ok(Ok(join)) => join,
        Ok(Err(SpawnLocalError::MultiThread)) => panic!(
            "`spawn_local` cannot be used on a multi-threaded mini runtime, whose tasks move between \
             threads: spawn a `Send` future with `spawn`, run the `!Send` work inside a \
             `mini::task::LocalSet` (`local.run_until(future)`), or use a current-thread runtime \
             (`Builder::new_current_thread`, or `#[mini::main(flavor = \"current_thread\")]`)"
        ),
        _ => panic!(
            "`spawn_local` must be called inside a `mini::task::LocalSet` (`run_until`), from a \
             task or future running inside `block_on` of a current-thread mini runtime, on the \
             thread that runs it, or from a task on a worker of a thread-per-core runtime"
        ),
    }
}

/// Runs `job` on the current runtime's blocking pool, a set of threads for work that would stall
/// the runtime (file I/O, CPU-heavy work, blocking libraries), and returns its [`JoinHandle`].
///
/// Threads start on demand up to `Builder::max_blocking_threads` (512) and exit after
/// `Builder::thread_keep_alive` (10 s) without work. A job cannot be interrupted once it runs:
/// `abort` only cancels it before it starts, and dropping the runtime waits for running jobs
/// (`Runtime::shutdown_timeout` waits only so long). Inside the job, the runtime is current, so
/// `spawn` and `Handle::current` work.
///
/// ```
/// mini_runtime::Runtime::new().unwrap().block_on(async {
///     let sum = mini_runtime::task::spawn_blocking(|| (1..=100u64).sum::<u64>());
///     assert_eq!(sum.await.unwrap(), 5050);
/// });
/// ```
///
/// # Panics
/// Outside a mini runtime.
#[track_caller]
pub fn spawn_blocking<F, R>(job: F) -> JoinHandle<R>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    spawn_blocking_at(job, SpawnSite::caller())
}

/// `spawn_blocking`, with the spawn site given.
pub(super) fn spawn_blocking_at<F, R>(job: F, site: SpawnSite) -> JoinHandle<R>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    match context::with_current(|scheduler| spawn_blocking_on(scheduler, job, site)) {
        Ok(join) => join,
        Err(_) => panic!("`spawn_blocking` {}", context::OUTSIDE_RUNTIME),
    }
}

/// `spawn_blocking` on `scheduler`'s pool (what `Handle::spawn_blocking` calls).
pub(crate) fn spawn_blocking_on<F, R>(scheduler: &Scheduler, job: F, site: SpawnSite) -> JoinHandle<R>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    let runtime = scheduler.clone();
    // The job runs with its runtime entered, so `Handle::current` and `spawn` work inside it.
    let job = move || {
        let _enter = context::enter(runtime);
        job()
    };
    scheduler.drivers().blocking.spawn(scheduler.job_owner(), job, site)
}

//! The runtime: a scheduler and its reactor, built by [`Builder`], driven by
//! [`Runtime::block_on`], and reachable from inside through [`Handle`].

mod builder;
mod dump;
mod dump_on_signal;
mod handle;
mod metrics;
pub mod seeds;

pub use crate::context::TryCurrentError;
pub use crate::scheduler::stall_report::StallReport;
pub use builder::{Builder, STALL_THRESHOLD_ENV, WORKER_THREADS_ENV};
pub use dump::{Dump, TaskDump, TaskState, WaitingOn};
pub use handle::{EnterGuard, Handle, Id, RuntimeFlavor};
pub use metrics::RuntimeMetrics;

use crate::context;

/// The index of the runtime worker this code runs on: a multi-threaded or thread-per-core
/// runtime's worker thread (`0..num_workers`), or 0 on the thread inside a current-thread
/// runtime's `block_on` (or dropping it); `None` on any other thread (a blocking job's, the
/// thread inside a multi-threaded runtime's `block_on`, a thread of your own).
///
/// ```
/// assert_eq!(mini_runtime::runtime::worker_index(), None);
/// let rt = mini_runtime::runtime::Builder::new_current_thread().build().unwrap();
/// assert_eq!(rt.block_on(async { mini_runtime::runtime::worker_index() }), Some(0));
/// ```
pub fn worker_index() -> Option<usize> {
    let (owner, worker) = crate::scheduler::current_core::running();
    (!owner.is_null()).then_some(worker)
}
use crate::scheduler::watchdog::Watchdog;
use crate::scheduler::Scheduler;
use crate::task::{JoinHandle, LocalSet};
use std::future::Future;

/// An async runtime: an executor that runs tasks and an epoll reactor that wakes them.
///
/// ```
/// let rt = mini_runtime::Runtime::new().unwrap();
/// let answer = rt.block_on(async {
///     let task = mini_runtime::spawn(async { 40 });
///     task.await.unwrap() + 2
/// });
/// assert_eq!(answer, 42);
/// ```
///
/// Dropping the runtime cancels every task it owns: each future is dropped (on the dropping
/// thread), whether it was running, idle or never polled, so the sockets it held are closed.
/// I/O objects that outlive their runtime return an error when they wait.
pub struct Runtime {
    handle: Handle,
    /// The stall detector's thread, stopped first at shutdown; `None` if the detector is off.
    watchdog: Option<Watchdog>,
    /// `Builder::dump_on_signal`'s thread, stopped first too.
    dumper: Option<dump_on_signal::DumpOnSignal>,
}

impl Runtime {
    pub(crate) fn from_scheduler(scheduler: Scheduler, watchdog: Option<Watchdog>) -> Runtime {
        Runtime {
            handle: Handle { inner: scheduler },
            watchdog,
            dumper: None,
        }
    }

    /// Runs `future` to completion on this thread and returns its output. A panic in `future`
    /// propagates to the caller. On a current-thread runtime this thread also runs the tasks and
    /// the I/O meanwhile; on a multi-threaded one the worker threads do.
    ///
    /// # Panics
    /// If called from inside a runtime (a task, or another `block_on` on this thread): blocking
    /// there would stall every task of that runtime. Use `.await` instead.
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.handle.block_on(future)
    }

    /// Spawns a task on this runtime; it runs when the runtime does (inside `block_on`).
    #[track_caller]
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.handle.spawn(future)
    }

    /// [`Handle::run_on_each`], run to completion: the futures `f` makes, one on each worker.
    ///
    /// # Panics
    /// As [`Handle::run_on_each`], and as [`block_on`](Runtime::block_on) from inside a runtime.
    pub fn run_on_each<F, Fut>(&self, f: F) -> Vec<Fut::Output>
    where
        F: Fn(usize) -> Fut + Send + Sync + 'static,
        Fut: Future + 'static,
        Fut::Output: Send + 'static,
    {
        self.block_on(self.handle.run_on_each(f))
    }

    /// Runs `job` on this runtime's blocking pool ([`Handle::spawn_blocking`]).
    #[track_caller]
    pub fn spawn_blocking<F, R>(&self, job: F) -> JoinHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        self.handle.spawn_blocking(job)
    }

    /// This runtime's metrics (see [`RuntimeMetrics`]).
    pub fn metrics(&self) -> RuntimeMetrics {
        self.handle.metrics()
    }

    /// A handle to this runtime, to spawn tasks from elsewhere.
    pub fn handle(&self) -> &Handle {
        &self.handle
    }

    /// Makes this runtime the current one on this thread until the guard is dropped, so that
    /// [`spawn`](crate::spawn) and `AsyncFd::new` work outside `block_on`.
    pub fn enter(&self) -> EnterGuard<'_> {
        self.handle.enter()
    }
}

impl Runtime {
    /// Drops the runtime like `drop` does, but waits at most `timeout` for blocking jobs
    /// (`spawn_blocking`) that are still running; those are left to finish on their threads.
    /// `drop` waits for them without a limit.
    pub fn shutdown_timeout(mut self, timeout: std::time::Duration) {
        self.shutdown(Some(timeout));
    }

    /// Drops the runtime without waiting for blocking jobs (`spawn_blocking`) that are still
    /// running: `shutdown_timeout(Duration::ZERO)`, for shutting down from a context where
    /// blocking is not allowed. The tasks are cancelled as `drop` cancels them.
    ///
    /// ```
    /// let rt = mini_runtime::Runtime::new().unwrap();
    /// rt.spawn_blocking(|| std::thread::sleep(std::time::Duration::from_secs(3600)));
    /// rt.shutdown_background(); // returns at once
    /// ```
    pub fn shutdown_background(self) {
        self.shutdown_timeout(std::time::Duration::ZERO);
    }

    fn shutdown(&mut self, blocking_timeout: Option<std::time::Duration>) {
        drop(self.watchdog.take());
        drop(self.dumper.take());
        // Entered, so that futures dropped by the shutdown may use the runtime (`spawn` is
        // refused with a cancelled task).
        let scheduler = &self.handle.inner;
        let _enter = context::enter(scheduler.clone());
        scheduler.shutdown(blocking_timeout);
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        self.shutdown(None);
    }
}

impl std::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runtime")
            .field("flavor", &self.handle.inner.flavor_name())
            .finish()
    }
}

impl LocalSet {
    /// `runtime.block_on(self.run_until(future))`: the runtime's I/O, timers and `spawn` are
    /// available to the set's tasks.
    pub fn block_on<F: Future>(&self, runtime: &Runtime, future: F) -> F::Output {
        runtime.block_on(self.run_until(future))
    }
}

//! `block_in_place`: run blocking code on a worker thread without stopping the worker's other
//! tasks.
//!
//! On a multi-threaded worker the worker's core (its queues) moves to a new thread first
//! (`MultiThread::hand_off_core`), so the thread that blocks is no longer a worker; the task
//! that called finishes its poll on it. Elsewhere no scheduler runs tasks on the thread, and the
//! closure just runs. A current-thread or thread-per-core runtime's tasks, and a `LocalSet`'s,
//! cannot move: there it panics, as tokio's does.

use crate::context;
use crate::coop;
use crate::defer;
use crate::scheduler::{current_core, local_set, prepare_to_block};

/// Runs the blocking closure `f` on this thread, first moving the rest of this worker's work to
/// another thread, so that the other tasks go on running meanwhile.
///
/// Meant for code that blocks or computes for long inside a task of the multi-threaded runtime,
/// where the task cannot (or would rather not) move the work to
/// [`spawn_blocking`](crate::task::spawn_blocking): the closure may borrow from the task, and
/// returns its value directly. The calling task itself, and whatever else runs inside it
/// (futures joined with it, a `select`), waits until `f` returns. Inside `f` the runtime is
/// still current, and [`Handle::block_on`](crate::runtime::Handle::block_on) may be used to
/// wait for a future.
///
/// The worker's queues move to a new worker thread; this thread becomes a blocking thread
/// (counted in `RuntimeMetrics::num_blocking_threads`, and waited for by the runtime's
/// shutdown as a `spawn_blocking` job is) and exits once the task's poll returns. Outside a
/// runtime (or after `Runtime::enter` on a thread of your own), on a blocking-pool thread, or on
/// the thread inside a multi-threaded or thread-per-core runtime's `block_on`, `f` simply runs.
///
/// ```
/// use std::time::Duration;
///
/// let rt = mini_runtime::Runtime::new().unwrap();
/// let answer = rt.block_on(async {
///     let task = mini_runtime::spawn(async {
///         mini_runtime::task::block_in_place(|| {
///             std::thread::sleep(Duration::from_millis(10)); // a blocking call
///             42
///         })
///     });
///     task.await.unwrap()
/// });
/// assert_eq!(answer, 42);
/// ```
///
/// # Panics
/// On a thread that runs a current-thread runtime (inside its `block_on`, or one of its tasks),
/// a thread-per-core runtime's worker, or inside a `LocalSet`'s tasks: their other tasks cannot
/// move to another thread, so blocking would stop them. Use `spawn_blocking` there. Also if no
/// thread can be started to take the worker over.
#[track_caller]
pub fn block_in_place<F, R>(f: F) -> R
where
    F: FnOnce() -> R,
{
    if local_set::is_driving() {
        panic!(
            "`block_in_place` cannot be called inside a `LocalSet`: its `!Send` tasks cannot move to \
             another thread, so blocking would stop them; use `spawn_blocking` and `.await` its \
             `JoinHandle` instead"
        );
    }
    if !prepare_to_block() {
        panic!(
            "`block_in_place` can only be called on a multi-threaded runtime: this thread runs a \
             current-thread runtime or a thread-per-core worker, whose other tasks cannot move to \
             another thread while it blocks; use `spawn_blocking` and `.await` its `JoinHandle` \
             instead (or `Builder::new_multi_thread`)"
        );
    }
    // While `f` blocks, this thread runs no core and defers nothing (the tasks it had deferred
    // are woken now): what `f` wakes or spawns, or a future it `block_on`s that yields, goes where
    // another thread runs it. (After a hand-off there is nothing left to set aside; a worker
    // that kept its core is blocked, and the rest of its tasks wait for it.)
    let _no_core = current_core::suspend();
    let _no_deferring = defer::suspend();
    context::exit_runtime(|| coop::unbudgeted(f))
}

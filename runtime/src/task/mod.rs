//! Tasks: a spawned future in one heap allocation, shared by the scheduler, its wakers and its
//! `JoinHandle`.
//!
//! The allocation (`raw.rs`) holds a header (the atomic state word of `state.rs`, a vtable, the
//! join waker), the scheduler handle, and the future, later replaced by its output. Each of these
//! owns one reference and releases it on drop:
//!
//! - [`Task`]: the runtime's list of owned tasks (`owned.rs`) holds one until the task completes;
//! - [`Notified`]: a task sitting in a run queue; running it consumes the reference;
//! - [`JoinHandle`]: the user's handle to the output;
//! - `Waker`: one per clone (`waker.rs`); waking queues a `Notified`.
//!
//! # Who may touch what
//!
//! The future and the output (the *stage*) are guarded by the state word: before `COMPLETE`,
//! only the thread that set `RUNNING` touches the stage; after it, only the `JoinHandle` (or the
//! completing thread, when there is no `JoinHandle`). A task is therefore never polled by two
//! threads at once, and a wake during a poll sets `NOTIFIED` so that the poller queues it again
//! (no lost wake-up).
//!
//! The join waker field follows these rules, arbitrated by the `JOIN_WAKER` bit:
//!
//! 1. `JOIN_INTEREST` is set while the `JoinHandle` exists; only the `JoinHandle` clears it.
//! 2. While `JOIN_WAKER` is clear, only the `JoinHandle` may read or write the field.
//! 3. While `JOIN_WAKER` is set, nobody writes the field; the `JoinHandle` may read it, and the
//!    task reads it to wake it after setting `COMPLETE`.
//! 4. After waking it, the completing task clears `JOIN_WAKER`. If the `JoinHandle` is gone by
//!    then, the task drops the waker; otherwise the `JoinHandle` does (on drop). A `JoinHandle`
//!    dropped before completion clears `JOIN_WAKER` with `JOIN_INTEREST` and drops the waker.
//! 5. To store a different waker, the `JoinHandle` clears `JOIN_WAKER` (this fails once
//!    `COMPLETE` is set: then it reads the output instead), writes, and sets it again (this fails
//!    if the task completed meanwhile: then it empties the field and reads the output).

mod harness;
mod join;
#[cfg(all(test, loom))]
mod loom_models;
mod owned;
mod raw;
mod spawn;
mod state;
mod waker;
mod yield_now;

pub use crate::scheduler::local_set::{LocalSet, RunUntil};
pub use join::{JoinError, JoinHandle};
pub(crate) use owned::OwnedTasks;
pub use spawn::{spawn, spawn_blocking, spawn_local};
pub use yield_now::yield_now;

use raw::{Header, RawTask};
use std::future::Future;
use std::marker::PhantomData;
use std::mem::ManuallyDrop;

/// What a task needs from the scheduler that owns it.
pub(crate) trait Schedule: Send + Sync + Sized + 'static {
    /// Queues a task to be run.
    fn schedule(&self, task: Notified<Self>);

    /// Queues a task that woke itself during its own poll (`yield_now`, a spent budget): behind
    /// the tasks already queued, never in a slot that would run it next.
    fn yield_now(&self, task: Notified<Self>) {
        self.schedule(task);
    }

    /// Takes a completed task out of the owned list, returning the list's reference.
    fn release(&self, task: &Task<Self>) -> Option<Task<Self>>;
}

/// One reference to a task, held by the owned-task list.
pub(crate) struct Task<S: 'static> {
    raw: RawTask,
    _scheduler: PhantomData<S>,
}

/// One reference to a task, held by a run queue: the task is to be polled.
pub(crate) struct Notified<S: 'static>(Task<S>);

// SAFETY: a Task moves between threads only to be queued, dropped or shut down. Its header is
// atomic or guarded by the state word; the future is only touched by the thread holding RUNNING,
// and for `!Send` futures (`is_local`) the scheduler only runs or shuts them down on the thread
// that owns them.
unsafe impl<S> Send for Task<S> {}
// SAFETY: as for Task.
unsafe impl<S> Send for Notified<S> {}

impl<S: 'static> Task<S> {
    /// # Safety
    /// The caller gives this Task one reference it owns.
    unsafe fn from_raw(raw: RawTask) -> Task<S> {
        Task {
            raw,
            _scheduler: PhantomData,
        }
    }

    fn header(&self) -> &Header {
        self.raw.header()
    }

    /// Whether the future is `!Send` (from `spawn_local`).
    pub(crate) fn is_local(&self) -> bool {
        self.header().is_local
    }

    /// Cancels the task at runtime shutdown: drops its future unless another thread is polling it
    /// (then that thread drops it when its poll ends).
    pub(crate) fn shutdown(self) {
        let this = ManuallyDrop::new(self);
        this.raw.shutdown();
    }
}

impl<S: 'static> Drop for Task<S> {
    fn drop(&mut self) {
        self.raw.drop_reference();
    }
}

impl<S: 'static> Notified<S> {
    /// # Safety
    /// The caller gives this Notified one reference it owns, and the task is marked `NOTIFIED`.
    unsafe fn from_raw(raw: RawTask) -> Notified<S> {
        // SAFETY: forwarded.
        Notified(unsafe { Task::from_raw(raw) })
    }

    /// Polls the task (or drops its future, if it was cancelled).
    pub(crate) fn run(self) {
        let this = ManuallyDrop::new(self);
        this.0.raw.poll();
    }
}

/// Allocates a task for `future`, to be queued on `scheduler`.
///
/// The caller must make sure that a `!Send` future (`is_local`) is only run and shut down on the
/// thread that owns it; that is why this takes no `Send` bound.
pub(crate) fn new_task<F, S>(future: F, scheduler: S, is_local: bool) -> (Task<S>, Notified<S>, JoinHandle<F::Output>)
where
    F: Future + 'static,
    S: Schedule,
{
    let raw = RawTask::new(future, scheduler, is_local);
    // SAFETY: a new task holds three references, one for each of these.
    unsafe { (Task::from_raw(raw), Notified::from_raw(raw), JoinHandle::new(raw)) }
}

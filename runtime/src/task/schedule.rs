//! What a scheduler sees of a task: the [`Schedule`] trait it implements, the two references it
//! holds ([`Task`] in its owned list, [`Notified`] in a run queue), and [`new_task`].

use super::identity::{Identity, SpawnSite};
use super::raw::{Header, RawTask};
use super::span;
use super::JoinHandle;
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

    /// What its tasks are, for their `tracing` span's `kind` (`task`; the blocking pool's are
    /// `blocking`, and a `spawn_local` task is `local` whatever its scheduler).
    const SPAWN_KIND: &'static str = "task";
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
    pub(super) unsafe fn from_raw(raw: RawTask) -> Task<S> {
        Task {
            raw,
            _scheduler: PhantomData,
        }
    }

    pub(super) fn header(&self) -> &Header {
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
    pub(super) unsafe fn from_raw(raw: RawTask) -> Notified<S> {
        // SAFETY: forwarded.
        Notified(unsafe { Task::from_raw(raw) })
    }

    /// The task's header, to name the task whose poll is running and trace its polls
    /// (`scheduler/stats.rs`).
    pub(crate) fn header(&self) -> &Header {
        self.0.header()
    }

    /// Polls the task (or drops its future, if it was cancelled), with a fresh cooperative
    /// budget, as the thread's current task.
    #[inline]
    pub(crate) fn run(self) {
        let raw = ManuallyDrop::new(self).0.raw;
        crate::coop::poll_task(raw.as_ptr().cast(), true, || raw.poll());
    }

    /// `run`, without a budget: for a blocking job, which may `block_on` mini's I/O.
    pub(crate) fn run_unconstrained(self) {
        let raw = ManuallyDrop::new(self).0.raw;
        crate::coop::poll_task(raw.as_ptr().cast(), false, || raw.poll());
    }
}

/// Allocates a task for `future`, to be queued on `scheduler`.
///
/// The caller must make sure that a `!Send` future (`is_local`) is only run and shut down on the
/// thread that owns it; that is why this takes no `Send` bound.
pub(crate) fn new_task<F, S>(
    future: F,
    scheduler: S,
    is_local: bool,
    site: SpawnSite,
) -> (Task<S>, Notified<S>, JoinHandle<F::Output>)
where
    F: Future + 'static,
    S: Schedule,
{
    let kind = if is_local { "local" } else { S::SPAWN_KIND };
    let identity = Identity::new(site);
    let (future, span_id) = span::traced(
        future,
        kind,
        identity.id.as_u64(),
        identity.name.as_deref(),
        identity.location,
    );
    let raw = RawTask::new(future, scheduler, is_local, identity.with_span(span_id));
    // SAFETY: a new task holds three references, one for each of these.
    unsafe { (Task::from_raw(raw), Notified::from_raw(raw), JoinHandle::new(raw)) }
}

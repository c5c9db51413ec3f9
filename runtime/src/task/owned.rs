//! The list of every task a runtime owns, so that dropping the runtime can drop every future,
//! including those that are idle, queued, or were never polled.
//!
//! The list holds one reference per task from `bind` until the task completes (`remove`). After
//! `close`, binding a task cancels it at once, so no task outlives the runtime's shutdown.
//!
//! Each task's header holds its key in the list (`owned_key`), a plain cell that only this list
//! reads or writes, and only under its lock: the accessors take the locked `Inner` by `&mut`,
//! so the type proves the lock is held.

use super::{Header, Notified, Schedule, Task};
use crate::loom::Mutex;
use crate::util::slab::{Key, Slab};

pub(crate) struct OwnedTasks<S: 'static> {
    inner: Mutex<Inner<S>>,
}

struct Inner<S: 'static> {
    tasks: Slab<Task<S>>,
    closed: bool,
    /// Tasks bound, ever (the metric `spawned_tasks_count`).
    spawned: u64,
}

impl<S: Schedule> OwnedTasks<S> {
    pub(crate) fn new() -> Self {
        OwnedTasks {
            inner: Mutex::new(Inner {
                tasks: Slab::new(),
                closed: false,
                spawned: 0,
            }),
        }
    }

    /// Adds a new task; returns its `Notified` to be queued, or `None` when the list is closed
    /// (then the task has been cancelled and its `JoinHandle` reports it).
    pub(crate) fn bind(&self, task: Task<S>, notified: Notified<S>) -> Option<Notified<S>> {
        let mut inner = self.inner.lock();
        if inner.closed {
            drop(inner);
            drop(notified);
            task.shutdown();
            return None;
        }
        inner.insert(task);
        inner.spawned += 1;
        Some(notified)
    }

    /// Takes a completed task out; `None` if it was never bound or the list was drained.
    pub(crate) fn remove(&self, task: &Task<S>) -> Option<Task<S>> {
        let mut inner = self.inner.lock();
        let key = inner.key_of(task);
        inner.tasks.remove(key)
    }

    /// Refuses new tasks from now on and hands back every task still in the list.
    pub(crate) fn close_and_drain(&self) -> Vec<Task<S>> {
        let mut inner = self.inner.lock();
        inner.closed = true;
        inner.tasks.drain()
    }

    /// How many tasks are alive (bound and not completed), and how many were ever bound.
    pub(crate) fn counts(&self) -> (usize, u64) {
        let inner = self.inner.lock();
        (inner.tasks.len(), inner.spawned)
    }

    /// Calls `f` with the header of every task in the list, under the list's lock: each task is
    /// alive for the call (the list holds a reference), but `f` must not spawn or complete a
    /// task of this runtime (that takes the lock).
    pub(crate) fn for_each_header(&self, mut f: impl FnMut(&Header)) {
        for task in self.inner.lock().tasks.iter() {
            f(task.header());
        }
    }

    /// Whether any task in the list is `!Send` (spawned with `spawn_local`).
    pub(crate) fn has_local_tasks(&self) -> bool {
        self.inner.lock().tasks.iter().any(|task| task.header().is_local)
    }
}

impl<S: 'static> Inner<S> {
    /// Adds `task` and records its key in its header.
    fn insert(&mut self, task: Task<S>) -> Key {
        let key_slot = task.header().owned_key.get();
        let key = self.tasks.insert(task);
        // SAFETY: `owned_key` is only read or written through `&mut Inner`, that is, under the
        // list's lock, and the task is in no other list.
        unsafe { *key_slot = key };
        key
    }

    /// The key `insert` recorded for `task` (`Key::NONE` if it was never bound).
    fn key_of(&mut self, task: &Task<S>) -> Key {
        // SAFETY: as in `insert`: we hold `&mut Inner`, so no other access to the key is running.
        unsafe { *task.header().owned_key.get() }
    }
}

//! The inject queue: tasks spawned or woken from outside the runtime's thread wait here until
//! the runtime takes them. A locked [`TaskQueue`] with an atomic length, so that the runtime
//! checks it without locking when it is empty (almost always).

use super::task_queue::TaskQueue;
use crate::loom::{AtomicUsize, Mutex};
use crate::task::Notified;
use std::collections::VecDeque;
use std::sync::atomic::AtomicU64;
use std::sync::atomic::Ordering::{Acquire, Relaxed, SeqCst};

pub(crate) struct Inject<S: 'static> {
    queue: Mutex<TaskQueue<Notified<S>>>,
    /// The queue's length, updated under the lock. `SeqCst`, because the runtime's "is it empty?"
    /// before parking pairs with a remote pusher's "is it parked?" (see `current_thread::park`).
    len: AtomicUsize,
    /// Tasks queued with `push` (from outside the runtime's threads, for `remote_schedule_count`);
    /// written under the lock.
    remote_pushes: AtomicU64,
}

impl<S: 'static> Inject<S> {
    pub(crate) fn new() -> Self {
        Inject {
            queue: Mutex::new(TaskQueue::new()),
            len: AtomicUsize::new(0),
            remote_pushes: AtomicU64::new(0),
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len.load(SeqCst) == 0
    }

    /// Queues `task`, spawned or woken outside the runtime's threads (it counts as a remote
    /// schedule); returns `false` (and drops it) if the queue is closed.
    pub(crate) fn push(&self, task: Notified<S>) -> bool {
        let mut queue = self.queue.lock();
        if let Err(refused) = queue.push(task) {
            drop(queue);
            drop(refused);
            return false;
        }
        self.len.store(queue.len(), SeqCst);
        // Under the lock, so a load and a store count every push.
        self.remote_pushes.store(self.remote_pushes.load(Relaxed) + 1, Relaxed);
        true
    }

    /// How many tasks `push` has queued (the metric `remote_schedule_count`).
    pub(crate) fn remote_pushes(&self) -> u64 {
        self.remote_pushes.load(Relaxed)
    }

    /// Queues several tasks under one lock (a worker's overflow); drops them if closed.
    pub(crate) fn push_batch(&self, tasks: impl Iterator<Item = Notified<S>>) {
        let mut queue = self.queue.lock();
        if let Err(refused) = queue.push_batch(tasks) {
            drop(queue);
            refused.for_each(drop);
            return;
        }
        self.len.store(queue.len(), SeqCst);
    }

    /// Hands up to `max` tasks, oldest first, to `sink` under one lock; returns how many.
    pub(crate) fn pop_batch(&self, max: usize, sink: impl FnMut(Notified<S>)) -> usize {
        if self.len.load(Acquire) == 0 {
            return 0;
        }
        let mut queue = self.queue.lock();
        let before = queue.len();
        queue.pop_batch(max, sink);
        self.len.store(queue.len(), SeqCst);
        before - queue.len()
    }

    pub(crate) fn len(&self) -> usize {
        self.len.load(Acquire)
    }

    pub(crate) fn pop(&self) -> Option<Notified<S>> {
        if self.len.load(Acquire) == 0 {
            return None;
        }
        let mut queue = self.queue.lock();
        let task = queue.pop();
        self.len.store(queue.len(), SeqCst);
        task
    }

    /// Closes the queue and returns what it held.
    pub(crate) fn close(&self) -> VecDeque<Notified<S>> {
        let mut queue = self.queue.lock();
        self.len.store(0, SeqCst);
        queue.close()
    }
}

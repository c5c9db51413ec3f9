//! The inject queue: tasks spawned or woken from outside the runtime's thread wait here until
//! the runtime takes them. A mutex-guarded FIFO with an atomic length, so that the runtime checks
//! it without locking when it is empty (almost always).

use crate::loom::{AtomicUsize, Mutex};
use crate::task::Notified;
use std::collections::VecDeque;
use std::sync::atomic::Ordering::{Acquire, SeqCst};

pub(crate) struct Inject<S: 'static> {
    queue: Mutex<Queue<S>>,
    /// The queue's length, updated under the lock. `SeqCst`, because the runtime's "is it empty?"
    /// before parking pairs with a remote pusher's "is it parked?" (see `current_thread::park`).
    len: AtomicUsize,
}

struct Queue<S: 'static> {
    tasks: VecDeque<Notified<S>>,
    /// After shutdown, pushed tasks are dropped instead of queued (they would keep the runtime's
    /// handle alive in a cycle).
    closed: bool,
}

impl<S: 'static> Inject<S> {
    pub(crate) fn new() -> Self {
        Inject {
            queue: Mutex::new(Queue {
                tasks: VecDeque::new(),
                closed: false,
            }),
            len: AtomicUsize::new(0),
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len.load(SeqCst) == 0
    }

    /// Queues `task`; returns `false` (and drops it) if the queue is closed.
    pub(crate) fn push(&self, task: Notified<S>) -> bool {
        let mut queue = self.queue.lock();
        if queue.closed {
            drop(queue);
            drop(task);
            return false;
        }
        queue.tasks.push_back(task);
        self.len.store(queue.tasks.len(), SeqCst);
        true
    }

    /// Queues several tasks under one lock (a worker's overflow); drops them if closed.
    pub(crate) fn push_batch(&self, tasks: impl Iterator<Item = Notified<S>>) {
        let mut queue = self.queue.lock();
        if queue.closed {
            drop(queue);
            tasks.for_each(drop);
            return;
        }
        queue.tasks.extend(tasks);
        self.len.store(queue.tasks.len(), SeqCst);
    }

    /// Hands up to `max` tasks, oldest first, to `sink` under one lock; returns how many.
    pub(crate) fn pop_batch(&self, max: usize, mut sink: impl FnMut(Notified<S>)) -> usize {
        if self.len.load(Acquire) == 0 {
            return 0;
        }
        let mut queue = self.queue.lock();
        let count = max.min(queue.tasks.len());
        queue.tasks.drain(..count).for_each(&mut sink);
        self.len.store(queue.tasks.len(), SeqCst);
        count
    }

    pub(crate) fn len(&self) -> usize {
        self.len.load(Acquire)
    }

    pub(crate) fn pop(&self) -> Option<Notified<S>> {
        if self.len.load(Acquire) == 0 {
            return None;
        }
        let mut queue = self.queue.lock();
        let task = queue.tasks.pop_front();
        self.len.store(queue.tasks.len(), SeqCst);
        task
    }

    /// Closes the queue and returns what it held.
    pub(crate) fn close(&self) -> VecDeque<Notified<S>> {
        let mut queue = self.queue.lock();
        queue.closed = true;
        self.len.store(0, SeqCst);
        std::mem::take(&mut queue.tasks)
    }
}

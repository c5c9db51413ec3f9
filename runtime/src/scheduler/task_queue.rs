//! A FIFO of tasks that can be closed. The run queues that live behind a lock (the inject queue,
//! the blocking pool's queue, a `LocalSet`'s queue) are each one of these.
//!
//! The queue does not own a lock: each owner keeps it inside its own mutex, next to whatever
//! else that mutex guards (the pool's thread counts, the set's runner). Its rules hold for all:
//!
//! - After [`close`](TaskQueue::close), [`push`](TaskQueue::push) refuses: the task is handed
//!   back and the caller drops it, which cancels it (its `JoinHandle` says so). A closed queue
//!   must not keep tasks: they would hold the scheduler's handle alive in a cycle.
//! - What comes back (a refused task, what `close` held) is dropped only *after* the caller has
//!   released its lock: dropping a task may drop its future, whose `Drop` may wake or spawn and
//!   so take the same lock.

use std::collections::VecDeque;

/// A run queue longer than this grew in a burst: once empty, it gives the memory back.
const BURST_CAPACITY: usize = 1024;

/// Replaces an empty queue that a burst made large with a new, empty one: a fresh allocation
/// rather than a shrink in place, so that the old one (made late in the burst, high in the
/// heap) does not keep malloc from returning the memory freed below it.
#[inline]
pub(crate) fn release_burst_capacity<T>(queue: &mut VecDeque<T>) {
    if queue.is_empty() && queue.capacity() > BURST_CAPACITY {
        *queue = VecDeque::new();
    }
}

pub(crate) struct TaskQueue<T> {
    tasks: VecDeque<T>,
    closed: bool,
}

impl<T> TaskQueue<T> {
    pub(crate) fn new() -> Self {
        TaskQueue {
            tasks: VecDeque::new(),
            closed: false,
        }
    }

    /// Queues `task` at the back; hands it back if the queue is closed (drop it after releasing
    /// the lock).
    pub(crate) fn push(&mut self, task: T) -> Result<(), T> {
        if self.closed {
            return Err(task);
        }
        self.tasks.push_back(task);
        Ok(())
    }

    /// Queues several tasks; hands them back if the queue is closed.
    pub(crate) fn push_batch<I: Iterator<Item = T>>(&mut self, tasks: I) -> Result<(), I> {
        if self.closed {
            return Err(tasks);
        }
        self.tasks.extend(tasks);
        Ok(())
    }

    /// The oldest task; the queue gives back the memory of a burst once this empties it.
    pub(crate) fn pop(&mut self) -> Option<T> {
        let task = self.tasks.pop_front();
        release_burst_capacity(&mut self.tasks);
        task
    }

    /// Takes the task at `index` (from the front), the last one taking its place: for a
    /// shuffled scheduler, which draws the index.
    pub(crate) fn take(&mut self, index: usize) -> Option<T> {
        self.tasks.swap_remove_back(index)
    }

    /// Hands up to `max` tasks from the front to `sink`; the queue gives back the memory of a
    /// burst once this empties it.
    pub(crate) fn pop_batch(&mut self, max: usize, sink: impl FnMut(T)) {
        let count = max.min(self.tasks.len());
        self.tasks.drain(..count).for_each(sink);
        release_burst_capacity(&mut self.tasks);
    }

    pub(crate) fn len(&self) -> usize {
        self.tasks.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.tasks.is_empty()
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.closed
    }

    /// Refuses tasks from now on and hands back those queued (drop them after releasing the lock).
    pub(crate) fn close(&mut self) -> VecDeque<T> {
        self.closed = true;
        std::mem::take(&mut self.tasks)
    }
}

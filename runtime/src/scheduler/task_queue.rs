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

use super::burst_queue::BurstQueue;
use std::collections::VecDeque;

/// The ring of each of these queues (`burst_queue.rs`): tasks past it wait in an overflow that
/// is freed once a burst is over.
const RING: usize = 64;

pub(crate) struct TaskQueue<T> {
    tasks: BurstQueue<T>,
    closed: bool,
}

impl<T> TaskQueue<T> {
    pub(crate) fn new() -> Self {
        TaskQueue {
            tasks: BurstQueue::new(RING),
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

    pub(crate) fn pop(&mut self) -> Option<T> {
        self.tasks.pop_front()
    }

    /// Takes the task at `index` (from the front), the last one taking its place: for a
    /// shuffled scheduler, which draws the index.
    pub(crate) fn take(&mut self, index: usize) -> Option<T> {
        self.tasks.take(index)
    }

    /// Hands up to `max` tasks from the front to `sink`.
    pub(crate) fn pop_batch(&mut self, max: usize, mut sink: impl FnMut(T)) {
        for _ in 0..max {
            let Some(task) = self.tasks.pop_front() else { break };
            sink(task);
        }
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
        self.tasks.take_all()
    }
}

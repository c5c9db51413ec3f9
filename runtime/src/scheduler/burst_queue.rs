//! A FIFO for run queues that gives back the memory of a burst: a ring allocated once, at its
//! full size, when the queue is made, and an overflow queue for what does not fit, freed as soon
//! as it empties.
//!
//! A plain `VecDeque` that grows in a burst moves to a new allocation made at that moment, high
//! in the heap, above the burst's tasks; it keeps that allocation after the burst (or, replaced
//! when empty, grows again in the next one), and that one small block keeps malloc from returning
//! the megabytes freed below it. The ring here never grows, so it stays where it was made (low,
//! at start-up), and the overflow lives only while a burst does.
//!
//! The overflow starts large (`OVERFLOW_START`): small blocks freed during a burst stay in malloc's
//! per-thread cache and pin the top of the heap as well.
//!
//! Order: while the overflow holds tasks, new ones go behind them, so that everything in the
//! ring is older than everything in the overflow; the ring refills from the overflow's front.

use std::collections::VecDeque;

/// The overflow's first size: blocks above glibc's per-thread cache limit (1,032 bytes).
const OVERFLOW_START: usize = 1024;

pub(crate) struct BurstQueue<T> {
    /// Never holds more than its capacity when made, so it never reallocates.
    ring: VecDeque<T>,
    ring_capacity: usize,
    /// Tasks that found the ring full (or behind such tasks); empty, with no allocation, but in a
    /// burst.
    overflow: VecDeque<T>,
}

impl<T> BurstQueue<T> {
    /// A queue whose ring holds `ring_capacity` tasks (allocated now).
    pub(crate) fn new(ring_capacity: usize) -> BurstQueue<T> {
        let ring = VecDeque::with_capacity(ring_capacity);
        BurstQueue {
            ring_capacity: ring.capacity(),
            ring,
            overflow: VecDeque::new(),
        }
    }

    #[inline]
    pub(crate) fn push_back(&mut self, task: T) {
        if self.overflow.is_empty() && self.ring.len() < self.ring_capacity {
            self.ring.push_back(task);
        } else {
            self.spill(task);
        }
    }

    /// The ring is full (or tasks already wait in the overflow): queues `task` in the overflow,
    /// made at once with room for `OVERFLOW_START` tasks. Growing it from a few slots would
    /// leave small freed blocks (which malloc caches per thread) high in the heap.
    #[cold]
    fn spill(&mut self, task: T) {
        if self.overflow.capacity() == 0 {
            self.overflow.reserve(OVERFLOW_START);
        }
        self.overflow.push_back(task);
    }

    /// Queues several tasks, in order.
    pub(crate) fn extend(&mut self, tasks: impl IntoIterator<Item = T>) {
        tasks.into_iter().for_each(|task| self.push_back(task));
    }

    #[inline]
    pub(crate) fn pop_front(&mut self) -> Option<T> {
        match self.ring.pop_front() {
            Some(task) => Some(task),
            None if self.overflow.is_empty() => None,
            None => self.refill(),
        }
    }

    /// The ring ran dry with tasks in the overflow: moves what fits from the overflow into it (freeing the overflow once it
    /// is empty) and pops from it.
    #[cold]
    fn refill(&mut self) -> Option<T> {
        let take = self.overflow.len().min(self.ring_capacity);
        self.ring.extend(self.overflow.drain(..take));
        self.free_drained_overflow();
        self.ring.pop_front()
    }

    /// Takes the task at `index` (from the front), the last of its part taking its place: for a
    /// shuffled scheduler, which draws the index.
    pub(crate) fn take(&mut self, index: usize) -> Option<T> {
        let task = match index.checked_sub(self.ring.len()) {
            None => self.ring.swap_remove_back(index),
            Some(in_overflow) => self.overflow.swap_remove_back(in_overflow),
        };
        self.free_drained_overflow();
        task
    }

    /// The burst is over: gives the overflow's memory back.
    fn free_drained_overflow(&mut self) {
        if self.overflow.is_empty() && self.overflow.capacity() > 0 {
            self.overflow = VecDeque::new();
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.ring.len() + self.overflow.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.ring.is_empty() && self.overflow.is_empty()
    }

    /// Takes every task out, oldest first (the ring keeps its allocation).
    pub(crate) fn take_all(&mut self) -> VecDeque<T> {
        let mut all: VecDeque<T> = self.ring.drain(..).collect();
        all.append(&mut std::mem::take(&mut self.overflow));
        all
    }
}

#[cfg(test)]
mod tests {
    use super::BurstQueue;

    #[test]
    fn order_holds_across_the_ring_and_the_overflow_and_the_overflow_is_freed() {
        let mut queue = BurstQueue::new(4);
        let ring = queue.ring_capacity;
        queue.extend(0..ring + 10);
        assert!(queue.overflow.capacity() > 0);
        let mut popped = Vec::new();
        for next in ring + 10..ring + 13 {
            popped.push(queue.pop_front().unwrap());
            queue.push_back(next); // behind the overflow, not into the ring's free slot
        }
        while let Some(task) = queue.pop_front() {
            popped.push(task);
        }
        assert_eq!(popped, (0..ring + 13).collect::<Vec<_>>());
        assert_eq!(queue.overflow.capacity(), 0, "the overflow's memory went back");
        assert_eq!(queue.ring.capacity(), ring, "the ring never grew");
        assert!(queue.is_empty());
    }
}

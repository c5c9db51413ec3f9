//! A worker's local run queue: a bounded ring that its own worker pushes to and pops from without
//! a lock, and that idle workers steal half of.
//!
//! # The indices
//!
//! Positions are `u32` counters that only grow (wrapping); a position's slot is `pos % CAPACITY`.
//!
//! - `tail`: where the owner writes the next task. Only the owner stores it.
//! - `head`, two positions packed in one `u64` so that one CAS moves both:
//!   - `real`: the next task to take, by the owner (`pop`) or by a stealer (it claims a batch by
//!     moving `real` past it);
//!   - `steal`: the first task of a batch a stealer has claimed but not finished copying out;
//!     equal to `real` when no steal is in progress.
//!
//! The slots in `[steal, real)` are being copied by a stealer, those in `[real, tail)` hold
//! tasks, the others are free. The owner writes at `tail` only while `tail - steal < CAPACITY`,
//! so it never overwrites a slot a stealer is still reading. Only one steal runs at a time (a
//! stealer that finds `steal != real` gives up), which keeps the ring's arithmetic simple.
//!
//! When the ring is full, the owner moves half of it (and the new task) to the inject queue in
//! one lock, so a burst of spawns spreads to other workers instead of failing.

use super::super::inject::Inject;
use crate::loom::{AtomicU32, AtomicU64, UnsafeCell};
use crate::task::Notified;
use std::mem::MaybeUninit;
use std::sync::atomic::Ordering::{AcqRel, Acquire, Relaxed, Release};
use std::sync::Arc;

/// Slots per worker: 256, as in tokio (4 under loom, so that overflow is reachable in a model).
const CAPACITY: usize = if cfg!(loom) { 4 } else { 256 };
const MASK: usize = CAPACITY - 1;

/// The owner's end; not `Sync` in spirit: only the worker that owns it calls its methods.
pub(crate) struct Local<S: 'static> {
    inner: Arc<Inner<S>>,
}

/// A stealer's end; any worker may hold one.
pub(crate) struct Steal<S: 'static>(Arc<Inner<S>>);

struct Inner<S: 'static> {
    head: AtomicU64,
    tail: AtomicU32,
    buffer: Box<[UnsafeCell<MaybeUninit<Notified<S>>>]>,
}

// SAFETY: the slots are handed between threads only under the head/tail protocol above, which
// gives each slot one reader or one writer at a time; `Notified` is `Send`.
unsafe impl<S> Send for Inner<S> {}
// SAFETY: as above.
unsafe impl<S> Sync for Inner<S> {}

fn pack(steal: u32, real: u32) -> u64 {
    (u64::from(steal) << 32) | u64::from(real)
}

fn unpack(head: u64) -> (u32, u32) {
    ((head >> 32) as u32, head as u32)
}

/// A new empty queue: the owner's end and a stealer's end.
pub(crate) fn local<S: 'static>() -> (Local<S>, Steal<S>) {
    let buffer = (0..CAPACITY).map(|_| UnsafeCell::new(MaybeUninit::uninit())).collect();
    let inner = Arc::new(Inner {
        head: AtomicU64::new(0),
        tail: AtomicU32::new(0),
        buffer,
    });
    (Local { inner: inner.clone() }, Steal(inner))
}

impl<S: 'static> Inner<S> {
    /// Moves the task out of slot `pos`.
    ///
    /// # Safety
    /// The caller has claimed `pos` (it lies in a range the protocol gives it) and the slot holds
    /// a task.
    unsafe fn take(&self, pos: u32) -> Notified<S> {
        // SAFETY: forwarded from the caller.
        self.buffer[pos as usize & MASK].with(|slot| unsafe { slot.read().assume_init() })
    }

    /// Writes `task` into slot `pos`.
    ///
    /// # Safety
    /// `pos` is free and nobody else may touch it (the owner at `tail`, below `steal + CAPACITY`).
    unsafe fn put(&self, pos: u32, task: Notified<S>) {
        // SAFETY: forwarded from the caller.
        self.buffer[pos as usize & MASK].with_mut(|slot| unsafe { slot.write(MaybeUninit::new(task)) });
    }

    fn len(&self) -> u32 {
        let (_, real) = unpack(self.head.load(Acquire));
        self.tail.load(Acquire).wrapping_sub(real)
    }
}

impl<S: 'static> Local<S> {
    /// How many tasks are queued (stealers may take some at any time).
    pub(crate) fn len(&self) -> usize {
        self.inner.len() as usize
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Free slots: how many tasks `push_back` can take without overflowing.
    pub(crate) fn remaining_slots(&self) -> usize {
        let (steal, _) = unpack(self.inner.head.load(Acquire));
        CAPACITY - self.inner.tail.load(Relaxed).wrapping_sub(steal) as usize
    }

    /// Queues `task` at the back; if the ring is full, moves half of it and `task` to `inject`.
    /// Returns whether it overflowed so.
    pub(crate) fn push_back_or_overflow(&mut self, mut task: Notified<S>, inject: &Inject<S>) -> bool {
        let tail = loop {
            let head = self.inner.head.load(Acquire);
            let (steal, real) = unpack(head);
            // Only this thread stores `tail`.
            let tail = self.inner.tail.load(Relaxed);
            if tail.wrapping_sub(steal) < CAPACITY as u32 {
                break tail;
            }
            if steal != real {
                // A stealer is emptying the ring right now; rather than wait for it, send this
                // one task to the inject queue.
                inject.push_batch(std::iter::once(task));
                return true;
            }
            match self.push_overflow(task, real, tail, inject) {
                Ok(()) => return true,
                // A stealer took tasks meanwhile: there is room now.
                Err(returned) => task = returned,
            }
        };
        // SAFETY: `tail - steal < CAPACITY`, so slot `tail` is free, and only the owner writes.
        unsafe { self.inner.put(tail, task) };
        self.inner.tail.store(tail.wrapping_add(1), Release);
        false
    }

    /// Queues `task` at the back; the caller checked `remaining_slots` first.
    pub(crate) fn push_back(&mut self, task: Notified<S>) {
        assert!(self.remaining_slots() > 0, "local queue overflow");
        let tail = self.inner.tail.load(Relaxed);
        // SAFETY: the assert above leaves room; only the owner writes.
        unsafe { self.inner.put(tail, task) };
        self.inner.tail.store(tail.wrapping_add(1), Release);
    }

    /// Moves the older half of a full ring, and `task`, to the inject queue. Fails (handing
    /// `task` back) if a stealer moved `head` first.
    fn push_overflow(
        &mut self,
        task: Notified<S>,
        real: u32,
        tail: u32,
        inject: &Inject<S>,
    ) -> Result<(), Notified<S>> {
        const HALF: u32 = (CAPACITY / 2) as u32;
        assert_eq!(
            tail.wrapping_sub(real),
            CAPACITY as u32,
            "overflow of a ring that is not full"
        );
        let claimed = pack(real.wrapping_add(HALF), real.wrapping_add(HALF));
        if self
            .inner
            .head
            .compare_exchange(pack(real, real), claimed, AcqRel, Acquire)
            .is_err()
        {
            return Err(task);
        }
        // SAFETY: the CAS moved `head` past `[real, real + HALF)`: stealers can no longer reach
        // those slots, and the owner (us) does not write them until this returns.
        let batch = (0..HALF).map(|i| unsafe { self.inner.take(real.wrapping_add(i)) });
        inject.push_batch(batch.chain(std::iter::once(task)));
        Ok(())
    }

    /// Takes the task at the front.
    pub(crate) fn pop(&mut self) -> Option<Notified<S>> {
        let mut head = self.inner.head.load(Acquire);
        let pos = loop {
            let (steal, real) = unpack(head);
            if real == self.inner.tail.load(Relaxed) {
                return None;
            }
            let next_real = real.wrapping_add(1);
            // With no steal in progress, `steal` follows `real`.
            let next = if steal == real {
                pack(next_real, next_real)
            } else {
                pack(steal, next_real)
            };
            match self.inner.head.compare_exchange(head, next, AcqRel, Acquire) {
                Ok(_) => break real,
                Err(actual) => head = actual,
            }
        };
        // SAFETY: the CAS claimed `pos` for us alone; it lies in `[real, tail)`, so it holds a task.
        Some(unsafe { self.inner.take(pos) })
    }
}

impl<S: 'static> Drop for Local<S> {
    /// Drops the tasks still queued (their references), so that none leaks.
    fn drop(&mut self) {
        while self.pop().is_some() {}
    }
}

impl<S: 'static> Steal<S> {
    pub(crate) fn is_empty(&self) -> bool {
        self.0.len() == 0
    }

    pub(crate) fn len(&self) -> usize {
        self.0.len() as usize
    }

    /// Moves half of this queue's tasks into `dst` (the caller's own queue) and returns one of
    /// them to run now; `None` if there was nothing to take, another steal is in progress, or
    /// `dst` has no room for half a ring.
    pub(crate) fn steal_into(&self, dst: &mut Local<S>) -> Option<Notified<S>> {
        let dst_tail = dst.inner.tail.load(Relaxed);
        let (dst_steal, _) = unpack(dst.inner.head.load(Acquire));
        if dst_tail.wrapping_sub(dst_steal) > (CAPACITY / 2) as u32 {
            return None;
        }
        let stolen = self.steal_batch_into(dst, dst_tail);
        if stolen == 0 {
            return None;
        }
        // Run the last stolen task now; publish the others.
        let last = dst_tail.wrapping_add(stolen - 1);
        // SAFETY: `steal_batch_into` wrote slot `last` of `dst`, which no one else can read yet
        // (it is at or past `dst`'s published tail).
        let task = unsafe { dst.inner.take(last) };
        if stolen > 1 {
            dst.inner.tail.store(last, Release);
        }
        Some(task)
    }

    /// Claims half of the tasks, copies them into `dst` from `dst_tail` on (unpublished), and
    /// returns how many.
    fn steal_batch_into(&self, dst: &mut Local<S>, dst_tail: u32) -> u32 {
        let mut head = self.0.head.load(Acquire);
        let (first, count, claimed) = loop {
            let (steal, real) = unpack(head);
            if steal != real {
                // Someone else is stealing from this queue.
                return 0;
            }
            let available = self.0.tail.load(Acquire).wrapping_sub(real);
            let count = available - available / 2;
            if count == 0 {
                return 0;
            }
            // Move `real` past the batch but keep `steal` at its start: the owner must not
            // overwrite those slots until we have copied them.
            let claimed = pack(steal, real.wrapping_add(count));
            match self.0.head.compare_exchange(head, claimed, AcqRel, Acquire) {
                Ok(_) => break (real, count, claimed),
                Err(actual) => head = actual,
            }
        };
        assert!(count as usize <= CAPACITY / 2, "steal of more than half a ring");
        for i in 0..count {
            // SAFETY: `[first, first + count)` is ours by the CAS and holds tasks; the slots of
            // `dst` from `dst_tail` are free (the caller checked there is room for half a ring)
            // and only `dst`'s owner (us) writes them.
            unsafe {
                let task = self.0.take(first.wrapping_add(i));
                dst.inner.put(dst_tail.wrapping_add(i), task);
            }
        }
        // Done copying: let `steal` catch up with `real`, releasing the slots to the owner.
        let mut head = claimed;
        loop {
            let (_, real) = unpack(head);
            match self.0.head.compare_exchange(head, pack(real, real), AcqRel, Acquire) {
                Ok(_) => return count,
                // The owner popped meanwhile (only `real` moved): try again.
                Err(actual) => head = actual,
            }
        }
    }
}

impl<S: 'static> Clone for Steal<S> {
    fn clone(&self) -> Self {
        Steal(self.0.clone())
    }
}

//! The one heap allocation behind a task, and the untyped pointer to it.
//!
//! ```text
//!   Box<Cell<F, S>>, #[repr(C)]:
//!   +--------------------------------------------------------------+
//!   | Header: state word, vtable, owned-list key, join waker, local, |  <- RawTask / Waker data
//!   |         identity (id, spawn site, name), trace (polls, waits)  |     point here
//!   | S: the scheduler handle (an Arc), used to queue the task      |
//!   | Stage<F>: the future, then its output, then nothing           |
//!   +--------------------------------------------------------------+
//! ```
//!
//! Everything that is not generic lives in the header, at offset 0, so wakers, `JoinHandle`s and
//! the scheduler hold a `RawTask` (one pointer) and reach the typed code through the vtable.

use super::harness;
use super::identity::Identity;
use super::join::JoinError;
use super::state::State;
use super::trace::{Lifecycle, Trace};
use super::Schedule;
use crate::util::slab::Key;
use std::cell::UnsafeCell;
use std::future::Future;
use std::ptr::NonNull;
use std::task::Waker;

pub(crate) struct Header {
    pub(super) state: State,
    pub(super) vtable: &'static Vtable,
    /// Where the task sits in its runtime's owned-task list; written and read only under that
    /// list's lock.
    pub(super) owned_key: UnsafeCell<Key>,
    /// The waker of whoever awaits the `JoinHandle`; access follows the join waker rules in
    /// `task/mod.rs`, arbitrated by the `JOIN_WAKER` bit.
    pub(super) join_waker: UnsafeCell<Option<Waker>>,
    /// The future is `!Send` (`spawn_local`): it may only be polled or dropped on the thread that
    /// owns its runtime's local tasks.
    pub(super) is_local: bool,
    /// Id, spawn site and name: written at spawn, then only read.
    pub(crate) identity: Identity,
    /// Polls, their time and what the last one waited on, for task dumps (`trace.rs`).
    pub(crate) trace: Trace,
}

impl Header {
    /// Where the task is in its life, from its state word (for task dumps).
    pub(crate) fn lifecycle(&self) -> Lifecycle {
        let state = self.state.load();
        if state.is_complete() {
            Lifecycle::Complete
        } else if state.is_running() {
            Lifecycle::Running
        } else if state.is_notified() {
            Lifecycle::Scheduled
        } else {
            Lifecycle::Idle
        }
    }
}

/// Calls `f` with the header of the task being polled on this thread, if any.
#[inline]
pub(crate) fn with_current<R>(f: impl FnOnce(&Header) -> R) -> Option<R> {
    let header = crate::coop::current_task()?.cast::<Header>();
    // SAFETY: `Notified::run` sets the pointer only for the duration of the task's poll, during
    // which the poller holds a reference to the task, so the header is live.
    Some(f(unsafe { header.as_ref() }))
}

/// The typed operations of one `Cell<F, S>`, reached from an untyped `RawTask`.
pub(super) struct Vtable {
    pub(super) poll: unsafe fn(NonNull<Header>),
    pub(super) schedule: unsafe fn(NonNull<Header>),
    pub(super) dealloc: unsafe fn(NonNull<Header>),
    /// Writes `Poll<Result<F::Output, JoinError>>` through the `*mut ()` when the output is ready.
    pub(super) try_read_output: unsafe fn(NonNull<Header>, *mut (), &Waker),
    pub(super) drop_join_handle_slow: unsafe fn(NonNull<Header>),
    pub(super) shutdown: unsafe fn(NonNull<Header>),
}

#[repr(C)]
pub(super) struct Cell<F: Future, S> {
    pub(super) header: Header,
    pub(super) scheduler: S,
    /// Owned by the thread holding `RUNNING` until `COMPLETE`, then by the `JoinHandle`.
    pub(super) stage: UnsafeCell<Stage<F>>,
}

pub(super) enum Stage<F: Future> {
    Running(F),
    Finished(Result<F::Output, JoinError>),
    Consumed,
}

fn vtable<F: Future, S: Schedule>() -> &'static Vtable {
    &Vtable {
        poll: harness::poll::<F, S>,
        schedule: harness::schedule::<F, S>,
        dealloc: harness::dealloc::<F, S>,
        try_read_output: harness::try_read_output::<F, S>,
        drop_join_handle_slow: harness::drop_join_handle_slow::<F, S>,
        shutdown: harness::shutdown::<F, S>,
    }
}

/// A pointer to a task's allocation. It carries no reference by itself: `Task`, `Notified`,
/// `JoinHandle` and `Waker` each own one reference and release it when dropped.
#[derive(Clone, Copy)]
pub(crate) struct RawTask {
    ptr: NonNull<Header>,
}

impl RawTask {
    /// Allocates a task holding three references (see `state::INITIAL_STATE`).
    pub(super) fn new<F: Future + 'static, S: Schedule>(
        future: F,
        scheduler: S,
        is_local: bool,
        identity: Identity,
    ) -> RawTask {
        let cell = Box::new(Cell {
            header: Header {
                state: State::new(),
                vtable: vtable::<F, S>(),
                owned_key: UnsafeCell::new(Key::NONE),
                join_waker: UnsafeCell::new(None),
                is_local,
                identity,
                trace: Trace::new(),
            },
            scheduler,
            stage: UnsafeCell::new(Stage::Running(future)),
        });
        RawTask {
            ptr: NonNull::from(Box::leak(cell)).cast(),
        }
    }

    /// # Safety
    /// `ptr` points at the header of a live task (one whose reference count is not zero).
    pub(super) unsafe fn from_raw(ptr: NonNull<Header>) -> RawTask {
        RawTask { ptr }
    }

    pub(super) fn as_ptr(self) -> NonNull<Header> {
        self.ptr
    }

    pub(super) fn header(&self) -> &Header {
        // SAFETY: a RawTask is only used while its holder owns a reference, so the allocation is live.
        unsafe { self.ptr.as_ref() }
    }

    /// Runs the task; consumes the reference of the `Notified` it was taken from.
    pub(super) fn poll(self) {
        // SAFETY: the vtable belongs to this allocation; the caller gives up one reference.
        unsafe { (self.header().vtable.poll)(self.ptr) }
    }

    /// Queues the task on its scheduler; consumes one reference (it becomes the `Notified`).
    pub(super) fn schedule(self) {
        // SAFETY: as in `poll`.
        unsafe { (self.header().vtable.schedule)(self.ptr) }
    }

    /// Cancels the task on runtime shutdown; consumes one reference.
    pub(super) fn shutdown(self) {
        // SAFETY: as in `poll`.
        unsafe { (self.header().vtable.shutdown)(self.ptr) }
    }

    /// # Safety
    /// `dst` points at a `Poll<Result<T, JoinError>>` where `T` is the task's output type.
    pub(super) unsafe fn try_read_output(self, dst: *mut (), waker: &Waker) {
        // SAFETY: the caller vouches for `dst`; the vtable belongs to this allocation.
        unsafe { (self.header().vtable.try_read_output)(self.ptr, dst, waker) }
    }

    /// Consumes the `JoinHandle`'s reference.
    pub(super) fn drop_join_handle_slow(self) {
        // SAFETY: as in `poll`.
        unsafe { (self.header().vtable.drop_join_handle_slow)(self.ptr) }
    }

    /// Cancels the task from outside it (`JoinHandle::abort`, `AbortHandle::abort`): its future
    /// is dropped on its scheduler before its next poll.
    pub(super) fn remote_abort(self) {
        if let super::state::ToNotified::Submit = self.header().state.transition_to_notified_and_cancel() {
            self.schedule();
        }
    }

    pub(super) fn ref_inc(self) {
        self.header().state.ref_inc();
    }

    /// Releases one reference, freeing the task if it was the last.
    pub(super) fn drop_reference(self) {
        if self.header().state.ref_dec(1) {
            // SAFETY: that was the last reference, so nobody else can reach the allocation.
            unsafe { (self.header().vtable.dealloc)(self.ptr) }
        }
    }
}

#[cfg(test)]
mod tests {
    /// The header's size is part of every task's memory (ARCHITECTURE.md, "Observability", gives
    /// it): a field added here should be a choice, not an accident. (The `tracing` feature adds
    /// the task span's id, 16 bytes.)
    #[test]
    #[cfg(not(feature = "tracing"))]
    fn the_header_is_104_bytes() {
        assert_eq!(std::mem::size_of::<super::Header>(), 104);
    }
}

//! The typed half of a task: polling, completing, cancelling and reading the output of a
//! `Cell<F, S>`, each a state transition followed by what it allows. The vtable in `raw.rs`
//! points here.
//!
//! User code (the future's `poll` and `drop`, the output's `drop`, the join waker's `wake`) runs
//! under `catch_unwind`, so that a panic there never leaves the state word half-updated or
//! unwinds into the scheduler.

use super::join::JoinError;
use super::raw::{Cell, Header, RawTask, Stage};
use super::state::{ToIdle, ToRunning};
use super::waker::borrowed_waker;
use super::{Notified, Schedule, Task};
use std::future::Future;
use std::mem::{self, ManuallyDrop};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::ptr::NonNull;
use std::task::{Context, Poll, Waker};

struct Harness<F: Future, S: 'static> {
    cell: NonNull<Cell<F, S>>,
}

impl<F: Future, S: Schedule> Harness<F, S> {
    /// # Safety
    /// `ptr` is the header of a live `Cell<F, S>` (the vtable it was reached through is `F, S`'s).
    unsafe fn from_raw(ptr: NonNull<Header>) -> Self {
        Harness { cell: ptr.cast() }
    }

    fn cell(&self) -> &Cell<F, S> {
        // SAFETY: the caller of `from_raw` holds a reference, so the cell is live.
        unsafe { self.cell.as_ref() }
    }

    fn header(&self) -> &Header {
        &self.cell().header
    }

    fn raw(&self) -> RawTask {
        // SAFETY: the cell is live (see `cell`).
        unsafe { RawTask::from_raw(self.cell.cast()) }
    }

    /// # Safety
    /// The caller holds `RUNNING` (before `COMPLETE`) or owns the stage after it (the
    /// `JoinHandle`, or the completing thread when there is no `JoinHandle`).
    #[allow(clippy::mut_from_ref)]
    unsafe fn stage(&self) -> &mut Stage<F> {
        // SAFETY: exclusive access is the caller's promise.
        unsafe { &mut *self.cell().stage.get() }
    }

    /// Replaces the stage, dropping what was there without letting a panic in its `Drop` escape;
    /// returns that panic's payload.
    ///
    /// # Safety
    /// As for `stage`.
    unsafe fn set_stage(&self, stage: Stage<F>) -> Result<(), JoinError> {
        // SAFETY: forwarded.
        let old = mem::replace(unsafe { self.stage() }, stage);
        catch_unwind(AssertUnwindSafe(|| drop(old))).map_err(JoinError::panic)
    }

    fn poll(self) {
        match self.header().state.transition_to_running() {
            ToRunning::Poll => {}
            ToRunning::Cancel => return self.cancel_and_complete(),
            ToRunning::Skip => return self.raw().drop_reference(),
        }
        let waker = borrowed_waker(self.raw());
        let mut cx = Context::from_waker(&waker);
        match catch_unwind(AssertUnwindSafe(|| self.poll_future(&mut cx))) {
            Ok(Poll::Ready(output)) => return self.complete(Ok(output)),
            Err(payload) => return self.complete(Err(JoinError::panic(payload))),
            Ok(Poll::Pending) => {}
        }
        match self.header().state.transition_to_idle() {
            ToIdle::Idle => self.raw().drop_reference(),
            ToIdle::Requeue => {
                // SAFETY: the transition took a reference for this Notified, and the task is
                // still marked NOTIFIED. Ours is released only after `schedule` returns.
                let notified = unsafe { Notified::from_raw(self.raw()) };
                self.cell().scheduler.yield_now(notified);
                self.raw().drop_reference();
            }
            ToIdle::Cancel => self.cancel_and_complete(),
        }
    }

    /// Polls the future (the caller holds `RUNNING`). If the poll panics, the future is dropped
    /// while the panic unwinds, as tokio does: what it holds sees `std::thread::panicking()`
    /// (a `std::sync::Mutex` guard poisons its mutex), rather than a world in which nothing went
    /// wrong. A `Drop` that panics again then aborts the process, as any double panic does.
    fn poll_future(&self, cx: &mut Context<'_>) -> Poll<F::Output> {
        /// Dropped only while a panic unwinds out of the poll (`forget` otherwise).
        struct DropFutureOnUnwind<'a, F: Future, S: Schedule>(&'a Harness<F, S>);
        impl<F: Future, S: Schedule> Drop for DropFutureOnUnwind<'_, F, S> {
            fn drop(&mut self) {
                // SAFETY: we hold RUNNING, and the poll that borrowed the future has unwound.
                *unsafe { self.0.stage() } = Stage::Consumed;
            }
        }
        // SAFETY: we hold RUNNING.
        let Stage::Running(future) = (unsafe { self.stage() }) else {
            unreachable!("a task is polled only before it completes")
        };
        // SAFETY: the future lives inside the task's allocation, which never moves.
        let future = unsafe { Pin::new_unchecked(future) };
        let on_unwind = DropFutureOnUnwind(self);
        let poll = future.poll(cx);
        mem::forget(on_unwind);
        poll
    }

    /// Drops the future (we hold `RUNNING`) and completes the task with "cancelled", or with the
    /// panic of the future's `Drop`.
    fn cancel_and_complete(self) {
        // SAFETY: we hold RUNNING.
        let dropped = unsafe { self.set_stage(Stage::Consumed) };
        self.complete(dropped.and(Err(JoinError::cancelled())));
    }

    /// Stores the output, hands it to the `JoinHandle` (or drops it when there is none), leaves
    /// the owned-task list and releases the poller's reference.
    fn complete(self, output: Result<F::Output, JoinError>) {
        // SAFETY: we hold RUNNING. A panic in the future's Drop replaces a successful output.
        let output = match unsafe { self.set_stage(Stage::Consumed) } {
            Ok(()) => output,
            Err(panic) => {
                forget_panic(catch_unwind(AssertUnwindSafe(|| drop(output))).map_err(JoinError::panic));
                Err(panic)
            }
        };
        // SAFETY: we still hold RUNNING; the slot is empty, so nothing is dropped.
        forget_panic(unsafe { self.set_stage(Stage::Finished(output)) });
        let snapshot = self.header().state.transition_to_complete();
        if !snapshot.is_join_interested() {
            // No JoinHandle: the output is ours to drop.
            // SAFETY: COMPLETE is set and no JoinHandle exists, so nobody else reads the stage.
            forget_panic(unsafe { self.set_stage(Stage::Consumed) });
        } else if snapshot.is_join_waker_set() {
            // SAFETY: JOIN_WAKER is set, so the handle does not write the field (join waker rule 3).
            let waker = unsafe { (*self.header().join_waker.get()).as_ref() };
            if let Some(waker) = waker {
                let _ = catch_unwind(AssertUnwindSafe(|| waker.wake_by_ref()));
            }
            if !self
                .header()
                .state
                .unset_join_waker_after_complete()
                .is_join_interested()
            {
                // SAFETY: the handle is gone and left the field to us (join waker rule 4).
                unsafe { *self.header().join_waker.get() = None };
            }
        }
        // SAFETY: the poller's reference is live; the borrowed Task must not release it.
        let this = ManuallyDrop::new(unsafe { Task::<S>::from_raw(self.raw()) });
        let released = self.cell().scheduler.release(&this);
        let references = 1 + usize::from(released.is_some());
        mem::forget(released);
        if self.header().state.ref_dec(references) {
            // SAFETY: those were the last references.
            unsafe { dealloc::<F, S>(self.cell.cast()) }
        }
    }

    fn shutdown(self) {
        if self.header().state.transition_to_shutdown() {
            self.cancel_and_complete();
        } else {
            self.raw().drop_reference();
        }
    }

    /// Whether the output can be read now; if not, `waker` is stored to be woken on completion.
    fn can_read_output(&self, waker: &Waker) -> bool {
        let state = &self.header().state;
        let snapshot = state.load();
        if snapshot.is_complete() {
            return true;
        }
        if snapshot.is_join_waker_set() {
            // SAFETY: while JOIN_WAKER is set nobody writes the field, so reading is sound (rule 3).
            let stored = unsafe { (*self.header().join_waker.get()).as_ref() };
            if stored.is_some_and(|stored| stored.will_wake(waker)) {
                return false;
            }
            // Take the field back to store the new waker.
            if state.unset_join_waker().is_err() {
                return true;
            }
        }
        // SAFETY: JOIN_WAKER is clear, so the field is the handle's alone (rule 2).
        unsafe { *self.header().join_waker.get() = Some(waker.clone()) };
        if state.set_join_waker().is_ok() {
            return false;
        }
        // Completed meanwhile: the field is still ours; empty it and read the output.
        // SAFETY: as above, JOIN_WAKER is still clear.
        unsafe { *self.header().join_waker.get() = None };
        true
    }
}

/// Ignores the panic of a `Drop` that nobody can be told about. Its payload is leaked rather
/// than dropped, since dropping a payload can itself panic.
fn forget_panic(result: Result<(), JoinError>) {
    if let Err(panic) = result {
        mem::forget(panic);
    }
}

// The vtable entries (see `raw::Vtable`). Each is called with the header of a live Cell<F, S>.

pub(super) unsafe fn poll<F: Future, S: Schedule>(ptr: NonNull<Header>) {
    // SAFETY: the vtable that led here is F, S's, and the caller passes a reference.
    unsafe { Harness::<F, S>::from_raw(ptr) }.poll();
}

pub(super) unsafe fn schedule<F: Future, S: Schedule>(ptr: NonNull<Header>) {
    // SAFETY: as in `poll`.
    let harness = unsafe { Harness::<F, S>::from_raw(ptr) };
    // SAFETY: the caller's reference becomes the Notified's; the caller marked the task NOTIFIED.
    let notified = unsafe { Notified::from_raw(harness.raw()) };
    harness.cell().scheduler.schedule(notified);
}

pub(super) unsafe fn dealloc<F: Future, S: Schedule>(ptr: NonNull<Header>) {
    // SAFETY: the reference count reached zero, so this is the only pointer left, and it came
    // from Box::leak in RawTask::new with this exact type.
    drop(unsafe { Box::from_raw(ptr.cast::<Cell<F, S>>().as_ptr()) });
}

pub(super) unsafe fn try_read_output<F: Future, S: Schedule>(ptr: NonNull<Header>, dst: *mut (), waker: &Waker) {
    // SAFETY: as in `poll`; the JoinHandle calling us holds a reference.
    let harness = unsafe { Harness::<F, S>::from_raw(ptr) };
    if !harness.can_read_output(waker) {
        return;
    }
    // SAFETY: COMPLETE is set and we are the JoinHandle, so the stage is ours.
    let output = match mem::replace(unsafe { harness.stage() }, Stage::Consumed) {
        Stage::Finished(output) => output,
        _ => panic!("JoinHandle polled after it returned its output"),
    };
    // SAFETY: the JoinHandle<F::Output> passed a pointer to its Poll<Result<F::Output, JoinError>>.
    unsafe { *(dst as *mut Poll<Result<F::Output, JoinError>>) = Poll::Ready(output) };
}

pub(super) unsafe fn drop_join_handle_slow<F: Future, S: Schedule>(ptr: NonNull<Header>) {
    // SAFETY: as in `poll`; consumes the JoinHandle's reference.
    let harness = unsafe { Harness::<F, S>::from_raw(ptr) };
    let (drop_output, drop_waker) = harness.header().state.transition_to_join_handle_dropped();
    if drop_output {
        // SAFETY: COMPLETE is set and we are the JoinHandle, so the stage is ours.
        forget_panic(unsafe { harness.set_stage(Stage::Consumed) });
    }
    if drop_waker {
        // SAFETY: JOIN_WAKER is clear, so the field is ours (rules 2 and 4).
        unsafe { *harness.header().join_waker.get() = None };
    }
    harness.raw().drop_reference();
}

pub(super) unsafe fn shutdown<F: Future, S: Schedule>(ptr: NonNull<Header>) {
    // SAFETY: as in `poll`; consumes the caller's reference.
    unsafe { Harness::<F, S>::from_raw(ptr) }.shutdown();
}

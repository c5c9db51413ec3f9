//! A task's `Waker`: the data pointer is the task's header and each waker owns one reference, so
//! cloning a waker is one atomic increment and waking queues the task through its vtable.

use super::raw::{Header, RawTask};
use super::state::ToNotified;
use std::mem::ManuallyDrop;
use std::ptr::NonNull;
use std::task::{RawWaker, RawWakerVTable, Waker};

static WAKER_VTABLE: RawWakerVTable = RawWakerVTable::new(clone, wake_by_val, wake_by_ref, drop_waker);

/// A waker for the task that borrows the caller's reference instead of owning one, for the poll.
pub(super) fn borrowed_waker(raw: RawTask) -> ManuallyDrop<Waker> {
    // SAFETY: the vtable's functions expect a live task header, and the caller holds a reference
    // for as long as the waker is used; ManuallyDrop keeps this borrowed waker from releasing it.
    ManuallyDrop::new(unsafe { Waker::from_raw(RawWaker::new(raw.as_ptr().as_ptr() as *const (), &WAKER_VTABLE)) })
}

/// # Safety (all four functions)
/// `ptr` is the header of a live task and the waker owns one of its references.
unsafe fn raw_task(ptr: *const ()) -> RawTask {
    // SAFETY: wakers are only made by `borrowed_waker` and `clone`, from a non-null header.
    unsafe { RawTask::from_raw(NonNull::new_unchecked(ptr as *mut Header)) }
}

unsafe fn clone(ptr: *const ()) -> RawWaker {
    // SAFETY: see `raw_task`.
    let raw = unsafe { raw_task(ptr) };
    raw.header().identity.span_id.waker_op("waker.clone");
    raw.ref_inc();
    RawWaker::new(ptr, &WAKER_VTABLE)
}

/// Wakes, then releases the waker's reference. The reference is kept until `schedule` returns:
/// a scheduler that is shutting down drops the `Notified` it is given, and if that were the last
/// reference, the task (and the scheduler handle inside it) would be freed under `schedule`'s feet.
unsafe fn wake_by_val(ptr: *const ()) {
    // SAFETY: see `raw_task`.
    let raw = unsafe { raw_task(ptr) };
    raw.header().identity.span_id.waker_op("waker.wake");
    wake(raw);
    raw.drop_reference();
}

unsafe fn wake_by_ref(ptr: *const ()) {
    // SAFETY: see `raw_task`.
    let raw = unsafe { raw_task(ptr) };
    raw.header().identity.span_id.waker_op("waker.wake_by_ref");
    wake(raw);
}

/// Marks the task notified and queues it, unless it is queued or running already.
#[inline(always)]
fn wake(raw: RawTask) {
    if let ToNotified::Submit = raw.header().state.transition_to_notified() {
        raw.schedule();
    }
}

unsafe fn drop_waker(ptr: *const ()) {
    // SAFETY: see `raw_task`.
    let raw = unsafe { raw_task(ptr) };
    raw.header().identity.span_id.waker_op("waker.drop");
    raw.drop_reference();
}

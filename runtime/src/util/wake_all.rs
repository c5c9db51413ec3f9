//! Waking a batch of wakers taken out from under a lock (the reactor's, the timers', a signal's),
//! in a shuffled order where a shuffled scheduler runs (`util/shuffle.rs`).

use crate::util::shuffle;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::task::Waker;

/// Wakes every waker, even if one panics (a foreign executor's might); the first panic is
/// raised again once all are woken, so no task is left waiting for a wake that was dropped.
pub(crate) fn wake_all(wakers: impl IntoIterator<Item = Waker>) {
    let mut wakers = wakers.into_iter();
    let shuffled = shuffle::with_current(|shuffle| {
        let mut batch: Vec<Waker> = wakers.by_ref().collect();
        shuffle.permute(&mut batch);
        batch
    });
    match shuffled {
        Some(batch) => wake_each(batch),
        None => wake_each(wakers),
    }
}

fn wake_each(wakers: impl IntoIterator<Item = Waker>) {
    let mut first_panic = None;
    for waker in wakers {
        if let Err(payload) = catch_unwind(AssertUnwindSafe(|| waker.wake())) {
            first_panic.get_or_insert(payload);
        }
    }
    if let Some(payload) = first_panic {
        resume_unwind(payload);
    }
}

//! A waker that unparks a thread sleeping in `block_on`, and the `block_on` of a thread that
//! runs no tasks itself.
//!
//! Each waker carries its own flag, so that a `block_on` nested inside another on the same
//! thread (a `block_in_place` closure that calls `Handle::block_on`) cannot take the outer one's
//! wake-up: `std::thread::park`'s token is one per thread, and the inner loop's `park` would
//! consume it.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Wake, Waker};
use std::thread::Thread;

/// Wakes one `block_on` loop on one thread.
pub(crate) struct ThreadWaker {
    thread: Thread,
    notified: AtomicBool,
}

impl Wake for ThreadWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        // Release: the loop that sees the flag sees what the waker's caller wrote before.
        self.notified.store(true, Ordering::Release);
        self.thread.unpark();
    }
}

impl ThreadWaker {
    /// A waker for the calling thread, and the handle its loop parks with.
    pub(crate) fn for_current_thread() -> (Waker, Arc<ThreadWaker>) {
        let parker = Arc::new(ThreadWaker {
            thread: std::thread::current(),
            notified: AtomicBool::new(false),
        });
        (Waker::from(parker.clone()), parker)
    }

    /// Sleeps until this waker was woken since the last call (at once if it was already).
    pub(crate) fn park(&self) {
        while !self.notified.swap(false, Ordering::Acquire) {
            std::thread::park();
        }
    }
}

/// Runs `future` to completion on this thread, sleeping between polls: a multi-threaded or
/// thread-per-core runtime's `block_on`, whose workers run the tasks meanwhile.
pub(crate) fn block_on_parked<F: std::future::Future>(future: F) -> F::Output {
    let (waker, parker) = ThreadWaker::for_current_thread();
    let mut cx = std::task::Context::from_waker(&waker);
    let mut future = std::pin::pin!(future);
    loop {
        if let std::task::Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
        parker.park();
    }
}

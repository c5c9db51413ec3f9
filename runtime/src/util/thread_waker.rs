//! A waker that unparks a thread sleeping in `std::thread::park` (one waiting in `block_on`), and
//! the `block_on` of a thread that runs no tasks itself.

use std::sync::Arc;
use std::task::{Wake, Waker};
use std::thread::Thread;

struct ThreadWaker(Thread);

impl Wake for ThreadWaker {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.unpark();
    }
}

/// A waker for the calling thread.
pub(crate) fn current_thread_waker() -> Waker {
    Waker::from(Arc::new(ThreadWaker(std::thread::current())))
}

/// Runs `future` to completion on this thread, sleeping between polls: a multi-threaded or
/// thread-per-core runtime's `block_on`, whose workers run the tasks meanwhile.
pub(crate) fn block_on_parked<F: std::future::Future>(future: F) -> F::Output {
    let waker = current_thread_waker();
    let mut cx = std::task::Context::from_waker(&waker);
    let mut future = std::pin::pin!(future);
    loop {
        if let std::task::Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
        std::thread::park();
    }
}

//! A waker that sets a flag, for the loom models.

use loom::sync::atomic::AtomicBool;
use loom::sync::Arc;
use std::sync::atomic::Ordering::SeqCst;
use std::task::Waker;

/// A waker whose `wake` sets `flag`.
pub(crate) fn flag_waker(flag: Arc<AtomicBool>) -> Waker {
    struct Flag(Arc<AtomicBool>);
    impl std::task::Wake for Flag {
        fn wake(self: std::sync::Arc<Self>) {
            self.0.store(true, SeqCst);
        }
    }
    Waker::from(std::sync::Arc::new(Flag(flag)))
}

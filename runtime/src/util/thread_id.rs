//! A number per thread that is never reused while the process lives (unlike `ThreadId::as_u64`,
//! which is unstable), so that a runtime can remember which thread owns its `!Send` tasks.

use std::sync::atomic::{AtomicU64, Ordering};

/// Returns this thread's number; `0` is never returned, so it can mean "no thread".
pub(crate) fn current() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    thread_local! {
        static THIS_THREAD: u64 = NEXT.fetch_add(1, Ordering::Relaxed);
    }
    THIS_THREAD.with(|id| *id)
}

//! `yield_now`: give the other queued tasks (and the reactor) a turn.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Lets every task queued before this one run, then resumes.
///
/// The task is put at the back of its runtime's run queue. Useful in a long computation that
/// would otherwise hold the thread; a task that yields in a loop still lets sockets make
/// progress, because the runtime checks the reactor every few dozen polls.
///
/// ```
/// let rt = mini_runtime::runtime::Builder::new_current_thread().build().unwrap();
/// rt.block_on(async {
///     let other = mini_runtime::spawn(async { "ran" });
///     mini_runtime::task::yield_now().await;
///     assert!(other.is_finished());
/// });
/// ```
pub async fn yield_now() {
    YieldNow { yielded: false }.await
}

struct YieldNow {
    yielded: bool,
}

impl Future for YieldNow {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.yielded {
            return Poll::Ready(());
        }
        self.yielded = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

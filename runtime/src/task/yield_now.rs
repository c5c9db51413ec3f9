//! `yield_now`: give the other queued tasks (and the reactor) a turn.
//!
//! A task that yields on a thread where a scheduler runs is *deferred* (`defer.rs`), as in
//! tokio: it is woken once the scheduler has next looked at the reactor, so a task that yields
//! in a loop delays I/O by at most one turn of the reactor. Elsewhere (the multi-threaded
//! runtime's `block_on` thread, a future polled by another executor) a yield wakes at once.

use crate::coop::give_up_turn;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Lets every task queued before this one run, and the runtime look at the reactor, then
/// resumes.
///
/// The task is queued again once its runtime has next checked for ready I/O and due timers
/// (behind the tasks queued meanwhile). Useful in a long computation that would otherwise hold
/// the thread: a task that yields in a loop delays sockets by at most one look at the reactor.
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
        give_up_turn(cx.waker());
        Poll::Pending
    }
}

//! `Builder::dump_on_signal`: a thread of its own, running a small current-thread runtime of
//! its own that waits for the signal, so that the dump is printed even while every worker of the
//! dumped runtime is blocked.

use super::dump::dump;
use crate::scheduler::Scheduler;
use crate::signal::Signal;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::sync::Arc;
use std::task::{Poll, Waker};

/// What runs the listening loop: `block_on` of the listener's runtime, which the caller builds
/// (and in which it created `signal`).
pub(crate) type BlockOn = Box<dyn FnOnce(Pin<Box<dyn Future<Output = ()> + '_>>) + Send>;

/// The running dumper; dropping it stops its thread.
pub(crate) struct DumpOnSignal {
    stop: Arc<Stop>,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// How `DumpOnSignal::drop` ends the thread's loop.
#[derive(Default)]
struct Stop {
    stopped: AtomicBool,
    waker: parking_lot::Mutex<Option<Waker>>,
}

impl DumpOnSignal {
    /// Prints a dump of `dumped` to stderr at each delivery of `signal`, on a new thread that
    /// runs the loop with `block_on`.
    pub(crate) fn start(dumped: Scheduler, mut signal: Signal, block_on: BlockOn) -> io::Result<DumpOnSignal> {
        let stop = Arc::new(Stop::default());
        let stopped = stop.clone();
        let thread = std::thread::Builder::new()
            .name("mini-dump".to_owned())
            .spawn(move || {
                block_on(Box::pin(async move {
                    while next_delivery(&mut signal, &stopped).await {
                        let dump = dump(&dumped).to_string();
                        let _ = std::io::Write::write_all(&mut std::io::stderr().lock(), dump.as_bytes());
                    }
                }))
            })?;
        Ok(DumpOnSignal {
            stop,
            thread: Some(thread),
        })
    }
}

/// Waits for the next delivery of the signal: `false` once the dumper is to stop.
async fn next_delivery(signal: &mut Signal, stop: &Stop) -> bool {
    std::future::poll_fn(|cx| {
        *stop.waker.lock() = Some(cx.waker().clone());
        if stop.stopped.load(SeqCst) {
            return Poll::Ready(false);
        }
        signal.poll_recv(cx).map(|delivery| delivery.is_some())
    })
    .await
}

impl Drop for DumpOnSignal {
    fn drop(&mut self) {
        self.stop.stopped.store(true, SeqCst);
        if let Some(waker) = self.stop.waker.lock().take() {
            waker.wake();
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

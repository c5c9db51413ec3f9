//! loom models of the task state machine: wakes racing a poll, the join waker racing
//! completion, and abort and `JoinHandle` drop racing completion.
//!
//! Run with `RUSTFLAGS="--cfg loom" cargo test -p mini-runtime --release --lib loom`.

use super::{new_task, JoinError, JoinHandle, Notified, Schedule, Task};
use crate::util::flag_waker::flag_waker;
use loom::sync::atomic::{AtomicBool, AtomicUsize};
use loom::sync::{Arc, Mutex};
use loom::thread;
use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::Ordering::SeqCst;
use std::task::{Context, Poll, Waker};

/// A run queue that a model drives by hand; no owned-task list.
#[derive(Clone)]
struct Queue(Arc<Mutex<VecDeque<Notified<Queue>>>>);

impl Schedule for Queue {
    fn schedule(&self, task: Notified<Self>) {
        self.0.lock().unwrap().push_back(task);
    }

    fn release(&self, _task: &Task<Self>) -> Option<Task<Self>> {
        None
    }
}

impl Queue {
    fn new() -> Queue {
        Queue(Arc::new(Mutex::new(VecDeque::new())))
    }

    /// Runs queued tasks until the queue is empty; returns how many ran.
    fn run_all(&self) -> usize {
        let mut ran = 0;
        loop {
            let next = self.0.lock().unwrap().pop_front();
            match next {
                Some(task) => task.run(),
                None => return ran,
            }
            ran += 1;
        }
    }

    /// Drops whatever is still queued (breaking the task → queue → task cycle).
    fn clear(&self) {
        let left = std::mem::take(&mut *self.0.lock().unwrap());
        drop(left);
    }
}

/// Pending until `ready` is set by another thread, which then wakes the stored waker. Counts its
/// polls and checks that no two overlap.
struct WaitForFlag {
    ready: Arc<AtomicBool>,
    waker: Arc<Mutex<Option<Waker>>>,
    polling: Arc<AtomicBool>,
    dropped: Arc<AtomicUsize>,
}

impl Future for WaitForFlag {
    type Output = u32;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<u32> {
        assert!(
            !self.polling.swap(true, SeqCst),
            "a task was polled by two threads at once"
        );
        let result = if self.ready.load(SeqCst) {
            Poll::Ready(7)
        } else {
            *self.waker.lock().unwrap() = Some(cx.waker().clone());
            if self.ready.load(SeqCst) {
                Poll::Ready(7)
            } else {
                Poll::Pending
            }
        };
        self.polling.store(false, SeqCst);
        result
    }
}

impl Drop for WaitForFlag {
    fn drop(&mut self) {
        self.dropped.fetch_add(1, SeqCst);
    }
}

struct Fixture {
    queue: Queue,
    ready: Arc<AtomicBool>,
    waker: Arc<Mutex<Option<Waker>>>,
    dropped: Arc<AtomicUsize>,
    join: JoinHandle<u32>,
}

fn spawn_waiting_task() -> Fixture {
    let queue = Queue::new();
    let ready = Arc::new(AtomicBool::new(false));
    let waker = Arc::new(Mutex::new(None));
    let dropped = Arc::new(AtomicUsize::new(0));
    let future = WaitForFlag {
        ready: ready.clone(),
        waker: waker.clone(),
        polling: Arc::new(AtomicBool::new(false)),
        dropped: dropped.clone(),
    };
    let (task, notified, join) = new_task(future, queue.clone(), false, super::SpawnSite::caller());
    drop(task);
    queue.schedule(notified);
    Fixture {
        queue,
        ready,
        waker,
        dropped,
        join,
    }
}

/// Sets the flag and wakes the task from another thread.
fn wake_from_thread(fixture: &Fixture) -> thread::JoinHandle<()> {
    let ready = fixture.ready.clone();
    let waker = fixture.waker.clone();
    thread::spawn(move || {
        ready.store(true, SeqCst);
        let waker = waker.lock().unwrap().take();
        if let Some(waker) = waker {
            waker.wake();
        }
    })
}

fn poll_join(join: &mut JoinHandle<u32>) -> Poll<Result<u32, JoinError>> {
    Pin::new(join).poll(&mut Context::from_waker(Waker::noop()))
}

#[test]
fn loom_wake_during_poll_is_not_lost() {
    crate::loom::model(|| {
        let mut fixture = spawn_waiting_task();
        let waker_thread = wake_from_thread(&fixture);
        fixture.queue.run_all();
        waker_thread.join().unwrap();
        // The wake either happened before a poll saw the flag, or it queued the task again.
        fixture.queue.run_all();
        assert!(fixture.join.is_finished(), "the wake was lost");
        assert_eq!(poll_join(&mut fixture.join).map(Result::unwrap), Poll::Ready(7));
        assert_eq!(fixture.dropped.load(SeqCst), 1);
        fixture.queue.clear();
    });
}

#[test]
fn loom_join_waker_races_completion() {
    crate::loom::model(|| {
        let fixture = spawn_waiting_task();
        let queue = fixture.queue.clone();
        let mut join = fixture.join;
        let woken = Arc::new(AtomicBool::new(false));
        let joiner = {
            let woken = woken.clone();
            thread::spawn(move || {
                let waker = flag_waker(woken.clone());
                let mut cx = Context::from_waker(&waker);
                match Pin::new(&mut join).poll(&mut cx) {
                    Poll::Ready(output) => Some(output.unwrap()),
                    Poll::Pending => {
                        // Completion must wake us; then the output is there.
                        while !woken.load(SeqCst) {
                            thread::yield_now();
                        }
                        match Pin::new(&mut join).poll(&mut cx) {
                            Poll::Ready(output) => Some(output.unwrap()),
                            Poll::Pending => None,
                        }
                    }
                }
            })
        };
        fixture.ready.store(true, SeqCst);
        queue.run_all();
        assert_eq!(joiner.join().unwrap(), Some(7));
        queue.clear();
    });
}

#[test]
fn loom_abort_races_wake_and_drops_the_future_once() {
    crate::loom::model(|| {
        let mut fixture = spawn_waiting_task();
        fixture.queue.run_all();
        let waker_thread = wake_from_thread(&fixture);
        fixture.join.abort();
        waker_thread.join().unwrap();
        fixture.queue.run_all();
        assert!(fixture.join.is_finished());
        match poll_join(&mut fixture.join) {
            Poll::Ready(Ok(7)) => {}
            Poll::Ready(Err(error)) => assert!(error.is_cancelled()),
            other => panic!("unexpected {other:?}"),
        }
        assert_eq!(fixture.dropped.load(SeqCst), 1);
        fixture.queue.clear();
    });
}

#[test]
fn loom_join_handle_drop_races_completion() {
    crate::loom::model(|| {
        let fixture = spawn_waiting_task();
        fixture.ready.store(true, SeqCst);
        let join = fixture.join;
        let dropper = thread::spawn(move || drop(join));
        fixture.queue.run_all();
        dropper.join().unwrap();
        assert_eq!(fixture.dropped.load(SeqCst), 1);
        fixture.queue.clear();
    });
}

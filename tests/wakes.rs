//! Wakes that come from plain std threads: they reach a parked runtime, and none is lost.

mod common;

use common::*;
use futures::channel::{mpsc, oneshot};
use futures::{SinkExt, StreamExt};
use mini::runtime::Handle;
use mini::task::yield_now;
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::sync::Arc;
use std::thread;

/// Starts a std thread that waits until the runtime thread `tid` is parked, then runs `then`;
/// returns a receiver that says whether the runtime was seen parked first.
fn when_parked(tid: libc::pid_t, then: impl FnOnce() + Send + 'static) -> oneshot::Receiver<bool> {
    let (report, reported) = oneshot::channel();
    thread::spawn(move || {
        let parked = wait_until_parked(tid);
        then();
        let _ = report.send(parked);
    });
    reported
}

#[test]
fn a_wake_from_a_std_thread_runs_a_waiting_task_while_the_runtime_is_parked() {
    run(|| async {
        let (send, receive) = oneshot::channel::<&str>();
        let task = mini::spawn(async move { receive.await.unwrap() });
        let was_parked = when_parked(current_tid(), move || send.send("woken").unwrap());
        assert_eq!(task.await.unwrap(), "woken");
        assert!(
            was_parked.await.unwrap(),
            "the runtime never parked while the task waited"
        );
    })
}

#[test]
fn a_wake_from_a_std_thread_resumes_the_block_on_future_while_the_runtime_is_parked() {
    run(|| async {
        let (send, receive) = oneshot::channel::<u64>();
        let was_parked = when_parked(current_tid(), move || send.send(7).unwrap());
        assert_eq!(receive.await.unwrap(), 7);
        assert!(
            was_parked.await.unwrap(),
            "the runtime never parked while block_on waited"
        );
    })
}

#[test]
fn a_task_spawned_from_a_std_thread_runs_while_the_runtime_is_parked() {
    run(|| async {
        let handle = Handle::current();
        let (send, receive) = oneshot::channel::<&str>();
        let was_parked = when_parked(current_tid(), move || {
            drop(handle.spawn(async move { send.send("from the spawned task").unwrap() }));
        });
        assert_eq!(receive.await.unwrap(), "from the spawned task");
        assert!(was_parked.await.unwrap(), "the runtime never parked");
    })
}

#[test]
fn a_hundred_thousand_messages_from_a_std_thread_all_arrive_in_order() {
    const MESSAGES: u64 = 100_000;
    run(|| async {
        // A small bounded channel: the sender thread blocks whenever the task falls behind, so
        // the two sides keep waking each other across threads.
        let (mut send, mut receive) = mpsc::channel::<u64>(4);
        let sender = thread::spawn(move || {
            futures::executor::block_on(async {
                for i in 0..MESSAGES {
                    send.send(i).await.unwrap();
                }
            })
        });
        let counter = mini::spawn(async move {
            let mut count = 0u64;
            while let Some(i) = receive.next().await {
                assert_eq!(i, count, "messages arrived out of order");
                count += 1;
            }
            count
        });
        assert_eq!(counter.await.unwrap(), MESSAGES);
        sender.join().unwrap();
    })
}

#[test]
fn wakes_from_several_std_threads_are_all_delivered() {
    const THREADS: u64 = 4;
    const PER_THREAD: u64 = 25_000;
    run(|| async {
        let (send, mut receive) = mpsc::channel::<(u64, u64)>(2);
        let senders: Vec<_> = (0..THREADS)
            .map(|thread_index| {
                let mut send = send.clone();
                thread::spawn(move || {
                    futures::executor::block_on(async {
                        for i in 0..PER_THREAD {
                            send.send((thread_index, i)).await.unwrap();
                        }
                    })
                })
            })
            .collect();
        drop(send);
        let counter = mini::spawn(async move {
            let mut next = vec![0u64; THREADS as usize];
            while let Some((thread_index, i)) = receive.next().await {
                let expected = &mut next[thread_index as usize];
                assert_eq!(i, *expected, "thread {thread_index}'s messages arrived out of order");
                *expected += 1;
            }
            next
        });
        assert_eq!(counter.await.unwrap(), vec![PER_THREAD; THREADS as usize]);
        for sender in senders {
            sender.join().unwrap();
        }
    })
}

#[test]
fn a_hundred_thousand_ping_pongs_with_a_std_thread_lose_no_wake() {
    // Strict alternation: every message needs one wake of the task from the std thread, and the
    // runtime is often parked when it comes. A single lost wake hangs the exchange.
    const ROUNDS: u32 = 100_000;
    run(|| async {
        let (mut to_thread, mut thread_receives) = mpsc::channel::<u32>(0);
        let (mut to_task, mut task_receives) = mpsc::channel::<u32>(0);
        let echo_thread = thread::spawn(move || {
            futures::executor::block_on(async {
                while let Some(i) = thread_receives.next().await {
                    to_task.send(i + 1).await.unwrap();
                }
            })
        });
        let mut value = 0;
        for _ in 0..ROUNDS {
            to_thread.send(value).await.unwrap();
            value = task_receives.next().await.expect("the echo thread hung up");
        }
        assert_eq!(value, ROUNDS);
        drop(to_thread);
        echo_thread.join().unwrap();
    })
}

#[test]
fn wakes_from_a_std_thread_are_not_starved_by_a_task_that_yields_forever() {
    const MESSAGES: u32 = 1000;
    run(|| async {
        let stop = Arc::new(AtomicBool::new(false));
        let spinner = mini::spawn({
            let stop = stop.clone();
            async move {
                for _ in 0..5_000_000 {
                    if stop.load(SeqCst) {
                        return true;
                    }
                    yield_now().await;
                }
                false
            }
        });
        let (mut send, mut receive) = mpsc::channel::<u32>(1);
        let sender = thread::spawn(move || {
            futures::executor::block_on(async {
                for i in 0..MESSAGES {
                    send.send(i).await.unwrap();
                }
            })
        });
        let counter = mini::spawn(async move {
            let mut count = 0;
            while receive.next().await.is_some() {
                count += 1;
            }
            count
        });
        assert_eq!(counter.await.unwrap(), MESSAGES);
        stop.store(true, SeqCst);
        assert!(
            spinner.await.unwrap(),
            "the spinner ran out before the messages arrived: remote wakes were starved"
        );
        sender.join().unwrap();
    })
}

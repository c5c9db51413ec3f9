//! The cooperative budget: a task whose socket is always ready still yields to the others, on
//! the current-thread runtime and on a one-worker multi-threaded one.
//!
//! The busy task writes a byte on one end of a loopback connection and reads it back from the
//! other, in a loop that only a flag set by another task ends. Its socket operations never
//! return `Pending` on their own, so without the budget it would never yield and the other task
//! (the only one that can set the flag) would never run: the test would hang, and the timeout
//! helper fails it.

mod common;

use common::*;
use futures::channel::oneshot;
use mini::net::TcpStream;
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::sync::Arc;

/// Writes a byte on `client` and reads it back from `server`.
async fn round_trip(client: &mut TcpStream, server: &mut TcpStream) {
    let mut byte = [0u8; 1];
    client.write_all(b"x").await.unwrap();
    server.read_exact(&mut byte).await.unwrap();
    assert_eq!(&byte, b"x");
}

/// Runs the busy task and, once it loops, the task that stops it; returns how many round trips
/// it made in its loop.
async fn busy_socket_task_yields_to_a_task_spawned_after_it() -> usize {
    let (mut client, mut server) = connected_pair().await;
    let stop = Arc::new(AtomicBool::new(false));
    let (warmed_up, is_warmed_up) = oneshot::channel::<()>();
    let busy = mini::spawn({
        let stop = stop.clone();
        async move {
            // The first round trip may wait for the reactor to report the sockets ready; from
            // then on both directions stay ready (each read finds the byte just written), so
            // nothing in the loop returns `Pending` by itself.
            round_trip(&mut client, &mut server).await;
            warmed_up.send(()).unwrap();
            let mut round_trips = 0;
            while !stop.load(SeqCst) {
                assert!(round_trips < MAX_ROUNDS, "the stopping task never ran");
                round_trip(&mut client, &mut server).await;
                round_trips += 1;
            }
            round_trips
        }
    });
    is_warmed_up.await.unwrap();
    // Spawned only now, while the busy task loops: it runs only if the busy task yields.
    let stopper = mini::spawn(async move { stop.store(true, SeqCst) });
    stopper.await.unwrap();
    busy.await.unwrap()
}

#[test]
fn an_always_ready_socket_loop_yields_on_the_current_thread_runtime() {
    let round_trips = run(busy_socket_task_yields_to_a_task_spawned_after_it);
    // The busy task was in its loop (and so the test did exercise the budget) before the flag
    // was set.
    assert!(round_trips > 0, "the busy task never ran before the stopper");
}

#[test]
fn an_always_ready_socket_loop_yields_on_a_one_worker_multi_threaded_runtime() {
    let round_trips = run_multi_thread(1, busy_socket_task_yields_to_a_task_spawned_after_it);
    assert!(round_trips > 0, "the busy task never ran before the stopper");
}

/// Counts the polls of the future it wraps.
struct CountPolls<F> {
    future: std::pin::Pin<Box<F>>,
    polls: usize,
}

impl<F: std::future::Future> std::future::Future for CountPolls<F> {
    type Output = (F::Output, usize);
    fn poll(mut self: std::pin::Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> std::task::Poll<Self::Output> {
        self.polls += 1;
        let polls = self.polls;
        self.future.as_mut().poll(cx).map(|output| (output, polls))
    }
}

fn count_polls<F: std::future::Future>(future: F) -> CountPolls<F> {
    CountPolls {
        future: Box::pin(future),
        polls: 0,
    }
}

/// tokio's `consume_budget`: a loop with no I/O in it yields once the task's budget (128) is
/// spent, so the other tasks of its thread run.
#[test]
fn consume_budget_makes_a_busy_loop_yield_to_other_tasks() {
    run(|| async {
        let other_ran = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        // The busy task is queued first, so the other one runs only if the busy one yields.
        let busy = mini::spawn(count_polls({
            let other_ran = other_ran.clone();
            async move {
                let mut rounds = 0;
                while !other_ran.load(std::sync::atomic::Ordering::SeqCst) && rounds < 10_000 {
                    mini::task::consume_budget().await;
                    rounds += 1;
                }
                rounds
            }
        }));
        let other = mini::spawn(async move { other_ran.store(true, std::sync::atomic::Ordering::SeqCst) });
        let (rounds, polls) = busy.await.unwrap();
        other.await.unwrap();
        assert!(rounds <= 129, "the other task ran only after {rounds} rounds");
        assert!(polls >= 2, "the busy task yielded");
    });
}

/// tokio's `unconstrained`: inside it, spending the budget never yields.
#[test]
fn unconstrained_never_yields_for_the_budget() {
    run(|| async {
        let constrained = mini::spawn(count_polls(async {
            for _ in 0..1_000 {
                mini::task::consume_budget().await;
            }
        }));
        let (_, polls) = constrained.await.unwrap();
        assert!(polls > 1, "1,000 units of budget take more than one poll ({polls})");
        let free = mini::spawn(count_polls(mini::task::unconstrained(async {
            for _ in 0..1_000 {
                mini::task::consume_budget().await;
            }
        })));
        let (_, polls) = free.await.unwrap();
        assert_eq!(polls, 1, "unconstrained, it completes in one poll");
    });
}

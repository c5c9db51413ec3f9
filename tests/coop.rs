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

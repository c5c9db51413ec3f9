//! `Handle::block_on` and `Handle::spawn_blocking`, with tokio's rules: `block_on` works from a
//! thread of your own and from a blocking-pool thread, on every flavor, and panics from a
//! runtime thread with `Runtime::block_on`'s message; `spawn_blocking` works from anywhere.

mod common;

use common::*;
use mini::net::{TcpListener, TcpStream};
use mini::runtime::Handle;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Duration;

/// A TCP round trip and a timer: the future needs the runtime's I/O and timers.
async fn io_and_timer() -> Vec<u8> {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = mini::spawn(async move {
        let (mut stream, _) = listener.accept().await.unwrap();
        let mut buf = [0; 4];
        stream.read_exact(&mut buf).await.unwrap();
        stream.write_all(&buf).await.unwrap();
    });
    mini::time::sleep(Duration::from_millis(5)).await;
    let mut client = TcpStream::connect(addr).await.unwrap();
    client.write_all(b"ping").await.unwrap();
    let mut back = vec![0; 4];
    client.read_exact(&mut back).await.unwrap();
    server.await.unwrap();
    back
}

#[test]
fn handle_block_on_from_a_thread_of_its_own_runs_io_and_timers_on_every_flavor() {
    with_timeout(|| {
        for (flavor, runtime) in runtimes() {
            let handle = runtime.handle().clone();
            let back = std::thread::spawn(move || handle.block_on(io_and_timer()))
                .join()
                .unwrap_or_else(|_| panic!("{flavor}: Handle::block_on panicked"));
            assert_eq!(back, b"ping", "{flavor}");
        }
    });
}

#[test]
fn handle_block_on_from_a_blocking_job_on_every_flavor() {
    with_timeout(|| {
        for (flavor, runtime) in runtimes() {
            let back = runtime.block_on(async {
                let handle = Handle::current();
                mini::task::spawn_blocking(move || handle.block_on(io_and_timer()))
                    .await
                    .unwrap()
            });
            assert_eq!(back, b"ping", "{flavor}");
        }
    });
}

/// On a current-thread runtime whose thread is inside `Runtime::block_on`, a second thread's
/// `Handle::block_on` is polled on that second thread while the first drives the I/O.
#[test]
fn handle_block_on_beside_a_running_current_thread_runtime() {
    with_timeout(|| {
        let runtime = current_thread_runtime().unwrap();
        let handle = runtime.handle().clone();
        let (done_tx, done_rx) = futures::channel::oneshot::channel();
        let other = std::thread::spawn(move || {
            let back = handle.block_on(io_and_timer());
            done_tx.send(std::thread::current().id()).unwrap();
            back
        });
        let polled_on = runtime.block_on(async { done_rx.await.unwrap() });
        assert_eq!(other.join().unwrap(), b"ping");
        assert_ne!(polled_on, std::thread::current().id());
    });
}

#[test]
fn handle_block_on_inside_a_runtime_panics_like_runtime_block_on() {
    with_timeout(|| {
        for (flavor, runtime) in runtimes() {
            let message = |result: std::thread::Result<()>| panic_message(&*result.unwrap_err());
            let from_handle = runtime.block_on(async {
                let handle = Handle::current();
                message(catch_unwind(AssertUnwindSafe(|| handle.block_on(async {}))))
            });
            let from_runtime = runtime.block_on(async {
                let inner = mini::runtime::Builder::new_current_thread().build().unwrap();
                let message = message(catch_unwind(AssertUnwindSafe(|| inner.block_on(async {}))));
                // Dropped on a thread of its own: dropping a runtime inside one is refused too.
                std::thread::spawn(move || drop(inner)).join().unwrap();
                message
            });
            assert_eq!(from_handle, from_runtime, "{flavor}");
            assert!(
                from_handle.contains("cannot call `block_on` from inside a mini runtime"),
                "{flavor}: {from_handle}"
            );
            // Inside a task too.
            let in_task =
                runtime.block_on(async { mini::spawn(async { Handle::current().block_on(async { 1 }) }).await });
            let error = in_task.expect_err("block_on in a task panics");
            assert!(
                join_error_message(error).contains("from inside a mini runtime"),
                "{flavor}"
            );
        }
    });
}

#[test]
fn handle_spawn_blocking_runs_on_the_pool_from_any_thread_with_the_runtime_current() {
    with_timeout(|| {
        for (flavor, runtime) in runtimes() {
            let handle = runtime.handle().clone();
            let job = std::thread::spawn(move || {
                handle.spawn_blocking(|| {
                    // Inside the job its runtime is current: `spawn` works.
                    let task = mini::spawn(async { 2 });
                    (std::thread::current().name().map(str::to_owned), task)
                })
            })
            .join()
            .unwrap();
            let (thread, task) = runtime.block_on(job).unwrap();
            assert_eq!(thread.as_deref(), Some("mini-blocking"), "{flavor}");
            assert_eq!(runtime.block_on(task).unwrap(), 2, "{flavor}");
        }
    });
}

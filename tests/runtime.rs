//! The runtime: where `spawn` works, nested `block_on`, `Handle`, `enter`, the builder, several
//! `block_on` calls, and what happens to tasks and sockets when the runtime is dropped.

mod common;

use common::*;
use futures::channel::oneshot;
use mini::net::TcpStream;
use mini::runtime::{Builder, Handle};
use mini::task::yield_now;
use mini::Runtime;
use std::future::pending;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;
use std::thread;

#[test]
fn spawn_outside_a_runtime_panics_with_a_helpful_message() {
    let payload = catch_unwind(|| drop(mini::spawn(async {}))).unwrap_err();
    let message = panic_message(&*payload);
    assert!(
        message.contains("must be called from within a mini runtime"),
        "{message}"
    );
}

#[test]
fn handle_current_outside_a_runtime_is_an_error_and_panics() {
    let error = Handle::try_current().unwrap_err();
    assert!(!error.is_thread_local_destroyed());
    assert!(
        error.to_string().contains("must be called from within a mini runtime"),
        "{error}"
    );
    let payload = catch_unwind(Handle::current).unwrap_err();
    assert!(panic_message(&*payload).contains("must be called from within a mini runtime"));
}

#[test]
fn block_on_inside_block_on_panics_and_says_so() {
    with_timeout(|| {
        let outer = current_thread_runtime().unwrap();
        let inner = current_thread_runtime().unwrap();
        let message = outer.block_on(async {
            let payload = catch_unwind(AssertUnwindSafe(|| inner.block_on(async { 1 }))).unwrap_err();
            let again = catch_unwind(AssertUnwindSafe(|| outer.block_on(async { 1 })));
            assert!(
                again.is_err(),
                "block_on of the same runtime inside itself must panic too"
            );
            panic_message(&*payload)
        });
        assert!(message.contains("block_on"), "{message}");
        // The thread is out of the runtime again: block_on works.
        assert_eq!(inner.block_on(async { 2 }), 2);
        assert_eq!(outer.block_on(async { 3 }), 3);
    })
}

#[test]
fn block_on_inside_a_task_panics_that_task_only() {
    run(|| async {
        let task = mini::spawn(async {
            let runtime = current_thread_runtime().unwrap();
            runtime.block_on(async { 1 })
        });
        let error = task.await.unwrap_err();
        assert!(error.is_panic());
        let message = panic_message(&*error.into_panic());
        assert!(message.contains("block_on"), "{message}");
        assert_eq!(mini::spawn(async { 4 }).await.unwrap(), 4);
    })
}

#[test]
fn handle_current_inside_a_runtime_spawns_on_it_from_another_thread() {
    run(|| async {
        let handle = Handle::current();
        let runtime_thread = thread::current().id();
        let task = thread::spawn(move || handle.spawn(async { thread::current().id() }))
            .join()
            .unwrap();
        assert_eq!(
            task.await.unwrap(),
            runtime_thread,
            "the task runs on the runtime's thread"
        );

        let inside_task = mini::spawn(async { Handle::try_current().is_ok() });
        assert!(inside_task.await.unwrap(), "a task sees its runtime too");
    })
}

#[test]
fn runtime_enter_lets_spawn_work_outside_block_on() {
    with_timeout(|| {
        let runtime = current_thread_runtime().unwrap();
        let task = {
            let _entered = runtime.enter();
            assert!(Handle::try_current().is_ok());
            mini::spawn(async { "spawned under enter" })
        };
        assert!(Handle::try_current().is_err(), "the guard is dropped: no runtime again");
        assert_eq!(runtime.block_on(task).unwrap(), "spawned under enter");
    })
}

#[test]
fn tasks_spawned_before_block_on_run_inside_it() {
    with_timeout(|| {
        let runtime = current_thread_runtime().unwrap();
        let tasks: Vec<_> = (0..10).map(|i| runtime.spawn(async move { i * i })).collect();
        let squares = runtime.block_on(async {
            let mut squares = Vec::new();
            for task in tasks {
                squares.push(task.await.unwrap());
            }
            squares
        });
        assert_eq!(squares, (0..10).map(|i| i * i).collect::<Vec<_>>());
    })
}

#[test]
#[allow(clippy::async_yields_async)] // block_on hands the JoinHandle out on purpose
fn a_task_left_waiting_by_one_block_on_finishes_in_the_next() {
    with_timeout(|| {
        let runtime = current_thread_runtime().unwrap();
        let (release, released) = oneshot::channel::<u32>();
        let task = runtime.block_on(async {
            let task = mini::spawn(async move { released.await.unwrap() + 1 });
            yield_now().await;
            assert!(!task.is_finished());
            task
        });
        // Woken while no thread runs the runtime.
        release.send(41).unwrap();
        assert_eq!(runtime.block_on(task).unwrap(), 42);
    })
}

#[test]
fn two_threads_can_block_on_one_runtime_at_once() {
    with_timeout(|| {
        let runtime = current_thread_runtime().unwrap();
        let (release_first, first_released) = oneshot::channel::<()>();
        let (first_running, first_is_running) = oneshot::channel::<()>();
        thread::scope(|scope| {
            let first = scope.spawn(|| {
                runtime.block_on(async {
                    first_running.send(()).unwrap();
                    first_released.await.unwrap();
                    "first"
                })
            });
            let second = scope.spawn(|| {
                runtime.block_on(async {
                    first_is_running.await.unwrap();
                    // Whichever thread drives the tasks, a task spawned here runs.
                    let task = mini::spawn(async { "task" });
                    task.await.unwrap()
                })
            });
            assert_eq!(second.join().unwrap(), "task");
            release_first.send(()).unwrap();
            assert_eq!(first.join().unwrap(), "first");
        });
    })
}

#[test]
fn builder_settings_are_applied_and_the_runtime_still_serves_sockets() {
    with_timeout(|| {
        let runtime = Builder::new_current_thread()
            .event_interval(1)
            .global_queue_interval(1)
            .build()
            .unwrap();
        runtime.block_on(async {
            let (listener, addr) = bind_loopback().await;
            let server = mini::spawn(async move { echo(listener.accept().await.unwrap().0).await.unwrap() });
            let mut client = TcpStream::connect(addr).await.unwrap();
            for i in 0..20u8 {
                client.write_all(&[i; 10]).await.unwrap();
                let mut back = [0u8; 10];
                client.read_exact(&mut back).await.unwrap();
                assert_eq!(back, [i; 10]);
            }
            drop(client);
            assert_eq!(server.await.unwrap(), 200);
        });
    })
}

#[test]
fn builder_rejects_zero_intervals() {
    assert!(catch_unwind(|| drop(Builder::new_current_thread().event_interval(0).build())).is_err());
    assert!(catch_unwind(|| drop(Builder::new_current_thread().global_queue_interval(0).build())).is_err());
}

#[test]
fn dropping_the_runtime_cancels_its_tasks_and_their_join_handles_say_so() {
    with_timeout(|| {
        let runtime = current_thread_runtime().unwrap();
        let drops = Drops::default();
        let guard = drops.guard();
        let polled = runtime.spawn(async move {
            let _guard = guard;
            pending::<()>().await
        });
        runtime.block_on(yield_now());
        let guard = drops.guard();
        let never_polled = runtime.spawn(async move {
            let _guard = guard;
            pending::<()>().await
        });
        assert_eq!(drops.count(), 0);
        drop(runtime);
        assert_eq!(drops.count(), 2);
        for task in [polled, never_polled] {
            assert!(task.is_finished());
            let error = futures::executor::block_on(task).unwrap_err();
            assert!(error.is_cancelled(), "{error:?}");
        }
    })
}

#[test]
fn spawning_on_the_handle_of_a_dropped_runtime_drops_the_future_at_once() {
    with_timeout(|| {
        let runtime = current_thread_runtime().unwrap();
        let handle = runtime.handle().clone();
        drop(runtime);
        let drops = Drops::default();
        let guard = drops.guard();
        let task = handle.spawn(async move {
            let _guard = guard;
            pending::<()>().await
        });
        assert_eq!(drops.count(), 1);
        assert!(futures::executor::block_on(task).unwrap_err().is_cancelled());
    })
}

#[test]
fn sockets_that_outlive_their_runtime_fail_instead_of_waiting_forever() {
    with_timeout(|| {
        let first = current_thread_runtime().unwrap();
        let (mut client, mut server) = first.block_on(connected_pair());
        drop(first);
        let second = current_thread_runtime().unwrap();
        second.block_on(async {
            let mut buf = [0u8; 8];
            let error = server.read(&mut buf).await.unwrap_err();
            assert!(error.to_string().contains("shut down"), "{error}");
            // A write fails too: at once, or at the latest once the send buffer is full and it
            // would have to wait.
            let chunk = vec![0u8; 1 << 16];
            let mut result = Ok(());
            for _ in 0..10_000 {
                result = client.write_all(&chunk).await;
                if result.is_err() {
                    break;
                }
            }
            let error = result.expect_err("a write that has to wait on a dead runtime fails");
            assert!(error.to_string().contains("shut down"), "{error}");
        });
    })
}

struct PanicOnDrop;

impl Drop for PanicOnDrop {
    fn drop(&mut self) {
        panic!("panic while dropping at shutdown");
    }
}

#[test]
fn a_panic_while_dropping_a_future_at_shutdown_does_not_stop_the_other_drops() {
    with_timeout(|| {
        let runtime = current_thread_runtime().unwrap();
        let drops = Drops::default();
        let mut tasks = Vec::new();
        for i in 0..6 {
            let guard = drops.guard();
            tasks.push(runtime.spawn(async move {
                let _guard = guard;
                let _bomb = if i % 2 == 0 { Some(PanicOnDrop) } else { None };
                pending::<()>().await
            }));
        }
        runtime.block_on(yield_now());
        drop(runtime); // must not panic
        assert_eq!(drops.count(), 6);
        for (i, task) in tasks.into_iter().enumerate() {
            let error = futures::executor::block_on(task).unwrap_err();
            if i % 2 == 0 {
                assert!(error.is_panic(), "task {i}: {error:?}");
            } else {
                assert!(error.is_cancelled(), "task {i}: {error:?}");
            }
        }
    })
}

#[test]
#[allow(clippy::async_yields_async)] // block_on hands the JoinHandle out on purpose
fn block_on_on_another_thread_panics_while_spawn_local_tasks_are_alive() {
    with_timeout(|| {
        let runtime = current_thread_runtime().unwrap();
        let local = runtime.block_on(async {
            let shared = std::rc::Rc::new(());
            mini::task::spawn_local(async move {
                let _shared = shared;
                pending::<()>().await
            })
        });
        thread::scope(|scope| {
            let result = scope
                .spawn(|| catch_unwind(AssertUnwindSafe(|| runtime.block_on(async {}))))
                .join()
                .unwrap();
            let message = panic_message(&*result.unwrap_err());
            assert!(message.contains("spawn_local"), "{message}");
        });
        // Back on the owning thread all is well.
        local.abort();
        assert!(runtime.block_on(local).unwrap_err().is_cancelled());
    })
}

#[test]
fn a_task_can_spawn_onto_another_runtime_which_runs_it_on_its_own_thread() {
    with_timeout(|| {
        let (handle_sender, handle_receiver) = std::sync::mpsc::channel();
        let (stop, stopped) = oneshot::channel::<()>();
        let other = thread::spawn(move || {
            let runtime = current_thread_runtime().unwrap();
            handle_sender
                .send((runtime.handle().clone(), thread::current().id()))
                .unwrap();
            runtime.block_on(stopped).unwrap();
        });
        let (other_handle, other_thread) = handle_receiver.recv().unwrap();
        let runtime = current_thread_runtime().unwrap();
        let ran_on = runtime.block_on(async move {
            let task = mini::spawn(async move { other_handle.spawn(async { thread::current().id() }).await.unwrap() });
            task.await.unwrap()
        });
        assert_eq!(ran_on, other_thread);
        stop.send(()).unwrap();
        other.join().unwrap();
    })
}

#[test]
fn a_join_handle_can_be_awaited_on_another_runtime() {
    with_timeout(|| {
        let (handle_sender, handle_receiver) = std::sync::mpsc::channel();
        let (stop, stopped) = oneshot::channel::<()>();
        let (go, gone) = oneshot::channel::<u32>();
        let other = thread::spawn(move || {
            let runtime = current_thread_runtime().unwrap();
            let task = runtime.spawn(async move { gone.await.unwrap() * 3 });
            handle_sender.send(task).unwrap();
            runtime.block_on(stopped).unwrap();
        });
        let task = handle_receiver.recv().unwrap();
        let runtime = current_thread_runtime().unwrap();
        let output = runtime.block_on(async move {
            go.send(14).unwrap();
            task.await.unwrap()
        });
        assert_eq!(output, 42);
        stop.send(()).unwrap();
        other.join().unwrap();
    })
}

#[test]
fn entering_nested_runtimes_restores_the_outer_one() {
    with_timeout(|| {
        let outer = current_thread_runtime().unwrap();
        let inner = current_thread_runtime().unwrap();
        let _outer_entered = outer.enter();
        {
            let _inner_entered = inner.enter();
            let on_inner = mini::spawn(async { "inner" });
            assert_eq!(inner.block_on(on_inner).unwrap(), "inner");
        }
        // `spawn` goes to the outer runtime again: only its block_on runs the task.
        let on_outer = mini::spawn(async { "outer" });
        assert_eq!(outer.block_on(on_outer).unwrap(), "outer");
    })
}

#[test]
fn a_runtime_is_send_and_sync_and_can_be_shared() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Runtime>();
    assert_send_sync::<Handle>();
    assert_send_sync::<mini::task::JoinHandle<u32>>();
    assert_send_sync::<mini::task::JoinError>();
    assert_send_sync::<TcpStream>();

    with_timeout(|| {
        let runtime = Arc::new(current_thread_runtime().unwrap());
        let on_thread = {
            let runtime = runtime.clone();
            thread::spawn(move || runtime.block_on(async { mini::spawn(async { 1 }).await.unwrap() }))
        };
        assert_eq!(on_thread.join().unwrap(), 1);
        assert_eq!(runtime.block_on(async { 2 }), 2);
    })
}

#[test]
fn a_thread_waiting_for_the_core_panics_if_the_holder_spawned_local_tasks_meanwhile() {
    with_timeout(|| {
        let runtime = current_thread_runtime().unwrap();
        let (waiting_tx, waiting_rx) = std::sync::mpsc::channel::<()>();
        thread::scope(|scope| {
            let runtime = &runtime;
            let local = runtime.block_on(async {
                // Thread B enters block_on while we hold the core; its future's first poll (made
                // while it waits for the core) tells us it is waiting.
                let waiter = scope.spawn(move || {
                    catch_unwind(AssertUnwindSafe(|| {
                        let mut told = false;
                        runtime.block_on(std::future::poll_fn(|_| {
                            if !told {
                                told = true;
                                waiting_tx.send(()).unwrap();
                            }
                            std::task::Poll::<()>::Pending
                        }))
                    }))
                });
                waiting_rx.recv().unwrap();
                let shared = std::rc::Rc::new(());
                let local = mini::task::spawn_local(async move {
                    let _shared = shared;
                    pending::<()>().await
                });
                (waiter, local)
            });
            let (waiter, local) = local;
            let message = panic_message(&*waiter.join().unwrap().unwrap_err());
            assert!(message.contains("spawn_local"), "{message}");
            local.abort();
            assert!(runtime.block_on(local).unwrap_err().is_cancelled());
        });
    })
}

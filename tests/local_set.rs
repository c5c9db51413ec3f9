//! `LocalSet`: `!Send` tasks on any runtime flavor, run on the thread that polls `run_until`,
//! woken from other threads, using the runtime's I/O and timers, and dropped with the set.

mod common;

use common::*;
use futures::channel::oneshot;
use mini::net::TcpStream;
use mini::runtime::Builder;
use mini::task::{spawn_local, LocalSet};
use std::cell::RefCell;
use std::future::pending;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::rc::Rc;
use std::thread;
use std::time::Duration;

fn multi_thread_runtime() -> mini::Runtime {
    Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .expect("build a multi-threaded runtime")
}

#[test]
fn rc_sharing_tasks_run_on_the_block_on_thread_of_a_multi_threaded_runtime() {
    with_timeout(|| {
        let runtime = multi_thread_runtime();
        let local = LocalSet::new();
        let here = thread::current().id();
        let log = local.block_on(&runtime, async move {
            let log = Rc::new(RefCell::new(Vec::new()));
            let tasks: Vec<_> = (0..100)
                .map(|i| {
                    let log = log.clone();
                    spawn_local(async move {
                        mini::task::yield_now().await;
                        log.borrow_mut().push((i, thread::current().id()));
                    })
                })
                .collect();
            for task in tasks {
                task.await.expect("a local task");
            }
            Rc::try_unwrap(log).expect("every task is done").into_inner()
        });
        assert_eq!(log.len(), 100);
        assert!(
            log.iter().all(|&(_, thread)| thread == here),
            "a local task ran on another thread"
        );
    })
}

#[test]
fn a_local_task_woken_from_a_std_thread_runs() {
    with_timeout(|| {
        let runtime = multi_thread_runtime();
        let local = LocalSet::new();
        let (tx, rx) = oneshot::channel::<u32>();
        let value = local.block_on(&runtime, async move {
            let marker = Rc::new(());
            let task = spawn_local(async move {
                let _keep = marker; // `!Send`
                rx.await.expect("the sender sends")
            });
            let sender = thread::spawn(move || tx.send(7).unwrap());
            let value = task.await.expect("the local task");
            sender.join().unwrap();
            value
        });
        assert_eq!(value, 7);
    })
}

#[test]
fn local_tasks_use_the_runtime_sockets_and_timers() {
    with_timeout(|| {
        let runtime = multi_thread_runtime();
        let local = LocalSet::new();
        local.block_on(&runtime, async {
            let (listener, addr) = bind_loopback().await;
            let server = mini::spawn(async move {
                let (stream, _) = listener.accept().await.expect("accept");
                echo(stream).await.expect("echo")
            });
            let client = spawn_local(async move {
                let not_send = Rc::new(b"over a local task".to_vec());
                mini::time::sleep(Duration::from_millis(5)).await;
                let mut stream = TcpStream::connect(addr).await.expect("connect");
                stream.write_all(&not_send).await.expect("write");
                let mut back = vec![0u8; not_send.len()];
                stream.read_exact(&mut back).await.expect("read");
                assert_eq!(back, *not_send);
            });
            client.await.expect("the local client");
            assert_eq!(server.await.expect("the server"), b"over a local task".len());
        });
    })
}

#[test]
fn dropping_a_local_set_drops_the_futures_of_its_tasks() {
    with_timeout(|| {
        let runtime = multi_thread_runtime();
        let drops = Drops::default();
        let local = LocalSet::new();
        // Spawned before it ever runs, and from inside it.
        let never_polled = local.spawn_local({
            let guard = drops.guard();
            async move {
                let _guard = (guard, Rc::new(()));
                pending::<()>().await
            }
        });
        local.block_on(&runtime, {
            let drops = drops.clone();
            async move {
                for _ in 0..10 {
                    let guard = drops.guard();
                    drop(spawn_local(async move {
                        let _guard = (guard, Rc::new(()));
                        pending::<()>().await
                    }));
                }
                mini::task::yield_now().await;
            }
        });
        assert_eq!(drops.count(), 0, "pending local tasks outlive run_until");
        drop(local);
        assert_eq!(drops.count(), 11, "dropping the set drops every future in it");
        let error = runtime.block_on(never_polled).expect_err("its task was cancelled");
        assert!(error.is_cancelled());
    })
}

#[test]
#[allow(clippy::async_yields_async)] // on purpose: the handle leaves `run_until` unawaited
fn run_until_returns_while_other_local_tasks_wait_and_they_go_on_next_time() {
    with_timeout(|| {
        let runtime = multi_thread_runtime();
        let local = LocalSet::new();
        let (tx, rx) = oneshot::channel::<()>();
        // The handle comes out of `run_until` unawaited: the task is left waiting in the set.
        let waiting = local.block_on(&runtime, async move {
            let waiting = spawn_local(async move { rx.await.is_ok() });
            mini::task::yield_now().await;
            waiting
        });
        assert!(!waiting.is_finished());
        tx.send(()).unwrap();
        assert!(local.block_on(&runtime, waiting).expect("the waiting task"));
    })
}

#[test]
fn spawn_local_outside_a_local_set_on_a_multi_threaded_runtime_points_at_local_set() {
    let message = with_timeout(|| {
        let runtime = multi_thread_runtime();
        runtime.block_on(async {
            let panic = catch_unwind(AssertUnwindSafe(|| drop(spawn_local(async {}))))
                .expect_err("spawn_local outside a LocalSet on a multi-threaded runtime must panic");
            panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default()
        })
    });
    assert!(message.contains("LocalSet"), "unexpected message: {message}");
}

// On a current-thread runtime, as `#[mini::test]`s: CI also runs these under a sweep of shuffled
// schedules (`MINI_TEST_SEEDS`), so they assert nothing about the order of independent tasks.

#[mini::test]
async fn local_tasks_share_rc_state_and_hand_messages_along_a_chain() {
    let _watchdog = watchdog("local_tasks_share_rc_state_and_hand_messages_along_a_chain");
    let local = LocalSet::new();
    let seen = Rc::new(RefCell::new(Vec::new()));
    local
        .run_until(async {
            // Each link adds its number and passes the sum on: the chain fixes the order.
            let (first, mut previous) = futures::channel::oneshot::channel::<u32>();
            let mut links = Vec::new();
            for link in 1..=5u32 {
                let (next, receiver) = futures::channel::oneshot::channel();
                let seen = seen.clone();
                let input = std::mem::replace(&mut previous, receiver);
                links.push(spawn_local(async move {
                    let sum = input.await.expect("the previous link") + link;
                    seen.borrow_mut().push(link);
                    next.send(sum).expect("the next link waits");
                }));
            }
            first.send(0).unwrap();
            assert_eq!(previous.await.unwrap(), 15);
            for link in links {
                link.await.unwrap();
            }
        })
        .await;
    assert_eq!(*seen.borrow(), [1, 2, 3, 4, 5]);
}

#[mini::test]
async fn local_tasks_on_a_current_thread_runtime_use_its_sockets_and_timers() {
    let _watchdog = watchdog("local_tasks_on_a_current_thread_runtime_use_its_sockets_and_timers");
    let local = LocalSet::new();
    local
        .run_until(async {
            let (listener, addr) = bind_loopback().await;
            let server = spawn_local(async move {
                let (stream, _) = listener.accept().await.expect("accept");
                echo(stream).await.expect("echo")
            });
            let clients: Vec<_> = (0..3u8)
                .map(|i| {
                    spawn_local(async move {
                        let message = Rc::new(vec![i; 64]);
                        mini::time::sleep(Duration::from_millis(u64::from(i))).await;
                        let mut stream = TcpStream::connect(addr).await.expect("connect");
                        stream.write_all(&message).await.expect("write");
                        let mut back = vec![0u8; message.len()];
                        stream.read_exact(&mut back).await.expect("read");
                        back == *message
                    })
                })
                .collect();
            // The server echoes one connection; the others are refused only by its end.
            let first = futures::future::select_all(clients).await;
            assert!(first.0.expect("a client"), "the echo came back intact");
            for client in first.2 {
                client.abort();
            }
            assert_eq!(server.await.expect("the server"), 64);
        })
        .await;
}

/// Awaiting the set runs its tasks (and those they spawn) until none is left, as tokio's
/// `impl Future for LocalSet` does, on every flavor.
#[test]
fn awaiting_a_local_set_runs_every_task_until_none_is_left() {
    with_timeout(|| {
        for (flavor, runtime) in runtimes() {
            let local = LocalSet::new();
            let log = Rc::new(RefCell::new(Vec::new()));
            for i in 0..3 {
                let log = log.clone();
                local.spawn_local(async move {
                    mini::time::sleep(Duration::from_millis(5)).await;
                    log.borrow_mut().push(i);
                    // A task spawned from a task of the set joins it.
                    let log = log.clone();
                    spawn_local(async move { log.borrow_mut().push(10 + i) });
                });
            }
            runtime.block_on(local);
            let mut ran = log.borrow().clone();
            ran.sort();
            assert_eq!(ran, [0, 1, 2, 10, 11, 12], "{flavor}");
        }
    });
}

#[test]
fn an_entered_local_set_takes_spawn_local_outside_run_until() {
    with_timeout(|| {
        let runtime = multi_thread_runtime();
        let local = LocalSet::new();
        let here = thread::current().id();
        let task = {
            let _entered = local.enter();
            spawn_local(async move { (Rc::new(5), thread::current().id()) })
        };
        let (value, ran_on) = local.block_on(&runtime, task).unwrap();
        assert_eq!((*value, ran_on), (5, here));
        // The guard is gone: outside any set, `spawn_local` on a multi-threaded runtime panics.
        let outside = catch_unwind(AssertUnwindSafe(|| {
            runtime.block_on(async { drop(spawn_local(async {})) })
        }));
        assert!(outside.is_err());
    });
}

//! `task::block_in_place` (issue 18 §2), with tokio's rules: on a multi-threaded worker the
//! worker's queues move to a new thread, so its other tasks run while the closure blocks; on the
//! thread inside a multi-threaded runtime's `block_on`, in a blocking job and outside any runtime
//! the closure simply runs; a current-thread runtime, a thread-per-core worker and a `LocalSet`
//! panic with a message that says to use `spawn_blocking`.

mod common;

use common::*;
use mini::net::TcpStream;
use mini::runtime::{Builder, Handle, StallReport};
use mini::task::{block_in_place, LocalSet};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

fn multi_thread(workers: usize) -> mini::Runtime {
    Builder::new_multi_thread().worker_threads(workers).build().unwrap()
}

/// A TCP round trip through an echo task: needs the reactor and a worker to run both tasks.
async fn echo_round_trip() -> Vec<u8> {
    let (listener, addr) = bind_loopback().await;
    let server = mini::spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        echo(stream).await.unwrap()
    });
    let mut client = TcpStream::connect(addr).await.unwrap();
    client.write_all(b"ping").await.unwrap();
    let mut back = vec![0; 4];
    client.read_exact(&mut back).await.unwrap();
    drop(client);
    assert_eq!(server.await.unwrap(), 4);
    back
}

/// What the refusals tell the caller to use instead.
const INSTEAD: &str = "spawn_blocking";

/// One worker: the task blocks until tasks spawned meanwhile have done a TCP round trip. Only a
/// worker runs spawned tasks, so without the hand-off the only worker would wait for itself
/// (the wait would time out).
#[test]
fn the_workers_other_tasks_run_while_it_blocks() {
    with_timeout(|| {
        let rt = multi_thread(1);
        let (echoed, blocked_thread, blocking_threads) = rt.block_on(async {
            mini::spawn(async {
                let thread = std::thread::current().id();
                block_in_place(|| {
                    let (done, round_trip) = mpsc::channel();
                    mini::spawn(async move { done.send(echo_round_trip().await).unwrap() });
                    let echoed = round_trip
                        .recv_timeout(Duration::from_secs(10))
                        .expect("the spawned tasks ran while the worker's thread blocked");
                    let blocking_threads = Handle::current().metrics().num_blocking_threads();
                    (echoed, thread == std::thread::current().id(), blocking_threads)
                })
            })
            .await
            .unwrap()
        });
        assert_eq!(echoed, b"ping");
        assert!(blocked_thread, "the closure runs on the thread of the task that called");
        assert_eq!(
            blocking_threads, 1,
            "the thread that blocks counts as a blocking thread"
        );
        assert_eq!(rt.metrics().num_workers(), 1);
    });
}

#[test]
fn the_closure_borrows_from_the_task_and_returns_its_value() {
    with_timeout(|| {
        let rt = multi_thread(2);
        let sum = rt.block_on(async {
            mini::spawn(async {
                let mut numbers = vec![1, 2, 3];
                let sum: i32 = block_in_place(|| {
                    numbers.push(4);
                    numbers.iter().sum()
                });
                assert_eq!(numbers.len(), 4);
                sum
            })
            .await
            .unwrap()
        });
        assert_eq!(sum, 10);
    });
}

/// Inside the closure the runtime is current, but the thread no longer runs it: `block_on` of a
/// future doing I/O and timers works, nested `block_in_place` runs in place, and the thread is
/// not a worker; the task's next poll runs on a worker again.
#[test]
fn inside_the_closure_handle_block_on_and_nested_calls_work() {
    with_timeout(|| {
        let rt = multi_thread(2);
        rt.block_on(async {
            mini::spawn(async {
                assert!(mini::runtime::worker_index().is_some());
                let (echoed, nested, worker) = block_in_place(|| {
                    let echoed = Handle::current().block_on(async {
                        mini::time::sleep(Duration::from_millis(1)).await;
                        mini::task::yield_now().await;
                        echo_round_trip().await
                    });
                    let nested = block_in_place(|| Handle::current().block_on(echo_round_trip()));
                    (echoed, nested, mini::runtime::worker_index())
                });
                assert_eq!(echoed, b"ping");
                assert_eq!(nested, b"ping");
                assert_eq!(worker, None, "the thread that blocks is no longer a worker");
                mini::task::yield_now().await;
                assert!(mini::runtime::worker_index().is_some(), "the task is back on a worker");
                assert_eq!(echo_round_trip().await, b"ping");
            })
            .await
            .unwrap();
        });
    });
}

/// tokio's `yield_after_block_in_place`, and the same many times over on one worker: every call
/// starts a worker thread, and the threads that blocked leave once their poll ends.
#[test]
fn many_calls_in_a_row_leave_no_thread_behind() {
    with_timeout(|| {
        let rt = multi_thread(1);
        rt.block_on(async {
            let tasks: Vec<_> = (0..50)
                .map(|i| {
                    mini::spawn(async move {
                        let doubled = block_in_place(|| i * 2);
                        mini::task::yield_now().await;
                        doubled + block_in_place(|| 1)
                    })
                })
                .collect();
            for (i, task) in tasks.into_iter().enumerate() {
                assert_eq!(task.await.unwrap(), i * 2 + 1);
            }
            assert_eq!(echo_round_trip().await, b"ping");
        });
        let deadline = Instant::now() + Duration::from_secs(10);
        while rt.metrics().num_blocking_threads() > 0 {
            assert!(
                Instant::now() < deadline,
                "the threads that blocked did not leave the blocking pool's count: {}",
                rt.metrics().num_blocking_threads()
            );
            std::thread::sleep(Duration::from_millis(1));
        }
        assert_eq!(rt.metrics().num_workers(), 1);
    });
}

#[test]
fn a_panic_in_the_closure_fails_only_its_task() {
    with_timeout(|| {
        let rt = multi_thread(2);
        rt.block_on(async {
            let error = mini::spawn(async {
                block_in_place(|| panic!("boom in place"));
            })
            .await
            .unwrap_err();
            assert_eq!(join_error_message(error), "boom in place");
            let round_trips: Vec<_> = (0..8).map(|_| mini::spawn(echo_round_trip())).collect();
            for round_trip in round_trips {
                assert_eq!(round_trip.await.unwrap(), b"ping");
            }
        });
    });
}

/// The closure blocks until released: the thread that blocks is a blocking thread for shutdown,
/// so `shutdown_timeout` stops waiting for it at its timeout, while dropping the runtime waits.
#[test]
fn shutdown_treats_the_blocked_thread_as_a_blocking_job() {
    with_timeout(|| {
        for bounded in [true, false] {
            let rt = multi_thread(2);
            let (entered_tx, entered) = mpsc::channel();
            let (release_tx, release) = mpsc::channel::<()>();
            let finished = Arc::new(AtomicBool::new(false));
            let finished_in_task = finished.clone();
            rt.spawn(async move {
                block_in_place(|| {
                    entered_tx.send(()).unwrap();
                    release.recv_timeout(Duration::from_secs(10)).unwrap();
                    finished_in_task.store(true, SeqCst);
                });
            });
            entered.recv_timeout(Duration::from_secs(10)).unwrap();
            if bounded {
                rt.shutdown_timeout(Duration::from_millis(20));
                assert!(!finished.load(SeqCst), "shutdown_timeout returned before the closure");
                release_tx.send(()).unwrap();
            } else {
                let releaser = std::thread::spawn(move || {
                    std::thread::sleep(Duration::from_millis(20));
                    release_tx.send(()).unwrap();
                });
                drop(rt);
                assert!(finished.load(SeqCst), "dropping the runtime waits for the closure");
                releaser.join().unwrap();
            }
        }
    });
}

/// With the stall detector on, a poll that blocks its worker is reported; one that blocks in
/// `block_in_place` is not (its worker went on on another thread).
#[test]
fn a_closure_that_blocks_is_not_a_stall() {
    with_timeout(|| {
        let (reports_tx, reports) = mpsc::channel();
        let reports_tx = std::sync::Mutex::new(reports_tx);
        let rt = Builder::new_multi_thread()
            .worker_threads(2)
            .stall_threshold(Some(Duration::from_millis(50)))
            .on_stall(move |report: &StallReport| {
                let _ = reports_tx
                    .lock()
                    .unwrap()
                    .send((report.poll_returned(), report.to_string()));
            })
            .build()
            .unwrap();
        rt.block_on(async {
            mini::spawn(async { std::thread::sleep(Duration::from_millis(200)) })
                .await
                .unwrap();
        });
        // Reported while it blocks, then once more when it returns: wait for both.
        let (returned, _) = reports
            .recv_timeout(Duration::from_secs(5))
            .expect("a poll that blocks is reported (the detector is on)");
        if !returned {
            let (returned, report) = reports
                .recv_timeout(Duration::from_secs(5))
                .expect("the poll's return is reported");
            assert!(returned, "one report while the poll blocks:\n{report}");
        }
        rt.block_on(async {
            mini::spawn(async { block_in_place(|| std::thread::sleep(Duration::from_millis(200))) })
                .await
                .unwrap();
        });
        drop(rt);
        if let Ok((_, report)) = reports.try_recv() {
            panic!("block_in_place was reported as a stall:\n{report}");
        }
    });
}

#[test]
fn the_closure_runs_in_place_where_no_scheduler_runs_tasks() {
    with_timeout(|| {
        assert_eq!(block_in_place(|| 1), 1, "outside any runtime");
        for (flavor, rt) in runtimes() {
            let in_job = rt.block_on(async {
                mini::task::spawn_blocking(|| block_in_place(|| Handle::current().block_on(echo_round_trip())))
                    .await
                    .unwrap()
            });
            assert_eq!(in_job, b"ping", "{flavor}: in a blocking job");
            let _entered = rt.enter();
            assert_eq!(block_in_place(|| 2), 2, "{flavor}: after `Runtime::enter`");
        }
        let rt = multi_thread(2);
        let on_block_on_thread =
            rt.block_on(async { block_in_place(|| Handle::current().block_on(echo_round_trip())) });
        assert_eq!(
            on_block_on_thread, b"ping",
            "on the multi-threaded runtime's block_on thread"
        );
    });
}

fn assert_refused(panic: Box<dyn std::any::Any + Send>, what: &str) {
    let message = panic_message(&*panic);
    assert!(
        message.contains("block_in_place") && message.contains(INSTEAD),
        "{what}: unexpected message: {message}"
    );
}

#[test]
fn a_current_thread_runtime_refuses_in_block_on_and_in_tasks() {
    with_timeout(|| {
        let rt = current_thread_runtime().unwrap();
        let in_block_on = catch_unwind(AssertUnwindSafe(|| rt.block_on(async { block_in_place(|| ()) })));
        assert_refused(in_block_on.unwrap_err(), "current-thread block_on");
        let in_task = rt.block_on(async { mini::spawn(async { block_in_place(|| ()) }).await });
        assert_refused(in_task.unwrap_err().into_panic(), "current-thread task");
        // The runtime goes on.
        assert_eq!(rt.block_on(echo_round_trip()), b"ping");
    });
}

#[test]
fn a_thread_per_core_worker_refuses() {
    run_thread_per_core(2, || async {
        let in_task = mini::spawn(async { block_in_place(|| ()) }).await;
        assert_refused(in_task.unwrap_err().into_panic(), "thread-per-core task");
        assert_eq!(echo_round_trip().await, b"ping");
    });
}

#[test]
fn a_local_set_refuses_on_every_flavor() {
    with_timeout(|| {
        for (flavor, rt) in runtimes() {
            let local = LocalSet::new();
            let in_run_until = catch_unwind(AssertUnwindSafe(|| {
                rt.block_on(local.run_until(async { block_in_place(|| ()) }))
            }));
            assert_refused(in_run_until.unwrap_err(), flavor);
            let in_local_task =
                rt.block_on(local.run_until(async { mini::task::spawn_local(async { block_in_place(|| ()) }).await }));
            assert_refused(in_local_task.unwrap_err().into_panic(), flavor);
        }
    });
}

/// The thread that blocks counts as a blocking thread, but not against `max_blocking_threads`:
/// with a bound of one, a `spawn_blocking` job awaited from inside the closure still gets a
/// thread (it would wait for ever if the blocked thread took the only place).
#[test]
fn a_blocked_thread_does_not_take_a_blocking_pool_place() {
    with_timeout(|| {
        let rt = Builder::new_multi_thread()
            .worker_threads(1)
            .max_blocking_threads(1)
            .build()
            .unwrap();
        let sum = rt.block_on(async {
            mini::spawn(async {
                block_in_place(|| {
                    Handle::current().block_on(async { mini::task::spawn_blocking(|| 40 + 2).await.unwrap() })
                })
            })
            .await
            .unwrap()
        });
        assert_eq!(sum, 42);
    });
}

/// On the thread inside `block_on`, the closure's own `Handle::block_on` parks the same thread:
/// a wake of the outer `block_on` that comes meanwhile (here, the task it joins ends) must not be
/// taken by the inner one's park, or the outer one sleeps for ever.
#[test]
fn a_nested_block_on_does_not_take_the_outer_ones_wake_up() {
    with_timeout(|| {
        let rt = multi_thread(1);
        rt.block_on(async {
            let (go_tx, go) = futures::channel::oneshot::channel::<()>();
            let joined = mini::spawn(async move { go.await.unwrap() });
            let finished = Arc::new(AtomicBool::new(false));
            let waiter = {
                let finished = finished.clone();
                mini::spawn(async move {
                    joined.await.unwrap();
                    finished.store(true, SeqCst);
                })
            };
            let outer = async {
                block_in_place(|| {
                    Handle::current().block_on(async {
                        // The joined task ends (waking the outer future's waker) while this inner
                        // `block_on` waits.
                        go_tx.send(()).unwrap();
                        while !finished.load(SeqCst) {
                            mini::time::sleep(Duration::from_millis(1)).await;
                        }
                    })
                })
            };
            futures::join!(waiter, outer).0.unwrap();
        });
    });
}

/// A task may drop the runtime it runs on inside the closure: the shutdown does not wait for the
/// thread doing it (before the fix it waited for its own place in the blocking pool).
#[test]
fn the_closure_may_drop_the_runtime() {
    with_timeout(|| {
        let rt = multi_thread(2);
        let handle = rt.handle().clone();
        let shared = Arc::new(std::sync::Mutex::new(Some(rt)));
        let (dropped_tx, dropped) = mpsc::channel();
        handle.spawn({
            let shared = shared.clone();
            async move {
                block_in_place(|| {
                    drop(shared.lock().unwrap().take());
                    dropped_tx.send(()).unwrap();
                });
            }
        });
        dropped
            .recv_timeout(Duration::from_secs(10))
            .expect("the runtime dropped from the closure");
    });
}

/// The worker is found by the thread, not by the current runtime: a task that entered another
/// runtime still hands its worker over.
#[test]
fn a_task_that_entered_another_runtime_still_hands_its_worker_over() {
    with_timeout(|| {
        let rt = multi_thread(1);
        let other = current_thread_runtime().unwrap();
        let other_handle = other.handle().clone();
        let worker = rt.block_on(async move {
            mini::spawn(async move {
                let _entered = other_handle.enter();
                block_in_place(mini::runtime::worker_index)
            })
            .await
            .unwrap()
        });
        assert_eq!(worker, None, "the thread was handed over");
        drop(other);
    });
}

/// Like tokio: a `LocalSet` task's `Drop` run by the set's drop may not block in place either.
#[test]
fn a_local_set_refuses_while_it_drops_its_tasks() {
    with_timeout(|| {
        /// Tries to block in place when dropped; sends the refusal's panic.
        struct BlocksOnDrop(mpsc::Sender<Box<dyn std::any::Any + Send>>);
        impl Drop for BlocksOnDrop {
            fn drop(&mut self) {
                if let Err(panic) = catch_unwind(|| block_in_place(|| ())) {
                    self.0.send(panic).unwrap();
                }
            }
        }
        let (refusals_tx, refusals) = mpsc::channel();
        let rt = multi_thread(1);
        let local = LocalSet::new();
        rt.block_on(local.run_until(async {
            let guard = BlocksOnDrop(refusals_tx);
            mini::task::spawn_local(async move {
                let _guard = guard;
                std::future::pending::<()>().await;
            });
            mini::task::yield_now().await;
        }));
        drop(local);
        assert_refused(refusals.try_recv().expect("the drop was refused"), "LocalSet drop");
    });
}

/// A future polled by another executor inside a task (a misuse, but one that used to work)
/// gets its executor's waker: a yield there wakes that executor at once, rather than waiting
/// for a turn of the reactor that cannot come while it blocks the thread.
#[test]
fn a_future_polled_by_a_nested_executor_is_not_deferred() {
    with_timeout(|| {
        for (flavor, rt) in runtimes() {
            let rounds = rt.block_on(async {
                mini::spawn(async {
                    futures::executor::block_on(async {
                        let mut rounds = 0;
                        for _ in 0..1_000 {
                            mini::task::yield_now().await;
                            rounds += 1;
                        }
                        rounds
                    })
                })
                .await
                .unwrap()
            });
            assert_eq!(rounds, 1_000, "{flavor}");
        }
    });
}

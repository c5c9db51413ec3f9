//! The multi-threaded runtime: tasks run in parallel on worker threads, I/O and timers keep
//! working while a worker is blocked, no message or wake-up is lost under load, spawning from
//! anywhere (overflowing the local queues), the thread hooks, and the misuses that panic or fail.
//!
//! Tests that block a worker on purpose (a `Barrier`, a std channel) can only finish if another
//! worker runs at the same time; a hang becomes a failure through the timeout helpers.
//! Dropping a runtime with pending I/O tasks (fds compared before and after) lives in
//! `tests/shutdown.rs`, a binary of its own; the cooperative budget in `tests/coop.rs`;
//! `MINI_WORKER_THREADS` in `tests/worker_threads_env.rs`.

mod common;

use common::*;
use futures::channel::{mpsc, oneshot};
use futures::{SinkExt, StreamExt};
use mini::net::TcpStream;
use mini::runtime::{Builder, Handle};
use mini::task::{spawn_local, yield_now};
use mini::Runtime;
use std::collections::HashSet;
use std::io::ErrorKind;
use std::net::Shutdown;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Barrier, Mutex};
use std::thread::{self, ThreadId};
use std::time::Duration;

/// A multi-threaded runtime with `workers` workers named `name`.
fn named_runtime(workers: usize, name: &str) -> Runtime {
    Builder::new_multi_thread()
        .worker_threads(workers)
        .thread_name(name)
        .build()
        .expect("build a multi-threaded runtime")
}

/// The calling thread's name and id.
fn this_thread() -> (Option<String>, ThreadId) {
    let thread = thread::current();
    (thread.name().map(str::to_owned), thread.id())
}

/// Spawns a task that waits on `barrier` (blocking its worker thread) and returns where it ran.
fn spawn_barrier_waiter(barrier: &Arc<Barrier>) -> mini::task::JoinHandle<(Option<String>, ThreadId)> {
    let barrier = barrier.clone();
    mini::spawn(async move {
        barrier.wait();
        this_thread()
    })
}

#[test]
fn two_tasks_blocked_on_one_barrier_finish_because_two_named_workers_run_them_at_once() {
    let rounds = with_timeout(|| {
        let runtime = named_runtime(2, "barrier-worker");
        let test_thread = thread::current().id();
        runtime.block_on(async move {
            // Spawned from outside the workers (the inject queue), then from inside a task: both
            // land on that task's worker, so the other one must steal one of them.
            let from_outside = {
                let barrier = Arc::new(Barrier::new(2));
                let (a, b) = (spawn_barrier_waiter(&barrier), spawn_barrier_waiter(&barrier));
                (a.await.unwrap(), b.await.unwrap())
            };
            let from_a_task = mini::spawn(async {
                let barrier = Arc::new(Barrier::new(2));
                let (a, b) = (spawn_barrier_waiter(&barrier), spawn_barrier_waiter(&barrier));
                (a.await.unwrap(), b.await.unwrap())
            })
            .await
            .unwrap();
            for ((name_a, id_a), (name_b, id_b)) in [&from_outside, &from_a_task] {
                assert_eq!(name_a.as_deref(), Some("barrier-worker"));
                assert_eq!(name_b.as_deref(), Some("barrier-worker"));
                assert_ne!(id_a, id_b, "both tasks ran on one thread");
                assert_ne!(*id_a, test_thread, "a task ran on the block_on thread");
                assert_ne!(*id_b, test_thread, "a task ran on the block_on thread");
            }
            2
        })
    });
    assert_eq!(rounds, 2);
}

#[test]
fn io_and_timers_keep_working_while_either_of_two_workers_is_blocked() {
    with_timeout(|| {
        let named = Arc::new(AtomicUsize::new(0));
        let runtime = Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name_fn(move || format!("handoff-{}", named.fetch_add(1, SeqCst)))
            .build()
            .unwrap();
        runtime.block_on(async {
            let (listener, addr) = bind_loopback().await;
            let listener = Arc::new(listener);
            let mut blocked_workers = HashSet::new();
            for round in 0..20 {
                // Two tasks meet at a barrier, so they are on different workers; the one on the
                // worker this round targets then blocks that thread until released.
                let target = format!("handoff-{}", round % 2);
                let barrier = Arc::new(Barrier::new(2));
                let (release, released) = std::sync::mpsc::channel::<()>();
                let released = Arc::new(Mutex::new(released));
                let (started, blocker_started) = oneshot::channel::<()>();
                let started = Arc::new(Mutex::new(Some(started)));
                let candidates: Vec<_> = (0..2)
                    .map(|_| {
                        let (barrier, target) = (barrier.clone(), target.clone());
                        let (released, started) = (released.clone(), started.clone());
                        mini::spawn(async move {
                            barrier.wait();
                            let name = thread::current().name().map(str::to_owned);
                            if name.as_deref() != Some(target.as_str()) {
                                return None;
                            }
                            started.lock().unwrap().take().unwrap().send(()).unwrap();
                            // Blocks this worker until the round trip below is done.
                            released.lock().unwrap().recv().unwrap();
                            name
                        })
                    })
                    .collect();
                blocker_started.await.expect("the blocking task started");

                // Only the other worker is left for the reactor, the timers and the tasks.
                let server = mini::spawn({
                    let listener = listener.clone();
                    async move {
                        let (stream, _) = listener.accept().await.unwrap();
                        echo(stream).await.unwrap()
                    }
                });
                let mut client = TcpStream::connect(addr).await.unwrap();
                client.write_all(b"round trip").await.unwrap();
                let mut reply = [0u8; 10];
                client.read_exact(&mut reply).await.unwrap();
                assert_eq!(&reply, b"round trip");
                client.shutdown(Shutdown::Write).unwrap();
                assert_eq!(server.await.unwrap(), 10);
                mini::spawn(mini::time::sleep(Duration::from_millis(10))).await.unwrap();
                mini::time::sleep(Duration::from_millis(1)).await;

                release.send(()).unwrap();
                let mut blockers = Vec::new();
                for candidate in candidates {
                    blockers.extend(candidate.await.unwrap());
                }
                assert_eq!(
                    blockers,
                    [target],
                    "round {round}: one task blocked, on the target worker"
                );
                blocked_workers.extend(blockers);
            }
            assert_eq!(blocked_workers.len(), 2, "each worker was the blocked one");
        });
    });
}

/// 5,000 pairs of tasks that pass a counter back and forth `ROUND_TRIPS` times; returns how many
/// messages arrived.
async fn ping_pong_pairs() -> usize {
    const PAIRS: usize = 5_000;
    const ROUND_TRIPS: usize = 20;
    let delivered = Arc::new(AtomicUsize::new(0));
    let pings: Vec<_> = (0..PAIRS)
        .map(|pair| {
            let delivered = delivered.clone();
            // Spawned from the block_on thread (inject); each spawns its partner from inside,
            // onto its own worker, from where the other workers steal.
            mini::spawn(async move {
                let (mut ping_tx, mut ping_rx) = mpsc::channel::<usize>(1);
                let (mut pong_tx, mut pong_rx) = mpsc::channel::<usize>(1);
                let pong = mini::spawn({
                    let delivered = delivered.clone();
                    async move {
                        let mut received = 0;
                        while let Some(n) = ping_rx.next().await {
                            delivered.fetch_add(1, SeqCst);
                            received += 1;
                            pong_tx.send(n + 1).await.unwrap();
                        }
                        received
                    }
                });
                for round in 0..ROUND_TRIPS {
                    ping_tx.send(pair + round).await.unwrap();
                    let reply = pong_rx.next().await.expect("a pong");
                    assert_eq!(reply, pair + round + 1);
                    delivered.fetch_add(1, SeqCst);
                }
                drop(ping_tx);
                assert_eq!(pong.await.unwrap(), ROUND_TRIPS);
            })
        })
        .collect();
    for ping in pings {
        ping.await.unwrap();
    }
    let delivered = delivered.load(SeqCst);
    assert_eq!(delivered, PAIRS * ROUND_TRIPS * 2, "messages lost");
    delivered
}

#[test]
fn ten_thousand_tasks_ping_pong_across_two_workers_without_losing_a_message() {
    assert_eq!(run_multi_thread(2, ping_pong_pairs), 200_000);
}

#[test]
fn ten_thousand_tasks_ping_pong_across_four_workers_without_losing_a_message() {
    assert_eq!(run_multi_thread(4, ping_pong_pairs), 200_000);
}

#[test]
fn ten_thousand_tasks_spawned_from_another_thread_and_ten_thousand_from_a_task_all_complete() {
    const TASKS: u64 = 10_000;
    let (from_outside, from_inside) = with_timeout(|| {
        let runtime = named_runtime(2, "spawn-worker");
        let handle = runtime.handle().clone();
        // The workers run these while the foreign thread is still spawning.
        let spawner = thread::spawn(move || {
            (0..TASKS)
                .map(|i| {
                    handle.spawn(async move {
                        yield_now().await;
                        i
                    })
                })
                .collect::<Vec<_>>()
        });
        let from_outside = spawner.join().expect("the spawning thread");
        runtime.block_on(async move {
            let mut outside = 0;
            for task in from_outside {
                outside += task.await.unwrap();
            }
            // Spawned in one poll: far more than the 256-slot local queue holds.
            let inside = mini::spawn(async {
                let tasks: Vec<_> = (0..TASKS)
                    .map(|i| {
                        mini::spawn(async move {
                            yield_now().await;
                            2 * i
                        })
                    })
                    .collect();
                let mut sum = 0;
                for task in tasks {
                    sum += task.await.unwrap();
                }
                sum
            })
            .await
            .unwrap();
            (outside, inside)
        })
    });
    let sum = TASKS * (TASKS - 1) / 2;
    assert_eq!(from_outside, sum);
    assert_eq!(from_inside, 2 * sum);
}

#[test]
fn thread_hooks_run_once_per_worker_and_thread_name_fn_names_each_worker() {
    with_timeout(|| {
        let named = Arc::new(AtomicUsize::new(0));
        let started = Arc::new(AtomicUsize::new(0));
        let stopped = Arc::new(AtomicUsize::new(0));
        let start_names = Arc::new(Mutex::new(Vec::new()));
        let runtime = Builder::new_multi_thread()
            .worker_threads(3)
            .thread_name_fn({
                let named = named.clone();
                move || format!("hooked-{}", named.fetch_add(1, SeqCst))
            })
            .on_thread_start({
                let (started, start_names) = (started.clone(), start_names.clone());
                move || {
                    started.fetch_add(1, SeqCst);
                    start_names.lock().unwrap().push(this_thread());
                }
            })
            .on_thread_stop(counting_callback(&stopped))
            .build()
            .unwrap();
        assert_eq!(named.load(SeqCst), 3, "thread_name_fn is called once per worker");

        // Three tasks meet at a barrier, so all three workers run (and so have started).
        let ran_on = runtime.block_on(async {
            let barrier = Arc::new(Barrier::new(3));
            let tasks: Vec<_> = (0..3).map(|_| spawn_barrier_waiter(&barrier)).collect();
            let mut ran_on = HashSet::new();
            for task in tasks {
                ran_on.insert(task.await.unwrap());
            }
            ran_on
        });
        assert_eq!(started.load(SeqCst), 3);
        assert_eq!(stopped.load(SeqCst), 0, "no worker stops while the runtime lives");
        let started_on: HashSet<_> = start_names.lock().unwrap().iter().cloned().collect();
        assert_eq!(started_on, ran_on, "on_thread_start runs on the worker threads");
        let names: HashSet<_> = ran_on.iter().map(|(name, _)| name.clone().unwrap()).collect();
        let expected: HashSet<_> = (0..3).map(|i| format!("hooked-{i}")).collect();
        assert_eq!(names, expected);

        drop(runtime); // joins the workers
        assert_eq!(started.load(SeqCst), 3);
        assert_eq!(
            stopped.load(SeqCst),
            3,
            "on_thread_stop ran on every worker before drop returned"
        );
        assert_eq!(named.load(SeqCst), 3);
    });
}

#[test]
fn spawn_local_on_a_multi_threaded_runtime_panics_saying_multi_threaded() {
    let (in_block_on, in_task) = run_multi_thread(2, || async {
        let in_block_on = catch_unwind(AssertUnwindSafe(|| drop(spawn_local(async {}))))
            .expect_err("spawn_local in block_on of a multi-threaded runtime must panic");
        let in_task = mini::spawn(async {
            drop(spawn_local(async {}));
        })
        .await
        .expect_err("spawn_local in a task of a multi-threaded runtime must panic");
        (panic_message(&*in_block_on), join_error_message(in_task))
    });
    for message in [in_block_on, in_task] {
        assert!(message.contains("multi-threaded"), "unexpected message: {message}");
    }
}

#[test]
fn pausing_time_on_a_multi_threaded_runtime_panics_saying_current_thread() {
    let (in_block_on, in_task) = run_multi_thread(2, || async {
        let in_block_on = catch_unwind(mini::time::pause).expect_err("pause on a multi-threaded runtime must panic");
        let in_task = mini::spawn(async { mini::time::pause() })
            .await
            .expect_err("pause in a task of a multi-threaded runtime must panic");
        (panic_message(&*in_block_on), join_error_message(in_task))
    });
    for message in [in_block_on, in_task] {
        assert!(message.contains("current-thread"), "unexpected message: {message}");
    }
}

#[test]
fn a_multi_threaded_runtime_cannot_start_paused() {
    let error = Builder::new_multi_thread()
        .worker_threads(1)
        .start_paused(true)
        .build()
        .expect_err("start_paused on a multi-threaded runtime must fail to build");
    assert_eq!(error.kind(), ErrorKind::InvalidInput);
    assert!(
        error.to_string().contains("current-thread"),
        "unexpected message: {error}"
    );
    // Without it, the same builder settings work.
    let runtime = Builder::new_multi_thread()
        .worker_threads(1)
        .start_paused(false)
        .build()
        .unwrap();
    drop(runtime);
}

#[test]
fn block_on_inside_a_task_of_a_multi_threaded_runtime_panics_and_the_workers_go_on() {
    let messages = with_timeout(|| {
        let runtime = Arc::new(named_runtime(2, "nested-worker"));
        let other = Arc::new(current_thread_runtime().unwrap());
        let messages = runtime.block_on({
            let runtime = runtime.clone();
            async move {
                // The task's own runtime, and another one.
                let on_own = mini::spawn(async move { runtime.block_on(async { 1 }) })
                    .await
                    .expect_err("block_on of its own runtime inside a task must panic");
                let on_other = mini::spawn(async move { other.block_on(async { 2 }) })
                    .await
                    .expect_err("block_on of another runtime inside a task must panic");
                // The workers whose tasks panicked still run tasks.
                let tasks: Vec<_> = (0..4).map(|i| mini::spawn(async move { i })).collect();
                let mut sum = 0;
                for task in tasks {
                    sum += task.await.unwrap();
                }
                assert_eq!(sum, 6);
                [join_error_message(on_own), join_error_message(on_other)]
            }
        });
        drop(runtime);
        messages
    });
    for message in messages {
        assert!(
            message.contains("cannot call `block_on` from inside a mini runtime"),
            "unexpected message: {message}"
        );
    }
}

#[test]
fn a_handle_taken_inside_a_task_spawns_onto_the_same_workers() {
    let names = with_timeout(|| {
        let runtime = named_runtime(2, "handle-worker");
        runtime.block_on(async {
            let handle = mini::spawn(async { Handle::current() }).await.unwrap();
            // From a foreign thread, through the handle the task returned.
            let task = thread::spawn(move || handle.spawn(async { this_thread().0 }))
                .join()
                .unwrap();
            [
                task.await.unwrap(),
                mini::spawn(async { this_thread().0 }).await.unwrap(),
            ]
        })
    });
    assert_eq!(
        names,
        [Some("handle-worker".to_owned()), Some("handle-worker".to_owned())]
    );
}

#[mini::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_multi_thread_test_flavor_runs_tasks_on_default_named_workers() {
    let _watchdog = watchdog("the_multi_thread_test_flavor_runs_tasks_on_default_named_workers");
    let (body_name, body_id) = this_thread();
    assert_ne!(
        body_name.as_deref(),
        Some("mini-worker"),
        "the test body runs in block_on"
    );
    let barrier = Arc::new(Barrier::new(2));
    let (a, b) = (spawn_barrier_waiter(&barrier), spawn_barrier_waiter(&barrier));
    let ((name_a, id_a), (name_b, id_b)) = (a.await.unwrap(), b.await.unwrap());
    assert_eq!(name_a.as_deref(), Some("mini-worker"));
    assert_eq!(name_b.as_deref(), Some("mini-worker"));
    assert_ne!(id_a, id_b, "two workers");
    assert_ne!(id_a, body_id);
    assert_ne!(id_b, body_id);
}

/// A waker from outside mini that panics when a timer fires it (on the worker that processes the
/// timers) must not take the worker down: with one worker, the tasks spawned afterwards only
/// run if it survived.
#[test]
fn a_panicking_foreign_waker_fired_by_a_timer_does_not_kill_the_worker() {
    struct PanicOnWake;
    impl std::task::Wake for PanicOnWake {
        fn wake(self: Arc<Self>) {
            panic!("a foreign waker that panics (expected by this test)");
        }
    }
    let answer = run_multi_thread(1, || async {
        mini::spawn(async {
            let mut sleep = std::pin::pin!(mini::time::sleep(Duration::from_millis(1)));
            {
                let waker = std::task::Waker::from(Arc::new(PanicOnWake));
                let mut cx = std::task::Context::from_waker(&waker);
                assert!(std::future::Future::poll(sleep.as_mut(), &mut cx).is_pending());
            }
            // Wait past its deadline (on mini's own waker) while the foreign one stays armed.
            mini::time::sleep(Duration::from_millis(20)).await;
        })
        .await
        .expect("the task that armed the foreign waker");
        let mut sum = 0;
        for i in 0..10 {
            sum += mini::spawn(async move { i }).await.expect("a task after the panic");
        }
        sum
    });
    assert_eq!(answer, 45);
}

/// Whether thread `tid` sleeps in `epoll_wait` (any variant) or on a futex: how an idle worker
/// waits, in the reactor or on its condvar.
fn is_asleep(tid: libc::pid_t) -> bool {
    let Ok(syscall) = std::fs::read_to_string(format!("/proc/self/task/{tid}/syscall")) else {
        return false;
    };
    let number = syscall
        .split_whitespace()
        .next()
        .and_then(|nr| nr.parse::<libc::c_long>().ok());
    matches!(
        number,
        Some(libc::SYS_epoll_wait | libc::SYS_epoll_pwait | libc::SYS_epoll_pwait2 | libc::SYS_futex)
    )
}

/// The reactor hand-off: both workers asleep (one in `epoll_wait`, one on its condvar), data
/// arrives for a task that then holds its worker; the other worker must take the reactor over,
/// or the timer and the echo below (which the test needs before it releases the task) never
/// complete.
#[test]
fn a_worker_leaving_the_reactor_with_a_long_task_hands_the_reactor_to_a_sleeper() {
    // The stall detector's thread wakes the sleeper once the reactor went unturned for a sample
    // period; without the detector the worker leaving the reactor wakes it at once.
    for stall_threshold in [Some(Duration::from_millis(100)), None].into_iter().cycle().take(6) {
        let tids = Arc::new(Mutex::new(Vec::new()));
        let runtime = Builder::new_multi_thread()
            .worker_threads(2)
            .stall_threshold(stall_threshold)
            .on_thread_start({
                let tids = tids.clone();
                move || tids.lock().unwrap().push(current_tid())
            })
            .build()
            .expect("build a multi-threaded runtime");
        with_timeout(move || {
            runtime.block_on(async move {
                let (mut client, server) = connected_pair().await;
                let (release, released) = std::sync::mpsc::channel::<()>();
                let blocker = mini::spawn(async move {
                    let mut server = server;
                    let mut byte = [0u8; 1];
                    server.read_exact(&mut byte).await.expect("read the byte");
                    // Woken by the reactor on the worker that turned it: now hold that worker.
                    released.recv().expect("the test releases the task");
                });
                // Both workers started (`on_thread_start` ran) and asleep; bounded to ~10 s.
                for _ in 0..10_000 {
                    let workers = tids.lock().unwrap().clone();
                    if workers.len() == 2 && workers.iter().all(|&tid| is_asleep(tid)) {
                        break;
                    }
                    thread::sleep(Duration::from_millis(1));
                }
                client.write_all(b"x").await.expect("write the byte");
                mini::time::sleep(Duration::from_millis(10)).await;
                let (mut a, b) = connected_pair().await;
                let echoed = mini::spawn(echo(b));
                a.write_all(b"still served").await.expect("write");
                let mut back = [0u8; 12];
                a.read_exact(&mut back).await.expect("read the echo");
                assert_eq!(&back, b"still served");
                drop(a);
                echoed.await.expect("the echo task").expect("echo");
                release.send(()).expect("the blocked task waits");
                blocker.await.expect("the blocked task");
            })
        });
    }
}

//! Task identity (`task::Id`, spawn sites, names) and `RuntimeMetrics`: each metric moves for a
//! known reason, on real tasks, sockets, timers and threads.

mod common;

use common::with_timeout;
use mini::runtime::Builder;
use mini::task;
use std::collections::HashSet;
use std::time::Duration;

fn current_thread() -> mini::Runtime {
    Builder::new_current_thread().build().unwrap()
}

fn multi_thread(workers: usize) -> mini::Runtime {
    Builder::new_multi_thread().worker_threads(workers).build().unwrap()
}

fn thread_per_core(workers: usize) -> mini::Runtime {
    Builder::new_thread_per_core().worker_threads(workers).build().unwrap()
}

#[test]
fn each_task_has_a_unique_id_that_it_sees_as_task_id() {
    with_timeout(|| {
        let rt = multi_thread(2);
        rt.block_on(async {
            assert_eq!(task::try_id(), None, "a block_on future is not a task");
            let handles: Vec<_> = (0..100).map(|_| mini::spawn(async { task::id() })).collect();
            let mut seen = HashSet::new();
            for handle in handles {
                let id = handle.id();
                assert_eq!(handle.await.unwrap(), id);
                assert!(seen.insert(id), "id {id} given twice");
            }
            let blocking = task::spawn_blocking(task::try_id);
            let id = blocking.id();
            assert_eq!(blocking.await.unwrap(), Some(id));
        });
    });
}

#[test]
#[should_panic(expected = "must be called from inside a task")]
fn task_id_outside_a_task_panics_with_what_to_use() {
    current_thread().block_on(async { task::id() });
}

#[test]
fn a_builder_names_tasks_on_every_spawn_function() {
    with_timeout(|| {
        let rt = current_thread();
        rt.block_on(async {
            let spawned = task::Builder::new().name("conn").spawn(async { 1 }).unwrap();
            let local = task::Builder::new().name("local").spawn_local(async { 2 }).unwrap();
            let blocking = task::Builder::new().name("disk").spawn_blocking(|| 3).unwrap();
            let on = task::Builder::new()
                .name("on")
                .spawn_on(async { 4 }, &mini::runtime::Handle::current())
                .unwrap();
            let set = task::LocalSet::new();
            let in_set = task::Builder::new()
                .name("set")
                .spawn_local_on(async { 5 }, &set)
                .unwrap();
            let in_set = set.run_until(in_set).await;
            let outputs = (spawned.await, local.await, blocking.await, on.await, in_set);
            assert_eq!(outputs.0.unwrap() + outputs.1.unwrap() + outputs.2.unwrap(), 6);
            assert_eq!(outputs.3.unwrap() + outputs.4.unwrap(), 9);
        });
    });
}

#[test]
fn spawned_and_alive_tasks_count_every_spawn() {
    with_timeout(|| {
        for rt in [current_thread(), multi_thread(2), thread_per_core(2)] {
            let metrics = rt.metrics();
            assert_eq!(metrics.spawned_tasks_count(), 0);
            rt.block_on(async {
                let handles: Vec<_> = (0..100).map(|_| mini::spawn(std::future::pending::<()>())).collect();
                assert_eq!(metrics.spawned_tasks_count(), 100);
                assert_eq!(metrics.num_alive_tasks(), 100);
                for handle in &handles {
                    handle.abort();
                }
                for handle in handles {
                    assert!(handle.await.unwrap_err().is_cancelled());
                }
            });
            assert_eq!(metrics.spawned_tasks_count(), 100);
            // A task leaves the count just after its JoinHandle learns it is done (as in tokio):
            // on worker threads that may be a moment after `block_on` returned.
            let deadline = std::time::Instant::now() + Duration::from_secs(5);
            while metrics.num_alive_tasks() != 0 && std::time::Instant::now() < deadline {
                std::thread::yield_now();
            }
            assert_eq!(metrics.num_alive_tasks(), 0);
        }
    });
}

#[test]
fn polls_and_local_schedules_are_counted_per_worker() {
    with_timeout(|| {
        let rt = current_thread();
        let metrics = rt.metrics();
        assert_eq!(metrics.num_workers(), 1);
        rt.block_on(async {
            for _ in 0..100 {
                mini::spawn(async {}).await.unwrap();
            }
        });
        assert!(metrics.worker_poll_count(0) >= 100, "{}", metrics.worker_poll_count(0));
        // Published when the worker parks: dropping out of block_on counts as one.
        assert!(metrics.worker_local_schedule_count(0) >= 100);
        assert!(metrics.worker_park_count(0) >= 1);
    });
}

#[test]
fn spawns_from_outside_the_runtime_are_remote_and_wait_in_the_global_queue() {
    with_timeout(|| {
        let rt = current_thread();
        let metrics = rt.metrics();
        let handles: Vec<_> = (0..10).map(|_| rt.spawn(async {})).collect();
        assert_eq!(metrics.global_queue_depth(), 10, "nobody runs the runtime yet");
        assert_eq!(metrics.remote_schedule_count(), 10);
        rt.block_on(async {
            for handle in handles {
                handle.await.unwrap();
            }
        });
        assert_eq!(metrics.global_queue_depth(), 0);
    });
}

#[test]
fn a_task_that_spends_its_budget_is_forced_to_yield() {
    with_timeout(|| {
        for rt in [current_thread(), multi_thread(1), thread_per_core(1)] {
            let metrics = rt.metrics();
            rt.block_on(rt.spawn(async {
                for _ in 0..1_000 {
                    task::consume_budget().await;
                }
            }))
            .unwrap();
            // 1,000 units at 128 per poll: at least 7 refusals.
            assert!(
                metrics.budget_forced_yield_count() >= 7,
                "{}",
                metrics.budget_forced_yield_count()
            );
        }
    });
}

#[test]
fn a_parked_worker_woken_counts_a_park_and_an_unpark() {
    with_timeout(|| {
        let rt = multi_thread(1);
        let metrics = rt.metrics();
        rt.block_on(async {
            // Let the worker go idle, then wake it with a timer.
            mini::time::sleep(Duration::from_millis(20)).await;
            let before = metrics.worker_park_unpark_count(0);
            let parks = metrics.worker_park_count(0);
            mini::spawn(async { mini::time::sleep(Duration::from_millis(20)).await })
                .await
                .unwrap();
            assert!(metrics.worker_park_count(0) > parks);
            assert!(metrics.worker_park_unpark_count(0) >= before + 2);
        });
        assert!(metrics.worker_total_busy_duration(0) > Duration::ZERO);
        assert!(metrics.worker_mean_poll_time(0) > Duration::ZERO);
    });
}

#[test]
fn an_imbalanced_load_is_stolen_and_a_full_local_queue_overflows() {
    with_timeout(|| {
        let rt = multi_thread(2);
        let metrics = rt.metrics();
        for _ in 0..50 {
            rt.block_on(async {
                mini::spawn(async {
                    // 600 spawns from one worker without yielding: its 256-slot queue overflows,
                    // and the other worker, woken for the surplus, steals.
                    let handles: Vec<_> = (0..600)
                        .map(|_| mini::spawn(async { std::thread::sleep(Duration::from_micros(20)) }))
                        .collect();
                    for handle in handles {
                        handle.await.unwrap();
                    }
                })
                .await
                .unwrap();
            });
            let steals: u64 = (0..2).map(|worker| metrics.worker_steal_count(worker)).sum();
            let overflows: u64 = (0..2).map(|worker| metrics.worker_overflow_count(worker)).sum();
            if steals > 0 && overflows > 0 {
                let operations: u64 = (0..2).map(|worker| metrics.worker_steal_operations(worker)).sum();
                assert!(operations >= 1 && operations <= steals);
                return;
            }
        }
        panic!("no steal and overflow in 50 rounds of 600 tasks");
    });
}

#[test]
fn the_reactor_counts_registrations_and_ready_events() {
    with_timeout(|| {
        let rt = current_thread();
        let metrics = rt.metrics();
        rt.block_on(async {
            let registered = metrics.io_driver_fd_registered_count();
            let listener = mini::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let address = listener.local_addr().unwrap();
            let client = mini::net::TcpStream::connect(address).await.unwrap();
            let (server, _) = listener.accept().await.unwrap();
            assert_eq!(metrics.io_driver_fd_registered_count(), registered + 3);
            assert!(metrics.io_driver_ready_count() >= 1);
            let deregistered = metrics.io_driver_fd_deregistered_count();
            drop((client, server, listener));
            assert_eq!(metrics.io_driver_fd_deregistered_count(), deregistered + 3);
        });
    });
}

#[test]
fn armed_timers_and_the_blocking_pool_are_counted() {
    with_timeout(|| {
        let rt = Builder::new_current_thread().max_blocking_threads(1).build().unwrap();
        let metrics = rt.metrics();
        rt.block_on(async {
            let sleeper = mini::spawn(mini::time::sleep(Duration::from_secs(60)));
            mini::task::yield_now().await;
            assert_eq!(metrics.num_armed_timers(), 1);
            sleeper.abort();
            let _ = sleeper.await;
            assert_eq!(metrics.num_armed_timers(), 0);

            let (started, is_started) = std::sync::mpsc::channel();
            let (release, is_released) = std::sync::mpsc::channel::<()>();
            let first = task::spawn_blocking(move || {
                started.send(()).unwrap();
                is_released.recv().unwrap();
            });
            is_started.recv().unwrap();
            let second = task::spawn_blocking(|| {});
            assert_eq!(metrics.num_blocking_threads(), 1);
            assert_eq!(metrics.num_idle_blocking_threads(), 0);
            assert_eq!(
                metrics.blocking_queue_depth(),
                1,
                "one thread at most: the second job waits"
            );
            release.send(()).unwrap();
            first.await.unwrap();
            second.await.unwrap();
            assert_eq!(metrics.blocking_queue_depth(), 0);
        });
    });
}

#[test]
fn the_poll_time_histogram_counts_every_poll_when_on() {
    with_timeout(|| {
        let rt = current_thread();
        assert!(!rt.metrics().poll_time_histogram_enabled());
        let rt = Builder::new_current_thread()
            .poll_time_histogram_buckets(4, Duration::from_millis(1))
            .build()
            .unwrap();
        let metrics = rt.metrics();
        assert_eq!(metrics.poll_time_histogram_num_buckets(), 4);
        assert_eq!(
            metrics.poll_time_histogram_bucket_range(1),
            Duration::from_millis(1)..Duration::from_millis(2)
        );
        assert_eq!(metrics.poll_time_histogram_bucket_range(3).end, Duration::MAX);
        rt.block_on(async {
            mini::spawn(async { std::thread::sleep(Duration::from_millis(5)) })
                .await
                .unwrap();
            for _ in 0..10 {
                mini::spawn(async {}).await.unwrap();
            }
        });
        let counts: Vec<u64> = (0..4)
            .map(|bucket| metrics.poll_time_histogram_bucket_count(0, bucket))
            .collect();
        assert_eq!(counts.iter().sum::<u64>(), metrics.worker_poll_count(0), "{counts:?}");
        assert!(counts[3] >= 1, "the 5 ms poll lands in [4 ms, ∞): {counts:?}");
        assert!(counts[0] >= 10, "{counts:?}");
    });
}

#[test]
fn a_thread_per_core_runtime_counts_each_worker_and_sums_their_reactors_and_timers() {
    with_timeout(|| {
        let rt = thread_per_core(2);
        let metrics = rt.metrics();
        assert_eq!(metrics.num_workers(), 2);
        let registered = metrics.io_driver_fd_registered_count();
        // A listener and a sleeper on each worker, each worker with its own reactor and wheel.
        let listeners = rt.run_on_each(|_| async {
            let listener = mini::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            mini::spawn(mini::time::sleep(Duration::from_secs(60)));
            mini::task::yield_now().await;
            listener.into_std().unwrap()
        });
        assert_eq!(metrics.io_driver_fd_registered_count(), registered + 2);
        assert_eq!(
            metrics.io_driver_fd_deregistered_count(),
            2,
            "into_std deregistered both"
        );
        assert_eq!(metrics.num_armed_timers(), 2);
        for worker in 0..2 {
            assert!(metrics.worker_poll_count(worker) >= 2, "worker {worker}");
        }
        // Spawned from outside: queued on the workers in turn, through their inject queues.
        assert!(metrics.remote_schedule_count() >= 2);
        drop(listeners);
    });
}

//! `spawn_blocking`: the runtime's pool of threads for blocking work.

mod common;

use common::*;
use mini::runtime::Builder;
use mini::task::spawn_blocking;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{mpsc, Arc};
use std::time::Duration;

#[mini::test]
async fn a_blocking_job_runs_on_a_pool_thread_and_returns_its_value() {
    let (value, thread) = spawn_blocking(|| (6 * 7, std::thread::current().name().map(String::from)))
        .await
        .unwrap();
    assert_eq!(value, 42);
    assert_eq!(thread.as_deref(), Some("mini-blocking"));
}

#[test]
fn the_pool_runs_many_jobs_but_never_more_threads_than_its_bound() {
    with_timeout(|| {
        let runtime = Builder::new_current_thread().max_blocking_threads(3).build().unwrap();
        let running = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let total: u64 = runtime.block_on(async {
            let jobs: Vec<_> = (0..60u64)
                .map(|i| {
                    let (running, most) = (running.clone(), most.clone());
                    spawn_blocking(move || {
                        let now = running.fetch_add(1, SeqCst) + 1;
                        most.fetch_max(now, SeqCst);
                        std::thread::sleep(Duration::from_millis(2));
                        running.fetch_sub(1, SeqCst);
                        i
                    })
                })
                .collect();
            let mut total = 0;
            for job in jobs {
                total += job.await.unwrap();
            }
            total
        });
        assert_eq!(total, (0..60).sum());
        let most = most.load(SeqCst);
        assert!((1..=3).contains(&most), "{most} jobs ran at once with a bound of 3");
    })
}

#[mini::test]
async fn a_panicking_job_gives_a_join_error_and_the_runtime_goes_on() {
    let error = spawn_blocking(|| panic!("boom in the pool")).await.unwrap_err();
    assert!(error.is_panic());
    assert_eq!(spawn_blocking(|| 1).await.unwrap(), 1);
}

#[mini::test]
async fn a_job_sees_its_runtime_and_can_spawn_on_it() {
    let task = spawn_blocking(|| mini::spawn(async { "spawned from the pool" }))
        .await
        .unwrap();
    assert_eq!(task.await.unwrap(), "spawned from the pool");
}

#[test]
#[allow(clippy::async_yields_async)] // block_on hands the job's handle out on purpose
fn shutdown_timeout_returns_despite_a_stuck_job() {
    with_timeout(|| {
        let runtime = current_thread_runtime().unwrap();
        let (release, stuck) = mpsc::channel::<()>();
        let (started_tx, started) = mpsc::channel::<()>();
        let _job = runtime.block_on(async move {
            spawn_blocking(move || {
                started_tx.send(()).unwrap();
                let _ = stuck.recv();
            })
        });
        started.recv().unwrap();
        let begun = std::time::Instant::now();
        runtime.shutdown_timeout(Duration::from_millis(100));
        let waited = begun.elapsed();
        assert!(waited >= Duration::from_millis(100), "gave up after {waited:?}");
        assert!(waited < Duration::from_secs(10), "shutdown_timeout hung for {waited:?}");
        release.send(()).unwrap();
    })
}

#[mini::test(start_paused = true)]
async fn paused_time_waits_for_a_running_job_instead_of_jumping() {
    let job = spawn_blocking(|| std::thread::sleep(Duration::from_millis(30)));
    let result = mini::time::timeout(Duration::from_secs(1), job).await;
    assert!(
        result.is_ok(),
        "the paused clock jumped 1 s while a blocking job was running"
    );
}

#[mini::test]
async fn host_names_are_resolved_on_the_pool() {
    let listener = mini::net::TcpListener::bind("localhost:0").await.unwrap();
    assert!(listener.local_addr().unwrap().ip().is_loopback());
}

/// As in tokio, the runtime's thread name and start/stop callbacks apply to its blocking-pool
/// threads too, on every flavor; a blocking thread's stop callback has run when the runtime's
/// drop returns.
#[test]
fn blocking_threads_take_the_runtime_thread_name_and_callbacks_on_every_flavor() {
    with_timeout(|| {
        type MakeBuilder = fn() -> Builder;
        let builders: [(&str, MakeBuilder); 3] = [
            ("current-thread", Builder::new_current_thread),
            ("multi-thread", || {
                let mut builder = Builder::new_multi_thread();
                builder.worker_threads(1);
                builder
            }),
            ("thread-per-core", || {
                let mut builder = Builder::new_thread_per_core();
                builder.worker_threads(1);
                builder
            }),
        ];
        for (flavor, builder) in builders {
            let started = Arc::new(AtomicUsize::new(0));
            let stopped = Arc::new(AtomicUsize::new(0));
            let (started_on, ran_on) = (Arc::new(std::sync::Mutex::new(Vec::new())), started.clone());
            let runtime = builder()
                .thread_name("hooked")
                .on_thread_start({
                    let (started, started_on) = (ran_on, started_on.clone());
                    move || {
                        started.fetch_add(1, SeqCst);
                        started_on.lock().unwrap().push(std::thread::current().id());
                    }
                })
                .on_thread_stop(counting_callback(&stopped))
                .build()
                .unwrap();
            let (name, job_thread) = runtime.block_on(async {
                spawn_blocking(|| {
                    (
                        std::thread::current().name().map(String::from),
                        std::thread::current().id(),
                    )
                })
                .await
                .unwrap()
            });
            assert_eq!(name.as_deref(), Some("hooked"), "{flavor}: the blocking thread's name");
            assert!(
                started_on.lock().unwrap().contains(&job_thread),
                "{flavor}: on_thread_start ran on the blocking thread"
            );
            drop(runtime);
            assert_eq!(
                stopped.load(SeqCst),
                started.load(SeqCst),
                "{flavor}: every thread's on_thread_stop ran before drop returned"
            );
        }
    });
}

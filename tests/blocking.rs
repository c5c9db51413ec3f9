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

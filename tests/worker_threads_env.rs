//! `MINI_WORKER_THREADS`: the default number of worker threads of a multi-threaded or
//! thread-per-core runtime.
//!
//! One test in its own binary, since it sets a process-wide environment variable (other tests
//! building runtimes at the same time would see it).

mod common;

use common::*;
use mini::runtime::{Builder, WORKER_THREADS_ENV};
use mini::Runtime;
use std::io::ErrorKind;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;

/// How many threads this process has (a spawned thread is listed as soon as `spawn` returns).
fn thread_count() -> usize {
    std::fs::read_dir("/proc/self/task")
        .expect("read /proc/self/task")
        .count()
}

/// Builds `builder` with an `on_thread_start` counter, drops the runtime (which joins the
/// workers) and returns how many workers started.
fn workers_started(mut builder: Builder) -> usize {
    let started = Arc::new(AtomicUsize::new(0));
    let runtime = builder
        .on_thread_start({
            let started = started.clone();
            move || {
                started.fetch_add(1, SeqCst);
            }
        })
        .build()
        .expect("build a multi-threaded runtime");
    assert_eq!(runtime.block_on(async { mini::spawn(async { 7 }).await.unwrap() }), 7);
    drop(runtime);
    started.load(SeqCst)
}

#[test]
fn mini_worker_threads_sets_the_default_worker_count_unless_worker_threads_is_called() {
    with_timeout(|| {
        assert_eq!(WORKER_THREADS_ENV, "MINI_WORKER_THREADS");

        std::env::set_var(WORKER_THREADS_ENV, "3");
        assert_eq!(workers_started(Builder::new_multi_thread()), 3);
        assert_eq!(workers_started(Builder::new_thread_per_core()), 3);
        let before = thread_count();
        let runtime = Runtime::new().expect("Runtime::new with MINI_WORKER_THREADS=3");
        assert_eq!(
            thread_count() - before,
            3 + 1,
            "Runtime::new started 3 workers (and the stall detector's watchdog)"
        );
        drop(runtime);
        let mut explicit = Builder::new_multi_thread();
        explicit.worker_threads(2);
        assert_eq!(workers_started(explicit), 2, "worker_threads wins over the variable");

        for invalid in ["zero", "0", "-1", ""] {
            std::env::set_var(WORKER_THREADS_ENV, invalid);
            let error = Builder::new_multi_thread()
                .build()
                .expect_err("an invalid MINI_WORKER_THREADS must fail the build");
            assert_eq!(error.kind(), ErrorKind::InvalidInput, "MINI_WORKER_THREADS={invalid:?}");
            assert!(
                error.to_string().contains(WORKER_THREADS_ENV),
                "unexpected message: {error}"
            );
            let error = Builder::new_thread_per_core()
                .build()
                .expect_err("the thread-per-core flavor reads it too");
            assert_eq!(error.kind(), ErrorKind::InvalidInput, "MINI_WORKER_THREADS={invalid:?}");
            let error = Runtime::new().expect_err("Runtime::new too");
            assert_eq!(error.kind(), ErrorKind::InvalidInput);
            let mut explicit = Builder::new_multi_thread();
            explicit.worker_threads(2);
            assert_eq!(
                workers_started(explicit),
                2,
                "worker_threads does not read MINI_WORKER_THREADS={invalid:?}"
            );
        }
        // The current-thread flavor does not read it at all.
        let runtime = Builder::new_current_thread()
            .build()
            .expect("a current-thread runtime ignores MINI_WORKER_THREADS");
        drop(runtime);

        std::env::remove_var(WORKER_THREADS_ENV);
        let expected = std::thread::available_parallelism().map_or(1, usize::from);
        assert_eq!(
            workers_started(Builder::new_multi_thread()),
            expected,
            "unset: one per CPU"
        );
        assert_eq!(
            workers_started(Builder::new_thread_per_core()),
            expected,
            "unset: one per CPU"
        );
    });
}

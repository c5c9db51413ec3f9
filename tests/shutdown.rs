//! Dropping a runtime with 10,000 live connection tasks, each also waiting on a timer, on every
//! flavor: every future is dropped, every fd closed, every thread it started (workers and
//! blocking-pool threads) ended, and `drop` returns within a second.
//!
//! One test in its own binary: it compares /proc/self/fd and /proc/self/task before and after,
//! which other tests running in parallel threads would disturb.

mod common;

use common::*;
use futures::channel::mpsc;
use futures::StreamExt;
use mini::net::TcpStream;
use mini::runtime::Builder;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

/// The name of the runtime's threads, workers and blocking threads alike (as in tokio).
const THREAD_NAME: &str = "shutdown-thread";
/// Connections; each end is held by a task of its own.
const CONNECTIONS: usize = 5_000;
const TASKS: usize = 2 * CONNECTIONS;
/// What `drop` may take: nothing in it waits for a timer or a peer.
const DROP_BOUND: Duration = Duration::from_secs(1);

/// How many threads of this process are named `name` (Linux truncates names to 15 bytes).
fn threads_named(name: &str) -> usize {
    std::fs::read_dir("/proc/self/task")
        .expect("read /proc/self/task")
        .filter_map(|entry| std::fs::read_to_string(entry.ok()?.path().join("comm")).ok())
        .filter(|comm| comm.trim_end() == name)
        .count()
}

/// Waits (bounded to 1 s) until no thread is named `name`: a joined thread has exited, but the
/// kernel may list it for a few more microseconds, until it is reaped.
fn assert_threads_gone(name: &str) {
    for _ in 0..1_000 {
        if threads_named(name) == 0 {
            return;
        }
        thread::sleep(Duration::from_millis(1));
    }
    panic!("{} threads named {name} still listed after drop", threads_named(name));
}

/// Fills `runtime` with [`TASKS`] tasks, each holding one end of a connection nobody writes to
/// and a guard, waiting for a read and for a timer an hour away; returns once all have started.
fn fill(runtime: &mini::Runtime, drops: &Drops) {
    let drops = drops.clone();
    runtime.block_on(async move {
        // A finished blocking job leaves an idle pool thread behind, for drop to end.
        mini::task::spawn_blocking(|| ()).await.unwrap();
        let (listener, addr) = bind_loopback().await;
        let (started, mut started_rx) = mpsc::unbounded::<()>();
        for _ in 0..CONNECTIONS {
            let (client, accepted) = futures::join!(TcpStream::connect(addr), listener.accept());
            for mut stream in [client.unwrap(), accepted.unwrap().0] {
                let (guard, started) = (drops.guard(), started.clone());
                drop(mini::spawn(async move {
                    let _guard = guard;
                    started.unbounded_send(()).unwrap();
                    let mut buf = [0u8; 16];
                    let read = mini::time::timeout(Duration::from_secs(3600), stream.read(&mut buf)).await;
                    unreachable!("a read nobody wrote to, or an hour's timer, completed: {read:?}");
                }));
            }
        }
        for _ in 0..TASKS {
            started_rx.next().await.expect("a task's start");
        }
    });
}

fn drop_full_runtime(flavor: &str, builder: &mut Builder, workers: usize) {
    let fds_before = open_fds();
    let drops = Drops::default();
    let threads_started = Arc::new(AtomicUsize::new(0));
    let stopped = Arc::new(AtomicUsize::new(0));
    let runtime = builder
        .thread_name(THREAD_NAME)
        .on_thread_start(counting_callback(&threads_started))
        .on_thread_stop(counting_callback(&stopped))
        .build()
        .unwrap();
    fill(&runtime, &drops);
    assert_eq!(drops.count(), 0, "{flavor}: the pending tasks still live");
    assert!(
        open_fds().len() >= fds_before.len() + TASKS,
        "{flavor}: the sockets are open"
    );
    // The workers, and at least one blocking-pool thread, idle.
    assert!(
        threads_named(THREAD_NAME) > workers,
        "{flavor}: {} threads for {workers} workers and the blocking pool",
        threads_named(THREAD_NAME)
    );

    let started = Instant::now();
    drop(runtime);
    let took = started.elapsed();
    println!("{flavor}: dropping the runtime with {TASKS} connection tasks and timers took {took:?}");
    assert_eq!(drops.count(), TASKS, "{flavor}: every pending future was dropped");
    assert_eq!(
        stopped.load(SeqCst),
        threads_started.load(SeqCst),
        "{flavor}: every thread (workers, blocking pool) stopped before drop returned"
    );
    assert_eq!(
        open_fds(),
        fds_before,
        "{flavor}: every socket and the runtime's own fds are closed"
    );
    assert_threads_gone(THREAD_NAME);
    assert!(took < DROP_BOUND, "{flavor}: drop took {took:?}");
}

#[test]
fn dropping_a_runtime_with_ten_thousand_connection_tasks_and_timers_closes_and_ends_everything() {
    ensure_fd_limit(TASKS as u64 + 512);
    with_timeout(|| {
        assert_eq!(threads_named(THREAD_NAME), 0);
        drop_full_runtime("current-thread", &mut Builder::new_current_thread(), 0);
        drop_full_runtime("multi-thread", Builder::new_multi_thread().worker_threads(2), 2);
        drop_full_runtime("thread-per-core", Builder::new_thread_per_core().worker_threads(2), 2);
    });
}

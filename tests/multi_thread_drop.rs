//! Dropping a multi-threaded runtime: every future it owns is dropped (pending I/O included),
//! every fd it opened is closed, and its worker threads are gone when `drop` returns.
//!
//! One test in its own binary: it compares /proc/self/fd before and after, which other tests
//! running in parallel threads would disturb.

mod common;

use common::*;
use futures::channel::mpsc;
use futures::StreamExt;
use mini::net::TcpStream;
use mini::runtime::Builder;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

const WORKER_NAME: &str = "mt-drop-worker";
const TASKS: usize = 1_000;

/// How many threads of this process are named `name` (Linux truncates names to 15 bytes).
fn threads_named(name: &str) -> usize {
    std::fs::read_dir("/proc/self/task")
        .expect("read /proc/self/task")
        .filter_map(|entry| std::fs::read_to_string(entry.ok()?.path().join("comm")).ok())
        .filter(|comm| comm.trim_end() == name)
        .count()
}

#[test]
fn dropping_a_multi_threaded_runtime_with_pending_io_tasks_drops_them_closes_fds_and_ends_workers() {
    ensure_fd_limit(2 * TASKS as u64 + 256);
    with_timeout(|| {
        let fds_before = open_fds();
        assert_eq!(threads_named(WORKER_NAME), 0);
        let drops = Drops::default();
        let stopped = Arc::new(AtomicUsize::new(0));
        let runtime = Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name(WORKER_NAME)
            .on_thread_stop({
                let stopped = stopped.clone();
                move || {
                    stopped.fetch_add(1, SeqCst);
                }
            })
            .build()
            .unwrap();

        let tasks_started = runtime.block_on({
            let drops = drops.clone();
            async move {
                let (listener, addr) = bind_loopback().await;
                let (started, mut started_rx) = mpsc::unbounded::<()>();
                for _ in 0..TASKS {
                    let (client, accepted) = futures::join!(TcpStream::connect(addr), listener.accept());
                    let mut client = client.unwrap();
                    let (server, _) = accepted.unwrap();
                    let guard = drops.guard();
                    let started = started.clone();
                    drop(mini::spawn(async move {
                        let _guard = guard;
                        let _server = server; // nobody writes: the read below never completes
                        started.unbounded_send(()).unwrap();
                        let mut buf = [0u8; 16];
                        let n = client.read(&mut buf).await;
                        unreachable!("a read nobody wrote to completed: {n:?}");
                    }));
                }
                let mut tasks_started = 0;
                while tasks_started < TASKS {
                    started_rx.next().await.expect("a task's start");
                    tasks_started += 1;
                }
                tasks_started
            }
        });
        assert_eq!(tasks_started, TASKS);
        assert_eq!(drops.count(), 0, "the pending tasks still live");
        assert!(open_fds().len() >= fds_before.len() + 2 * TASKS, "the sockets are open");
        assert_eq!(threads_named(WORKER_NAME), 2);

        drop(runtime);
        assert_eq!(drops.count(), TASKS, "every pending future was dropped");
        assert_eq!(stopped.load(SeqCst), 2, "both workers stopped before drop returned");
        assert_eq!(
            open_fds(),
            fds_before,
            "every socket and the runtime's own fds are closed"
        );
        // A joined thread has exited, but the kernel may list it for a few more microseconds,
        // until it is reaped: allow that, bounded.
        let mut workers_left = threads_named(WORKER_NAME);
        for _ in 0..1_000 {
            if workers_left == 0 {
                break;
            }
            thread::sleep(Duration::from_millis(1));
            workers_left = threads_named(WORKER_NAME);
        }
        assert_eq!(workers_left, 0, "worker threads still listed after drop");
    });
}

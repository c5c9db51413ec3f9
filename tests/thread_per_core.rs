//! The thread-per-core flavor (`Builder::new_thread_per_core`): each worker is a scheduler of
//! its own, a task stays on the worker that spawned it, `run_on_each` runs a `!Send` future per
//! worker, wakes cross workers and threads, `bind_per_worker` spreads connections over the
//! workers' own `SO_REUSEPORT` sockets, and shutdown drops every task on its own worker.

mod common;

use common::{open_fds, panic_message, with_timeout, Drops};
use mini::net::{TcpListener, TcpStream};
use mini::runtime::{worker_index, Builder, Handle};
use mini::Runtime;
use std::collections::HashSet;
use std::io::{Read, Write};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{mpsc, Arc};
use std::time::Duration;

fn runtime(workers: usize) -> Runtime {
    Builder::new_thread_per_core()
        .worker_threads(workers)
        .thread_name("tpc-worker")
        .build()
        .unwrap()
}

#[test]
fn run_on_each_runs_a_not_send_future_on_every_worker_in_order() {
    with_timeout(|| {
        let rt = runtime(3);
        let ran = rt.run_on_each(|worker| async move {
            // `Rc` is `!Send`: the future and its local task stay on this worker's thread.
            let counter = Rc::new(worker * 10);
            let local = mini::task::spawn_local({
                let counter = counter.clone();
                async move { *counter + 1 }
            });
            let thread = std::thread::current().name().map(str::to_owned);
            (worker, worker_index(), local.await.unwrap(), *counter, thread)
        });
        let name = Some("tpc-worker".to_owned());
        assert_eq!(
            ran,
            [
                (0, Some(0), 1, 0, name.clone()),
                (1, Some(1), 11, 10, name.clone()),
                (2, Some(2), 21, 20, name)
            ]
        );
        assert_eq!(rt.metrics().num_workers(), 3);
    });
}

#[test]
fn a_task_spawned_on_a_worker_stays_on_it_and_outside_spawns_go_round_robin() {
    with_timeout(|| {
        let rt = runtime(2);
        let stays = rt.run_on_each(|worker| async move {
            let tasks: Vec<_> = (0..20)
                .map(|_| {
                    mini::spawn(async {
                        mini::task::yield_now().await;
                        (worker_index(), std::thread::current().id())
                    })
                })
                .collect();
            let mut places = HashSet::new();
            for task in tasks {
                places.insert(task.await.unwrap());
            }
            (worker, places)
        });
        for (worker, places) in stays {
            assert_eq!(
                places.len(),
                1,
                "worker {worker}'s tasks ran in several places: {places:?}"
            );
            assert_eq!(places.iter().next().unwrap().0, Some(worker));
        }
        // From the `block_on` thread (no worker), spawns are spread over the workers.
        let workers = rt.block_on(async {
            assert_eq!(worker_index(), None);
            let tasks: Vec<_> = (0..8).map(|_| mini::spawn(async { worker_index().unwrap() })).collect();
            let mut workers = Vec::new();
            for task in tasks {
                workers.push(task.await.unwrap());
            }
            workers
        });
        assert_eq!(workers, [0, 1, 0, 1, 0, 1, 0, 1]);
    });
}

#[test]
fn spawn_on_picks_the_worker_and_a_missing_one_panics() {
    with_timeout(|| {
        let rt = runtime(2);
        for worker in 0..2 {
            let task = rt.handle().spawn_on(worker, async { worker_index() });
            assert_eq!(rt.block_on(task).unwrap(), Some(worker));
        }
        let error = catch_unwind(AssertUnwindSafe(|| rt.handle().spawn_on(2, async {}))).unwrap_err();
        let message = panic_message(&*error);
        assert!(message.contains("no worker 2: this runtime has 2"), "{message}");
    });
}

#[test]
fn a_wake_from_another_worker_and_from_a_foreign_thread_reaches_the_task() {
    with_timeout(|| {
        let rt = runtime(2);
        // Worker 0 accepts and reads; worker 1 connects and writes: each readiness is seen by
        // the reactor of the worker that registered the socket, and the task it wakes may be
        // on the other worker.
        let listener = rt.block_on(async { TcpListener::bind("127.0.0.1:0").await.unwrap() });
        let addr = listener.local_addr().unwrap();
        let server = rt.handle().spawn_on(0, async move {
            let (mut stream, _) = listener.accept().await.unwrap();
            let mut line = [0; 5];
            futures::AsyncReadExt::read_exact(&mut stream, &mut line).await.unwrap();
            (worker_index(), line)
        });
        let client = rt.handle().spawn_on(1, async move {
            let mut stream = TcpStream::connect(addr).await.unwrap();
            futures::AsyncWriteExt::write_all(&mut stream, b"hello").await.unwrap();
            worker_index()
        });
        assert_eq!(rt.block_on(client).unwrap(), Some(1));
        assert_eq!(rt.block_on(server).unwrap(), (Some(0), *b"hello"));

        // A foreign thread wakes a task parked on worker 1.
        let (sender, receiver) = futures::channel::oneshot::channel::<u32>();
        let waiting = rt.handle().spawn_on(1, async move { receiver.await.unwrap() });
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(20));
            sender.send(7).unwrap();
        });
        assert_eq!(rt.block_on(waiting).unwrap(), 7);
    });
}

#[test]
fn timers_blocking_jobs_and_metrics_work_on_every_worker() {
    with_timeout(|| {
        let rt = runtime(2);
        let ran = rt.run_on_each(|worker| async move {
            mini::time::sleep(Duration::from_millis(10)).await;
            let job = mini::task::spawn_blocking(move || worker * 2).await.unwrap();
            let within = mini::time::timeout(Duration::from_secs(5), async { worker })
                .await
                .unwrap();
            (job, within)
        });
        assert_eq!(ran, [(0, 0), (2, 1)]);
        let metrics = rt.metrics();
        assert_eq!(metrics.num_workers(), 2);
        // Each worker counted its own polls; the spawns from `run_on_each` went to each worker.
        for worker in 0..2 {
            assert!(metrics.worker_poll_count(worker) >= 2, "worker {worker}");
        }
    });
}

#[test]
fn a_panicking_task_is_contained_and_run_on_each_resumes_a_worker_panic() {
    with_timeout(|| {
        let rt = runtime(2);
        let task = rt.handle().spawn_on(1, async { panic!("boom on a worker") });
        assert!(rt.block_on(task).unwrap_err().is_panic());
        // The worker goes on.
        assert_eq!(rt.block_on(rt.handle().spawn_on(1, async { 5 })).unwrap(), 5);
        let error = catch_unwind(AssertUnwindSafe(|| {
            rt.run_on_each(|worker| async move {
                assert_ne!(worker, 1, "worker 1 fails");
            })
        }))
        .unwrap_err();
        assert!(panic_message(&*error).contains("worker 1 fails"));
    });
}

#[test]
fn per_worker_listeners_share_a_port_and_each_worker_serves_its_share() {
    with_timeout(|| {
        const WORKERS: usize = 2;
        const CLIENTS: usize = 64;
        let rt = runtime(WORKERS);
        let listener = rt.block_on(TcpListener::bind_per_worker("127.0.0.1:0")).unwrap();
        let addr = listener.local_addr();
        assert_ne!(addr.port(), 0);
        let served: Arc<[AtomicUsize; WORKERS]> = Arc::new(Default::default());
        let servers = rt.handle().run_on_each({
            let (listener, served) = (listener.clone(), served.clone());
            move |worker| {
                let (listener, served) = (listener.clone(), served.clone());
                async move {
                    loop {
                        let (mut stream, _) = listener.accept().await.unwrap();
                        served[worker].fetch_add(1, SeqCst);
                        // Served on the worker that accepted it.
                        mini::task::spawn_local(async move {
                            let mut byte = [0];
                            futures::AsyncReadExt::read_exact(&mut stream, &mut byte).await.unwrap();
                            let reply = [byte[0], worker_index().unwrap() as u8];
                            futures::AsyncWriteExt::write_all(&mut stream, &reply).await.unwrap();
                        });
                    }
                }
            }
        });
        let _servers = rt.spawn(servers);
        let mut by_worker = [0; WORKERS];
        for client in 0..CLIENTS {
            let mut stream = std::net::TcpStream::connect(addr).unwrap();
            stream.write_all(&[client as u8]).unwrap();
            let mut reply = [0; 2];
            stream.read_exact(&mut reply).unwrap();
            assert_eq!(reply[0], client as u8);
            by_worker[reply[1] as usize] += 1;
        }
        // The kernel hashes each connection's addresses to a socket: with 64 connections, both
        // get some (all on one: a chance of 2^-63).
        assert!(by_worker.iter().all(|&count| count > 0), "{by_worker:?}");
        let accepted: Vec<usize> = served.iter().map(|count| count.load(SeqCst)).collect();
        assert_eq!(
            accepted, by_worker,
            "each connection was accepted by the worker that served it"
        );
        let before = open_fds().len();
        drop(rt);
        drop(listener);
        assert!(
            open_fds().len() < before - WORKERS,
            "the workers' sockets, epoll instances and eventfds are closed"
        );
    });
}

#[test]
fn dropping_the_runtime_drops_each_worker_s_tasks_on_that_worker() {
    with_timeout(|| {
        let drops = Drops::default();
        let rt = runtime(2);
        let (threads_sender, threads) = mpsc::channel();
        let dropped_on = Arc::new(std::sync::Mutex::new(Vec::new()));
        struct RecordThread(Arc<std::sync::Mutex<Vec<std::thread::ThreadId>>>);
        impl Drop for RecordThread {
            fn drop(&mut self) {
                self.0.lock().unwrap().push(std::thread::current().id());
            }
        }
        rt.run_on_each({
            let (drops, dropped_on) = (drops.clone(), dropped_on.clone());
            move |_| {
                let guard = drops.guard();
                let record = RecordThread(dropped_on.clone());
                threads_sender.send(std::thread::current().id()).unwrap();
                async move {
                    // A `!Send` task that never finishes, holding the guards.
                    mini::task::spawn_local(async move {
                        let _not_send = Rc::new((guard, record));
                        std::future::pending::<()>().await;
                    });
                }
            }
        });
        let worker_threads: HashSet<_> = threads.try_iter().collect();
        assert_eq!(worker_threads.len(), 2);
        assert_eq!(drops.count(), 0);
        drop(rt);
        assert_eq!(drops.count(), 2, "every task was dropped");
        let dropped_on: HashSet<_> = dropped_on.lock().unwrap().iter().copied().collect();
        assert_eq!(dropped_on, worker_threads, "each on its own worker's thread");
    });
}

#[test]
fn handle_current_on_a_worker_is_the_whole_runtime() {
    with_timeout(|| {
        let rt = runtime(2);
        let workers = rt.block_on(rt.handle().spawn_on(1, async {
            let handle = Handle::current();
            // Spawned through the handle from worker 1: stays on worker 1.
            let here = handle.spawn(async { worker_index() }).await.unwrap();
            (handle.metrics().num_workers(), here)
        }));
        assert_eq!(workers.unwrap(), (2, Some(1)));
        assert!(format!("{rt:?}").contains("thread_per_core"));
    });
}

#[test]
fn run_on_each_on_a_multi_thread_runtime_says_what_to_do_instead() {
    with_timeout(|| {
        let rt = Builder::new_multi_thread().worker_threads(1).build().unwrap();
        let error = catch_unwind(AssertUnwindSafe(|| rt.run_on_each(|_| async {}))).unwrap_err();
        assert!(panic_message(&*error).contains("spawn one task per worker"));
        let single = Builder::new_current_thread().build().unwrap();
        assert_eq!(single.run_on_each(|worker| async move { worker }), [0]);
    });
}

/// The attribute's shape for this flavor: the body runs on the calling thread and starts the
/// per-worker work with `run_on_each`.
#[mini::test(flavor = "thread_per_core", worker_threads = 2)]
async fn the_attribute_builds_a_thread_per_core_runtime() {
    assert_eq!(worker_index(), None);
    let workers = Handle::current()
        .run_on_each(|worker| async move { (worker, worker_index()) })
        .await;
    assert_eq!(workers, [(0, Some(0)), (1, Some(1))]);
}

/// The example server, as a user runs it: every request answered, by more than one worker.
#[test]
fn the_hello_http_per_core_example_serves_from_every_worker() {
    with_timeout(|| {
        let server = common::ExampleServer::start("hello_http_per_core", &["127.0.0.1:0"], |command| {
            command.env("MINI_WORKER_THREADS", "2");
        });
        const RESPONSE: &[u8] =
            b"HTTP/1.1 200 OK\r\nContent-Length: 13\r\nContent-Type: text/plain\r\n\r\nHello, World!";
        for _ in 0..32 {
            let mut stream = std::net::TcpStream::connect(server.addr).unwrap();
            // Two pipelined requests on each connection.
            stream
                .write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n")
                .unwrap();
            let mut responses = vec![0; RESPONSE.len() * 2];
            stream.read_exact(&mut responses).unwrap();
            assert_eq!(&responses[..RESPONSE.len()], RESPONSE);
            assert_eq!(&responses[RESPONSE.len()..], RESPONSE);
        }
        // One listening socket per worker, on the announced port.
        let port = format!(":{:04X} ", server.addr.port());
        let tcp = std::fs::read_to_string("/proc/net/tcp").unwrap();
        let listening = tcp
            .lines()
            .filter(|line| line.contains(&port) && line.contains(" 0A "))
            .count();
        assert_eq!(listening, 2, "{tcp}");
    });
}

#[test]
fn a_local_set_runs_on_the_block_on_thread_and_inside_a_worker() {
    with_timeout(|| {
        let rt = runtime(2);
        // On the `block_on` thread, which is no worker: the set's tasks run there.
        let here = std::thread::current().id();
        let local = mini::task::LocalSet::new();
        let ran_on = local.block_on(&rt, async {
            let shared = Rc::new(std::cell::Cell::new(0));
            let task = mini::task::spawn_local({
                let shared = shared.clone();
                async move {
                    shared.set(shared.get() + 1);
                    std::thread::current().id()
                }
            });
            let ran_on = task.await.unwrap();
            assert_eq!(shared.get(), 1);
            ran_on
        });
        assert_eq!(ran_on, here);
        // Inside a worker's task, a set of its own.
        let counts = rt.run_on_each(|worker| async move {
            let local = mini::task::LocalSet::new();
            local
                .run_until(async move {
                    let tasks: Vec<_> = (0..10)
                        .map(|_| mini::task::spawn_local(async { worker_index() }))
                        .collect();
                    let mut on_this_worker = 0;
                    for task in tasks {
                        on_this_worker += usize::from(task.await.unwrap() == Some(worker));
                    }
                    on_this_worker
                })
                .await
        });
        assert_eq!(counts, [10, 10]);
    });
}

/// Dropping the runtime from a task on a worker: that worker cannot be waited for, and a
/// blocking job may wait for one of its tasks; the worker cancels its tasks first, then waits
/// for the pool, so the job ends and everything stops.
#[test]
fn dropping_the_runtime_from_a_worker_s_task_does_not_wait_for_a_job_that_waits_for_that_worker() {
    with_timeout(|| {
        let rt = runtime(2);
        let handle = rt.handle().clone();
        let (tx, rx) = mpsc::channel::<()>();
        let (job_started_tx, job_started) = mpsc::channel();
        let (job_done_tx, job_done) = mpsc::channel();
        // A task on worker 0 holds the sender; a blocking job waits on the receiver, so it ends
        // only once that task is cancelled.
        let _holder = handle.spawn_on(0, async move {
            let _tx = tx;
            std::future::pending::<()>().await;
        });
        let _job = handle.spawn_blocking(move || {
            job_started_tx.send(()).unwrap();
            let _ = rx.recv();
            job_done_tx.send(()).unwrap();
        });
        job_started.recv().unwrap();
        let _dropper = handle.spawn_on(0, async move { drop(rt) });
        job_done
            .recv_timeout(Duration::from_secs(10))
            .expect("the blocking job ended: worker 0 cancelled the task that held its sender");
    });
}

#[test]
fn pinning_more_thread_per_core_workers_than_cpus_is_an_error() {
    let cpus = std::thread::available_parallelism().unwrap().get();
    let error = Builder::new_thread_per_core()
        .worker_threads(cpus + 1)
        .pin_workers(true)
        .build()
        .unwrap_err();
    assert_eq!(error.kind(), std::io::ErrorKind::InvalidInput);
}

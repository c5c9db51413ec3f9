//! Tasks: join handles, panics, cancellation, `spawn_local`, `yield_now` and fairness between
//! busy tasks and sockets.

mod common;

use common::*;
use futures::channel::oneshot;
use mini::net::TcpStream;
use mini::task::{spawn_local, yield_now, JoinHandle};
use std::cell::RefCell;
use std::future::pending;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex};

/// Yields (a bounded number of times) until `done` says so; returns whether it did.
async fn yield_until(mut done: impl FnMut() -> bool) -> bool {
    for _ in 0..1000 {
        if done() {
            return true;
        }
        yield_now().await;
    }
    done()
}

/// Spawns a task that holds one of `drops`' guards, says it started, and never finishes.
fn spawn_pending(drops: &Drops) -> (mini::task::JoinHandle<()>, Arc<AtomicBool>) {
    let started = Arc::new(AtomicBool::new(false));
    let guard = drops.guard();
    let task = mini::spawn({
        let started = started.clone();
        async move {
            let _guard = guard;
            started.store(true, SeqCst);
            pending::<()>().await
        }
    });
    (task, started)
}

#[mini::test]
async fn a_join_handle_yields_the_task_output() {
    let _watchdog = watchdog("a_join_handle_yields_the_task_output");
    let handle: JoinHandle<String> = mini::spawn(async { format!("{}-{}", "forty", 2) });
    assert_eq!(handle.await.unwrap(), "forty-2");
}

#[mini::test]
async fn is_finished_turns_true_only_when_the_task_completes() {
    let _watchdog = watchdog("is_finished_turns_true_only_when_the_task_completes");
    let (release, released) = oneshot::channel::<u32>();
    let handle = mini::spawn(async move { released.await.unwrap() * 2 });
    yield_now().await; // the task runs and waits
    assert!(!handle.is_finished());
    release.send(21).unwrap();
    assert!(
        yield_until(|| handle.is_finished()).await,
        "the woken task never finished"
    );
    assert_eq!(handle.await.unwrap(), 42);
}

#[mini::test]
async fn dropping_a_join_handle_detaches_the_task_which_keeps_running() {
    let _watchdog = watchdog("dropping_a_join_handle_detaches_the_task_which_keeps_running");
    let (release, released) = oneshot::channel::<()>();
    let (report, reported) = oneshot::channel::<&str>();
    drop(mini::spawn(async move {
        released.await.unwrap();
        report.send("still ran").unwrap();
    }));
    release.send(()).unwrap();
    assert_eq!(reported.await.unwrap(), "still ran");
}

// The default order, which a shuffled run (`MINI_TEST_SEEDS`) does not keep.
#[mini::test(shuffle = false)]
async fn spawned_tasks_start_in_the_order_they_were_spawned() {
    let _watchdog = watchdog("spawned_tasks_start_in_the_order_they_were_spawned");
    let order = Arc::new(Mutex::new(Vec::new()));
    let handles: Vec<_> = (0..20)
        .map(|i| {
            let order = order.clone();
            mini::spawn(async move { order.lock().unwrap().push(i) })
        })
        .collect();
    for handle in handles {
        handle.await.unwrap();
    }
    assert_eq!(*order.lock().unwrap(), (0..20).collect::<Vec<_>>());
}

#[mini::test]
async fn yield_now_lets_the_tasks_queued_before_run_first() {
    let _watchdog = watchdog("yield_now_lets_the_tasks_queued_before_run_first");
    let other = mini::spawn(async { "ran" });
    assert!(!other.is_finished());
    yield_now().await;
    assert!(other.is_finished());
    assert_eq!(other.await.unwrap(), "ran");
}

#[test]
fn a_panicking_task_gives_a_join_error_with_its_payload_and_the_runtime_goes_on() {
    run(|| async {
        // A task that is waiting while another panics.
        let (release, released) = oneshot::channel::<u32>();
        let waiting = mini::spawn(async move { released.await.unwrap() + 1 });
        yield_now().await;

        let formatted = mini::spawn(async {
            if true {
                panic!("boom {}", 42);
            }
        });
        let error = formatted.await.unwrap_err();
        assert!(error.to_string().contains("boom 42"), "{error}");
        assert_eq!(join_error_message(error), "boom 42");

        let literal = mini::spawn(async {
            yield_now().await;
            std::panic::panic_any(7u32)
        });
        let payload = literal.await.unwrap_err().into_panic();
        assert_eq!(payload.downcast_ref::<u32>(), Some(&7));

        // The runtime still runs new tasks and the one that was waiting.
        assert_eq!(mini::spawn(async { 5 }).await.unwrap(), 5);
        release.send(9).unwrap();
        assert_eq!(waiting.await.unwrap(), 10);
    })
}

#[test]
fn a_panic_in_a_detached_task_does_not_stop_the_runtime() {
    run(|| async {
        drop(mini::spawn(async { panic!("nobody is listening") }));
        yield_now().await;
        let (listener, addr) = bind_loopback().await;
        let server = mini::spawn(async move { echo(listener.accept().await.unwrap().0).await.unwrap() });
        let mut client = TcpStream::connect(addr).await.unwrap();
        client.write_all(b"alive").await.unwrap();
        let mut buf = [0u8; 5];
        client.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"alive");
        drop(client);
        assert_eq!(server.await.unwrap(), 5);
    })
}

#[test]
fn a_panic_in_the_block_on_future_reaches_the_caller_and_the_runtime_stays_usable() {
    with_timeout(|| {
        let runtime = current_thread_runtime().unwrap();
        let result = catch_unwind(AssertUnwindSafe(|| {
            runtime.block_on(async {
                yield_now().await;
                panic!("from block_on");
            })
        }));
        let payload = result.expect_err("the panic must propagate out of block_on");
        assert_eq!(payload.downcast_ref::<&str>(), Some(&"from block_on"));

        let answer = runtime.block_on(async { mini::spawn(async { 6 * 7 }).await.unwrap() });
        assert_eq!(answer, 42);
    })
}

#[mini::test]
async fn aborting_a_never_polled_task_cancels_it_and_drops_its_future() {
    let _watchdog = watchdog("aborting_a_never_polled_task_cancels_it_and_drops_its_future");
    let drops = Drops::default();
    let (task, started) = spawn_pending(&drops);
    task.abort();
    let error = task.await.unwrap_err();
    assert!(error.is_cancelled() && !error.is_panic(), "{error:?}");
    assert!(!started.load(SeqCst), "an aborted task must not start");
    assert_eq!(drops.count(), 1, "the future must be dropped");
}

#[mini::test]
async fn aborting_an_idle_task_cancels_it_and_drops_its_future() {
    let _watchdog = watchdog("aborting_an_idle_task_cancels_it_and_drops_its_future");
    let drops = Drops::default();
    let (task, started) = spawn_pending(&drops);
    assert!(yield_until(|| started.load(SeqCst)).await);
    assert_eq!(drops.count(), 0);
    task.abort();
    assert!(task.await.unwrap_err().is_cancelled());
    assert_eq!(drops.count(), 1);
}

#[test]
fn aborting_a_task_waiting_on_a_socket_drops_it_and_closes_the_socket() {
    run(|| async {
        let (mut client, mut server) = connected_pair().await;
        let drops = Drops::default();
        let started = Arc::new(AtomicBool::new(false));
        let guard = drops.guard();
        let task = mini::spawn({
            let started = started.clone();
            async move {
                let _guard = guard;
                started.store(true, SeqCst);
                let mut buf = [0u8; 16];
                server.read(&mut buf).await
            }
        });
        assert!(yield_until(|| started.load(SeqCst)).await);
        task.abort();
        assert!(task.await.unwrap_err().is_cancelled());
        assert_eq!(drops.count(), 1);
        let mut buf = [0u8; 16];
        assert_eq!(
            client.read(&mut buf).await.unwrap(),
            0,
            "the aborted task's socket must be closed"
        );
    })
}

#[mini::test]
async fn aborting_a_finished_task_keeps_its_output() {
    let _watchdog = watchdog("aborting_a_finished_task_keeps_its_output");
    let task = mini::spawn(async { "done" });
    assert!(yield_until(|| task.is_finished()).await);
    task.abort();
    assert_eq!(task.await.unwrap(), "done");
}

#[test]
fn aborting_from_another_thread_cancels_the_task_on_its_runtime() {
    run(|| async {
        let drops = Drops::default();
        let (task, started) = spawn_pending(&drops);
        assert!(yield_until(|| started.load(SeqCst)).await);
        let (report, reported) = oneshot::channel();
        std::thread::spawn(move || {
            task.abort();
            // Waits on this thread for the runtime's thread to drop the future.
            let result = futures::executor::block_on(task);
            report.send(result.map_err(|e| e.is_cancelled())).unwrap();
        });
        assert_eq!(
            reported.await.unwrap(),
            Err(true),
            "awaited on another thread: cancelled"
        );
        assert_eq!(drops.count(), 1);
    })
}

#[mini::test]
async fn a_task_that_aborts_itself_is_cancelled_at_its_next_wait() {
    let _watchdog = watchdog("a_task_that_aborts_itself_is_cancelled_at_its_next_wait");
    let drops = Drops::default();
    let own_handle: Arc<Mutex<Option<JoinHandle<()>>>> = Arc::default();
    let reached_wait = Arc::new(AtomicBool::new(false));
    let guard = drops.guard();
    let task = mini::spawn({
        let (own_handle, reached_wait) = (own_handle.clone(), reached_wait.clone());
        async move {
            let _guard = guard;
            yield_now().await; // by now the handle is stored
            own_handle
                .lock()
                .unwrap()
                .as_ref()
                .expect("stored before the first yield")
                .abort();
            reached_wait.store(true, SeqCst);
            pending::<()>().await
        }
    });
    // Keep a second way to await the task: the stored handle is the only JoinHandle.
    *own_handle.lock().unwrap() = Some(task);
    assert!(
        yield_until(|| drops.count() == 1).await,
        "the self-aborted task's future was never dropped"
    );
    assert!(reached_wait.load(SeqCst));
    let task = own_handle.lock().unwrap().take().unwrap();
    assert!(task.await.unwrap_err().is_cancelled());
}

struct PanicOnDrop;

impl Drop for PanicOnDrop {
    fn drop(&mut self) {
        panic!("panic while dropping");
    }
}

#[mini::test]
async fn a_panic_while_dropping_an_aborted_future_is_reported_as_a_panic() {
    let _watchdog = watchdog("a_panic_while_dropping_an_aborted_future_is_reported_as_a_panic");
    let task = mini::spawn(async {
        let _bomb = PanicOnDrop;
        pending::<()>().await
    });
    yield_now().await;
    task.abort();
    let error = task.await.unwrap_err();
    assert_eq!(join_error_message(error), "panic while dropping");
    assert_eq!(mini::spawn(async { 1 }).await.unwrap(), 1, "the runtime goes on");
}

#[mini::test]
async fn spawn_local_runs_a_future_that_is_not_send() {
    let _watchdog = watchdog("spawn_local_runs_a_future_that_is_not_send");
    let log = Rc::new(RefCell::new(Vec::new()));
    let runtime_thread = std::thread::current().id();
    let tasks: Vec<_> = (0..3)
        .map(|i| {
            let log = log.clone();
            spawn_local(async move {
                yield_now().await;
                log.borrow_mut().push(i);
                (Rc::strong_count(&log), std::thread::current().id())
            })
        })
        .collect();
    for task in tasks {
        let (_, thread) = task.await.unwrap();
        assert_eq!(thread, runtime_thread);
    }
    // In the order they ran: spawn order, or a shuffled one.
    let mut ran = log.borrow().clone();
    ran.sort();
    assert_eq!(ran, [0, 1, 2]);
    assert_eq!(Rc::strong_count(&log), 1, "the tasks dropped their clones");
}

#[test]
fn spawn_local_outside_block_on_panics() {
    let error = catch_unwind(|| drop(spawn_local(async {}))).unwrap_err();
    let message = error
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| error.downcast_ref::<&str>().map(|m| m.to_string()));
    assert!(message.unwrap_or_default().contains("spawn_local"));

    let runtime = current_thread_runtime().unwrap();
    let _entered = runtime.enter();
    assert!(
        catch_unwind(|| drop(spawn_local(async {}))).is_err(),
        "`enter` is not `block_on`: no task runs here"
    );
}

/// Runs a spinner (a task that yields in a loop until told to stop, or a bounded number of
/// times) beside an echo exchange of `MESSAGES` round trips, and checks that the exchange
/// finished while the spinner was still spinning.
const MESSAGES: usize = 100;
const SPINS: usize = 2_000_000;

async fn echo_exchange(addr: std::net::SocketAddr) {
    let mut client = TcpStream::connect(addr).await.unwrap();
    for i in 0..MESSAGES {
        let message = format!("message {i:03}");
        client.write_all(message.as_bytes()).await.unwrap();
        let mut back = vec![0u8; message.len()];
        client.read_exact(&mut back).await.unwrap();
        assert_eq!(back, message.as_bytes());
    }
}

async fn spin(stop: Arc<AtomicBool>, spins: Arc<AtomicUsize>) -> bool {
    for _ in 0..SPINS {
        if stop.load(SeqCst) {
            return true;
        }
        spins.fetch_add(1, SeqCst);
        yield_now().await;
    }
    false
}

#[test]
fn a_task_that_yields_forever_does_not_starve_socket_io() {
    run(|| async {
        let stop = Arc::new(AtomicBool::new(false));
        let spins = Arc::new(AtomicUsize::new(0));
        let spinner = mini::spawn(spin(stop.clone(), spins.clone()));
        let (listener, addr) = bind_loopback().await;
        let server = mini::spawn(async move { echo(listener.accept().await.unwrap().0).await.unwrap() });
        let client = mini::spawn(echo_exchange(addr));

        client.await.unwrap();
        stop.store(true, SeqCst);
        assert!(
            spinner.await.unwrap(),
            "the spinner ran out of spins before the echo finished: sockets were starved"
        );
        assert!(spins.load(SeqCst) > 0);
        assert!(server.await.unwrap() > 0);
    })
}

#[test]
fn a_block_on_future_that_yields_forever_does_not_starve_socket_io() {
    run(|| async {
        let stop = Arc::new(AtomicBool::new(false));
        let spins = Arc::new(AtomicUsize::new(0));
        let (listener, addr) = bind_loopback().await;
        let server = mini::spawn(async move { echo(listener.accept().await.unwrap().0).await.unwrap() });
        let client = mini::spawn({
            let stop = stop.clone();
            async move {
                echo_exchange(addr).await;
                stop.store(true, SeqCst);
            }
        });

        // The block_on future itself is the spinner.
        let stopped = spin(stop, spins.clone()).await;
        assert!(
            stopped,
            "the block_on future yielded {} times and the echo of {MESSAGES} messages never finished: \
             sockets were starved",
            spins.load(SeqCst)
        );
        client.await.unwrap();
        assert!(server.await.unwrap() > 0);
    })
}

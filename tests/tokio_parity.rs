//! Behaviours where mini follows tokio because the alternative hurts (issue 18 §1): each test
//! is tokio's documented behaviour, checked on both flavors where the flavor matters.

mod common;

use common::*;
use futures::AsyncWriteExt;
use mini::runtime::{Builder, Handle};
use std::io::ErrorKind;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// tokio: "Guards returned by `Handle::enter()` must be dropped in the reverse order as they
/// were acquired" — dropping them otherwise panics, instead of leaving the wrong runtime
/// current.
#[test]
fn enter_guards_dropped_out_of_order_panic() {
    with_timeout(|| {
        let first = Builder::new_current_thread().build().unwrap();
        let second = Builder::new_current_thread().build().unwrap();
        let outer = first.enter();
        let inner = second.enter();
        let dropped = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| drop(outer)));
        let message = panic_message(&*dropped.expect_err("dropping the outer guard first must panic"));
        assert!(message.contains("dropped out of order"), "{message}");
        drop(inner);
    });
}

/// Guards dropped in order restore the previous runtime each time, down to none.
#[test]
fn enter_guards_dropped_in_order_restore_each_runtime() {
    with_timeout(|| {
        let first = Builder::new_current_thread().build().unwrap();
        let second = Builder::new_current_thread().build().unwrap();
        let outer = first.enter();
        {
            let _inner = second.enter();
            assert!(Handle::try_current().is_ok());
        }
        assert!(Handle::try_current().is_ok());
        drop(outer);
        assert!(
            Handle::try_current().is_err(),
            "no runtime is current after both guards"
        );
    });
}

/// Sets its flag, on drop, to whether a panic was unwinding.
struct RecordsPanicking(Arc<AtomicBool>);

impl Drop for RecordsPanicking {
    fn drop(&mut self) {
        self.0.store(std::thread::panicking(), Ordering::SeqCst);
    }
}

/// A future that panics when polled while it holds `T` (an `async` block's state is dropped by
/// the unwind itself; a hand-written future's fields are dropped by whoever drops the future).
struct PanicsWhileHolding<T>(#[allow(dead_code)] T);

impl<T> std::future::Future for PanicsWhileHolding<T> {
    type Output = ();
    fn poll(self: std::pin::Pin<&mut Self>, _: &mut std::task::Context<'_>) -> std::task::Poll<()> {
        panic!("while holding");
    }
}

/// tokio drops a panicking task's future while the panic unwinds (a drop guard inside the
/// poll), so that the `Drop` impls of what it holds see `std::thread::panicking()`. The panic
/// stays contained: the `JoinHandle` reports it and the runtime goes on.
#[test]
fn a_panicking_task_s_future_is_dropped_while_the_panic_unwinds() {
    with_timeout(|| {
        for (flavor, runtime) in runtimes() {
            let panicking_in_drop = Arc::new(AtomicBool::new(false));
            let result = runtime.block_on({
                let panicking_in_drop = panicking_in_drop.clone();
                async move { mini::spawn(PanicsWhileHolding(RecordsPanicking(panicking_in_drop))).await }
            });
            assert_eq!(
                join_error_message(result.expect_err("the task panicked")),
                "while holding",
                "{flavor}"
            );
            assert!(
                panicking_in_drop.load(Ordering::SeqCst),
                "{flavor}: the future's Drop ran while the panic unwound"
            );
            assert_eq!(
                runtime.block_on(async { mini::spawn(async { 2 }).await.unwrap() }),
                2,
                "{flavor}"
            );
        }
    });
}

/// The same for a `!Send` task (`spawn_local` on a `LocalSet`) holding a `std::sync::Mutex`
/// guard: the mutex is poisoned, so other tasks learn that the state it guards may be
/// half-updated.
#[test]
fn a_mutex_held_by_a_panicking_task_is_poisoned() {
    with_timeout(|| {
        for (flavor, runtime) in runtimes() {
            let shared: &'static Mutex<i32> = Box::leak(Box::new(Mutex::new(0)));
            let local = mini::task::LocalSet::new();
            let result = local.block_on(&runtime, async move {
                let task = {
                    let mut value = shared.lock().unwrap();
                    *value = 1; // half of an update that never finishes
                    mini::task::spawn_local(PanicsWhileHolding(value))
                };
                task.await
            });
            let error = result.expect_err("the task panicked");
            assert_eq!(join_error_message(error), "while holding", "{flavor}");
            assert!(shared.is_poisoned(), "{flavor}: the mutex the task held is poisoned");
        }
    });
}

/// tokio#4665: closing (shutting down the writing side of) a stream whose peer reset the
/// connection is `Ok`: whether `shutdown(2)` still finds a connection depends on packet timing
/// the caller cannot see.
#[test]
fn close_after_the_peer_reset_the_connection_is_ok() {
    with_timeout(|| {
        for (flavor, runtime) in runtimes() {
            runtime.block_on(async move {
                let (mut client, server) = connected_pair().await;
                set_linger_zero(&server);
                drop(server); // RST
                let mut buf = [0u8; 8];
                let error = client.read(&mut buf).await.expect_err("the peer reset the connection");
                assert_eq!(error.kind(), ErrorKind::ConnectionReset, "{flavor}");
                client
                    .close()
                    .await
                    .unwrap_or_else(|e| panic!("{flavor}: close after a reset: {e}"));
            });
        }
    });
}

/// How the busy task of `a_busy_task_delays_io_by_at_most_one_turn` gives up its turn.
#[derive(Clone, Copy, Debug)]
enum GiveUp {
    /// `yield_now` every round.
    Yield,
    /// `consume_budget` every round: the task is made to yield when its budget (128) is spent.
    SpentBudget,
}

impl GiveUp {
    /// Rounds of the busy loop per poll.
    fn rounds_per_poll(self) -> usize {
        match self {
            GiveUp::Yield => 1,
            GiveUp::SpentBudget => 128,
        }
    }
}

/// One busy task that gives up its turn in a loop (`how`) and one socket reader, on one thread:
/// returns the busy task's round in which the reader's data was written, and the round in which
/// the reader had read it.
fn io_behind_a_busy_task(runtime: &mini::Runtime, how: GiveUp) -> (usize, usize) {
    runtime.block_on(async {
        let (listener, addr) = bind_loopback().await;
        let mut writer = std::net::TcpStream::connect(addr).unwrap();
        let (mut reader, _) = listener.accept().await.unwrap();
        let rounds = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let done = Arc::new(AtomicBool::new(false));
        let read = mini::spawn({
            let (rounds, done) = (rounds.clone(), done.clone());
            async move {
                let mut byte = [0u8; 1];
                reader.read_exact(&mut byte).await.unwrap();
                done.store(true, Ordering::SeqCst);
                rounds.load(Ordering::SeqCst)
            }
        });
        let busy = mini::spawn(async move {
            let mut written_at = None;
            for _ in 0..1_000_000 {
                let count = rounds.fetch_add(1, Ordering::SeqCst) + 1;
                if count == 10 * how.rounds_per_poll() {
                    // The data is in the reader's receive queue when `write` returns.
                    std::io::Write::write_all(&mut writer, b"x").unwrap();
                    written_at = Some(count);
                }
                if done.load(Ordering::SeqCst) {
                    break;
                }
                match how {
                    GiveUp::Yield => mini::task::yield_now().await,
                    GiveUp::SpentBudget => mini::task::consume_budget().await,
                }
            }
            written_at.expect("the busy task wrote")
        });
        (busy.await.unwrap(), read.await.unwrap())
    })
}

/// tokio defers a task that yields, or whose budget is spent, until the runtime has looked at
/// the reactor: a task that gives up its turn in a loop delays a socket's reader by at most
/// about one poll, not by the `event_interval` (61) polls between the scheduler's own looks.
/// Checked on every flavor with one worker, so that the busy task's worker is the one that
/// turns the reactor.
#[test]
fn a_busy_task_delays_io_by_at_most_one_turn() {
    with_timeout(|| {
        for how in [GiveUp::Yield, GiveUp::SpentBudget] {
            let runtimes = [
                ("current-thread", Builder::new_current_thread().build().unwrap()),
                (
                    "multi-thread",
                    Builder::new_multi_thread().worker_threads(1).build().unwrap(),
                ),
                (
                    "thread-per-core",
                    Builder::new_thread_per_core().worker_threads(1).build().unwrap(),
                ),
            ];
            for (flavor, runtime) in runtimes {
                let (written_at, read_at) = io_behind_a_busy_task(&runtime, how);
                let polls = (read_at - written_at).div_ceil(how.rounds_per_poll());
                assert!(
                    polls <= 2,
                    "{flavor}, {how:?}: the reader ran {polls} polls of the busy task after its data arrived"
                );
            }
        }
    });
}

//! `JoinSet` and `AbortHandle`, checked against tokio's documented behaviour: results in the
//! order tasks finish, panics and aborts as `JoinError`s, every task aborted when the set is
//! dropped, `shutdown`, `detach_all`, `try_join_next`, `join_all`, every spawn kind, on every
//! flavor and in a `LocalSet`, and 10,000 tasks.

mod common;

use common::*;
use futures::channel::oneshot;
use mini::task::{JoinSet, LocalSet};
use std::rc::Rc;
use std::time::Duration;

/// Yields until `done` holds, bounded (the runtime runs aborted tasks' drops meanwhile).
async fn yield_until(mut done: impl FnMut() -> bool) {
    for _ in 0..MAX_ROUNDS {
        if done() {
            return;
        }
        mini::task::yield_now().await;
    }
    panic!("condition not met after {MAX_ROUNDS} yields");
}

#[test]
fn results_come_in_the_order_the_tasks_finish_on_every_flavor() {
    with_timeout(|| {
        for (flavor, runtime) in runtimes() {
            runtime.block_on(async {
                let mut set = JoinSet::new();
                let mut releases = Vec::new();
                for i in 0..4u32 {
                    let (release, released) = oneshot::channel::<()>();
                    releases.push(release);
                    set.spawn(async move {
                        released.await.unwrap();
                        i
                    });
                }
                assert_eq!(set.len(), 4);
                let mut order = Vec::new();
                for i in [2, 0, 3, 1] {
                    releases[i].take_send();
                    order.push(set.join_next().await.unwrap().unwrap());
                }
                assert_eq!(order, [2, 0, 3, 1], "{flavor}");
                assert!(set.is_empty());
                assert!(set.join_next().await.is_none(), "{flavor}");
            });
        }
    });
}

/// `oneshot::Sender::send` by index (the vector keeps the senders not sent yet).
trait TakeSend {
    fn take_send(&mut self);
}

impl TakeSend for oneshot::Sender<()> {
    fn take_send(&mut self) {
        let (replacement, _) = oneshot::channel();
        std::mem::replace(self, replacement).send(()).unwrap();
    }
}

#[test]
fn a_panic_is_a_join_error_and_the_other_tasks_go_on() {
    with_timeout(|| {
        for (flavor, runtime) in runtimes() {
            runtime.block_on(async {
                let mut set = JoinSet::new();
                set.spawn(async { panic!("task panicked") });
                set.spawn(async {
                    mini::time::sleep(Duration::from_millis(20)).await;
                    7
                });
                let first = set.join_next().await.unwrap();
                assert_eq!(join_error_message(first.unwrap_err()), "task panicked", "{flavor}");
                assert_eq!(set.join_next().await.unwrap().unwrap(), 7, "{flavor}");
            });
        }
    });
}

#[test]
fn dropping_the_set_aborts_every_task_in_it() {
    with_timeout(|| {
        for (flavor, runtime) in runtimes() {
            let drops = Drops::default();
            runtime.block_on(async {
                let mut set = JoinSet::new();
                for _ in 0..100 {
                    let guard = drops.guard();
                    set.spawn(async move {
                        let _guard = guard;
                        std::future::pending::<()>().await;
                    });
                }
                // Every task has started (its guard is held in its running future).
                mini::time::sleep(Duration::from_millis(10)).await;
                assert_eq!(drops.count(), 0);
                drop(set);
                yield_until(|| drops.count() == 100).await;
            });
            assert_eq!(drops.count(), 100, "{flavor}");
        }
    });
}

#[test]
fn abort_all_and_shutdown_cancel_and_an_abort_handle_cancels_one() {
    with_timeout(|| {
        for (flavor, runtime) in runtimes() {
            let drops = Drops::default();
            runtime.block_on(async {
                let mut set = JoinSet::new();
                let guard = drops.guard();
                let one = set.spawn(async move {
                    let _guard = guard;
                    std::future::pending::<u32>().await
                });
                set.spawn(async { 5 });
                one.abort();
                let mut results = Vec::new();
                while let Some(result) = set.join_next().await {
                    results.push(result.map_err(|error| error.is_cancelled()));
                }
                results.sort();
                assert_eq!(results, [Ok(5), Err(true)], "{flavor}");
                assert!(one.is_finished());
                assert_eq!(drops.count(), 1);

                for _ in 0..10 {
                    let guard = drops.guard();
                    set.spawn(async move {
                        let _guard = guard;
                        std::future::pending::<u32>().await
                    });
                }
                set.abort_all();
                assert_eq!(set.len(), 10, "aborted tasks stay until joined");
                let cancelled = std::iter::from_fn(|| set.try_join_next()).count();
                let mut rest = 0;
                while let Some(result) = set.join_next().await {
                    assert!(result.unwrap_err().is_cancelled());
                    rest += 1;
                }
                assert_eq!(cancelled + rest, 10, "{flavor}");
                assert_eq!(drops.count(), 11);

                for _ in 0..10 {
                    let guard = drops.guard();
                    set.spawn(async move {
                        let _guard = guard;
                        std::future::pending::<u32>().await
                    });
                }
                set.shutdown().await;
                assert!(set.is_empty());
                assert_eq!(drops.count(), 21, "{flavor}: shutdown waits for every task to stop");
            });
        }
    });
}

#[test]
fn detach_all_lets_the_tasks_run_on() {
    with_timeout(|| {
        for (flavor, runtime) in runtimes() {
            runtime.block_on(async {
                let mut set = JoinSet::new();
                let (release, released) = oneshot::channel::<()>();
                let (done, finished) = oneshot::channel();
                set.spawn(async move {
                    released.await.unwrap();
                    done.send(42).unwrap();
                });
                set.detach_all();
                assert!(set.is_empty());
                drop(set);
                release.send(()).unwrap();
                assert_eq!(finished.await.unwrap(), 42, "{flavor}");
            });
        }
    });
}

#[test]
fn try_join_next_returns_only_finished_tasks() {
    with_timeout(|| {
        let runtime = current_thread_runtime().unwrap();
        runtime.block_on(async {
            let mut set = JoinSet::new();
            let (release, released) = oneshot::channel::<()>();
            set.spawn(async move {
                released.await.unwrap();
                1
            });
            assert!(set.try_join_next().is_none());
            mini::task::yield_now().await;
            assert!(set.try_join_next().is_none(), "the task waits");
            release.send(()).unwrap();
            let mut result = None;
            yield_until(|| {
                result = set.try_join_next();
                result.is_some()
            })
            .await;
            assert_eq!(result.unwrap().unwrap(), 1);
            assert!(set.try_join_next().is_none(), "empty");
        });
    });
}

#[test]
fn join_all_returns_every_output_and_resumes_a_panic() {
    with_timeout(|| {
        for (flavor, runtime) in runtimes() {
            let mut outputs = runtime.block_on(async {
                let mut set = JoinSet::new();
                for i in 0..50u32 {
                    set.spawn(async move { i });
                }
                set.join_all().await
            });
            outputs.sort();
            assert_eq!(outputs, (0..50).collect::<Vec<_>>(), "{flavor}");

            let drops = Drops::default();
            let panic = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                runtime.block_on(async {
                    let mut set = JoinSet::new();
                    let guard = drops.guard();
                    set.spawn(async move {
                        let _guard = guard;
                        std::future::pending::<()>().await
                    });
                    set.spawn(async { panic!("one of them failed") });
                    set.join_all().await
                })
            }))
            .unwrap_err();
            assert_eq!(panic_message(&*panic), "one of them failed", "{flavor}");
            // The other task was aborted with the set.
            runtime.block_on(yield_until(|| drops.count() == 1));
        }
    });
}

#[test]
fn spawn_local_spawn_blocking_and_spawn_on_join_into_one_set() {
    with_timeout(|| {
        let runtime = current_thread_runtime().unwrap();
        let other = mini::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .build()
            .unwrap();
        let local = LocalSet::new();
        let mut outputs = local.block_on(&runtime, async {
            let mut set = JoinSet::new();
            let not_send = Rc::new(1);
            set.spawn_local(async move { *not_send });
            set.spawn_blocking(|| 2);
            set.spawn_on(async { 3 }, other.handle());
            set.spawn(async { 4 });
            set.join_all().await
        });
        outputs.sort();
        assert_eq!(outputs, [1, 2, 3, 4]);
    });
}

#[test]
fn ten_thousand_tasks_are_joined() {
    with_timeout(|| {
        for (flavor, runtime) in runtimes() {
            let sum = runtime.block_on(async {
                let mut set = JoinSet::new();
                for i in 0..10_000u64 {
                    set.spawn(async move {
                        mini::task::yield_now().await;
                        i
                    });
                }
                let mut sum = 0;
                while let Some(result) = set.join_next().await {
                    sum += result.unwrap();
                }
                sum
            });
            assert_eq!(sum, (0..10_000).sum::<u64>(), "{flavor}");
        }
    });
}

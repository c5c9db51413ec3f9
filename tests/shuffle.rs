//! Shuffled scheduling (`Builder::shuffle`, `#[mini::test(shuffle)]`, `mini::runtime::seeds`):
//! three planted ordering bugs that pass in the default order are found by a seed sweep, the
//! printed seed replays the same failure, and its two runs make the same decisions; a seed
//! replays its schedule; a sweep reaches distinct schedules; a shuffled, paused runtime where
//! nothing can progress fails at once.

mod common;

use common::{connected_pair, panic_message, watchdog, with_timeout};
use mini::runtime::Builder;
use mini::task::yield_now;
use std::cell::{Cell, RefCell};
use std::collections::HashSet;
use std::process::{Command, Output};
use std::rc::Rc;
use std::time::Duration;

/// Ordering bugs that the default (FIFO) order hides.
mod planted {
    use super::*;

    /// A read-modify-write across an `.await`: each deposit reads the balance, waits for a
    /// turn, then writes what it read plus its amount. Correct only if the first to read is
    /// the first to resume.
    pub async fn lost_update() {
        let balance = Rc::new(Cell::new(0));
        let first = mini::task::spawn_local({
            let balance = balance.clone();
            async move {
                let read = balance.get();
                yield_now().await;
                balance.set(read + 10);
            }
        });
        let second = mini::task::spawn_local({
            let balance = balance.clone();
            async move {
                // Reads after the first deposit had its turn to write, in the default order.
                yield_now().await;
                let read = balance.get();
                yield_now().await;
                balance.set(read + 5);
            }
        });
        first.await.unwrap();
        second.await.unwrap();
        assert_eq!(balance.get(), 15, "lost update: a deposit was overwritten");
    }

    /// Two channels, one sender that sends on `a` then on `b`, one reader per channel appending
    /// what it reads to a log: the log is assumed to be in send order.
    pub async fn messages_in_send_order() {
        let log = Rc::new(RefCell::new(Vec::new()));
        let (a_sender, a) = async_channel::unbounded();
        let (b_sender, b) = async_channel::unbounded();
        let reader = |channel: async_channel::Receiver<&'static str>| {
            let log = log.clone();
            mini::task::spawn_local(async move {
                let message = channel.recv().await.unwrap();
                log.borrow_mut().push(message);
            })
        };
        let readers = [reader(a), reader(b)];
        yield_now().await; // both readers wait
        a_sender.send("a").await.unwrap();
        b_sender.send("b").await.unwrap();
        for reader in readers {
            reader.await.unwrap();
        }
        assert_eq!(*log.borrow(), ["a", "b"], "messages read out of send order");
    }

    /// A timeout checked one turn after its timer fires, racing bytes written when another
    /// timer of the same tick fires: assumed to arrive first.
    pub async fn timer_races_io() {
        let (mut client, mut server) = connected_pair().await;
        let received = Rc::new(Cell::new(false));
        let reader = mini::task::spawn_local({
            let received = received.clone();
            async move {
                let mut byte = [0];
                server.read_exact(&mut byte).await.unwrap();
                received.set(true);
            }
        });
        let writer = mini::task::spawn_local(async move {
            mini::time::sleep(Duration::from_millis(10)).await;
            client.write_all(b"x").await.unwrap();
            client
        });
        let deadline = mini::task::spawn_local({
            let received = received.clone();
            async move {
                mini::time::sleep(Duration::from_millis(10)).await;
                yield_now().await; // let the reactor deliver what was written meanwhile
                received.get()
            }
        });
        let arrived_in_time = deadline.await.unwrap();
        let _client = writer.await.unwrap();
        reader.await.unwrap();
        assert!(
            arrived_in_time,
            "timed out: the deadline's check ran before the bytes were read"
        );
    }
}

#[mini::test(shuffle = false, start_paused = true)]
async fn the_planted_bugs_pass_in_the_default_order() {
    let _watchdog = watchdog("the_planted_bugs_pass_in_the_default_order");
    planted::lost_update().await;
    planted::messages_in_send_order().await;
    planted::timer_races_io().await;
}

// The planted bugs under shuffle. They fail on purpose: the tests below run them as child
// processes with the seed variables set.

#[mini::test(shuffle, start_paused = true)]
#[ignore = "fails on purpose; run by a_seed_sweep_finds_each_planted_bug_and_its_seed_replays_it"]
async fn shuffled_lost_update() {
    planted::lost_update().await;
}

#[mini::test(shuffle, start_paused = true)]
#[ignore = "fails on purpose; run by a_seed_sweep_finds_each_planted_bug_and_its_seed_replays_it"]
async fn shuffled_messages_in_send_order() {
    planted::messages_in_send_order().await;
}

#[mini::test(shuffle, start_paused = true)]
#[ignore = "fails on purpose; run by a_seed_sweep_finds_each_planted_bug_and_its_seed_replays_it"]
async fn shuffled_timer_races_io() {
    planted::timer_races_io().await;
}

/// Runs the ignored test `name` of this binary alone, in a child process, with `env` (and no
/// seed variable inherited from this run).
fn run_planted(name: &str, env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(std::env::current_exe().expect("this test binary"));
    command.args([name, "--exact", "--ignored", "--test-threads=1"]);
    for variable in ["MINI_SEED", "MINI_TEST_SEEDS", "MINI_CHECK_DETERMINISM"] {
        command.env_remove(variable);
    }
    command.envs(env.iter().copied());
    command.output().expect("run this test binary")
}

/// What a child test printed: the test harness prints a failed test's captured output (the
/// panic message, the replay line) on stdout, other threads write to stderr.
fn printed(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned() + &String::from_utf8_lossy(&output.stderr)
}

/// The seed in the "rerun with" line, and the planted assertion's message.
fn failure(name: &str, output: &Output) -> (u64, String) {
    let stderr = printed(output);
    assert!(!output.status.success(), "{name} passed:\n{stderr}");
    let seed = stderr
        .lines()
        .find_map(|line| {
            let rest = line.strip_prefix("mini: test failed with MINI_SEED=")?;
            let (seed, advice) = rest.split_once(';')?;
            assert_eq!(advice, format!(" rerun with MINI_SEED={seed} to reproduce"));
            seed.parse().ok()
        })
        .unwrap_or_else(|| panic!("{name}: no replay line in\n{stderr}"));
    // The line after "thread '…' panicked at file:line:col:" is the assertion's message.
    let mut lines = stderr.lines();
    lines
        .find(|line| line.contains("panicked at"))
        .unwrap_or_else(|| panic!("{name}: no panic in\n{stderr}"));
    let message = lines.next().expect("the panic's message").to_owned();
    (seed, message)
}

#[test]
fn a_seed_sweep_finds_each_planted_bug_and_its_seed_replays_it() {
    for (name, planted) in [
        ("shuffled_lost_update", "lost update"),
        ("shuffled_messages_in_send_order", "messages read out of send order"),
        ("shuffled_timer_races_io", "timed out"),
    ] {
        let sweep = run_planted(name, &[("MINI_SEED", "0"), ("MINI_TEST_SEEDS", "100")]);
        let (seed, message) = failure(name, &sweep);
        assert!(seed < 100, "{name}: the sweep's seeds are 0..100, it printed {seed}");
        assert!(message.contains(planted), "{name}: {message}");

        let seed = seed.to_string();
        let replay = run_planted(name, &[("MINI_SEED", &seed)]);
        assert_eq!(
            failure(name, &replay),
            (seed.parse().unwrap(), message.clone()),
            "{name}: the replay"
        );

        let checked = run_planted(name, &[("MINI_SEED", &seed), ("MINI_CHECK_DETERMINISM", "1")]);
        let stderr = printed(&checked);
        assert!(!stderr.contains("not deterministic"), "{name}: {stderr}");
        assert_eq!(failure(name, &checked).1, message, "{name}: checked run");
    }
}

#[test]
fn a_passing_shuffled_test_passes_under_every_seed_and_the_determinism_check() {
    let output = run_planted(
        "a_shuffled_test_that_has_no_ordering_bug",
        &[
            ("MINI_SEED", "0"),
            ("MINI_TEST_SEEDS", "20"),
            ("MINI_CHECK_DETERMINISM", "1"),
        ],
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("1 passed"), "{stdout}");
}

#[mini::test(shuffle, start_paused = true)]
#[ignore = "run by a_passing_shuffled_test_passes_under_every_seed_and_the_determinism_check"]
async fn a_shuffled_test_that_has_no_ordering_bug() {
    let balance = Rc::new(Cell::new(0));
    let tasks: Vec<_> = (1..=5)
        .map(|amount| {
            let balance = balance.clone();
            mini::task::spawn_local(async move {
                mini::time::sleep(Duration::from_millis(amount)).await;
                yield_now().await;
                balance.set(balance.get() + amount); // no await between the read and the write
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    assert_eq!(balance.get(), 15);
}

/// Tasks that yield and log their steps: a small program with many possible orders.
fn steps(seed: Option<u64>) -> (Vec<(usize, usize)>, Option<u64>) {
    let mut builder = Builder::new_current_thread();
    builder.start_paused(true);
    if let Some(seed) = seed {
        builder.shuffle(seed);
    }
    let runtime = builder.build().unwrap();
    let log = runtime.block_on(async {
        let log = Rc::new(RefCell::new(Vec::new()));
        let tasks: Vec<_> = (0..4)
            .map(|task| {
                let log = log.clone();
                mini::task::spawn_local(async move {
                    for step in 0..3 {
                        log.borrow_mut().push((task, step));
                        yield_now().await;
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
        log.take()
    });
    (log, runtime.handle().schedule_hash())
}

#[test]
fn a_seed_replays_its_schedule_and_a_sweep_of_100_seeds_reaches_distinct_ones() {
    with_timeout(|| {
        let (fifo, hash) = steps(None);
        assert_eq!(hash, None, "no schedule hash with shuffle off");
        let mut hashes = HashSet::new();
        let mut orders = HashSet::new();
        for seed in 0..100 {
            let (order, hash) = steps(Some(seed));
            assert_eq!(steps(Some(seed)), (order.clone(), hash), "seed {seed} replays");
            hashes.insert(hash.expect("a hash with shuffle on"));
            orders.insert(order);
        }
        eprintln!(
            "100 seeds: {} distinct decision logs, {} distinct step orders",
            hashes.len(),
            orders.len()
        );
        assert!(hashes.len() >= 95, "{} distinct schedules of 100", hashes.len());
        assert!(orders.len() >= 90, "{} distinct orders of 100", orders.len());
        assert!(
            !orders.iter().all(|order| *order == fifo),
            "some seed leaves the default order"
        );
    });
}

/// A current-thread runtime with paused time and shuffle on (seed 3).
fn shuffled_paused_runtime() -> mini::Runtime {
    Builder::new_current_thread()
        .start_paused(true)
        .shuffle(3)
        .build()
        .unwrap()
}

#[test]
fn a_shuffled_paused_runtime_where_nothing_can_progress_fails_at_once() {
    with_timeout(|| {
        let runtime = shuffled_paused_runtime();
        let (_sender, receiver) = futures::channel::oneshot::channel::<()>();
        let stuck = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            runtime.block_on(async {
                let waiting = mini::spawn(receiver);
                waiting.await.unwrap()
            })
        }));
        let message = panic_message(&*stuck.expect_err("a deadlock must fail, not hang"));
        assert!(message.contains("no task can make progress"), "{message}");
    });
}

#[test]
fn a_shuffled_paused_runtime_with_a_timer_advances_time_instead() {
    with_timeout(|| {
        let runtime = shuffled_paused_runtime();
        let slept = runtime.block_on(async {
            let start = mini::time::Instant::now();
            mini::time::sleep(Duration::from_secs(3600)).await;
            start.elapsed()
        });
        assert!(slept >= Duration::from_secs(3600));
    });
}

#[mini::test(shuffle, flavor = "multi_thread", worker_threads = 3)]
async fn a_shuffled_multi_threaded_runtime_runs_every_task() {
    let _watchdog = watchdog("a_shuffled_multi_threaded_runtime_runs_every_task");
    let tasks: Vec<_> = (0..200u64)
        .map(|i| {
            mini::spawn(async move {
                for _ in 0..3 {
                    yield_now().await;
                }
                i
            })
        })
        .collect();
    let mut sum = 0;
    for task in tasks {
        sum += task.await.unwrap();
    }
    assert_eq!(sum, (0..200).sum::<u64>());
}

#[mini::test(shuffle, flavor = "thread_per_core", worker_threads = 2)]
async fn a_shuffled_thread_per_core_runtime_runs_every_task_and_logs_each_worker_s_draws() {
    let _watchdog = watchdog("a_shuffled_thread_per_core_runtime_runs_every_task_and_logs_each_worker_s_draws");
    let sums = mini::runtime::Handle::current()
        .run_on_each(|worker| async move {
            let tasks: Vec<_> = (0..100u64)
                .map(|i| {
                    mini::spawn(async move {
                        yield_now().await;
                        i
                    })
                })
                .collect();
            let mut sum = 0;
            for task in tasks {
                sum += task.await.unwrap();
            }
            (worker, sum)
        })
        .await;
    assert_eq!(sums, [(0, 4950), (1, 4950)]);
    assert!(mini::runtime::Handle::current().schedule_hash().is_some());
}

#[mini::test(shuffle)]
async fn a_shuffled_local_set_runs_its_tasks_in_a_drawn_order() {
    let _watchdog = watchdog("a_shuffled_local_set_runs_its_tasks_in_a_drawn_order");
    let local = mini::task::LocalSet::new();
    let log = Rc::new(RefCell::new(Vec::new()));
    local
        .run_until(async {
            let tasks: Vec<_> = (0..10)
                .map(|i| {
                    let log = log.clone();
                    mini::task::spawn_local(async move { log.borrow_mut().push(i) })
                })
                .collect();
            for task in tasks {
                task.await.unwrap();
            }
        })
        .await;
    let mut ran = log.take();
    ran.sort();
    assert_eq!(ran, (0..10).collect::<Vec<_>>());
}

#[test]
fn a_bad_seed_variable_is_a_clear_error() {
    let output = run_planted("a_shuffled_test_that_has_no_ordering_bug", &[("MINI_SEED", "seven")]);
    let stderr = printed(&output);
    assert!(!output.status.success());
    assert!(stderr.contains("MINI_SEED=\"seven\" is not a number"), "{stderr}");
}

#[mini::test]
#[ignore = "run by a_plain_mini_test_runs_once_per_seed_when_the_seed_variables_are_set"]
async fn a_plain_mini_test_that_says_when_it_runs() {
    println!(
        "mini-test-run: hash {:?}",
        mini::runtime::Handle::current().schedule_hash()
    );
}

#[test]
fn a_plain_mini_test_runs_once_per_seed_when_the_seed_variables_are_set() {
    let runs = |env: &[(&str, &str)]| {
        let mut command = Command::new(std::env::current_exe().unwrap());
        command.args([
            "a_plain_mini_test_that_says_when_it_runs",
            "--exact",
            "--ignored",
            "--nocapture",
        ]);
        for variable in ["MINI_SEED", "MINI_TEST_SEEDS", "MINI_CHECK_DETERMINISM"] {
            command.env_remove(variable);
        }
        let output = command.envs(env.iter().copied()).output().unwrap();
        assert!(output.status.success(), "{}", printed(&output));
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        stdout
            .lines()
            .filter(|line| line.starts_with("mini-test-run:"))
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        runs(&[]),
        ["mini-test-run: hash None"],
        "no variable: one run, not shuffled"
    );
    let swept = runs(&[("MINI_TEST_SEEDS", "7")]);
    assert_eq!(swept.len(), 7, "{swept:?}");
    assert!(swept.iter().all(|line| line.contains("Some(")), "shuffled: {swept:?}");
    assert_eq!(runs(&[("MINI_SEED", "5")]).len(), 1);
}

#[mini::test(shuffle)]
#[ignore = "run by the_determinism_check_names_where_two_runs_split"]
async fn a_shuffled_test_that_waits_on_a_std_thread() {
    let flag = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let setter = std::thread::spawn({
        let flag = flag.clone();
        move || {
            std::thread::sleep(Duration::from_millis(2));
            flag.store(true, std::sync::atomic::Ordering::SeqCst);
        }
    });
    // Two tasks poll the flag: how many rounds they make depends on the thread's timing.
    let pollers: Vec<_> = (0..2)
        .map(|_| {
            let flag = flag.clone();
            mini::spawn(async move {
                while !flag.load(std::sync::atomic::Ordering::SeqCst) {
                    yield_now().await;
                }
            })
        })
        .collect();
    for poller in pollers {
        poller.await.unwrap();
    }
    setter.join().unwrap();
}

#[test]
fn the_determinism_check_names_where_two_runs_split() {
    // Two runs of the pollers make the same number of rounds only by a rare chance: try thrice.
    let printed = (0..3)
        .map(|_| {
            let output = run_planted(
                "a_shuffled_test_that_waits_on_a_std_thread",
                &[("MINI_SEED", "3"), ("MINI_CHECK_DETERMINISM", "1")],
            );
            printed(&output)
        })
        .find(|printed| printed.contains("is not deterministic"))
        .expect("the check caught none of three runs whose wakes come from a thread");
    assert!(
        printed.contains("mini: MINI_SEED=3 is not deterministic: its two runs split at decision #"),
        "{printed}"
    );
    assert!(printed.contains("mini: test failed with MINI_SEED=3"), "{printed}");
}

#[mini::test(shuffle)]
#[ignore = "run by a_test_that_returns_an_error_prints_its_seed_too"]
async fn a_shuffled_test_that_returns_an_error() -> Result<(), String> {
    Err("planted error".to_owned())
}

#[test]
fn a_test_that_returns_an_error_prints_its_seed_too() {
    let output = run_planted("a_shuffled_test_that_returns_an_error", &[("MINI_SEED", "11")]);
    let printed = printed(&output);
    assert!(!output.status.success(), "{printed}");
    assert!(
        printed.contains("mini: test failed with MINI_SEED=11; rerun with MINI_SEED=11 to reproduce"),
        "{printed}"
    );
    assert!(printed.contains("planted error"), "{printed}");
}

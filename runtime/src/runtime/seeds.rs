//! Seed sweeps for tests on a shuffled scheduler ([`Builder::shuffle`]): what `#[mini::test]`
//! expands to, usable directly from a hand-written `#[test]`.
//!
//! [`run_test`] runs a test body on a fresh runtime per seed and, when the body fails (a panic,
//! an `Err`, or paused time's "no task can make progress"), prints the line that replays it:
//!
//! ```text
//! mini: test failed with MINI_SEED=4242; rerun with MINI_SEED=4242 to reproduce
//! ```
//!
//! The environment steers it:
//!
//! - `MINI_SEED=<n>` ([`SEED_ENV`]): the (first) seed. Without it, each run draws a fresh one.
//! - `MINI_TEST_SEEDS=<k>` ([`SEEDS_ENV`]): run the body under `k` seeds, `n, n+1, …`, each on a
//!   fresh runtime; the first failure stops the sweep.
//! - `MINI_CHECK_DETERMINISM=1` ([`CHECK_DETERMINISM_ENV`]): run each seed twice and compare
//!   the two decision logs; if they differ, fail and say at which decision they split
//!   (current-thread only: thread timing makes multi-threaded runs differ anyway).
//!
//! With [`ShuffleMode::FromEnv`] (a plain current-thread `#[mini::test]`), the body is shuffled
//! only when `MINI_SEED` or `MINI_TEST_SEEDS` is set, so that `MINI_TEST_SEEDS=50 cargo test`
//! sweeps a whole existing suite.

use super::Builder;
use crate::util::shuffle::Decision;
use std::any::Any;
use std::future::Future;
use std::hash::BuildHasher;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};

/// The environment variable that fixes the seed: `MINI_SEED`.
pub const SEED_ENV: &str = "MINI_SEED";
/// The environment variable that sets how many seeds each test runs under: `MINI_TEST_SEEDS`.
pub const SEEDS_ENV: &str = "MINI_TEST_SEEDS";
/// The environment variable that turns the determinism check on: `MINI_CHECK_DETERMINISM=1`.
pub const CHECK_DETERMINISM_ENV: &str = "MINI_CHECK_DETERMINISM";

/// Whether [`run_test`] shuffles.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ShuffleMode {
    /// Always (`#[mini::test(shuffle)]`), with a fresh seed when `MINI_SEED` is not set.
    Always,
    /// Only when `MINI_SEED` or `MINI_TEST_SEEDS` is set (a plain current-thread
    /// `#[mini::test]`).
    FromEnv,
    /// Never (`#[mini::test(shuffle = false)]`, for a test of the default order, and a plain
    /// multi-threaded `#[mini::test]`).
    Never,
}

/// What a test body returns, and whether that is a failure: `()` never is, a `Result` is when
/// it is an `Err`.
pub trait TestOutcome {
    /// Whether the test failed.
    fn is_failure(&self) -> bool;
}

impl TestOutcome for () {
    fn is_failure(&self) -> bool {
        false
    }
}

impl<T, E> TestOutcome for Result<T, E> {
    fn is_failure(&self) -> bool {
        self.is_err()
    }
}

/// Runs `body` on a runtime from `builder` (a new one per run), shuffled as `mode` and the
/// environment say (see the module doc), and returns what its last run returned. A failure
/// prints the seed that replays it on stderr, then is returned (an `Err`) or resumed (a panic).
///
/// ```
/// use mini_runtime::runtime::seeds::{run_test, ShuffleMode};
/// use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
///
/// let runs = AtomicUsize::new(0);
/// run_test(ShuffleMode::Always, mini_runtime::runtime::Builder::new_current_thread, || async {
///     runs.fetch_add(1, SeqCst);
///     let task = mini_runtime::spawn(async { 1 + 1 });
///     assert_eq!(task.await.unwrap(), 2);
/// });
/// assert!(runs.load(SeqCst) >= 1);
/// ```
pub fn run_test<R, Fut>(mode: ShuffleMode, builder: impl Fn() -> Builder, body: impl Fn() -> Fut) -> R
where
    Fut: Future<Output = R>,
    R: TestOutcome,
{
    let env = SeedEnv::read();
    let shuffled = match mode {
        ShuffleMode::Always => true,
        ShuffleMode::FromEnv => env.seed.is_some() || env.seeds.is_some(),
        ShuffleMode::Never => false,
    };
    if !shuffled {
        let runtime = builder().build().expect("failed to build the mini runtime");
        return runtime.block_on(body());
    }
    let first = env.seed.unwrap_or_else(fresh_seed);
    let mut last = None;
    for offset in 0..env.seeds.unwrap_or(1).max(1) {
        let seed = first.wrapping_add(offset);
        let run = run_seed(&builder, &body, seed, env.check_determinism);
        let failed = match &run {
            Ok(output) => output.is_failure(),
            Err(_) => true,
        };
        if failed {
            eprintln!("mini: test failed with {SEED_ENV}={seed}; rerun with {SEED_ENV}={seed} to reproduce");
        }
        match run {
            Ok(output) if !failed => last = Some(output),
            Ok(output) => return output,
            Err(panic) => resume_unwind(panic),
        }
    }
    last.expect("at least one seed ran")
}

/// One seed: the body's output, or its panic. With the determinism check, runs it twice and
/// panics (as the seed's failure) if the two schedules differ.
fn run_seed<R, Fut: Future<Output = R>>(
    builder: &impl Fn() -> Builder,
    body: &impl Fn() -> Fut,
    seed: u64,
    check_determinism: bool,
) -> Result<R, Box<dyn Any + Send>> {
    let first = run_once(builder, body, seed, check_determinism);
    if !check_determinism {
        return first.output;
    }
    let Some(first_log) = &first.log else {
        eprintln!("mini: {CHECK_DETERMINISM_ENV} applies to the current-thread flavor only: not checked");
        return first.output;
    };
    let second = run_once(builder, body, seed, true);
    let second_log = second.log.expect("the same builder keeps a log again");
    if let Some(split) = first_split(first_log, &second_log) {
        let message = format!(
            "mini: {SEED_ENV}={seed} is not deterministic: its two runs split at {split} (a wake \
             from another thread, real I/O timing, or non-determinism in the test itself)"
        );
        // Said here: the failure is resumed without running the panic hook.
        eprintln!("{message}");
        return Err(Box::new(message));
    }
    first.output
}

struct Run<R> {
    output: Result<R, Box<dyn Any + Send>>,
    /// The decision log, when kept (current-thread, determinism check).
    log: Option<Vec<Decision>>,
}

fn run_once<R, Fut: Future<Output = R>>(
    builder: &impl Fn() -> Builder,
    body: &impl Fn() -> Fut,
    seed: u64,
    keep_log: bool,
) -> Run<R> {
    let mut builder = builder();
    builder.shuffle(seed);
    if keep_log {
        builder.keep_schedule_log();
    }
    let runtime = builder.build().expect("failed to build the mini runtime");
    let output = catch_unwind(AssertUnwindSafe(|| runtime.block_on(body())));
    let log = match runtime.handle().inner.shuffles() {
        [only] => only.log(),
        _ => None,
    };
    Run { output, log }
}

/// Where two decision logs part, as words; `None` if they are the same.
fn first_split(first: &[Decision], second: &[Decision]) -> Option<String> {
    let index = first.iter().zip(second).position(|(a, b)| a != b);
    match index {
        Some(index) => Some(format!(
            "decision #{index}: {} in the first run, {} in the second",
            first[index], second[index]
        )),
        None if first.len() != second.len() => Some(format!(
            "decision #{}: one run made {} decisions, the other {}",
            first.len().min(second.len()),
            first.len(),
            second.len()
        )),
        None => None,
    }
}

/// What the environment says (see the module doc).
struct SeedEnv {
    seed: Option<u64>,
    seeds: Option<u64>,
    check_determinism: bool,
}

impl SeedEnv {
    fn read() -> SeedEnv {
        SeedEnv {
            seed: number(SEED_ENV),
            seeds: number(SEEDS_ENV),
            check_determinism: std::env::var(CHECK_DETERMINISM_ENV).is_ok_and(|value| value == "1"),
        }
    }
}

/// The variable `name` as a number, if set.
///
/// # Panics
/// If it is set but not a number: a typo must not silently run the default.
fn number(name: &str) -> Option<u64> {
    let value = std::env::var(name).ok()?;
    match value.trim().parse() {
        Ok(number) => Some(number),
        Err(_) => panic!("mini: {name}={value:?} is not a number; set it to a non-negative integer"),
    }
}

/// A seed no earlier run used, as far as can be told: the standard library's per-process
/// random hash keys, mixed with the time.
fn fresh_seed() -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| since.as_nanos());
    std::collections::hash_map::RandomState::new().hash_one(nanos)
}

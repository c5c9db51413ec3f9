//! Scheduler benchmarks: the workloads of tokio's `benches/rt_multi_threaded.rs`, with tokio's
//! parameters, run on mini, tokio (current-thread and multi-thread) and smol.
//!
//! Each workload is written once, generic over a small private trait `Rt`, so every runtime
//! runs the same code and every spawned future is a concrete type (no runtime pays for dynamic
//! dispatch the others don't). Where tokio's bench waits with a blocking `std::sync::mpsc`
//! receive inside `block_on` (which would deadlock a current-thread runtime), the workloads here
//! await a `futures::channel::oneshot` instead, on every runtime.
//!
//! | workload | tokio's bench | what it measures |
//! |---|---|---|
//! | `spawn_many_local` | `spawn_many_local` | 10,000 spawns from inside `block_on` |
//! | `spawn_many_remote_idle` | `spawn_many_remote_idle` | 10,000 spawns from outside, runtime idle; then join them |
//! | `spawn_many_remote_busy` | `spawn_many_remote_busy1` | 1,000 spawns from outside while 2 tasks per worker yield and spin 5 µs in a loop (multi-thread only) |
//! | `yield_many` | `yield_many` | 200 tasks yielding 1,000 times each |
//! | `ping_pong` | `ping_pong` | 1,000 round trips over oneshot pairs between task pairs |
//! | `chained_spawn` | `chained_spawn` | a chain of 1,000 tasks, each spawning the next |
//! | `join_set` | — | 10,000 tasks (each yields once) spawned into a `JoinSet` and joined with `join_next` (not smol: it has none) |
//! | `join_set_100k` | — | the same with 100,000 tasks: ten times `join_set`'s time if a completion costs O(1) |
//!
//! The variants: `mini-ct` and `tokio-ct` (current-thread runtimes), `mini-mt` and `tokio-mt`
//! (multi-threaded, one worker per CPU the process may use), tokio's with `enable_all` as in its
//! bench, and `smol` (one `async_executor::Executor` driven by `smol::block_on(executor.run(..))`
//! on the benchmark thread, so single-threaded like the `-ct` variants).

use futures::channel::oneshot;
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The runtimes [`time_per_iteration`] knows.
pub const VARIANTS: &[&str] = &["mini-ct", "tokio-ct", "smol", "mini-mt", "tokio-mt"];

/// The workloads [`time_per_iteration`] knows.
pub const WORKLOADS: &[&str] = &[
    "spawn_many_local",
    "spawn_many_remote_idle",
    "spawn_many_remote_busy",
    "yield_many",
    "ping_pong",
    "chained_spawn",
    "join_set",
    "join_set_100k",
];

/// Whether the variant runs tasks on worker threads.
pub fn is_multi_thread(variant: &str) -> bool {
    variant.ends_with("-mt")
}

/// Whether the pair is measured: `spawn_many_remote_busy` needs worker threads to be busy on,
/// and smol has no `JoinSet`.
pub fn runs(variant: &str, workload: &str) -> bool {
    match workload {
        "spawn_many_remote_busy" => is_multi_thread(variant),
        "join_set" | "join_set_100k" => variant != "smol",
        _ => true,
    }
}

/// Builds the variant's runtime once, runs `workload` once to warm up, then `iterations` times,
/// and returns the mean wall time of one iteration.
///
/// # Panics
/// For a variant not in [`VARIANTS`], a workload not in [`WORKLOADS`], or `iterations == 0`.
pub fn time_per_iteration(variant: &str, workload: &str, iterations: u32) -> Duration {
    assert!(
        iterations > 0,
        "sched::time_per_iteration: `iterations` must be at least 1"
    );
    // Check both names before building anything, so a typo fails fast and says which one.
    if !WORKLOADS.contains(&workload) {
        panic!("sched: unknown workload {workload:?}; known: {WORKLOADS:?}");
    }
    match variant {
        "mini-ct" => measure(&Mini(mini_runtime(false)), workload, iterations),
        "mini-mt" => measure(&Mini(mini_runtime(true)), workload, iterations),
        "tokio-ct" => measure(&Tokio(tokio_runtime(false)), workload, iterations),
        "tokio-mt" => measure(&Tokio(tokio_runtime(true)), workload, iterations),
        "smol" => measure(&Smol, workload, iterations),
        _ => panic!("sched: unknown variant {variant:?}; known: {VARIANTS:?}"),
    }
}

fn measure<R: Rt>(rt: &R, workload: &str, iterations: u32) -> Duration {
    let run: fn(&R) = match workload {
        "spawn_many_local" => spawn_many_local::<R>,
        "spawn_many_remote_idle" => spawn_many_remote_idle::<R>,
        "spawn_many_remote_busy" => spawn_many_remote_busy::<R>,
        "yield_many" => yield_many::<R>,
        "ping_pong" => ping_pong::<R>,
        "chained_spawn" => chained_spawn::<R>,
        "join_set" => join_set::<R, 10_000>,
        "join_set_100k" => join_set::<R, 100_000>,
        _ => panic!("sched: unknown workload {workload:?}; known: {WORKLOADS:?}"),
    };
    run(rt); // warm-up: allocator, thread wake-ups, queue capacity
    let start = Instant::now();
    for _ in 0..iterations {
        run(rt);
    }
    start.elapsed() / iterations
}

// ---------------------------------------------------------------------------------------------
// The runtimes
// ---------------------------------------------------------------------------------------------

/// What a workload needs from a runtime. `spawn` and `yield_now` are associated functions (no
/// `self`), reached from inside tasks the way each runtime's own free functions are.
trait Rt {
    /// Runs `future` to completion on the calling thread, running the runtime's tasks meanwhile
    /// (on this thread, or on worker threads for tokio-mt).
    fn block_on<F: Future>(&self, future: F) -> F::Output;

    /// Spawns a detached task from inside the runtime (in a task or in `block_on`).
    fn spawn<F: Future<Output = ()> + Send + 'static>(future: F);

    /// Spawns a task from outside the runtime; the returned future completes when the task has
    /// (and panics if it panicked).
    fn spawn_remote<F: Future<Output = ()> + Send + 'static>(&self, future: F) -> impl Future<Output = ()>;

    /// The runtime's own `yield_now`.
    fn yield_now() -> impl Future<Output = ()> + Send;

    /// Spawns `tasks` tasks that each yield once into the runtime's `JoinSet`, and joins them
    /// all with `join_next`.
    fn join_set(tasks: usize) -> impl Future<Output = ()>;
}

/// mini, current-thread or multi-thread (the same code: `mini::spawn` finds either).
struct Mini(mini::Runtime);

fn mini_runtime(multi_thread: bool) -> mini::Runtime {
    let mut builder = if multi_thread {
        mini::runtime::Builder::new_multi_thread()
    } else {
        mini::runtime::Builder::new_current_thread()
    };
    builder.build().expect("mini runtime")
}

impl Rt for Mini {
    fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.0.block_on(future)
    }

    fn spawn<F: Future<Output = ()> + Send + 'static>(future: F) {
        mini::spawn(future);
    }

    fn spawn_remote<F: Future<Output = ()> + Send + 'static>(&self, future: F) -> impl Future<Output = ()> {
        let join = self.0.handle().spawn(future);
        async move { join.await.expect("mini task failed") }
    }

    fn yield_now() -> impl Future<Output = ()> + Send {
        mini::task::yield_now()
    }

    async fn join_set(tasks: usize) {
        let mut set = mini::task::JoinSet::new();
        for _ in 0..tasks {
            set.spawn(mini::task::yield_now());
        }
        while let Some(result) = set.join_next().await {
            result.expect("mini task failed");
        }
    }
}

/// tokio, current-thread or multi-thread (the same code: `tokio::spawn` finds either).
struct Tokio(tokio::runtime::Runtime);

fn tokio_runtime(multi_thread: bool) -> tokio::runtime::Runtime {
    let mut builder = if multi_thread {
        tokio::runtime::Builder::new_multi_thread()
    } else {
        tokio::runtime::Builder::new_current_thread()
    };
    builder.enable_all().build().expect("tokio runtime")
}

impl Rt for Tokio {
    fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.0.block_on(future)
    }

    fn spawn<F: Future<Output = ()> + Send + 'static>(future: F) {
        tokio::spawn(future);
    }

    fn spawn_remote<F: Future<Output = ()> + Send + 'static>(&self, future: F) -> impl Future<Output = ()> {
        let join = self.0.handle().spawn(future);
        async move { join.await.expect("tokio task failed") }
    }

    fn yield_now() -> impl Future<Output = ()> + Send {
        tokio::task::yield_now()
    }

    async fn join_set(tasks: usize) {
        let mut set = tokio::task::JoinSet::new();
        for _ in 0..tasks {
            set.spawn(tokio::task::yield_now());
        }
        while let Some(result) = set.join_next().await {
            result.expect("tokio task failed");
        }
    }
}

/// smol's executor. Tasks spawn further tasks, so it must be reachable without `self`: a static
/// (`Executor::new` is `const`). It runs only while some thread is inside `EXECUTOR.run`, here
/// the benchmark thread in `block_on`.
static EXECUTOR: smol::Executor<'static> = smol::Executor::new();

struct Smol;

impl Rt for Smol {
    fn block_on<F: Future>(&self, future: F) -> F::Output {
        smol::block_on(EXECUTOR.run(future))
    }

    fn spawn<F: Future<Output = ()> + Send + 'static>(future: F) {
        EXECUTOR.spawn(future).detach();
    }

    fn spawn_remote<F: Future<Output = ()> + Send + 'static>(&self, future: F) -> impl Future<Output = ()> {
        // A `Task` is its own join handle (a panic in the task resumes when it is awaited).
        EXECUTOR.spawn(future)
    }

    fn yield_now() -> impl Future<Output = ()> + Send {
        smol::future::yield_now()
    }

    async fn join_set(_tasks: usize) {
        unreachable!("smol has no JoinSet: `runs` leaves the pair out")
    }
}

// ---------------------------------------------------------------------------------------------
// The workloads
// ---------------------------------------------------------------------------------------------

/// tokio's `rem` counter and `done_tx`, in one allocation: the task that brings the count to
/// zero sends on the oneshot that the waiter awaits.
struct Countdown {
    remaining: AtomicUsize,
    done: Mutex<Option<oneshot::Sender<()>>>,
}

impl Countdown {
    fn new(count: usize) -> (Arc<Countdown>, oneshot::Receiver<()>) {
        let (tx, rx) = oneshot::channel();
        let countdown = Countdown {
            remaining: AtomicUsize::new(count),
            done: Mutex::new(Some(tx)),
        };
        (Arc::new(countdown), rx)
    }

    fn tick(&self) {
        if self.remaining.fetch_sub(1, Ordering::AcqRel) == 1 {
            let tx = self.done.lock().unwrap().take().expect("countdown finished twice");
            tx.send(()).expect("countdown waiter gone");
        }
    }
}

/// tokio's `spawn_many_local`: inside `block_on`, spawn 10,000 tasks that each tick a countdown.
fn spawn_many_local<R: Rt>(rt: &R) {
    const NUM_SPAWN: usize = 10_000;

    let (countdown, done) = Countdown::new(NUM_SPAWN);
    rt.block_on(async move {
        for _ in 0..NUM_SPAWN {
            let countdown = countdown.clone();
            R::spawn(async move { countdown.tick() });
        }
        done.await.expect("countdown dropped");
    });
}

/// tokio's `spawn_many_remote_idle`: from outside the idle runtime, spawn 10,000 empty tasks;
/// then, in `block_on`, await each one's handle.
fn spawn_many_remote_idle<R: Rt>(rt: &R) {
    const NUM_SPAWN: usize = 10_000;

    let mut handles = Vec::with_capacity(NUM_SPAWN);
    for _ in 0..NUM_SPAWN {
        handles.push(rt.spawn_remote(async {}));
    }
    rt.block_on(async move {
        for handle in handles {
            handle.await;
        }
    });
}

/// tokio's `spawn_many_remote_busy1`: while two tasks per worker loop yielding and spinning
/// 5 µs, spawn 1,000 empty tasks from outside, then await them all in `block_on`. The busy tasks
/// are started once per call here (tokio starts them once per benchmark), and stopped at its end.
fn spawn_many_remote_busy<R: Rt>(rt: &R) {
    const NUM_SPAWN: usize = 1_000;

    let workers = std::thread::available_parallelism().map_or(1, usize::from);
    let busy = Arc::new(std::sync::atomic::AtomicBool::new(true));
    for _ in 0..2 * workers {
        let busy = busy.clone();
        drop(rt.spawn_remote(async move {
            while busy.load(Ordering::Relaxed) {
                R::yield_now().await;
                let start = Instant::now();
                while start.elapsed() < Duration::from_micros(5) {
                    std::hint::spin_loop();
                }
            }
        }));
    }
    let handles: Vec<_> = (0..NUM_SPAWN).map(|_| rt.spawn_remote(async {})).collect();
    rt.block_on(async move {
        for handle in handles {
            handle.await;
        }
    });
    busy.store(false, Ordering::Relaxed);
}

/// tokio's `yield_many`: 200 tasks yield 1,000 times each. tokio spawns them with `rt.spawn`
/// and waits on a blocking channel; here they are spawned inside `block_on` (as in
/// `spawn_many_local`) and a countdown signals the end.
fn yield_many<R: Rt>(rt: &R) {
    const NUM_YIELD: usize = 1_000;
    const TASKS: usize = 200;

    let (countdown, done) = Countdown::new(TASKS);
    rt.block_on(async move {
        for _ in 0..TASKS {
            let countdown = countdown.clone();
            R::spawn(async move {
                for _ in 0..NUM_YIELD {
                    R::yield_now().await;
                }
                countdown.tick();
            });
        }
        done.await.expect("countdown dropped");
    });
}

/// tokio's `ping_pong`: one task spawns 1,000 tasks; each spawns a partner, pings it over one
/// oneshot and awaits the pong on another; a countdown signals the end.
fn ping_pong<R: Rt>(rt: &R) {
    const NUM_PINGS: usize = 1_000;

    let (countdown, done) = Countdown::new(NUM_PINGS);
    rt.block_on(async move {
        R::spawn(async move {
            for _ in 0..NUM_PINGS {
                let countdown = countdown.clone();
                R::spawn(async move {
                    let (tx1, rx1) = oneshot::channel::<()>();
                    let (tx2, rx2) = oneshot::channel::<()>();
                    R::spawn(async move {
                        rx1.await.unwrap();
                        tx2.send(()).unwrap();
                    });
                    tx1.send(()).unwrap();
                    rx2.await.unwrap();
                    countdown.tick();
                });
            }
        });
        done.await.expect("countdown dropped");
    });
}

/// tokio's `chained_spawn`: a chain of 1,000 tasks, each spawning the next; the last signals.
fn chained_spawn<R: Rt>(rt: &R) {
    const ITER: usize = 1_000;

    fn iter<R: Rt>(done: oneshot::Sender<()>, n: usize) {
        if n == 0 {
            done.send(()).unwrap();
        } else {
            R::spawn(async move { iter::<R>(done, n - 1) });
        }
    }

    let (tx, rx) = oneshot::channel();
    rt.block_on(async move {
        R::spawn(async move { iter::<R>(tx, ITER) });
        rx.await.expect("chain dropped");
    });
}

/// `join_set` and `join_set_100k`: `TASKS` tasks into a `JoinSet`, joined as they finish.
fn join_set<R: Rt, const TASKS: usize>(rt: &R) {
    rt.block_on(R::join_set(TASKS));
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;

    /// Runs every workload once (plus the warm-up) on `variant`, failing instead of hanging if
    /// one does not finish within 60 s.
    fn completes(variant: &'static str) {
        for &workload in WORKLOADS.iter().filter(|workload| runs(variant, workload)) {
            let (tx, rx) = mpsc::channel();
            std::thread::spawn(move || {
                let took = time_per_iteration(variant, workload, 1);
                let _ = tx.send(took);
            });
            match rx.recv_timeout(Duration::from_secs(60)) {
                Ok(_) => {}
                Err(mpsc::RecvTimeoutError::Timeout) => panic!("{variant}/{workload} did not finish in 60 s"),
                Err(mpsc::RecvTimeoutError::Disconnected) => panic!("{variant}/{workload} panicked"),
            }
        }
    }

    #[test]
    fn mini_ct_completes() {
        completes("mini-ct");
    }

    #[test]
    fn mini_mt_completes() {
        completes("mini-mt");
    }

    #[test]
    fn tokio_ct_completes() {
        completes("tokio-ct");
    }

    #[test]
    fn tokio_mt_completes() {
        completes("tokio-mt");
    }

    #[test]
    fn smol_completes() {
        completes("smol");
    }

    #[test]
    #[should_panic(expected = "unknown variant")]
    fn unknown_variant_panics() {
        time_per_iteration("glommio", "yield_many", 1);
    }

    #[test]
    #[should_panic(expected = "unknown workload")]
    fn unknown_workload_panics() {
        time_per_iteration("mini-ct", "spawn_many_remote_busy1", 1);
    }

    /// The median over 5 runs of `time_per_iteration(variant, workload, 20)`, per workload and
    /// variant. Run with `cargo test -p mini-bench --release sched -- --ignored --nocapture
    /// print_table`.
    #[test]
    #[ignore]
    fn print_table() {
        print!("{:<24}", "workload");
        for variant in VARIANTS {
            print!("{variant:>12}");
        }
        println!();
        for &workload in WORKLOADS {
            print!("{workload:<24}");
            for &variant in VARIANTS.iter().filter(|variant| runs(variant, workload)) {
                let mut times: Vec<Duration> = (0..5).map(|_| time_per_iteration(variant, workload, 20)).collect();
                times.sort();
                let median = times[2];
                print!("{:>12}", format!("{:.1} us", median.as_secs_f64() * 1e6));
            }
            println!();
        }
    }
}

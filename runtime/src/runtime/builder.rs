//! `Builder`: how a runtime is configured before it starts.

use super::dump_on_signal::{BlockOn, DumpOnSignal};
use super::Runtime;
use crate::context;
use crate::scheduler::stall_report::StallReport;
use crate::scheduler::watchdog::{StallConfig, Watchdog};
use crate::scheduler::{Config, Scheduler};
use crate::signal::SignalKind;
use std::fmt;
use std::io;
use std::sync::Arc;
use std::time::Duration;

/// The environment variable that sets the default number of worker threads of a multi-threaded
/// or thread-per-core runtime (when [`Builder::worker_threads`] is not called).
pub const WORKER_THREADS_ENV: &str = "MINI_WORKER_THREADS";

/// The environment variable that overrides [`Builder::stall_threshold`] when a runtime is
/// built: a number of milliseconds, or `0` or `off` to turn the stall detector off. For turning
/// the detector on, off or finer in production without a rebuild.
pub const STALL_THRESHOLD_ENV: &str = "MINI_STALL_THRESHOLD_MS";

/// Configures and builds a [`Runtime`].
///
/// ```
/// let rt = mini_runtime::runtime::Builder::new_multi_thread()
///     .worker_threads(2)
///     .thread_name("my-worker")
///     .build()
///     .unwrap();
/// assert_eq!(rt.block_on(async { mini_runtime::spawn(async { 1 + 1 }).await.unwrap() }), 2);
/// ```
#[derive(Clone)]
pub struct Builder {
    flavor: Flavor,
    config: Config,
    worker_threads: Option<usize>,
    stall: StallConfig,
    dump_on_signal: Option<SignalKind>,
    pin_workers: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Flavor {
    CurrentThread,
    MultiThread,
    ThreadPerCore,
}

impl Builder {
    /// A runtime that runs every task on the thread that calls `block_on`.
    pub fn new_current_thread() -> Builder {
        Builder::with_flavor(Flavor::CurrentThread)
    }

    /// A runtime with worker threads that run tasks, stealing work from one another (one per
    /// CPU unless [`worker_threads`](Builder::worker_threads) or the `MINI_WORKER_THREADS`
    /// environment variable says otherwise).
    pub fn new_multi_thread() -> Builder {
        Builder::with_flavor(Flavor::MultiThread)
    }

    /// A runtime with worker threads that share nothing on the hot path: each runs its own
    /// current-thread scheduler, with its own epoll instance, timers and run queue (one per CPU
    /// unless [`worker_threads`](Builder::worker_threads) or `MINI_WORKER_THREADS` says
    /// otherwise). A task stays on the worker it was spawned on, so `spawn_local` works on every
    /// worker; [`Runtime::run_on_each`] runs a future on each, and `TcpListener::bind_per_worker`
    /// (in `mini-net`) gives each its own `SO_REUSEPORT` listener. For servers whose connections
    /// cost about the same: nothing moves a task off a busy worker.
    ///
    /// ```
    /// let rt = mini_runtime::runtime::Builder::new_thread_per_core().worker_threads(2).build().unwrap();
    /// let workers = rt.run_on_each(|worker| async move {
    ///     // `!Send` state is fine: this future and what it spawns stay on this worker.
    ///     let here = std::rc::Rc::new(worker);
    ///     let local = mini_runtime::task::spawn_local(async move { *here });
    ///     (local.await.unwrap(), mini_runtime::runtime::worker_index())
    /// });
    /// assert_eq!(workers, [(0, Some(0)), (1, Some(1))]);
    /// ```
    pub fn new_thread_per_core() -> Builder {
        Builder::with_flavor(Flavor::ThreadPerCore)
    }

    fn with_flavor(flavor: Flavor) -> Builder {
        Builder {
            flavor,
            config: Config::default(),
            worker_threads: None,
            stall: StallConfig::default(),
            dump_on_signal: None,
            pin_workers: false,
        }
    }

    /// Pins each worker thread of a multi-threaded or thread-per-core runtime to a CPU of its
    /// own: worker `n` to the
    /// `n`th CPU of the process's affinity mask (which the kernel keeps within the cgroup's
    /// cpuset, so `taskset` and container limits are honoured). A pinned worker keeps its caches
    /// and is never moved by the kernel's balancer; other threads may still share its CPU.
    ///
    /// `build` fails with `InvalidInput` if the mask has fewer CPUs than workers, or on a
    /// current-thread runtime (which has no worker threads: pin the thread that calls
    /// `block_on` yourself).
    ///
    /// ```
    /// let cpus = std::thread::available_parallelism().unwrap().get();
    /// let rt = mini_runtime::runtime::Builder::new_multi_thread()
    ///     .worker_threads(1)
    ///     .pin_workers(true)
    ///     .build()
    ///     .unwrap();
    /// assert_eq!(rt.block_on(async { mini_runtime::spawn(async { 7 }).await.unwrap() }), 7);
    /// let too_many = mini_runtime::runtime::Builder::new_multi_thread()
    ///     .worker_threads(cpus + 1)
    ///     .pin_workers(true)
    ///     .build();
    /// assert_eq!(too_many.err().unwrap().kind(), std::io::ErrorKind::InvalidInput);
    /// ```
    pub fn pin_workers(&mut self, pin: bool) -> &mut Self {
        self.pin_workers = pin;
        self
    }

    /// How many worker threads a multi-threaded or thread-per-core runtime runs (default: one per
    /// CPU this process may use, or `MINI_WORKER_THREADS`). Ignored by a current-thread runtime.
    ///
    /// # Panics
    /// If `threads` is 0.
    pub fn worker_threads(&mut self, threads: usize) -> &mut Self {
        assert!(threads > 0, "worker_threads must be at least 1");
        self.worker_threads = Some(threads);
        self
    }

    /// The name of the runtime's threads, its workers' and its blocking pool's (default
    /// `mini-worker` and `mini-blocking`).
    pub fn thread_name(&mut self, name: impl Into<String>) -> &mut Self {
        let name = name.into();
        self.thread_name_fn(move || name.clone())
    }

    /// Names each of the runtime's threads (workers and blocking threads) by calling `name`.
    pub fn thread_name_fn(&mut self, name: impl Fn() -> String + Send + Sync + 'static) -> &mut Self {
        self.config.threads.name = Some(Arc::new(name));
        self
    }

    /// Runs `callback` on each of the runtime's threads (workers and blocking threads) when it
    /// starts, before it runs any task or job.
    pub fn on_thread_start(&mut self, callback: impl Fn() + Send + Sync + 'static) -> &mut Self {
        self.config.threads.on_start = Some(Arc::new(callback));
        self
    }

    /// Runs `callback` on each of the runtime's threads (workers and blocking threads) just
    /// before it exits.
    pub fn on_thread_stop(&mut self, callback: impl Fn() + Send + Sync + 'static) -> &mut Self {
        self.config.threads.on_stop = Some(Arc::new(callback));
        self
    }

    /// Does nothing: the reactor and the timers are always on in mini. Here so that tokio's
    /// `Builder::new_multi_thread().enable_all().build()` ports unchanged.
    ///
    /// ```
    /// let rt = mini_runtime::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    /// rt.block_on(async { mini_runtime::time::sleep(std::time::Duration::from_millis(1)).await });
    /// ```
    pub fn enable_all(&mut self) -> &mut Self {
        self
    }

    /// Does nothing: the reactor is always on (see [`enable_all`](Builder::enable_all)).
    pub fn enable_io(&mut self) -> &mut Self {
        self
    }

    /// Does nothing: the timers are always on (see [`enable_all`](Builder::enable_all)).
    pub fn enable_time(&mut self) -> &mut Self {
        self
    }

    /// How many tasks run between two checks of the reactor for ready I/O (default 61). Lower
    /// values make I/O wait less behind busy tasks; higher ones spend fewer syscalls.
    ///
    /// # Panics
    /// If `interval` is 0.
    pub fn event_interval(&mut self, interval: u32) -> &mut Self {
        assert!(interval > 0, "event_interval must be at least 1");
        self.config.event_interval = interval;
        self
    }

    /// How often (in tasks run) the queue of tasks woken from other threads is checked before
    /// the local queue (default 31).
    ///
    /// # Panics
    /// If `interval` is 0.
    pub fn global_queue_interval(&mut self, interval: u32) -> &mut Self {
        assert!(interval > 0, "global_queue_interval must be at least 1");
        self.config.global_queue_interval = interval;
        self
    }

    /// Starts the runtime with its clock paused (see [`time::pause`](crate::time::pause)): for
    /// tests of timeouts that run in no real time. Current-thread runtimes only: `build` fails
    /// on a multi-threaded or thread-per-core one.
    pub fn start_paused(&mut self, paused: bool) -> &mut Self {
        self.config.start_paused = paused;
        self
    }

    /// Shuffled scheduling, for tests: every choice of which ready task runs next (any of them,
    /// not the oldest), of the order in which one batch of wakes (a reactor turn's I/O events,
    /// the timers of one tick, the tasks that yielded) is delivered, and on the multi-threaded
    /// flavor of the LIFO slot, the inject queue's turn and the steal victims, is drawn from a
    /// generator seeded with `seed`. A test that passes only in the default order has an
    /// ordering bug; `#[mini::test(shuffle)]` sweeps seeds and prints the one that fails.
    ///
    /// On the current-thread flavor with paused time, the same seed replays the same schedule
    /// (see [`Handle::schedule_hash`](super::Handle::schedule_hash)), as long as the test's own
    /// wakes come from its tasks, timers and sockets. On the multi-threaded flavor thread timing
    /// still varies from run to run: shuffle finds bugs there, but a seed does not replay one.
    /// With shuffle and paused time both on, a runtime where nothing can progress (every task
    /// waits, no timer is armed, no fd is registered, no blocking job runs) panics at once
    /// rather than hang.
    ///
    /// ```
    /// use std::sync::{Arc, Mutex};
    /// let order = Arc::new(Mutex::new(Vec::new()));
    /// let rt = mini_runtime::runtime::Builder::new_current_thread().shuffle(7).build().unwrap();
    /// rt.block_on(async {
    ///     let tasks: Vec<_> = (0..5)
    ///         .map(|i| {
    ///             let order = order.clone();
    ///             mini_runtime::spawn(async move { order.lock().unwrap().push(i) })
    ///         })
    ///         .collect();
    ///     for task in tasks {
    ///         task.await.unwrap();
    ///     }
    /// });
    /// let mut ran = order.lock().unwrap().clone();
    /// ran.sort();
    /// assert_eq!(ran, [0, 1, 2, 3, 4]); // all of them, in an order the seed chose
    /// ```
    pub fn shuffle(&mut self, seed: u64) -> &mut Self {
        self.config.shuffle = Some(crate::scheduler::ShuffleConfig { seed, keep_log: false });
        self
    }

    /// Keeps every scheduling decision of a shuffled runtime, not only their hash (the
    /// determinism check of `runtime::seeds`).
    pub(crate) fn keep_schedule_log(&mut self) -> &mut Self {
        if let Some(shuffle) = &mut self.config.shuffle {
            shuffle.keep_log = true;
        }
        self
    }

    /// The most threads the blocking pool (`spawn_blocking`) runs at once (default 512); more
    /// jobs wait in its queue.
    ///
    /// # Panics
    /// If `threads` is 0.
    pub fn max_blocking_threads(&mut self, threads: usize) -> &mut Self {
        assert!(threads > 0, "max_blocking_threads must be at least 1");
        self.config.max_blocking_threads = threads;
        self
    }

    /// How long an idle blocking thread waits for a job before it exits (default 10 s).
    pub fn thread_keep_alive(&mut self, keep_alive: std::time::Duration) -> &mut Self {
        self.config.blocking_keep_alive = keep_alive;
        self
    }

    /// Turns on the poll-time histogram of [`RuntimeMetrics`](super::RuntimeMetrics): each
    /// worker counts its polls by duration, in log-scale buckets (by default ten, from
    /// `[0, 100 µs)` doubling up to `[25.6 ms, ∞)`). Off by default: it is the only metric that
    /// reads the clock around every poll (the CPU's time-stamp counter where it is invariant; in
    /// a hello-world HTTP server, about 4 % more instructions per request).
    pub fn enable_poll_time_histogram(&mut self) -> &mut Self {
        self.config.poll_time_histogram.get_or_insert_with(Default::default);
        self
    }

    /// The poll-time histogram's buckets: `buckets` of them (at least 2), the first
    /// `[0, resolution)`, each next one twice as wide, the last open-ended. Turns the histogram on.
    ///
    /// # Panics
    /// If `buckets` is below 2 or above 32, or `resolution` is zero.
    pub fn poll_time_histogram_buckets(&mut self, buckets: usize, resolution: std::time::Duration) -> &mut Self {
        assert!(
            (2..=32).contains(&buckets),
            "poll_time_histogram_buckets: between 2 and 32 buckets"
        );
        assert!(
            !resolution.is_zero(),
            "poll_time_histogram_buckets: the resolution must not be zero"
        );
        self.config.poll_time_histogram = Some(crate::scheduler::stats::HistogramConfig { buckets, resolution });
        self
    }

    /// The stall detector's threshold: a poll that runs longer than this (so that every other
    /// task of its worker waits) is reported while it still runs, with the worker's stack, and
    /// again when it returns (see [`StallReport`]). Default 100 ms; `None` turns the detector
    /// off. The environment variable [`MINI_STALL_THRESHOLD_MS`](STALL_THRESHOLD_ENV), when set,
    /// overrides this.
    ///
    /// The detector is one thread per runtime that samples what each worker records about its
    /// polls anyway (no clock read per poll) and sleeps while every worker is parked. On the
    /// multi-threaded flavor it also hands the reactor to a sleeping worker when a long poll
    /// keeps the worker that left it (tokio#4730), within two samples (25 ms at the default
    /// threshold); with a threshold above 200 ms, or the detector off, the worker leaving the
    /// reactor wakes a sleeper at once, at the cost of a wake-up per reactor turn. A poll on
    /// the thread inside a current-thread runtime's `block_on` counts, `block_on`'s own future
    /// included.
    ///
    /// # Panics
    /// If `threshold` is `Some(Duration::ZERO)` (use `None` to turn the detector off).
    pub fn stall_threshold(&mut self, threshold: Option<Duration>) -> &mut Self {
        assert!(
            threshold != Some(Duration::ZERO),
            "stall_threshold: a zero threshold would report every poll; use `None` to turn the detector off"
        );
        self.stall.threshold = threshold;
        self
    }

    /// What the stall detector does with each [`StallReport`] (default: print it to stderr as
    /// one block). Called on the detector's thread, twice per stall: while the poll still runs,
    /// and when it returns ([`StallReport::poll_returned`]). A panic in `callback` is caught.
    pub fn on_stall(&mut self, callback: impl Fn(&StallReport) + Send + Sync + 'static) -> &mut Self {
        self.stall.on_stall = Some(Arc::new(callback));
        self
    }

    /// The real-time signal the stall detector sends a stalled worker thread to capture its
    /// stack (default `SIGRTMIN + 5`). Its handler is installed when the first stall is
    /// reported, and only if the signal's action is still the default one: a signal the program
    /// handles or ignores is never taken over (the report then says so and has no stack).
    ///
    /// # Panics
    /// If `signal` is not a real-time signal (`SIGRTMIN..=SIGRTMAX`).
    pub fn stall_signal(&mut self, signal: i32) -> &mut Self {
        assert!(
            (libc::SIGRTMIN()..=libc::SIGRTMAX()).contains(&signal),
            "stall_signal: {signal} is not a real-time signal (SIGRTMIN {} ..= SIGRTMAX {})",
            libc::SIGRTMIN(),
            libc::SIGRTMAX()
        );
        self.stall.signal = Some(signal);
        self
    }

    /// Prints a task dump ([`Handle::dump`](super::Handle::dump)) to stderr each time the
    /// process receives `signal`, and goes on running: Go's `SIGQUIT` without the exit. Off by
    /// default. A thread of its own waits for the signal (as `mini::signal` does: the program's
    /// other listeners of that signal still get it), so the dump comes even while every worker
    /// is blocked.
    ///
    /// ```no_run
    /// use mini_runtime::signal::SignalKind;
    /// let rt = mini_runtime::runtime::Builder::new_multi_thread()
    ///     .dump_on_signal(SignalKind::user_defined1()) // `kill -USR1 <pid>` prints the tasks
    ///     .build()
    ///     .unwrap();
    /// ```
    pub fn dump_on_signal(&mut self, signal: SignalKind) -> &mut Self {
        self.dump_on_signal = Some(signal);
        self
    }

    /// Creates the runtime: its epoll instance and eventfd, its worker threads, the stall
    /// detector's thread, and the dump-on-signal thread if asked for.
    ///
    /// # Errors
    /// If those cannot be created (for example, out of fds), if `MINI_WORKER_THREADS` is not a
    /// positive number or `MINI_STALL_THRESHOLD_MS` is neither a number nor `off`, or if
    /// `start_paused` was asked of a runtime with worker threads.
    pub fn build(&mut self) -> io::Result<Runtime> {
        let mut stall = self.stall.clone();
        if let Some(threshold) = stall_threshold_from_env()? {
            stall.threshold = threshold;
        }
        let scheduler = self.build_scheduler()?;
        let watchdog = Watchdog::start(&scheduler, stall)?;
        let dumper = match self.dump_on_signal {
            Some(kind) => {
                // The listener's own runtime, without a stall detector.
                let listener = Builder::new_current_thread().stall_threshold(None).build()?;
                let signal = listener.block_on(async { crate::signal::signal(kind) })?;
                let block_on: BlockOn = Box::new(move |future| listener.block_on(future));
                Some(DumpOnSignal::start(scheduler.clone(), signal, block_on)?)
            }
            None => None,
        };
        let mut runtime = Runtime::from_scheduler(scheduler, watchdog);
        runtime.dumper = dumper;
        Ok(runtime)
    }

    fn build_scheduler(&mut self) -> io::Result<Scheduler> {
        match self.flavor {
            Flavor::CurrentThread if self.pin_workers => Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "`pin_workers` pins the worker threads of a multi-threaded or thread-per-core runtime; \
                 a current-thread runtime has none (pin the thread that calls `block_on` instead)",
            )),
            Flavor::CurrentThread => Scheduler::new_current_thread(self.config.clone()),
            Flavor::MultiThread | Flavor::ThreadPerCore => {
                if self.config.start_paused {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidInput,
                        "paused time needs the current-thread runtime: use `Builder::new_current_thread` \
                         (or `flavor = \"current_thread\"` on the attribute)",
                    ));
                }
                let workers = match self.worker_threads {
                    Some(workers) => workers,
                    None => default_worker_threads()?,
                };
                let cpus = if self.pin_workers {
                    Some(cpus_for(workers)?)
                } else {
                    None
                };
                // Each worker thread drives the runtime for its whole life.
                let per_core = self.flavor == Flavor::ThreadPerCore;
                Scheduler::new_with_workers(per_core, self.config.clone(), workers, cpus, context::enter_runtime)
            }
        }
    }
}

impl Runtime {
    /// A multi-threaded runtime with default settings: one worker thread per CPU this process
    /// may use (or `MINI_WORKER_THREADS`); see [`Builder`].
    ///
    /// # Errors
    /// If the epoll instance, the eventfd or the threads cannot be created (for example, out of
    /// fds), or `MINI_WORKER_THREADS` is not a positive number.
    pub fn new() -> io::Result<Runtime> {
        Builder::new_multi_thread().build()
    }
}

/// `MINI_WORKER_THREADS` if set, else the number of CPUs this process may run on.
/// The CPU of each of `workers` pinned workers: the first of the process's allowed CPUs.
fn cpus_for(workers: usize) -> io::Result<Vec<usize>> {
    let allowed = crate::sys::affinity::allowed_cpus()?;
    if allowed.len() < workers {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "`pin_workers`: {workers} worker threads, but this process may run on only {} CPUs \
                 ({allowed:?}, its affinity mask within its cgroup's cpuset): use at most {} workers, \
                 or do not pin",
                allowed.len(),
                allowed.len()
            ),
        ));
    }
    Ok(allowed[..workers].to_vec())
}

fn default_worker_threads() -> io::Result<usize> {
    match std::env::var(WORKER_THREADS_ENV) {
        Ok(value) => match value.trim().parse::<usize>() {
            Ok(workers) if workers > 0 => Ok(workers),
            _ => Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{WORKER_THREADS_ENV}={value:?}: expected a number of worker threads, at least 1"),
            )),
        },
        Err(_) => Ok(std::thread::available_parallelism().map_or(1, usize::from)),
    }
}

/// `MINI_STALL_THRESHOLD_MS` if set: `Some(None)` for `0` or `off`.
fn stall_threshold_from_env() -> io::Result<Option<Option<Duration>>> {
    let Ok(value) = std::env::var(STALL_THRESHOLD_ENV) else {
        return Ok(None);
    };
    match value.trim() {
        "off" | "0" => Ok(Some(None)),
        millis => match millis.parse::<u64>() {
            Ok(millis) => Ok(Some(Some(Duration::from_millis(millis)))),
            Err(_) => Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{STALL_THRESHOLD_ENV}={value:?}: expected a stall threshold in milliseconds, or `off`"),
            )),
        },
    }
}

impl fmt::Debug for Builder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Builder")
            .field("flavor", &self.flavor)
            .field("worker_threads", &self.worker_threads)
            .field("config", &self.config)
            .field("stall_threshold", &self.stall.threshold)
            .finish_non_exhaustive()
    }
}

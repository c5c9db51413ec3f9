//! What each worker records about itself, for `RuntimeMetrics`, the stall detector and task
//! dumps to read from other threads.
//!
//! # Who writes what
//!
//! Every field of a [`WorkerStats`] is written only by its worker's thread (the thread inside
//! `block_on` for a current-thread runtime), with a plain load and store (`bump`), never an
//! atomic read-modify-write: on x86 each is an ordinary `mov`. Readers on other threads see
//! each counter whole, possibly a moment late. Each worker's stats sit on cache lines of their
//! own, so that one worker's writes do not slow another's.
//!
//! A multi-threaded worker whose task calls `block_in_place` hands its core, and with it these
//! stats, to a new thread in the middle of that poll: it ends the poll's record itself
//! ([`WorkerStats::hand_over_poll`]), and the old thread's own end of the poll
//! ([`WorkerStats::run_on_movable_worker`]) then finds the record moved on and writes nothing,
//! so the one-writer rule holds across the hand-over.
//!
//! # What a poll costs
//!
//! `poll_seq` counts polls twice: it becomes odd when a poll starts and even when it ends, so
//! that the watchdog (`watchdog.rs`) tells a poll that runs long from a series of short ones by
//! sampling it, and `running` names the task of the poll in progress. That is three stores per
//! poll and no clock read. The clock is read only when a worker parks and unparks (for the busy
//! time and the mean poll time), and around each poll only when the opt-in poll-time
//! histogram is on (two TSC reads).

use crate::task::{trace, Header, Notified};
use crate::util::ticks;
use std::ptr::{self, NonNull};
use std::sync::atomic::Ordering::{Relaxed, Release, SeqCst};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64};
use std::time::Duration;

/// How the opt-in poll-time histogram is bucketed: `buckets` buckets on a log scale, the first
/// `[0, resolution)`, each next one twice as wide, the last open-ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct HistogramConfig {
    pub(crate) buckets: usize,
    pub(crate) resolution: Duration,
}

impl Default for HistogramConfig {
    /// Ten buckets from 100 µs: `[0, 100 µs)`, `[100 µs, 200 µs)`, … `[25.6 ms, ∞)`.
    fn default() -> Self {
        HistogramConfig {
            buckets: 10,
            resolution: Duration::from_micros(100),
        }
    }
}

impl HistogramConfig {
    /// The range of poll times counted in `bucket`.
    pub(crate) fn bucket_range(&self, bucket: usize) -> std::ops::Range<Duration> {
        assert!(
            bucket < self.buckets,
            "bucket {bucket} out of range: there are {}",
            self.buckets
        );
        let start = match bucket {
            0 => Duration::ZERO,
            _ => self.resolution * (1u32 << (bucket - 1)),
        };
        let end = if bucket + 1 == self.buckets {
            Duration::MAX
        } else {
            self.resolution * (1u32 << bucket)
        };
        start..end
    }
}

/// One worker's counters and the poll it is running. See the module doc for who writes them.
#[repr(align(128))]
pub(crate) struct WorkerStats {
    /// Twice the polls started (of tasks and of a `block_on` future), plus one while a poll runs.
    /// This and `running` are loom's atomics under `--cfg loom`: their change of writer at a
    /// `block_in_place` hand-over is model-checked (`multi_thread/loom_models.rs`).
    poll_seq: crate::loom::AtomicU64,
    /// Polls of a current-thread runtime's `block_on` future (not tasks, so not in the metric
    /// `worker_poll_count`).
    block_on_polls: AtomicU64,
    /// The header of the task whose poll is running (while `poll_seq` is odd); null for the
    /// `block_on` future of a current-thread runtime.
    running: crate::loom::AtomicPtr<Header>,
    local_schedule_count: AtomicU64,
    park_count: AtomicU64,
    unpark_count: AtomicU64,
    noop_count: AtomicU64,
    steal_count: AtomicU64,
    steal_operations: AtomicU64,
    overflow_count: AtomicU64,
    /// Written by `coop` on this worker's thread (`count_forced_yields_in`).
    forced_yield_count: AtomicU64,
    /// The worker's coarse clock (`task::trace::coarse_now`), moved on at each unpark and every
    /// `event_interval` polls: the time each poll records in its task's trace.
    coarse_now: AtomicU32,
    /// In `util::ticks`.
    busy_ticks: AtomicU64,
    mean_poll_ticks: AtomicU64,
    /// The local queue's depth as of the last reactor turn, where other threads cannot read
    /// the queue itself (current-thread).
    local_queue_depth: AtomicU64,
    /// Set while the worker is parked (or, current-thread, while no thread is in `block_on`).
    /// Cleared with `SeqCst` before the worker checks whether the watchdog sleeps.
    parked: AtomicBool,
    /// The worker's thread: its kernel id (to signal it) and name, set when it starts.
    thread_id: AtomicU64,
    thread_name: parking_lot::Mutex<String>,
    histogram: Option<Histogram>,
}

/// The opt-in poll-time histogram of one worker. Poll times are measured in `util::ticks`
/// (two `rdtsc`, not two `Instant::now`) and bucketed against the resolution in ticks.
struct Histogram {
    config: HistogramConfig,
    /// `config.resolution` in ticks, at least 1.
    resolution_ticks: u64,
    counts: Box<[AtomicU64]>,
}

impl Histogram {
    fn new(config: HistogramConfig) -> Histogram {
        Histogram {
            config,
            resolution_ticks: ticks::from_duration(config.resolution).max(1),
            counts: (0..config.buckets).map(|_| AtomicU64::new(0)).collect(),
        }
    }

    /// Counts a poll that took `poll_ticks`. Bucket 0 holds [0, 1) resolutions, bucket b ≥ 1
    /// holds [2^(b-1), 2^b).
    #[inline]
    fn record(&self, poll_ticks: u64) {
        let units = poll_ticks / self.resolution_ticks;
        let bucket = (u64::BITS - units.leading_zeros()) as usize;
        bump(&self.counts[bucket.min(self.counts.len() - 1)], 1);
    }
}

/// Adds `n` to a counter only its owner writes: a load and a store, not a locked add.
#[inline]
fn bump(counter: &AtomicU64, n: u64) {
    counter.store(counter.load(Relaxed).wrapping_add(n), Relaxed);
}

impl WorkerStats {
    pub(crate) fn new(histogram: Option<HistogramConfig>) -> WorkerStats {
        WorkerStats {
            poll_seq: crate::loom::AtomicU64::new(0),
            block_on_polls: AtomicU64::new(0),
            running: crate::loom::AtomicPtr::new(ptr::null_mut()),
            local_schedule_count: AtomicU64::new(0),
            park_count: AtomicU64::new(0),
            unpark_count: AtomicU64::new(0),
            noop_count: AtomicU64::new(0),
            steal_count: AtomicU64::new(0),
            steal_operations: AtomicU64::new(0),
            overflow_count: AtomicU64::new(0),
            forced_yield_count: AtomicU64::new(0),
            coarse_now: AtomicU32::new(trace::coarse_now()),
            busy_ticks: AtomicU64::new(0),
            mean_poll_ticks: AtomicU64::new(0),
            local_queue_depth: AtomicU64::new(0),
            parked: AtomicBool::new(true),
            thread_id: AtomicU64::new(0),
            thread_name: parking_lot::Mutex::new(String::new()),
            histogram: histogram.map(Histogram::new),
        }
    }

    /// Called on the worker's thread when it starts driving the runtime: records the thread,
    /// and counts the budget's forced yields on it here until the guard drops.
    pub(crate) fn drive_on_this_thread(&self) -> crate::coop::CountForcedYields<'_> {
        let thread_id = crate::sys::gettid();
        if self.thread_id.swap(thread_id, Relaxed) != thread_id {
            *self.thread_name.lock() = std::thread::current().name().unwrap_or("(unnamed)").to_owned();
        }
        crate::coop::count_forced_yields_in(&self.forced_yield_count)
    }

    /// Polls `task`, recording it as the running poll (and its time, with the histogram on).
    #[inline(always)]
    pub(crate) fn run<S>(&self, task: Notified<S>) {
        self.run_maybe_handed_over(task, false);
    }

    /// `run` on a multi-threaded worker, which the poll may hand to another thread
    /// (`block_in_place`): then this thread leaves the end of the poll to `hand_over_poll`.
    #[inline(always)]
    pub(crate) fn run_on_movable_worker<S>(&self, task: Notified<S>) {
        self.run_maybe_handed_over(task, true);
    }

    #[inline(always)]
    fn run_maybe_handed_over<S>(&self, task: Notified<S>, may_hand_over: bool) {
        let header = task.header();
        header.trace.polled(self.coarse_now.load(Relaxed));
        let seq = self.start_poll(Some(NonNull::from(header)));
        let end = |seq| {
            if may_hand_over {
                self.end_poll_if_still_ours(seq)
            } else {
                self.end_poll(seq);
                true
            }
        };
        match &self.histogram {
            None => {
                task.run();
                end(seq);
            }
            Some(histogram) => {
                let started = ticks::now();
                task.run();
                if end(seq) {
                    histogram.record(ticks::now().saturating_sub(started));
                }
            }
        }
    }

    /// Marks a poll of `task` (or of the `block_on` future: `None`) as running; returns what
    /// `end_poll` needs.
    #[inline(always)]
    pub(crate) fn start_poll(&self, task: Option<NonNull<Header>>) -> u64 {
        let seq = self.poll_seq.load(Relaxed);
        // Release, both: a watchdog that reads the odd number reads `running` as stored here,
        // and one that reads the next poll's `running` then reads a later `poll_seq`.
        self.running
            .store(task.map_or(ptr::null_mut(), NonNull::as_ptr), Release);
        self.poll_seq.store(seq | 1, Release);
        seq | 1
    }

    #[inline(always)]
    pub(crate) fn end_poll(&self, seq: u64) {
        self.poll_seq.store(seq + 1, Release);
    }

    /// Ends the poll numbered `seq` unless `hand_over_poll` ended it already (this thread is no
    /// longer the worker's, and writes nothing); returns whether it did.
    #[inline(always)]
    pub(crate) fn end_poll_if_still_ours(&self, seq: u64) -> bool {
        // After `hand_over_poll` the sequence only grows (the new thread's polls), so it never
        // reads `seq` again here.
        let still_ours = self.poll_seq.load(Relaxed) == seq;
        if still_ours {
            self.end_poll(seq);
        }
        still_ours
    }

    /// Called on the worker's thread, inside a poll, just before it hands the worker to another
    /// thread (`block_in_place`): ends that poll's record now, as the other thread will start
    /// its own polls on it.
    pub(crate) fn hand_over_poll(&self) {
        let seq = self.poll_seq.load(Relaxed);
        if seq & 1 == 1 {
            self.end_poll(seq);
        }
    }

    // What the watchdog reads.
    pub(crate) fn poll_seq(&self) -> u64 {
        self.poll_seq.load(SeqCst)
    }

    /// The task of the poll running when `poll_seq` read `seq` (odd), if it still runs: read
    /// between two reads of `poll_seq`, seqlock-style.
    pub(crate) fn running(&self, seq: u64) -> Option<*const Header> {
        let running = self.running.load(SeqCst);
        (self.poll_seq.load(SeqCst) == seq).then_some(running as *const Header)
    }

    /// What the worker does when it parks and every `event_interval` polls: publishes its count
    /// of local schedules (which it keeps in its core, a plain add per schedule) and moves its
    /// coarse clock on.
    pub(crate) fn periodic_update(&self, local_schedules: u64) {
        self.local_schedule_count.store(local_schedules, Relaxed);
        self.coarse_now.store(trace::coarse_now(), Relaxed);
    }

    pub(crate) fn record_local_queue_depth(&self, depth: usize) {
        self.local_queue_depth.store(depth as u64, Relaxed);
    }

    pub(crate) fn recorded_local_queue_depth(&self) -> usize {
        self.local_queue_depth.load(Relaxed) as usize
    }

    pub(crate) fn stole(&self, tasks: u64) {
        bump(&self.steal_operations, 1);
        bump(&self.steal_count, tasks);
    }

    pub(crate) fn overflowed(&self) {
        bump(&self.overflow_count, 1);
    }

    /// The worker is about to park after the busy stretch `busy` measured.
    pub(crate) fn parking(&self, busy: &BusyClock) {
        let seq = self.poll_seq.load(Relaxed);
        if seq & 1 == 1 {
            // A `block_on` future's poll that panicked never ended: end it now.
            self.end_poll(seq);
        }
        bump(&self.park_count, 1);
        let polls = self.polls() - busy.polls_at_start;
        if polls == 0 {
            bump(&self.noop_count, 1);
        }
        let elapsed = ticks::now().saturating_sub(busy.since);
        bump(&self.busy_ticks, elapsed);
        if let Some(sample) = elapsed.checked_div(polls) {
            // An exponentially weighted mean of each stretch's time per poll, as tokio's is.
            let mean = self.mean_poll_ticks.load(Relaxed);
            let mean = if mean == 0 { sample } else { (mean * 7 + sample) / 8 };
            self.mean_poll_ticks.store(mean, Relaxed);
        }
        self.parked.store(true, Release);
    }

    /// The worker woke up; returns the clock of its next busy stretch. Wakes the watchdog if
    /// it sleeps (see `IdleBell`).
    pub(crate) fn unparked(&self, bell: &IdleBell) -> BusyClock {
        bump(&self.unpark_count, 1);
        self.parked.store(false, SeqCst);
        bell.worker_woke();
        let busy = BusyClock::start(self);
        // One clock reading for both.
        self.coarse_now.store(trace::coarse(busy.since), Relaxed);
        busy
    }

    /// Unparks so far (the watchdog's measure of a quiet period).
    pub(crate) fn unparks(&self) -> u64 {
        self.unpark_count.load(Relaxed)
    }

    pub(crate) fn is_parked(&self) -> bool {
        self.parked.load(SeqCst)
    }

    pub(crate) fn thread_id(&self) -> u64 {
        self.thread_id.load(Relaxed)
    }

    pub(crate) fn thread_name(&self) -> String {
        self.thread_name.lock().clone()
    }

    /// Polls started, of tasks and `block_on` futures alike (the watchdog's and the busy
    /// clock's count), the one in progress included: a task that completed has been counted
    /// by the time its `JoinHandle` learns it, though its poll returns a moment later.
    pub(crate) fn polls(&self) -> u64 {
        self.poll_seq.load(Relaxed).div_ceil(2)
    }

    /// Marks a poll of the `block_on` future as running (`start_poll`, counted apart from
    /// tasks).
    pub(crate) fn start_block_on_poll(&self) -> u64 {
        bump(&self.block_on_polls, 1);
        self.start_poll(None)
    }

    pub(crate) fn snapshot(&self) -> WorkerSnapshot {
        WorkerSnapshot {
            polls: self.polls().saturating_sub(self.block_on_polls.load(Relaxed)),
            local_schedule_count: self.local_schedule_count.load(Relaxed),
            park_count: self.park_count.load(Relaxed),
            unpark_count: self.unpark_count.load(Relaxed),
            noop_count: self.noop_count.load(Relaxed),
            steal_count: self.steal_count.load(Relaxed),
            steal_operations: self.steal_operations.load(Relaxed),
            overflow_count: self.overflow_count.load(Relaxed),
            forced_yield_count: self.forced_yield_count.load(Relaxed),
            busy: ticks::to_duration(self.busy_ticks.load(Relaxed)),
            mean_poll_time: ticks::to_duration(self.mean_poll_ticks.load(Relaxed)),
        }
    }

    pub(crate) fn histogram_count(&self, bucket: usize) -> u64 {
        self.histogram
            .as_ref()
            .and_then(|histogram| histogram.counts.get(bucket))
            .map_or(0, |count| count.load(Relaxed))
    }
}

/// A worker's counters, read at one moment.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct WorkerSnapshot {
    pub(crate) polls: u64,
    pub(crate) local_schedule_count: u64,
    pub(crate) park_count: u64,
    pub(crate) unpark_count: u64,
    pub(crate) noop_count: u64,
    pub(crate) steal_count: u64,
    pub(crate) steal_operations: u64,
    pub(crate) overflow_count: u64,
    pub(crate) forced_yield_count: u64,
    pub(crate) busy: Duration,
    pub(crate) mean_poll_time: Duration,
}

/// Every worker's stats, and the bell that wakes the stall detector's watchdog.
pub(crate) struct SchedulerStats {
    pub(crate) workers: Box<[WorkerStats]>,
    pub(crate) idle_bell: IdleBell,
    /// Stalls reported, written by the watchdog's thread only.
    pub(crate) stall_count: AtomicU64,
    /// The runtime's id (`Handle::id`): 1, 2, 3, … in the order runtimes are built; one
    /// `SchedulerStats` per runtime.
    pub(crate) runtime_id: u64,
}

impl SchedulerStats {
    pub(crate) fn new(workers: usize, histogram: Option<HistogramConfig>) -> SchedulerStats {
        ticks::start();
        SchedulerStats {
            workers: (0..workers).map(|_| WorkerStats::new(histogram)).collect(),
            idle_bell: IdleBell::default(),
            stall_count: AtomicU64::new(0),
            runtime_id: {
                static NEXT: AtomicU64 = AtomicU64::new(1);
                NEXT.fetch_add(1, Relaxed)
            },
        }
    }

    /// The histogram's bucketing, if it is on.
    pub(crate) fn histogram(&self) -> Option<HistogramConfig> {
        self.workers[0].histogram.as_ref().map(|histogram| histogram.config)
    }

    /// Whether every worker is parked (then nothing can stall until one wakes).
    pub(crate) fn all_parked(&self) -> bool {
        self.workers.iter().all(WorkerStats::is_parked)
    }
}

/// How the watchdog sleeps, and how it is woken: by a worker that unparks, or to stop.
///
/// While every worker is parked the watchdog sleeps here until one wakes: the watchdog sets
/// `asleep`, then checks that every worker is parked; a worker clears `parked`, then checks
/// `asleep`. Both `SeqCst`, so at least one of them sees the other: the watchdog does not
/// sleep, or the worker rings. A busy runtime pays one load per unpark.
#[derive(Default)]
pub(crate) struct IdleBell {
    asleep: AtomicBool,
    /// Set once, under `lock`, when the runtime's watchdog is to exit.
    stopped: AtomicBool,
    lock: parking_lot::Mutex<()>,
    ring: parking_lot::Condvar,
}

impl IdleBell {
    fn worker_woke(&self) {
        if self.asleep.load(SeqCst) {
            let _lock = self.lock.lock();
            self.asleep.store(false, SeqCst);
            self.ring.notify_all();
        }
    }

    /// Tells the watchdog to exit, waking it wherever it sleeps.
    pub(crate) fn stop(&self) {
        let _lock = self.lock.lock();
        self.stopped.store(true, SeqCst);
        self.ring.notify_all();
    }

    /// The watchdog's sleep while `all_parked` says every worker is parked: returns when one
    /// wakes (at once if one is awake); `false` if the watchdog is to stop.
    pub(crate) fn sleep_while_parked(&self, all_parked: impl Fn() -> bool) -> bool {
        let mut lock = self.lock.lock();
        self.asleep.store(true, SeqCst);
        while self.asleep.load(SeqCst) && all_parked() && !self.stopped.load(SeqCst) {
            self.ring.wait(&mut lock);
        }
        self.asleep.store(false, SeqCst);
        !self.stopped.load(SeqCst)
    }

    /// The watchdog's sleep between two samples; `false` if it is to stop.
    pub(crate) fn nap(&self, period: Duration) -> bool {
        let mut lock = self.lock.lock();
        if !self.stopped.load(SeqCst) {
            self.ring.wait_for(&mut lock, period);
        }
        !self.stopped.load(SeqCst)
    }
}

/// When a worker's busy stretch began, kept by the worker (in its core) between an unpark and
/// the next park.
#[derive(Clone, Copy)]
pub(crate) struct BusyClock {
    since: u64,
    polls_at_start: u64,
}

impl BusyClock {
    pub(crate) fn start(stats: &WorkerStats) -> BusyClock {
        BusyClock {
            since: ticks::now(),
            polls_at_start: stats.polls(),
        }
    }
}

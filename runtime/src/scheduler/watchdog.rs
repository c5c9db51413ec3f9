//! The stall detector: one watchdog thread per runtime that notices a poll running longer than
//! the threshold, while it still runs, and reports it with the stalled thread's stack.
//!
//! # What the workers pay
//!
//! Nothing more than the stats already cost (`stats.rs`): each poll stores an odd `poll_seq`
//! and the running task's header, then an even `poll_seq`. The watchdog wakes every eighth of the
//! threshold and reads each worker's `poll_seq`; one that is odd and the same as at an earlier
//! sample at least a threshold ago is a stall (the poll started before that sample). No clock is
//! read and no syscall made on a worker's side, and a poll shorter than the threshold is never
//! reported: the time the watchdog measures is always less than the poll's. A stall is noticed
//! at most a threshold and two eighths after its poll began.
//!
//! While every worker is parked nothing can stall: after a whole period in which no worker
//! unparked and all are parked, the watchdog sleeps until one unparks (`IdleBell`). An idle
//! runtime makes no wake-ups for it, and a runtime that parks between sparse requests rings the
//! bell (a futex wake on the unparking worker) at most once per two periods, not per request.
//!
//! # The multi-threaded reactor
//!
//! Each sample also looks at the multi-threaded flavor's reactor: if no worker waits in it and
//! nobody turned it since the last sample, it wakes a sleeping worker to take it over
//! (`MultiThread::hand_off_if_unattended`), so that a long poll on the worker that last left it
//! delays the other tasks' I/O by two periods at most. Only with a period of 25 ms or less
//! (`MAX_HAND_OFF_PERIOD`): with a longer one the workers hand the reactor over at once.
//!
//! # What a report costs
//!
//! Per stall: a `tgkill` and a wait of at most `CAPTURE_TIMEOUT` for the stack
//! (`util/thread_stack.rs`), a walk of the owned-task list under its lock to find the task by its
//! header, and the callback. Names and lines are looked up only when the report is displayed.

use super::stall_report::{StallReport, StalledTask};
use super::stats::WorkerStats;
use super::Scheduler;
use crate::task::Header;
use crate::util::thread_stack;
use std::cell::Cell;
use std::io;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{mpsc, Arc, OnceLock};
use std::time::{Duration, Instant};

/// How often the watchdog samples the workers: an eighth of the threshold, at least 1 ms.
fn sample_period(threshold: Duration) -> Duration {
    (threshold / 8).max(Duration::from_millis(1))
}

/// Whether the watchdog also hands an unattended multi-threaded reactor over (see
/// `MAX_HAND_OFF_PERIOD`).
fn watches_reactor(threshold: Duration) -> bool {
    sample_period(threshold) <= MAX_HAND_OFF_PERIOD
}

/// The longest sample period at which the watchdog also hands an unattended multi-threaded
/// reactor over (so a long poll leaves the others' I/O waiting 50 ms at most); with a longer one
/// (a threshold above 200 ms) the worker leaving the reactor wakes a sleeper at once instead.
const MAX_HAND_OFF_PERIOD: Duration = Duration::from_millis(25);

/// What to do with each report.
pub(crate) type OnStall = Arc<dyn Fn(&StallReport) + Send + Sync>;

/// How long the watchdog waits for the stalled thread to run the capture signal's handler.
const CAPTURE_TIMEOUT: Duration = Duration::from_millis(25);

/// The stall detector's settings, from the runtime `Builder`.
#[derive(Clone)]
pub(crate) struct StallConfig {
    /// `None`: the detector is off (no watchdog thread).
    pub(crate) threshold: Option<Duration>,
    /// The real-time signal that captures a stalled thread's stack; `None`: `default_signal()`.
    pub(crate) signal: Option<libc::c_int>,
    /// `None`: print each report to stderr.
    pub(crate) on_stall: Option<OnStall>,
}

impl Default for StallConfig {
    fn default() -> Self {
        StallConfig {
            threshold: Some(Duration::from_millis(100)),
            signal: None,
            on_stall: None,
        }
    }
}

/// The signal used unless `Builder::stall_signal` says otherwise: `SIGRTMIN + 5` (39 with
/// glibc). The C library keeps the real-time signals below `SIGRTMIN` for itself, and programs
/// that use one pick `SIGRTMIN` or the first few above it most.
pub(crate) fn default_signal() -> libc::c_int {
    libc::SIGRTMIN() + 5
}

/// A runtime's running watchdog; dropping it stops the thread and waits for it.
pub(crate) struct Watchdog {
    scheduler: Scheduler,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Watchdog {
    /// Starts the watchdog of `scheduler`, unless the detector is off.
    pub(crate) fn start(scheduler: &Scheduler, config: StallConfig) -> io::Result<Option<Watchdog>> {
        let Some(threshold) = config.threshold else {
            return Ok(None);
        };
        let watched = scheduler.clone();
        if watches_reactor(threshold) {
            scheduler.watch_reactor();
        }
        let signal = config.signal.unwrap_or_else(default_signal);
        let on_stall = config.on_stall.unwrap_or_else(|| Arc::new(print_to_stderr));
        let thread = std::thread::Builder::new()
            .name("mini-watchdog".to_owned())
            .spawn(move || {
                ON_WATCHDOG_THREAD.set(true);
                watch(&watched, threshold, signal, &on_stall);
            })?;
        Ok(Some(Watchdog {
            scheduler: scheduler.clone(),
            thread: Some(thread),
        }))
    }
}

thread_local! {
    /// Set on the watchdog's threads: a callback that drops its runtime must not wait for them.
    static ON_WATCHDOG_THREAD: Cell<bool> = const { Cell::new(false) };
}

impl Drop for Watchdog {
    /// Stops the watchdog and waits until it has delivered its last report.
    fn drop(&mut self) {
        self.scheduler.stats().idle_bell.stop();
        let thread = self.thread.take().expect("the watchdog thread is joined once");
        if !ON_WATCHDOG_THREAD.get() {
            let _ = thread.join();
        }
    }
}

fn print_to_stderr(report: &StallReport) {
    use std::io::Write;
    // One write, so that the block is not interleaved with other output.
    let _ = std::io::stderr().lock().write_all(report.to_string().as_bytes());
}

/// What the watchdog knows of one worker between samples.
struct Sample {
    /// `poll_seq` as last read, and when it was first read with that value.
    seq: u64,
    since: Instant,
    /// The stall reported for this poll, to say when it returns.
    reported: Option<Reported>,
}

struct Reported {
    task: Option<StalledTask>,
    thread_name: String,
}

/// The watchdog thread's loop, until `Watchdog::drop` stops it.
fn watch(scheduler: &Scheduler, threshold: Duration, signal: libc::c_int, on_stall: &OnStall) {
    let mut reporter = Reporter { on_stall, thread: None };
    let stats = scheduler.stats();
    let bell = &stats.idle_bell;
    let period = sample_period(threshold);
    let watches_reactor = watches_reactor(threshold);
    let now = Instant::now();
    let mut samples: Vec<Sample> = (stats.workers.iter())
        .map(|worker| Sample {
            seq: worker.poll_seq(),
            since: now,
            reported: None,
        })
        .collect();
    let unparks = || stats.workers.iter().map(WorkerStats::unparks).sum::<u64>();
    let mut unparks_at_last_sample = unparks();
    let mut reactor_turns = 0;
    let mut quiet = false;
    loop {
        // Sleep until a worker wakes only after a whole period in which none did, so that a
        // runtime that parks between sparse requests does not ring the bell on each one. A stall
        // being reported keeps the watchdog awake until its poll returns, even if the worker
        // parks right after.
        let reporting = samples.iter().any(|sample| sample.reported.is_some());
        if quiet && !reporting && !bell.sleep_while_parked(|| stats.all_parked()) || !bell.nap(period) {
            return;
        }
        if watches_reactor {
            reactor_turns = scheduler.hand_off_if_unattended(reactor_turns);
        }
        let unparks_now = unparks();
        quiet = unparks_now == unparks_at_last_sample && stats.all_parked();
        unparks_at_last_sample = unparks_now;
        let now = Instant::now();
        for (index, (worker, sample)) in stats.workers.iter().zip(&mut samples).enumerate() {
            let seq = worker.poll_seq();
            if seq != sample.seq {
                if let Some(reported) = sample.reported.take() {
                    reporter.report(StallReport {
                        task: reported.task,
                        worker: index,
                        thread_name: reported.thread_name,
                        thread_id: worker.thread_id(),
                        duration: now - sample.since,
                        stack: None,
                        symbolized: OnceLock::new(),
                    });
                }
                sample.seq = seq;
                sample.since = now;
                continue;
            }
            let polling = seq & 1 == 1;
            if !polling || sample.reported.is_some() || now - sample.since < threshold {
                continue;
            }
            // Stalled. The stack first, as close to the moment as can be.
            let stack = thread_stack::capture(worker.thread_id(), signal, CAPTURE_TIMEOUT);
            let Some(running) = worker.running(seq) else {
                // It returned meanwhile: a stall that ended before it was reported.
                continue;
            };
            let task = (!running.is_null()).then(|| find_task(scheduler, running)).flatten();
            let thread_name = worker.thread_name();
            stats.stall_count.store(stats.stall_count.load(Relaxed) + 1, Relaxed);
            sample.reported = Some(Reported {
                task: task.clone(),
                thread_name: thread_name.clone(),
            });
            reporter.report(StallReport {
                task,
                worker: index,
                thread_name,
                thread_id: worker.thread_id(),
                duration: Instant::now() - sample.since,
                stack: Some(stack),
                symbolized: OnceLock::new(),
            });
        }
    }
}

/// The identity of the task whose header is `running`, if it is still alive (a task is found
/// only while the owned list holds it, so its header is read only while it is alive).
fn find_task(scheduler: &Scheduler, running: *const Header) -> Option<StalledTask> {
    let mut found = None;
    scheduler.for_each_task(|header| {
        if std::ptr::eq(header, running) {
            found = Some(StalledTask {
                id: header.identity.id,
                name: header.identity.name.as_deref().map(str::to_owned),
                location: header.identity.location,
            });
        }
    });
    found
}

/// Runs the callback on a thread of its own (started at the first report), so that a slow
/// callback (the first stack to be shown loads the program's debug info) delays neither the
/// sampling nor the report that the poll returned. Reports keep their order.
struct Reporter<'a> {
    on_stall: &'a OnStall,
    thread: Option<(mpsc::Sender<StallReport>, std::thread::JoinHandle<()>)>,
}

impl Reporter<'_> {
    fn report(&mut self, report: StallReport) {
        if self.thread.is_none() {
            let (sender, reports) = mpsc::channel::<StallReport>();
            let on_stall = self.on_stall.clone();
            let spawned = std::thread::Builder::new()
                .name("mini-stall-report".to_owned())
                .spawn(move || {
                    ON_WATCHDOG_THREAD.set(true);
                    for report in reports {
                        call(&*on_stall, &report);
                    }
                });
            match spawned {
                Ok(thread) => self.thread = Some((sender, thread)),
                // Out of threads: report on this one.
                Err(_) => return call(&**self.on_stall, &report),
            }
        }
        if let Some((sender, _)) = &self.thread {
            let _ = sender.send(report);
        }
    }
}

impl Drop for Reporter<'_> {
    /// Waits until every report is delivered.
    fn drop(&mut self) {
        if let Some((sender, thread)) = self.thread.take() {
            drop(sender);
            let _ = thread.join();
        }
    }
}

/// Calls the callback; a panic in it is reported and does not stop the reports.
fn call(on_stall: &(dyn Fn(&StallReport) + Send + Sync), report: &StallReport) {
    #[cfg(feature = "tracing")]
    warn_event(report);
    let call = std::panic::AssertUnwindSafe(|| on_stall(report));
    if std::panic::catch_unwind(call).is_err() {
        eprintln!("mini: the stall callback (`Builder::on_stall`) panicked; the detector goes on");
    }
}

/// The report as a `tracing` warning event too (the `tracing` feature), with its facts as
/// fields and the whole report (stack included) as the message.
#[cfg(feature = "tracing")]
fn warn_event(report: &StallReport) {
    let task_id = report.task_id().map(|id| id.as_u64());
    let duration_ms = report.duration().as_millis() as u64;
    tracing::warn!(
        target: "mini::stall",
        worker = report.worker(),
        task.id = task_id,
        task.name = report.task_name(),
        duration_ms,
        poll_returned = report.poll_returned(),
        "{report}"
    );
}

//! [`StallReport`]: what the stall detector (`watchdog.rs`) says about a poll that ran too long,
//! once while it still runs (with the worker's stack) and once when it returns.

use crate::task::Id;
use crate::util::thread_stack::{Frame, NotCaptured, RawStack};
use std::fmt;
use std::panic::Location;
use std::sync::OnceLock;
use std::time::Duration;

/// A poll that ran longer than the stall threshold, and so held up every other task of its
/// worker: given to [`Builder::on_stall`](crate::runtime::Builder::on_stall), whose default
/// prints it to stderr.
///
/// Each stall is reported twice: while the poll still runs
/// ([`poll_returned`](Self::poll_returned) is `false`), with the worker thread's stack at that
/// moment, and once when the poll returns, with its total time. `Display` writes the report as
/// one block: the task (id, name, spawn site), the worker and its thread, the time, and the
/// stack, its functions and lines named where the program has debug info.
///
/// ```
/// use std::sync::{Arc, Mutex};
/// use std::time::Duration;
///
/// let reports = Arc::new(Mutex::new(Vec::new()));
/// let seen = reports.clone();
/// let rt = mini_runtime::runtime::Builder::new_current_thread()
///     .stall_threshold(Some(Duration::from_millis(20)))
///     .on_stall(move |report| seen.lock().unwrap().push(report.to_string()))
///     .build()
///     .unwrap();
/// rt.block_on(async {
///     mini_runtime::spawn(async { std::thread::sleep(Duration::from_millis(200)) }).await.unwrap();
/// });
/// drop(rt);
/// let reports = reports.lock().unwrap();
/// assert!(reports[0].contains("has been in one poll for"));
/// ```
pub struct StallReport {
    pub(crate) task: Option<StalledTask>,
    pub(crate) worker: usize,
    pub(crate) thread_name: String,
    pub(crate) thread_id: u64,
    pub(crate) duration: Duration,
    /// The stack while the poll runs; `None` in the report that the poll returned.
    pub(crate) stack: Option<Result<RawStack, NotCaptured>>,
    pub(crate) symbolized: OnceLock<Vec<Frame>>,
}

/// Who was polled: the task's identity, copied out of its header.
#[derive(Clone)]
pub(crate) struct StalledTask {
    pub(crate) id: Id,
    pub(crate) name: Option<String>,
    pub(crate) location: &'static Location<'static>,
}

impl StallReport {
    /// Whether this is the second report of the stall: its poll has returned.
    pub fn poll_returned(&self) -> bool {
        self.stack.is_none()
    }

    /// How long the poll has run (first report) or ran (second), as the detector saw it: it
    /// samples the workers every eighth of the threshold, so this is exact to about that much.
    pub fn duration(&self) -> Duration {
        self.duration
    }

    /// The stalled task's id; `None` when what stalled is the future passed to `block_on` of a
    /// current-thread runtime.
    pub fn task_id(&self) -> Option<Id> {
        self.task.as_ref().map(|task| task.id)
    }

    /// The stalled task's name (`task::Builder::name`), if it has one.
    pub fn task_name(&self) -> Option<&str> {
        self.task.as_ref()?.name.as_deref()
    }

    /// Where the stalled task was spawned (`None` for a `block_on` future).
    pub fn spawn_location(&self) -> Option<&'static Location<'static>> {
        self.task.as_ref().map(|task| task.location)
    }

    /// The index of the stalled worker (0 for a current-thread runtime), as in
    /// [`RuntimeMetrics`](crate::runtime::RuntimeMetrics)' per-worker metrics.
    pub fn worker(&self) -> usize {
        self.worker
    }

    /// The name of the stalled worker's thread.
    pub fn thread_name(&self) -> &str {
        &self.thread_name
    }

    fn fmt_what(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.task {
            Some(task) => {
                write!(f, "task {}", task.id)?;
                if let Some(name) = &task.name {
                    write!(f, " {name:?}")?;
                }
                write!(f, " (spawned at {})", task.location)
            }
            None => f.write_str("the future passed to `block_on`"),
        }
    }

    fn fmt_stack(&self, f: &mut fmt::Formatter<'_>, stack: &RawStack) -> fmt::Result {
        let frames = self.symbolized.get_or_init(|| stack.symbolize());
        for (shown, frame) in frames.iter().enumerate() {
            let function = frame.function.as_deref().unwrap_or("<unknown>");
            // Below the task's poll is mini's scheduler, the same in every report.
            if shown > 0 && is_scheduler_frame(function) {
                return writeln!(f, "      … (mini's scheduler, which polled the task)");
            }
            writeln!(f, "  {shown:>3}: {function}")?;
            if let (Some(file), Some(line)) = (&frame.file, frame.line) {
                writeln!(f, "             at {file}:{line}")?;
            }
        }
        Ok(())
    }
}

/// Whether `function` is part of mini's poll loop rather than of the task.
fn is_scheduler_frame(function: &str) -> bool {
    [
        "mini_runtime::task::harness::",
        "mini_runtime::scheduler::",
        "mini_runtime::coop::",
    ]
    .iter()
    .any(|prefix| function.starts_with(prefix))
}

impl fmt::Display for StallReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("mini: ")?;
        let Some(stack) = &self.stack else {
            f.write_str("stall over: ")?;
            self.fmt_what(f)?;
            return writeln!(
                f,
                " returned from its poll after {:?} on worker {} (thread {:?})",
                self.duration, self.worker, self.thread_name
            );
        };
        f.write_str("stall: ")?;
        self.fmt_what(f)?;
        writeln!(
            f,
            " has been in one poll for {:?} on worker {} (thread {:?}, tid {}), holding up every \
             other task of that worker",
            self.duration, self.worker, self.thread_name, self.thread_id
        )?;
        match stack {
            Ok(stack) => {
                writeln!(f, "  the thread's stack now:")?;
                self.fmt_stack(f, stack)
            }
            Err(why) => writeln!(f, "  (stack not captured: {why})"),
        }
    }
}

impl fmt::Debug for StallReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StallReport")
            .field("task_id", &self.task_id())
            .field("task_name", &self.task_name())
            .field("spawn_location", &self.spawn_location())
            .field("worker", &self.worker)
            .field("thread_name", &self.thread_name)
            .field("duration", &self.duration)
            .field("poll_returned", &self.poll_returned())
            .finish()
    }
}

//! Task dumps: every live task of a runtime, what state it is in and what it waits on, read from
//! the task headers (`task/trace.rs`) without polling anything, so that a dump completes while a
//! worker is blocked.

use super::Handle;
use crate::scheduler::Scheduler;
use crate::sys::socket::{local_address, peer_address};
use crate::task::trace::{coarse_elapsed, coarse_now, Lifecycle, Wait};
use crate::task::{Header, Id};
use std::fmt;
use std::net::SocketAddr;
use std::panic::Location;
use std::time::{Duration, Instant};

/// Every live task of a runtime at one moment, from [`Handle::dump`]. `Display` writes it as a
/// table, one task per line.
///
/// ```
/// let rt = mini_runtime::Runtime::new().unwrap();
/// rt.block_on(async {
///     let sleeper = mini_runtime::task::Builder::new()
///         .name("sleeper")
///         .spawn(mini_runtime::time::sleep(std::time::Duration::from_secs(60)))
///         .unwrap();
///     mini_runtime::task::yield_now().await;
///     let dump = mini_runtime::runtime::Handle::current().dump();
///     println!("{dump}");
///     let task = dump.tasks().iter().find(|task| task.id() == sleeper.id()).unwrap();
///     assert_eq!(task.name(), Some("sleeper"));
///     sleeper.abort();
/// });
/// ```
pub struct Dump {
    tasks: Vec<TaskDump>,
    flavor: &'static str,
    workers: usize,
}

/// One task in a [`Dump`].
#[derive(Clone, Debug)]
pub struct TaskDump {
    id: Id,
    name: Option<String>,
    location: &'static Location<'static>,
    state: TaskState,
    polls: u64,
    age: Duration,
    since_last_poll: Option<Duration>,
    waiting_on: WaitingOn,
}

/// Where a task is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TaskState {
    /// Waiting to be woken.
    Idle,
    /// Woken, in a run queue.
    Scheduled,
    /// Being polled, on this worker (`None`: on a thread that is not one of the runtime's
    /// workers, such as a `LocalSet`'s or a blocking one).
    Running {
        /// The worker's index, as in the per-worker metrics.
        worker: Option<usize>,
    },
    /// Finished (or cancelled, or panicked); its output waits for its `JoinHandle`.
    Complete,
}

/// What a task's last poll waited on, as mini's leaf futures recorded it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum WaitingOn {
    /// Nothing yet: the task was never polled.
    NotPolled,
    /// Nothing: the task is being polled.
    Running,
    /// An fd to become readable (`AsyncFd`, and every mini socket); for a socket, its addresses
    /// as the kernel gives them at the time of the dump.
    Readable {
        /// The fd number.
        fd: i32,
        /// `getsockname`.
        local: Option<SocketAddr>,
        /// `getpeername`.
        peer: Option<SocketAddr>,
    },
    /// An fd to become writable; as `Readable`.
    Writable {
        /// The fd number.
        fd: i32,
        /// `getsockname`.
        local: Option<SocketAddr>,
        /// `getpeername`.
        peer: Option<SocketAddr>,
    },
    /// A timer (`sleep`, `timeout`, `interval`) due at this instant.
    Timer {
        /// The timer's deadline, on mini's clock.
        deadline: Instant,
    },
    /// The output of another task, through its `JoinHandle`.
    Task(Id),
    /// Something mini did not record: the last poll handed its waker to other code (a channel,
    /// a lock, a future of another library).
    Other,
}

impl Handle {
    /// Every live task of this runtime: id, name, spawn site, state, polls, age, time since its
    /// last poll, and what its last poll waited on (see [`Dump`]). It reads the tasks' headers
    /// under the runtime's task-list lock and polls nothing, so it completes while a worker is
    /// blocked. Blocking jobs (`spawn_blocking`) and the tasks of a `LocalSet` are not listed
    /// (the set's own task is).
    pub fn dump(&self) -> Dump {
        dump(&self.inner)
    }
}

pub(crate) fn dump(scheduler: &Scheduler) -> Dump {
    let stats = scheduler.stats();
    // Which task each worker is polling, read before the tasks.
    let running: Vec<(usize, *const Header)> = (stats.workers.iter().enumerate())
        .filter_map(|(index, worker)| {
            let seq = worker.poll_seq();
            let task = (seq & 1 == 1).then(|| worker.running(seq)).flatten()?;
            (!task.is_null()).then_some((index, task))
        })
        .collect();
    let now = coarse_now();
    let timers = &scheduler.drivers().timers;
    let mut tasks = Vec::new();
    scheduler.for_each_task(|header| {
        let trace = header.trace.snapshot();
        let age = coarse_elapsed(trace.spawned, now);
        let state = match header.lifecycle() {
            Lifecycle::Idle => TaskState::Idle,
            Lifecycle::Scheduled => TaskState::Scheduled,
            Lifecycle::Complete => TaskState::Complete,
            Lifecycle::Running => TaskState::Running {
                worker: (running.iter())
                    .find(|(_, task)| std::ptr::eq(*task, header))
                    .map(|(worker, _)| *worker),
            },
        };
        tasks.push(TaskDump {
            id: header.identity.id,
            name: header.identity.name.as_deref().map(str::to_owned),
            location: header.identity.location,
            state,
            polls: u64::from(trace.polls),
            age,
            // The worker's clock may lag the spawning thread's: never before the spawn.
            since_last_poll: (trace.last_poll).map(|last| coarse_elapsed(last, now).min(age)),
            waiting_on: match trace.wait {
                _ if trace.polls == 0 => WaitingOn::NotPolled,
                // Its poll is under way: what it waited on before no longer holds it.
                _ if matches!(state, TaskState::Running { .. }) => WaitingOn::Running,
                None => WaitingOn::Other,
                Some(Wait::Fd { fd, write }) => fd_wait(fd, write),
                Some(Wait::Timer { tick }) => WaitingOn::Timer {
                    deadline: timers.tick_instant(tick),
                },
                Some(Wait::Task { id }) => Id::from_u64(id).map_or(WaitingOn::Other, WaitingOn::Task),
            },
        });
    });
    for task in &mut tasks {
        add_addresses(&mut task.waiting_on);
    }
    tasks.sort_by_key(|task| task.id);
    Dump {
        tasks,
        flavor: scheduler.flavor_name(),
        workers: stats.workers.len(),
    }
}

/// The wait on `fd` as recorded; `add_addresses` asks the kernel for the socket's addresses
/// after the task list's lock is released.
fn fd_wait(fd: i32, write: bool) -> WaitingOn {
    let (local, peer) = (None, None);
    if write {
        WaitingOn::Writable { fd, local, peer }
    } else {
        WaitingOn::Readable { fd, local, peer }
    }
}

fn add_addresses(waiting_on: &mut WaitingOn) {
    if let WaitingOn::Readable { fd, local, peer } | WaitingOn::Writable { fd, local, peer } = waiting_on {
        *local = local_address(*fd);
        *peer = peer_address(*fd);
    }
}

impl Dump {
    /// The tasks, in the order they were spawned.
    pub fn tasks(&self) -> &[TaskDump] {
        &self.tasks
    }
}

impl TaskDump {
    /// The task's id.
    pub fn id(&self) -> Id {
        self.id
    }

    /// Its name (`task::Builder::name`), if it has one.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// Where it was spawned.
    pub fn spawn_location(&self) -> &'static Location<'static> {
        self.location
    }

    /// Where it is in its life.
    pub fn state(&self) -> TaskState {
        self.state
    }

    /// How many times it was polled.
    pub fn polls(&self) -> u64 {
        self.polls
    }

    /// How long ago it was spawned.
    pub fn age(&self) -> Duration {
        self.age
    }

    /// How long ago its last poll began (`None`: never polled). The worker's clock that times
    /// polls moves on every 61 polls and at each wake-up, so this is a little late on a busy
    /// worker.
    pub fn since_last_poll(&self) -> Option<Duration> {
        self.since_last_poll
    }

    /// What its last poll waited on.
    pub fn waiting_on(&self) -> &WaitingOn {
        &self.waiting_on
    }
}

impl fmt::Display for TaskState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TaskState::Idle => f.write_str("idle"),
            TaskState::Scheduled => f.write_str("scheduled"),
            TaskState::Running { worker: Some(worker) } => write!(f, "running on worker {worker}"),
            TaskState::Running { worker: None } => f.write_str("running"),
            TaskState::Complete => f.write_str("complete"),
        }
    }
}

fn fmt_addresses(f: &mut fmt::Formatter<'_>, local: &Option<SocketAddr>, peer: &Option<SocketAddr>) -> fmt::Result {
    match (local, peer) {
        (Some(local), Some(peer)) => write!(f, " (socket {local} ↔ {peer})"),
        (Some(local), None) => write!(f, " (socket {local})"),
        _ => Ok(()),
    }
}

impl fmt::Display for WaitingOn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WaitingOn::NotPolled | WaitingOn::Running => f.write_str("-"),
            WaitingOn::Readable { fd, local, peer } => {
                write!(f, "fd {fd} readable")?;
                fmt_addresses(f, local, peer)
            }
            WaitingOn::Writable { fd, local, peer } => {
                write!(f, "fd {fd} writable")?;
                fmt_addresses(f, local, peer)
            }
            WaitingOn::Timer { deadline } => {
                let now = Instant::now();
                match deadline.checked_duration_since(now) {
                    Some(left) => write!(f, "timer due in {}", Short(left)),
                    None => write!(f, "timer due {} ago", Short(now - *deadline)),
                }
            }
            WaitingOn::Task(id) => write!(f, "task {id}'s JoinHandle"),
            WaitingOn::Other => f.write_str("a waker handed to other code"),
        }
    }
}

/// A duration to three significant figures or so: `850µs`, `12.3ms`, `4.56s`, `1h02m`.
struct Short(Duration);

impl fmt::Display for Short {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.0.as_secs_f64();
        if secs < 1e-3 {
            write!(f, "{}µs", self.0.as_micros())
        } else if secs < 1.0 {
            write!(f, "{:.1}ms", secs * 1e3)
        } else if secs < 3600.0 {
            write!(f, "{secs:.2}s")
        } else {
            write!(f, "{}h{:02}m", self.0.as_secs() / 3600, self.0.as_secs() / 60 % 60)
        }
    }
}

impl fmt::Display for Dump {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "mini: task dump: {} live tasks ({} runtime, {} worker{})",
            self.tasks.len(),
            self.flavor,
            self.workers,
            if self.workers == 1 { "" } else { "s" }
        )?;
        writeln!(
            f,
            "{:>7}  {:<16}  {:<19}  {:>7}  {:>9}  {:>9}  {:<32}  waiting on",
            "id", "name", "state", "polls", "age", "last poll", "spawned at"
        )?;
        for task in &self.tasks {
            let name = task
                .name
                .as_deref()
                .map_or_else(String::new, |name| format!("{name:?}"));
            let last_poll = task
                .since_last_poll
                .map_or_else(|| "-".to_owned(), |since| format!("{} ago", Short(since)));
            writeln!(
                f,
                "{:>7}  {:<16}  {:<19}  {:>7}  {:>9}  {:>9}  {:<32}  {}",
                task.id,
                name,
                task.state.to_string(),
                task.polls,
                Short(task.age).to_string(),
                last_poll,
                task.location.to_string(),
                task.waiting_on
            )?;
        }
        Ok(())
    }
}

impl fmt::Debug for Dump {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Dump")
            .field("flavor", &self.flavor)
            .field("tasks", &self.tasks)
            .finish()
    }
}

//! Child processes: spawn, wait for, and talk to them without blocking a worker.
//!
//! A child's exit is noticed without polling: through a pidfd (`pidfd_open`, Linux 5.3+), which
//! turns readable when the process exits and is registered with the reactor like a socket;
//! where pidfds are missing, through `SIGCHLD` ([`crate::signal`]), after which the child is
//! checked with a non-blocking `waitpid`. The pipes to its stdin, stdout and stderr are
//! registered with the reactor too.
//!
//! The exit watch belongs to whichever runtime waits: a child spawned on a runtime that has
//! since shut down is waited for on the runtime that calls `wait` (as in tokio), its pidfd or
//! `SIGCHLD` listener registered there anew.

mod pipe;

pub use pipe::{ChildStderr, ChildStdin, ChildStdout};

use crate::io::AsyncFd;
use crate::signal::{signal, Signal, SignalKind};
use crate::sys::process::pidfd_open;
use std::ffi::OsStr;
use std::fmt;
use std::future::poll_fn;
use std::io;
use std::os::fd::OwnedFd;
use std::path::Path;
use std::process::{ExitStatus, Output, Stdio};
use std::task::{ready, Context, Poll};

/// A command to run, as `std::process::Command`, spawned into a [`Child`] whose exit and pipes
/// are awaited.
///
/// ```
/// mini_runtime::Runtime::new().unwrap().block_on(async {
///     let output = mini_runtime::process::Command::new("echo").arg("hello").output().await.unwrap();
///     assert!(output.status.success());
///     assert_eq!(output.stdout, b"hello\n");
/// });
/// ```
pub struct Command {
    std: std::process::Command,
    kill_on_drop: bool,
}

impl Command {
    /// The program to run (looked up in `PATH` if it has no slash).
    pub fn new(program: impl AsRef<OsStr>) -> Command {
        Command {
            std: std::process::Command::new(program),
            kill_on_drop: false,
        }
    }

    /// Adds an argument.
    pub fn arg(&mut self, arg: impl AsRef<OsStr>) -> &mut Command {
        self.std.arg(arg);
        self
    }

    /// Adds arguments.
    pub fn args(&mut self, args: impl IntoIterator<Item = impl AsRef<OsStr>>) -> &mut Command {
        self.std.args(args);
        self
    }

    /// Sets an environment variable for the child.
    pub fn env(&mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> &mut Command {
        self.std.env(key, value);
        self
    }

    /// Sets environment variables for the child.
    pub fn envs<K, V>(&mut self, vars: impl IntoIterator<Item = (K, V)>) -> &mut Command
    where
        K: AsRef<OsStr>,
        V: AsRef<OsStr>,
    {
        self.std.envs(vars);
        self
    }

    /// Removes an environment variable for the child.
    pub fn env_remove(&mut self, key: impl AsRef<OsStr>) -> &mut Command {
        self.std.env_remove(key);
        self
    }

    /// Starts the child with an empty environment.
    pub fn env_clear(&mut self) -> &mut Command {
        self.std.env_clear();
        self
    }

    /// The child's working directory.
    pub fn current_dir(&mut self, dir: impl AsRef<Path>) -> &mut Command {
        self.std.current_dir(dir);
        self
    }

    /// The child's standard input (default: inherited).
    pub fn stdin(&mut self, cfg: impl Into<Stdio>) -> &mut Command {
        self.std.stdin(cfg);
        self
    }

    /// The child's standard output (default: inherited; `output` pipes it).
    pub fn stdout(&mut self, cfg: impl Into<Stdio>) -> &mut Command {
        self.std.stdout(cfg);
        self
    }

    /// The child's standard error (default: inherited; `output` pipes it).
    pub fn stderr(&mut self, cfg: impl Into<Stdio>) -> &mut Command {
        self.std.stderr(cfg);
        self
    }

    /// Kills the child (`SIGKILL`) if its [`Child`] is dropped before it exits (default: the
    /// child is left running, as with `std`, and a task of the current runtime reaps it once it
    /// exits, as tokio does, so that no zombie is left).
    pub fn kill_on_drop(&mut self, kill: bool) -> &mut Command {
        self.kill_on_drop = kill;
        self
    }

    /// The `std` command, for the options not mirrored here (`uid`, `pre_exec`, …).
    pub fn as_std_mut(&mut self) -> &mut std::process::Command {
        &mut self.std
    }

    /// Starts the child.
    ///
    /// # Errors
    /// `NotFound` if the program does not exist, `PermissionDenied` if it is not executable,
    /// errors creating pipes or the pidfd.
    ///
    /// # Panics
    /// Outside a mini runtime.
    pub fn spawn(&mut self) -> io::Result<Child> {
        // Where pidfds are missing, listen for SIGCHLD before the child can exit.
        let sigchld = if pidfds_supported() {
            None
        } else {
            Some(signal(SignalKind::child())?)
        };
        let mut child = self.std.spawn()?;
        let exit = match sigchld {
            Some(sigchld) => ExitWatch::Sigchld(sigchld),
            None => ExitWatch::Pidfd(Some(AsyncFd::new(pidfd_open(child.id())?)?)),
        };
        Ok(Child {
            stdin: child.stdin.take().map(ChildStdin::from_std).transpose()?,
            stdout: child.stdout.take().map(ChildStdout::from_std).transpose()?,
            stderr: child.stderr.take().map(ChildStderr::from_std).transpose()?,
            child: Some(child),
            exit,
            status: None,
            on_drop: if self.kill_on_drop { OnDrop::Kill } else { OnDrop::Reap },
        })
    }

    /// Runs the child to completion and returns its exit status.
    pub async fn status(&mut self) -> io::Result<ExitStatus> {
        self.spawn()?.wait().await
    }

    /// Runs the child with its stdout and stderr piped, collects both, and returns them with its
    /// exit status.
    pub async fn output(&mut self) -> io::Result<Output> {
        self.std.stdout(Stdio::piped()).stderr(Stdio::piped());
        self.spawn()?.wait_with_output().await
    }
}

impl fmt::Debug for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.std.fmt(f)
    }
}

/// How a child's exit is noticed.
enum ExitWatch {
    /// Readable once the process has exited. `None` only while it moves to another runtime.
    Pidfd(Option<AsyncFd<OwnedFd>>),
    /// Any child's state changed: check ours.
    Sigchld(Signal),
}

/// A running (or exited) child process.
pub struct Child {
    /// The pipe to its stdin, if `Stdio::piped()`.
    pub stdin: Option<ChildStdin>,
    /// The pipe from its stdout, if `Stdio::piped()`.
    pub stdout: Option<ChildStdout>,
    /// The pipe from its stderr, if `Stdio::piped()`.
    pub stderr: Option<ChildStderr>,
    /// `None` only in `Drop`, once it has been handed to a reaper.
    child: Option<std::process::Child>,
    exit: ExitWatch,
    /// Set once the child is reaped.
    status: Option<ExitStatus>,
    on_drop: OnDrop,
}

/// What dropping a `Child` that has not exited does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum OnDrop {
    /// Leave it running, and reap it once it exits: a task on the current runtime waits for it
    /// (as tokio does, best effort), so that no zombie is left.
    Reap,
    /// `kill_on_drop`: kill it, and reap it.
    Kill,
    /// Nothing more: this is the reaping task's copy, dropped before the child exited (its
    /// runtime shut down). The child is left to the end of this process.
    Leave,
}

impl Child {
    fn std(&mut self) -> &mut std::process::Child {
        self.child.as_mut().expect("the child is present until drop")
    }

    /// The process id, until the child is reaped (after that the id may belong to another
    /// process).
    pub fn id(&self) -> Option<u32> {
        match (&self.child, self.status) {
            (Some(child), None) => Some(child.id()),
            _ => None,
        }
    }

    /// Waits for the child to exit and reaps it. Closes its stdin first, so that a child
    /// reading it to the end does not wait for us while we wait for it.
    pub async fn wait(&mut self) -> io::Result<ExitStatus> {
        drop(self.stdin.take());
        poll_fn(|cx| self.poll_wait(cx)).await
    }

    /// The exit status if the child has exited (reaping it), without waiting.
    pub fn try_wait(&mut self) -> io::Result<Option<ExitStatus>> {
        if self.status.is_none() {
            self.status = self.std().try_wait()?;
        }
        Ok(self.status)
    }

    fn poll_wait(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<ExitStatus>> {
        loop {
            if let Some(status) = self.try_wait()? {
                return Poll::Ready(Ok(status));
            }
            match &mut self.exit {
                ExitWatch::Pidfd(slot) => {
                    let pidfd = slot.as_mut().expect("the pidfd is present but while it moves");
                    if pidfd.runtime_is_shut_down() {
                        // Registered with a runtime that is gone: follow the one that waits.
                        let fd = slot.take().expect("present").into_inner();
                        *slot = Some(register_with_waiting_runtime(fd)?);
                        continue;
                    }
                    let mut guard = ready!(pidfd.poll_read_ready(cx))?;
                    // Readable means exited, so `try_wait` succeeds next; should the kernel
                    // ever report readiness early, wait for the next event instead of spinning.
                    let child = self.child.as_mut().expect("the child is present until drop");
                    match child.try_wait()? {
                        Some(status) => self.status = Some(status),
                        None => guard.clear_ready(),
                    }
                }
                ExitWatch::Sigchld(sigchld) => {
                    if ready!(sigchld.poll_recv(cx)).is_none() {
                        // Its runtime is gone: listen on the one that waits (a delivery in
                        // between is caught by the `try_wait` that comes first).
                        require_waiting_runtime()?;
                        *sigchld = signal(SignalKind::child())?;
                    }
                }
            }
        }
    }

    /// Sends `SIGKILL` (no-op once the child is reaped).
    pub fn start_kill(&mut self) -> io::Result<()> {
        if self.status.is_some() {
            return Ok(());
        }
        self.std().kill()
    }

    /// Kills the child and waits for it to exit.
    pub async fn kill(&mut self) -> io::Result<()> {
        self.start_kill()?;
        self.wait().await.map(drop)
    }

    /// Closes stdin, collects stdout and stderr (if piped) to their ends, and waits for the exit.
    pub async fn wait_with_output(mut self) -> io::Result<Output> {
        drop(self.stdin.take());
        let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
        let (mut out_pipe, mut err_pipe) = (self.stdout.take(), self.stderr.take());
        poll_fn(|cx| {
            let out_done = drain(
                cx,
                out_pipe.as_mut().map(|p| p as &mut (dyn futures_io::AsyncRead + Unpin)),
                &mut stdout,
            )?;
            let err_done = drain(
                cx,
                err_pipe.as_mut().map(|p| p as &mut (dyn futures_io::AsyncRead + Unpin)),
                &mut stderr,
            )?;
            if out_done && err_done {
                Poll::Ready(Ok::<(), io::Error>(()))
            } else {
                Poll::Pending
            }
        })
        .await?;
        let status = self.wait().await?;
        Ok(Output { status, stdout, stderr })
    }
}

/// Reads `pipe` into `into` until it would wait (`false`) or ends (`true`; no pipe: ended).
fn drain(
    cx: &mut Context<'_>,
    pipe: Option<&mut (dyn futures_io::AsyncRead + Unpin)>,
    into: &mut Vec<u8>,
) -> io::Result<bool> {
    let Some(pipe) = pipe else { return Ok(true) };
    let mut chunk = [0u8; 8192];
    loop {
        match std::pin::Pin::new(&mut *pipe).poll_read(cx, &mut chunk) {
            Poll::Ready(Ok(0)) => return Ok(true),
            Poll::Ready(Ok(n)) => into.extend_from_slice(&chunk[..n]),
            Poll::Ready(Err(error)) => return Err(error),
            Poll::Pending => return Ok(false),
        }
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        if self.status.is_some() {
            return;
        }
        let Some(mut child) = self.child.take() else { return };
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        match self.on_drop {
            OnDrop::Kill => {
                let _ = child.kill();
                // Reap it so that no zombie is left: SIGKILL ends it at once, but not synchronously.
                let reap = move || drop(child.wait());
                if crate::runtime::Handle::try_current().is_ok() {
                    drop(crate::task::spawn_blocking(reap));
                } else {
                    let _ = std::thread::Builder::new().name("mini-reaper".into()).spawn(reap);
                }
            }
            OnDrop::Reap => {
                let exit = std::mem::replace(&mut self.exit, ExitWatch::Pidfd(None));
                reap_once_exited(child, exit);
            }
            OnDrop::Leave => {}
        }
    }
}

/// Reaps a child dropped while it runs, once it exits: a task on the current runtime waits for
/// it with the child's own exit watch. Outside a runtime, or if the runtime shuts down first,
/// the child is left to the end of this process.
fn reap_once_exited(child: std::process::Child, exit: ExitWatch) {
    let mut orphan = Child {
        stdin: None,
        stdout: None,
        stderr: None,
        child: Some(child),
        exit,
        status: None,
        on_drop: OnDrop::Leave,
    };
    if crate::runtime::Handle::try_current().is_ok() {
        drop(crate::spawn(async move {
            let _ = orphan.wait().await;
        }));
    }
}

impl fmt::Debug for Child {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Child")
            .field("id", &self.id())
            .field("status", &self.status)
            .finish_non_exhaustive()
    }
}

/// Registers a child's pidfd with the runtime this code runs on.
fn register_with_waiting_runtime(pidfd: OwnedFd) -> io::Result<AsyncFd<OwnedFd>> {
    require_waiting_runtime()?;
    AsyncFd::new(pidfd)
}

/// An error unless this code runs inside a mini runtime (which the exit watch can move to).
fn require_waiting_runtime() -> io::Result<()> {
    match crate::runtime::Handle::try_current() {
        Ok(_) => Ok(()),
        Err(_) => Err(io::Error::other(
            "the mini runtime that spawned this child has shut down, and no other runtime is \
             waiting for it: await `wait` inside a mini runtime",
        )),
    }
}

/// Whether this kernel has `pidfd_open` (checked once).
fn pidfds_supported() -> bool {
    static SUPPORTED: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *SUPPORTED.get_or_init(|| match pidfd_open(std::process::id()) {
        Ok(_) => true,
        Err(error) => error.raw_os_error() != Some(libc::ENOSYS),
    })
}

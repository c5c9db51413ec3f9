//! Unix signals as futures and streams: [`ctrl_c`] and [`signal`].
//!
//! # How a delivery travels
//!
//! The first listener of a signal installs a handler for it (`sigaction`, for the life of the
//! process). The handler does only async-signal-safe things: it sets the signal's `PENDING` flag
//! and writes one byte to a process-wide pipe (the self-pipe trick). Every listener holds its
//! own `dup` of the pipe's read end, registered with its runtime's reactor, so whichever runtime
//! sees the byte first drains the pipe and *broadcasts*: for each pending signal it bumps the
//! signal's generation counter and wakes every listener of it. A listener yields one delivery
//! whenever the generation moved since it last looked; deliveries that arrive between two polls
//! are coalesced into one, as the kernel itself coalesces a signal that is already pending.

use crate::io::AsyncFd;
use crate::sys;
use parking_lot::Mutex;
use std::fmt;
use std::future::poll_fn;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU64, Ordering};
use std::sync::OnceLock;
use std::task::{Context, Poll, Waker};

/// Signal numbers are below this (Linux has 64 signals, numbered from 1).
const SIGNALS: usize = 65;

/// Set by the handler, cleared by the broadcast: the signal arrived since the last broadcast.
static PENDING: [AtomicBool; SIGNALS] = [const { AtomicBool::new(false) }; SIGNALS];
/// The pipe's write end, for the handler: -1 until the registry exists, then its
/// `pipe_write_end`, a valid fd that is never closed.
static PIPE_WRITE: AtomicI32 = AtomicI32::new(-1);

/// Which signal to listen for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SignalKind(libc::c_int);

impl SignalKind {
    /// `SIGINT`: Ctrl-C in a terminal.
    pub const fn interrupt() -> SignalKind {
        SignalKind(libc::SIGINT)
    }

    /// `SIGTERM`: the polite request to stop (`kill`, systemd, Kubernetes).
    pub const fn terminate() -> SignalKind {
        SignalKind(libc::SIGTERM)
    }

    /// `SIGHUP`: the terminal hung up; daemons often reload their configuration on it.
    pub const fn hangup() -> SignalKind {
        SignalKind(libc::SIGHUP)
    }

    /// `SIGQUIT`: Ctrl-\ in a terminal.
    pub const fn quit() -> SignalKind {
        SignalKind(libc::SIGQUIT)
    }

    /// `SIGUSR1`.
    pub const fn user_defined1() -> SignalKind {
        SignalKind(libc::SIGUSR1)
    }

    /// `SIGUSR2`.
    pub const fn user_defined2() -> SignalKind {
        SignalKind(libc::SIGUSR2)
    }

    /// `SIGCHLD`: a child process changed state.
    pub const fn child() -> SignalKind {
        SignalKind(libc::SIGCHLD)
    }

    /// `SIGWINCH`: the terminal's size changed.
    pub const fn window_change() -> SignalKind {
        SignalKind(libc::SIGWINCH)
    }

    /// `SIGALRM`.
    pub const fn alarm() -> SignalKind {
        SignalKind(libc::SIGALRM)
    }

    /// Any signal by number (`libc::SIGRTMIN() + 1`, …).
    pub const fn from_raw(signum: libc::c_int) -> SignalKind {
        SignalKind(signum)
    }

    /// The signal's number.
    pub const fn as_raw(self) -> libc::c_int {
        self.0
    }
}

/// What the broadcast and the listeners share for one signal.
struct Entry {
    /// Whether the handler is installed (set once, under `installed`'s lock).
    installed: Mutex<bool>,
    /// Bumped once per broadcast that found the signal pending.
    generation: AtomicU64,
    /// The listeners waiting for the next delivery, by listener id.
    waiters: Mutex<Vec<(u64, Waker)>>,
}

struct Registry {
    /// The pipe's read end; listeners `dup` it.
    pipe_read: OwnedFd,
    /// Kept open for the life of the process (the handler may write to it at any time).
    pipe_write_end: OwnedFd,
    entries: [Entry; SIGNALS],
    next_id: AtomicU64,
}

fn registry() -> io::Result<&'static Registry> {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    if let Some(registry) = REGISTRY.get() {
        return Ok(registry);
    }
    let (pipe_read, pipe_write) = sys::signal::pipe()?;
    let registry = REGISTRY.get_or_init(|| Registry {
        pipe_read,
        pipe_write_end: pipe_write,
        entries: std::array::from_fn(|_| Entry {
            installed: Mutex::new(false),
            generation: AtomicU64::new(0),
            waiters: Mutex::new(Vec::new()),
        }),
        next_id: AtomicU64::new(0),
    });
    // If another thread won the race, our pipe was dropped with the unused closure. Every
    // caller publishes the winner's write end (the same value) before it can install a handler.
    PIPE_WRITE.store(registry.pipe_write_end.as_raw_fd(), Ordering::Release);
    Ok(registry)
}

/// The signal handler: async-signal-safe only (atomics, and `sys::signal::write_from_handler`,
/// which is `write(2)` with `errno` saved and restored).
extern "C" fn on_signal(signum: libc::c_int) {
    if let Some(pending) = usize::try_from(signum).ok().and_then(|n| PENDING.get(n)) {
        pending.store(true, Ordering::Release);
    }
    let fd = PIPE_WRITE.load(Ordering::Acquire);
    if fd >= 0 {
        // SAFETY: a non-negative `PIPE_WRITE` is the registry's `pipe_write_end`, which is never
        // closed: the registry is a static that is never dropped.
        let fd = unsafe { BorrowedFd::borrow_raw(fd) };
        sys::signal::write_from_handler(fd);
    }
}

/// Installs the handler for `signum` once.
fn install(registry: &Registry, signum: libc::c_int) -> io::Result<()> {
    const FORBIDDEN: [libc::c_int; 6] = [
        libc::SIGKILL,
        libc::SIGSTOP,
        libc::SIGSEGV,
        libc::SIGBUS,
        libc::SIGILL,
        libc::SIGFPE,
    ];
    let index = usize::try_from(signum).ok().filter(|&n| n > 0 && n < SIGNALS);
    let Some(index) = index.filter(|_| !FORBIDDEN.contains(&signum)) else {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("signal {signum} cannot be listened for (invalid, or one of SIGKILL, SIGSTOP, SIGSEGV, SIGBUS, SIGILL, SIGFPE)"),
        ));
    };
    let mut installed = registry.entries[index].installed.lock();
    if *installed {
        return Ok(());
    }
    // SAFETY: `on_signal` is async-signal-safe: it only stores to atomics and calls
    // `write_from_handler`, and leaves errno as it found it.
    unsafe { sys::signal::sigaction(signum, on_signal) }?;
    *installed = true;
    Ok(())
}

/// Reads the pipe dry; `WouldBlock` if it held nothing.
fn drain(fd: &OwnedFd) -> io::Result<()> {
    let mut buf = [0u8; 64];
    let mut read_any = false;
    loop {
        match sys::read(fd.as_fd(), &mut buf) {
            Err(error) => {
                return match error.kind() {
                    io::ErrorKind::WouldBlock if read_any => Ok(()),
                    io::ErrorKind::Interrupted => continue,
                    _ => Err(error),
                };
            }
            Ok(0) => return Ok(()),
            Ok(_) => read_any = true,
        }
    }
}

/// Moves every pending signal's generation on and wakes its listeners.
fn broadcast(registry: &Registry) {
    for (signum, pending) in PENDING.iter().enumerate() {
        if pending.swap(false, Ordering::AcqRel) {
            let entry = &registry.entries[signum];
            entry.generation.fetch_add(1, Ordering::AcqRel);
            let waiters = std::mem::take(&mut *entry.waiters.lock());
            crate::util::wake_all::wake_all(waiters.into_iter().map(|(_, waker)| waker));
        }
    }
}

/// A stream of deliveries of one signal, from [`signal`].
///
/// Deliveries that arrive while nobody polls are coalesced: `recv` returns once for them all.
pub struct Signal {
    signum: libc::c_int,
    id: u64,
    /// The generation this listener has reported up to.
    seen: u64,
    /// This listener's `dup` of the self-pipe's read end, registered with its runtime.
    pipe: AsyncFd<OwnedFd>,
}

/// Listens for `kind` from now on: installs the handler the first time (for the rest of the
/// process's life: the signal's default action, such as terminating, no longer happens).
///
/// ```no_run
/// use mini_runtime::signal::{signal, SignalKind};
/// mini_runtime::Runtime::new().unwrap().block_on(async {
///     let mut hangups = signal(SignalKind::hangup()).unwrap();
///     while hangups.recv().await.is_some() {
///         println!("reloading the configuration");
///     }
/// });
/// ```
///
/// # Errors
/// `InvalidInput` for a signal that cannot be handled (`SIGKILL`, `SIGSTOP`, or one that means
/// a fault: `SIGSEGV`, `SIGBUS`, `SIGILL`, `SIGFPE`); errors creating the pipe or the `dup`.
///
/// # Panics
/// Outside a mini runtime.
pub fn signal(kind: SignalKind) -> io::Result<Signal> {
    let registry = registry()?;
    install(registry, kind.0)?;
    let entry = &registry.entries[kind.0 as usize];
    let pipe = AsyncFd::new(registry.pipe_read.try_clone()?)?;
    Ok(Signal {
        signum: kind.0,
        id: registry.next_id.fetch_add(1, Ordering::Relaxed),
        seen: entry.generation.load(Ordering::Acquire),
        pipe,
    })
}

/// Completes at the next `SIGINT` (Ctrl-C). The handler is installed when this is first polled,
/// and stays: a second Ctrl-C no longer terminates the process by itself.
///
/// ```no_run
/// mini_runtime::Runtime::new().unwrap().block_on(async {
///     mini_runtime::signal::ctrl_c().await.unwrap();
///     println!("shutting down");
/// });
/// ```
pub async fn ctrl_c() -> io::Result<()> {
    let mut interrupts = signal(SignalKind::interrupt())?;
    interrupts.recv().await;
    Ok(())
}

impl Signal {
    /// Waits for the next delivery; `None` once the runtime the listener belongs to has shut
    /// down.
    pub async fn recv(&mut self) -> Option<()> {
        poll_fn(|cx| self.poll_recv(cx)).await
    }

    /// Polls for the next delivery.
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<()>> {
        let Ok(registry) = registry() else {
            return Poll::Ready(None);
        };
        let entry = &registry.entries[self.signum as usize];
        loop {
            let generation = entry.generation.load(Ordering::Acquire);
            if generation != self.seen {
                self.seen = generation;
                return Poll::Ready(Some(()));
            }
            {
                let mut waiters = entry.waiters.lock();
                match waiters.iter_mut().find(|(id, _)| *id == self.id) {
                    Some((_, waker)) if waker.will_wake(cx.waker()) => {}
                    Some((_, waker)) => *waker = cx.waker().clone(),
                    None => waiters.push((self.id, cx.waker().clone())),
                }
            }
            // A broadcast between the check above and the registration has woken nobody here.
            if entry.generation.load(Ordering::Acquire) != self.seen {
                continue;
            }
            match self.pipe.poll_read_ready(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Err(_)) => return Poll::Ready(None),
                Poll::Ready(Ok(mut guard)) => {
                    if let Ok(Err(_)) = guard.try_io(drain) {
                        // Reading a pipe we own cannot fail but for EINTR (retried); report
                        // the impossible as the end of the stream rather than spin.
                        return Poll::Ready(None);
                    }
                    broadcast(registry);
                }
            }
        }
    }
}

impl Drop for Signal {
    fn drop(&mut self) {
        if let Ok(registry) = registry() {
            let mut waiters = registry.entries[self.signum as usize].waiters.lock();
            waiters.retain(|(id, _)| *id != self.id);
        }
    }
}

impl futures_core::Stream for Signal {
    type Item = ();

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<()>> {
        self.get_mut().poll_recv(cx)
    }
}

impl fmt::Debug for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signal")
            .field("signum", &self.signum)
            .finish_non_exhaustive()
    }
}

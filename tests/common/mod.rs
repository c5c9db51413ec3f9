//! Helpers shared by the integration tests: bounded runs (a hang becomes a failure), drop
//! counters, loopback sockets, a probe that tells whether the runtime's thread is parked, and
//! example binaries run as child processes.
//!
//! Each test binary uses only some of these.
#![allow(dead_code)]

mod example;
#[allow(unused_imports)] // only the tests that run an example use it
pub use example::*;

use mini::net::{TcpListener, TcpStream};
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::os::fd::AsRawFd;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

/// How long any one test body may take before it counts as hung: 30 s, or `MINI_TEST_TIMEOUT_SECS` (`.ci/memcheck` gives more: valgrind runs every thread on
/// one core, 20 to 50 times slower).
pub fn timeout() -> Duration {
    let seconds = std::env::var("MINI_TEST_TIMEOUT_SECS").map_or(30, |value| {
        value
            .parse()
            .expect("MINI_TEST_TIMEOUT_SECS must be a number of seconds")
    });
    Duration::from_secs(seconds)
}

/// An upper bound for loops that would otherwise run "until done".
pub const MAX_ROUNDS: usize = 1_000_000;

/// Runs `body` on a thread of its own and returns its result; a panic in it is re-raised here,
/// and a body that does not finish within [`timeout()`] fails the test instead of hanging it.
pub fn with_timeout<T: Send + 'static>(body: impl FnOnce() -> T + Send + 'static) -> T {
    let (done, finished) = mpsc::channel();
    let thread = thread::Builder::new()
        .name("test-body".into())
        .spawn(move || {
            let _ = done.send(catch_unwind(AssertUnwindSafe(body)));
        })
        .expect("spawn the test body's thread");
    match finished.recv_timeout(timeout()) {
        Ok(Ok(value)) => {
            thread.join().expect("the test body's thread finished");
            value
        }
        Ok(Err(panic)) => resume_unwind(panic),
        Err(RecvTimeoutError::Timeout) => {
            panic!(
                "the test body did not finish within {:?}: the runtime hung (lost wake-up or starvation?)",
                timeout()
            )
        }
        Err(RecvTimeoutError::Disconnected) => panic!("the test body's thread died without reporting"),
    }
}

/// Builds a fresh runtime on a thread of its own and `block_on`s the future `make` returns,
/// bounded by [`timeout()`].
pub fn run<Fut>(make: impl FnOnce() -> Fut + Send + 'static) -> Fut::Output
where
    Fut: Future,
    Fut::Output: Send + 'static,
{
    with_timeout(move || {
        let runtime = mini::runtime::Builder::new_current_thread()
            .build()
            .expect("build a runtime");
        runtime.block_on(make())
    })
}

/// Like [`run`], on a multi-threaded runtime with `workers` worker threads.
pub fn run_multi_thread<Fut>(workers: usize, make: impl FnOnce() -> Fut + Send + 'static) -> Fut::Output
where
    Fut: Future,
    Fut::Output: Send + 'static,
{
    with_timeout(move || {
        let runtime = mini::runtime::Builder::new_multi_thread()
            .worker_threads(workers)
            .build()
            .expect("build a runtime");
        runtime.block_on(make())
    })
}

/// Like [`run`], on a thread-per-core runtime with `workers` workers (the future runs on the
/// `block_on` thread; what it spawns goes to the workers in turn).
pub fn run_thread_per_core<Fut>(workers: usize, make: impl FnOnce() -> Fut + Send + 'static) -> Fut::Output
where
    Fut: Future,
    Fut::Output: Send + 'static,
{
    with_timeout(move || {
        let runtime = mini::runtime::Builder::new_thread_per_core()
            .worker_threads(workers)
            .build()
            .expect("build a runtime");
        runtime.block_on(make())
    })
}

/// Runs the future `make` returns on each flavor with worker threads (multi-thread, then
/// thread-per-core), each with `workers` workers.
pub fn run_on_worker_flavors<Fut>(workers: usize, make: impl Fn() -> Fut + Send + Sync + 'static)
where
    Fut: Future<Output = ()>,
{
    let make = Arc::new(make);
    run_multi_thread(workers, {
        let make = make.clone();
        move || make()
    });
    run_thread_per_core(workers, move || make());
}

/// For `#[mini::test]` bodies: aborts the whole test binary, with a message, if the guard is not
/// dropped within [`timeout()`] (a hung `#[mini::test]` cannot be stopped any other way).
pub struct Watchdog {
    _cancel: mpsc::Sender<()>,
}

pub fn watchdog(test: &'static str) -> Watchdog {
    let (cancel, cancelled) = mpsc::channel::<()>();
    thread::spawn(move || {
        if let Err(RecvTimeoutError::Timeout) = cancelled.recv_timeout(timeout()) {
            eprintln!(
                "{test} did not finish within {:?}: the runtime hung; aborting",
                timeout()
            );
            std::process::abort();
        }
    });
    Watchdog { _cancel: cancel }
}

/// Counts how many of its guards were dropped.
#[derive(Clone, Default)]
pub struct Drops(Arc<AtomicUsize>);

/// Increments its [`Drops`] when dropped.
pub struct DropGuard(Arc<AtomicUsize>);

impl Drops {
    pub fn guard(&self) -> DropGuard {
        DropGuard(self.0.clone())
    }

    pub fn count(&self) -> usize {
        self.0.load(SeqCst)
    }
}

impl Drop for DropGuard {
    fn drop(&mut self) {
        self.0.fetch_add(1, SeqCst);
    }
}

/// A listener on 127.0.0.1 with a port chosen by the kernel.
pub async fn bind_loopback() -> (TcpListener, SocketAddr) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind 127.0.0.1:0");
    let addr = listener.local_addr().expect("local_addr");
    (listener, addr)
}

/// Two ends of one loopback connection: `(client, server)`.
pub async fn connected_pair() -> (TcpStream, TcpStream) {
    let (listener, addr) = bind_loopback().await;
    let (client, accepted) = futures::join!(TcpStream::connect(addr), listener.accept());
    let client = client.expect("connect");
    let (server, peer) = accepted.expect("accept");
    assert_eq!(peer, client.local_addr().unwrap());
    (client, server)
}

/// An address on 127.0.0.1 where nothing listens (a port the kernel just handed out and that
/// was closed again).
pub async fn closed_port() -> SocketAddr {
    let (listener, addr) = bind_loopback().await;
    drop(listener);
    addr
}

/// Echoes everything it reads until end-of-file; returns how many bytes it echoed.
pub async fn echo(mut stream: TcpStream) -> io::Result<usize> {
    let mut buf = vec![0u8; 4096];
    let mut echoed = 0;
    for _ in 0..MAX_ROUNDS {
        match stream.read(&mut buf).await? {
            0 => return Ok(echoed),
            n => {
                stream.write_all(&buf[..n]).await?;
                echoed += n;
            }
        }
    }
    panic!("echo: more than {MAX_ROUNDS} reads on one connection");
}

/// `len` bytes of a pattern that does not repeat with any power-of-two period, so a lost,
/// repeated or reordered chunk shows up.
pub fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8).collect()
}

/// Makes closing `socket` send a reset (RST) instead of a FIN: `SO_LINGER` with a zero timeout.
pub fn set_linger_zero(socket: &impl AsRawFd) {
    let linger = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: passes a live `linger` and its size to setsockopt on an open socket.
    let result = unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            &linger as *const libc::linger as *const libc::c_void,
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        )
    };
    assert_eq!(result, 0, "setsockopt(SO_LINGER): {}", io::Error::last_os_error());
}

/// Whether `fd` is in non-blocking mode.
pub fn is_nonblocking(fd: &impl AsRawFd) -> bool {
    // SAFETY: F_GETFL takes no pointer; a bad fd is reported as -1.
    let flags = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_GETFL) };
    assert_ne!(flags, -1, "fcntl(F_GETFL): {}", io::Error::last_os_error());
    flags & libc::O_NONBLOCK != 0
}

/// The kernel id of the calling thread (for [`wait_until_parked`]).
pub fn current_tid() -> libc::pid_t {
    // SAFETY: gettid takes no arguments and cannot fail.
    unsafe { libc::gettid() }
}

/// Whether thread `tid` of this process is blocked in `epoll_wait` with no timeout, which is
/// how a mini runtime with nothing to do parks.
fn is_parked_in_epoll_wait(tid: libc::pid_t) -> bool {
    let Ok(syscall) = std::fs::read_to_string(format!("/proc/self/task/{tid}/syscall")) else {
        return false;
    };
    let fields: Vec<&str> = syscall.split_whitespace().collect();
    let Some(number) = fields.first().and_then(|nr| nr.parse::<libc::c_long>().ok()) else {
        return false; // "running"
    };
    let arg = |i: usize| {
        fields
            .get(i + 1)
            .and_then(|a| u64::from_str_radix(a.trim_start_matches("0x"), 16).ok())
    };
    match number {
        // epoll_wait(epfd, events, maxevents, timeout) and epoll_pwait(..., timeout, sigmask):
        // the timeout is the fourth argument; -1 waits forever.
        libc::SYS_epoll_wait | libc::SYS_epoll_pwait => arg(3).is_some_and(|timeout| timeout as u32 == u32::MAX),
        // epoll_pwait2 takes a pointer to a timespec; NULL waits forever.
        libc::SYS_epoll_pwait2 => arg(3) == Some(0),
        _ => false,
    }
}

/// Waits (polling /proc, bounded to about 10 s) until thread `tid` is parked in `epoll_wait`;
/// returns whether it was seen parked.
pub fn wait_until_parked(tid: libc::pid_t) -> bool {
    for _ in 0..10_000 {
        if is_parked_in_epoll_wait(tid) {
            return true;
        }
        thread::sleep(Duration::from_millis(1));
    }
    false
}

/// How many fds this process has open.
pub fn open_fds() -> Vec<String> {
    let mut fds: Vec<String> = std::fs::read_dir("/proc/self/fd")
        .expect("read /proc/self/fd")
        .map(|entry| {
            let entry = entry.expect("a /proc/self/fd entry");
            let target = std::fs::read_link(entry.path())
                .map(|t| t.display().to_string())
                .unwrap_or_default();
            format!("{} -> {}", entry.file_name().to_string_lossy(), target)
        })
        .collect();
    fds.sort();
    fds
}

/// Makes sure this process may open at least `wanted` fds, raising the soft limit toward the
/// hard one if needed.
pub fn ensure_fd_limit(wanted: u64) {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes one rlimit into a live one.
    assert_eq!(unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) }, 0);
    if limit.rlim_cur >= wanted {
        return;
    }
    assert!(
        limit.rlim_max >= wanted,
        "this test needs {wanted} fds but the hard limit (ulimit -Hn) is {}",
        limit.rlim_max
    );
    limit.rlim_cur = wanted;
    // SAFETY: setrlimit reads one live rlimit.
    assert_eq!(
        unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &limit) },
        0,
        "setrlimit: {}",
        io::Error::last_os_error()
    );
}

/// A thread callback (`on_thread_start`, `on_thread_stop`) that counts its calls in `calls`.
pub fn counting_callback(calls: &Arc<AtomicUsize>) -> impl Fn() + Send + Sync + 'static {
    let calls = calls.clone();
    move || {
        calls.fetch_add(1, SeqCst);
    }
}

/// A current-thread runtime: most tests check behaviour that is easiest to pin down with every
/// task on one thread (`tests/multi_thread.rs` covers the multi-threaded flavor).
pub fn current_thread_runtime() -> std::io::Result<mini::Runtime> {
    mini::runtime::Builder::new_current_thread().build()
}

/// The message of a panic payload (`panic!` with a literal or with format arguments).
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|message| message.to_string()))
        .expect("a string panic payload")
}

/// The message of a task's panic, failing the test if the task did not panic.
pub fn join_error_message(error: mini::task::JoinError) -> String {
    assert!(error.is_panic(), "expected a panic, got {error:?}");
    assert!(!error.is_cancelled());
    panic_message(&*error.into_panic())
}

/// A runtime of each flavor (those with workers with two), named for messages.
pub fn runtimes() -> [(&'static str, mini::Runtime); 3] {
    [
        (
            "current-thread",
            mini::runtime::Builder::new_current_thread().build().unwrap(),
        ),
        (
            "multi-thread",
            mini::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .build()
                .unwrap(),
        ),
        (
            "thread-per-core",
            mini::runtime::Builder::new_thread_per_core()
                .worker_threads(2)
                .build()
                .unwrap(),
        ),
    ]
}

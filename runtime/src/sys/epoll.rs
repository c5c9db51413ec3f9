//! The reactor's syscalls: the epoll instance and its interest list, the wait (`epoll_pwait2`
//! for a nanosecond timeout, `epoll_wait` where the kernel lacks it), and the eventfd that other
//! threads write to interrupt a wait.
//!
//! The reactor keeps the policy (tokens, the registration slab, what an event wakes); this file
//! only speaks to the kernel, and owns the events buffer so that no one else has to trust the
//! count the kernel returns.

use super::cvt;
use std::io;
use std::mem::MaybeUninit;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// `epoll_create1(2)`: a new close-on-exec epoll instance, owned by the caller.
pub(crate) fn epoll_create() -> io::Result<OwnedFd> {
    // SAFETY: epoll_create1 takes no pointers.
    let fd = cvt(unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) })?;
    // SAFETY: epoll_create1 succeeded: `fd` is a new fd that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// `eventfd(2)`: a new non-blocking, close-on-exec eventfd with its counter at zero, owned by the
/// caller.
pub(crate) fn eventfd() -> io::Result<OwnedFd> {
    // SAFETY: eventfd takes no pointers.
    let fd = cvt(unsafe { libc::eventfd(0, libc::EFD_CLOEXEC | libc::EFD_NONBLOCK) })?;
    // SAFETY: eventfd succeeded: `fd` is a new fd that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Adds `value` to an eventfd's counter (one `write(2)` of 8 bytes, which an eventfd takes whole
/// or not at all). A counter that would overflow gives `WouldBlock` (the fd is non-blocking).
pub(crate) fn eventfd_write(eventfd: BorrowedFd<'_>, value: u64) -> io::Result<()> {
    super::write(eventfd, &value.to_ne_bytes())?;
    Ok(())
}

/// Reads an eventfd's counter and resets it to zero (one `read(2)` of 8 bytes). A counter at zero
/// gives `WouldBlock` (the fd is non-blocking).
pub(crate) fn eventfd_read(eventfd: BorrowedFd<'_>) -> io::Result<u64> {
    let mut bytes = [0; 8];
    super::read(eventfd, &mut bytes)?;
    Ok(u64::from_ne_bytes(bytes))
}

/// Starts watching `fd` in `epoll`, edge-triggered, for `IN | OUT | RDHUP`; its events carry
/// `token`. `fd` must leave the set ([`epoll_del`]) before it is closed.
pub(crate) fn epoll_add(epoll: BorrowedFd<'_>, fd: BorrowedFd<'_>, token: u64) -> io::Result<()> {
    let interest = libc::EPOLLIN | libc::EPOLLOUT | libc::EPOLLRDHUP | libc::EPOLLET;
    epoll_ctl(epoll, libc::EPOLL_CTL_ADD, fd, interest as u32, token)
}

/// Stops watching `fd` (still open) in `epoll`.
pub(crate) fn epoll_del(epoll: BorrowedFd<'_>, fd: BorrowedFd<'_>) -> io::Result<()> {
    epoll_ctl(epoll, libc::EPOLL_CTL_DEL, fd, 0, 0)
}

/// `epoll_ctl(2)`.
fn epoll_ctl(epoll: BorrowedFd<'_>, op: libc::c_int, fd: BorrowedFd<'_>, events: u32, token: u64) -> io::Result<()> {
    let mut event = libc::epoll_event { events, u64: token };
    // SAFETY: both fds are borrowed, so open for the call; `event` is a valid epoll_event for
    // the duration of the call (the kernel ignores it for EPOLL_CTL_DEL).
    cvt(unsafe { libc::epoll_ctl(epoll.as_raw_fd(), op, fd.as_raw_fd(), &mut event) })?;
    Ok(())
}

/// One event as the kernel reports it: the token the fd was added with, and its readiness bits
/// (`EPOLLIN`, …; see `Ready::from_epoll`).
#[derive(Clone, Copy)]
#[repr(transparent)]
pub(crate) struct Event(libc::epoll_event);

impl Event {
    /// An event as if the kernel had reported it (the loom models play the kernel).
    #[cfg(all(test, loom))]
    pub(crate) fn new(token: u64, flags: libc::c_int) -> Event {
        Event(libc::epoll_event {
            events: flags as u32,
            u64: token,
        })
    }

    /// The token the fd was added with.
    pub(crate) fn token(&self) -> u64 {
        self.0.u64
    }

    /// The readiness bits.
    pub(crate) fn flags(&self) -> u32 {
        self.0.events
    }
}

/// The buffer one wait fills, allocated once and reused for the runtime's whole life.
pub(crate) struct Events {
    /// Holds the events of the last wait; its capacity is how many one wait returns at most.
    list: Vec<Event>,
}

impl Events {
    /// A buffer for at most `capacity` events per wait.
    pub(crate) fn with_capacity(capacity: usize) -> Events {
        Events {
            list: Vec::with_capacity(capacity),
        }
    }

    /// Waits on `epoll` for at most `timeout` (`None`: until an event comes) and returns the events
    /// it reported (more ready fds than the capacity are returned by the next wait).
    ///
    /// One `epoll_pwait2` (a nanosecond timeout, so timers are not rounded to milliseconds), or
    /// `epoll_wait` with the timeout rounded up to the millisecond (never early) where it fails:
    /// kernels before 5.11 answer `ENOSYS`, and seccomp filters that do not know it `EPERM`. A
    /// signal that interrupts the wait is `Interrupted`.
    pub(crate) fn wait(&mut self, epoll: BorrowedFd<'_>, timeout: Option<Duration>) -> io::Result<&[Event]> {
        static NO_PWAIT2: AtomicBool = AtomicBool::new(false);
        self.list.clear();
        let buf = self.list.spare_capacity_mut();
        let pwait2 = timeout
            .filter(|t| !t.is_zero() && !NO_PWAIT2.load(Ordering::Relaxed))
            .and_then(|timeout| match epoll_pwait2(epoll, buf, timeout) {
                Err(error) if error.kind() != io::ErrorKind::Interrupted => {
                    NO_PWAIT2.store(true, Ordering::Relaxed);
                    None
                }
                result => Some(result),
            });
        let count = match pwait2 {
            Some(result) => result?,
            None => epoll_wait(epoll, buf, timeout_ms(timeout))?,
        };
        // SAFETY: the list was empty, and the kernel initialised the first `count` events of its
        // spare capacity (it writes at most the `buf.len()` it was given).
        unsafe { self.list.set_len(count) };
        Ok(&self.list)
    }
}

/// `epoll_wait`'s timeout: `-1` (no limit) for `None`, else rounded up to the millisecond so that
/// the wait never ends before the deadline.
fn timeout_ms(timeout: Option<Duration>) -> libc::c_int {
    match timeout {
        None => -1,
        Some(timeout) => timeout.as_nanos().div_ceil(1_000_000).min(libc::c_int::MAX as u128) as libc::c_int,
    }
}

/// The most events one wait may write into `buf`.
fn max_events(buf: &[MaybeUninit<Event>]) -> libc::c_int {
    buf.len().min(libc::c_int::MAX as usize) as libc::c_int
}

/// `epoll_pwait2(2)` (Linux 5.11+, through `syscall`: not every libc wraps it) without a signal
/// mask: how many events it wrote at the start of `buf`.
fn epoll_pwait2(epoll: BorrowedFd<'_>, buf: &mut [MaybeUninit<Event>], timeout: Duration) -> io::Result<usize> {
    let timespec = libc::timespec {
        tv_sec: timeout.as_secs().min(libc::time_t::MAX as u64) as libc::time_t,
        tv_nsec: timeout.subsec_nanos() as libc::c_long,
    };
    // SAFETY: `epoll` is borrowed, so open for the call; `buf` has room for `max_events(buf)`
    // events (an `Event` is an `epoll_event`), `timespec` is live for the call, and a null
    // signal mask means "leave it alone".
    let count = cvt(unsafe {
        libc::syscall(
            libc::SYS_epoll_pwait2,
            epoll.as_raw_fd(),
            buf.as_mut_ptr().cast::<libc::epoll_event>(),
            max_events(buf),
            &timespec as *const libc::timespec,
            std::ptr::null::<libc::sigset_t>(),
            0usize,
        )
    })?;
    Ok(count as usize)
}

/// `epoll_wait(2)` for at most `timeout_ms` milliseconds (`-1`: no limit): how many events it
/// wrote at the start of `buf`. Made as `epoll_pwait` without a signal mask through `syscall`,
/// not glibc's `epoll_wait`, a pthread cancellation point that costs some 40 instructions per
/// call in a multi-threaded process (as mini-net's `sys.rs` explains).
fn epoll_wait(epoll: BorrowedFd<'_>, buf: &mut [MaybeUninit<Event>], timeout_ms: libc::c_int) -> io::Result<usize> {
    // SAFETY: `epoll` is borrowed, so open for the call; `buf` has room for `max_events(buf)`
    // events (an `Event` is an `epoll_event`), and the kernel writes at most that many; a null
    // signal mask means "leave it alone".
    let count = cvt(unsafe {
        libc::syscall(
            libc::SYS_epoll_pwait,
            epoll.as_raw_fd(),
            buf.as_mut_ptr().cast::<libc::epoll_event>(),
            max_events(buf),
            timeout_ms,
            std::ptr::null::<libc::sigset_t>(),
            0usize,
        )
    })?;
    Ok(count as usize)
}

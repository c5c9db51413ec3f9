//! Every syscall mini-runtime makes is here, one safe function per syscall (the signal handler's
//! `sigaction` is the one `unsafe fn`: what the handler does is the caller's promise), so that the
//! rest of the crate reads as logic and every `unsafe` block that talks to the kernel sits next to
//! the invariant it relies on. Modelled on mini-net's `net/src/sys.rs` and the `polling` crate's
//! epoll backend.
//!
//! Fds are `OwnedFd` (a new fd the caller now owns) or `BorrowedFd` (a valid fd that has not been
//! closed, and stays open for the call) wherever possible: a function that only uses an fd takes
//! `BorrowedFd<'_>`, never a `RawFd`, so a fd passed here is open by construction.
//!
//! - `mod.rs`: [`cvt`], `gettid`, and `read`/`write`/`set_nonblocking` on any fd (pipes, the
//!   signal pipe, the eventfd).
//! - `epoll.rs`: the epoll instance, its interest list, the wait, and the eventfd that interrupts
//!   it.
//! - `signal.rs`: the self-pipe, `sigaction`, `tgkill`, and the handler's async-signal-safe
//!   write.
//! - `process.rs`: `pidfd_open`.
//! - `socket.rs`: `getsockname` and `getpeername`, for task dumps.
//! - `affinity.rs`: `sched_getaffinity` and `sched_setaffinity`, for pinned workers.

pub(crate) mod affinity;
pub(crate) mod epoll;
pub(crate) mod process;
pub(crate) mod signal;
pub(crate) mod socket;

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd};

/// A libc return value as a `Result`: `-1` means the call failed and `errno` says why. The only
/// `cvt` in mini-runtime; it takes any integer a syscall returns (`c_int`, `ssize_t`, `c_long`).
pub(crate) fn cvt<T: PartialEq + From<i8>>(result: T) -> io::Result<T> {
    if result == T::from(-1) {
        Err(io::Error::last_os_error())
    } else {
        Ok(result)
    }
}

/// The kernel's id of the calling thread (what `tgkill` takes), asked of the kernel once per
/// thread, then remembered. Not for signal handlers (it touches a thread-local): they call
/// [`gettid_from_handler`].
pub(crate) fn gettid() -> u64 {
    thread_local! {
        static TID: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
    }
    let known = TID.try_with(std::cell::Cell::get).unwrap_or(0);
    if known != 0 {
        return known;
    }
    let tid = gettid_from_handler();
    let _ = TID.try_with(|cell| cell.set(tid));
    tid
}

/// `gettid(2)`, asked of the kernel each time: async-signal-safe.
pub(crate) fn gettid_from_handler() -> u64 {
    // SAFETY: gettid takes no arguments and cannot fail.
    unsafe { libc::syscall(libc::SYS_gettid) as u64 }
}

/// `read(2)`: at most `buf.len()` bytes from `fd`; `Ok(0)` is end-of-file. A non-blocking fd with
/// nothing to read gives `WouldBlock`.
pub(crate) fn read(fd: BorrowedFd<'_>, buf: &mut [u8]) -> io::Result<usize> {
    // SAFETY: `fd` is borrowed, so open for the call; the kernel writes at most `buf.len()` bytes
    // into `buf`, a live buffer of that length.
    let n = cvt(unsafe { libc::read(fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) })?;
    Ok(n as usize)
}

/// `write(2)`: at most `buf.len()` bytes to `fd`. A pipe whose reader is gone gives `EPIPE`
/// (Rust programs ignore `SIGPIPE`).
pub(crate) fn write(fd: BorrowedFd<'_>, buf: &[u8]) -> io::Result<usize> {
    // SAFETY: `fd` is borrowed, so open for the call; the kernel reads at most `buf.len()` bytes
    // from `buf`, a live buffer of that length.
    let n = cvt(unsafe { libc::write(fd.as_raw_fd(), buf.as_ptr().cast(), buf.len()) })?;
    Ok(n as usize)
}

/// `fcntl(2)` `F_GETFL` then `F_SETFL`: adds `O_NONBLOCK` to `fd`'s status flags.
pub(crate) fn set_nonblocking(fd: BorrowedFd<'_>) -> io::Result<()> {
    // SAFETY: `fd` is borrowed, so open for the call; F_GETFL takes no pointers.
    let flags = cvt(unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_GETFL) })?;
    // SAFETY: as above; F_SETFL takes an int, no pointers.
    cvt(unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_SETFL, flags | libc::O_NONBLOCK) })?;
    Ok(())
}

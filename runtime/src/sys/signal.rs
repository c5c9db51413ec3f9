//! The signal module's syscalls: the self-pipe, installing a handler with `sigaction`, and the
//! one thing the handler itself calls, a `write(2)` that leaves `errno` as it found it.
//!
//! Draining the pipe is a plain [`super::read`].

use super::cvt;
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

/// `pipe2(2)`: a new non-blocking, close-on-exec pipe, `(read end, write end)`, both owned by the
/// caller.
pub(crate) fn pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0; 2];
    // SAFETY: `fds` has room for the two fds pipe2 writes.
    cvt(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_NONBLOCK | libc::O_CLOEXEC) })?;
    // SAFETY: pipe2 succeeded: both fds are new and nothing else owns them.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

/// `sigaction(2)`: runs `handler` on every delivery of `signum` from now on, with `SA_RESTART`
/// (interrupted syscalls are restarted) and an empty mask. The previous action is not kept.
///
/// # Safety
/// `handler` must be async-signal-safe: it may interrupt any code on any thread, including
/// `malloc` or a lock holder, so it may only use atomics and async-signal-safe syscalls (such as
/// [`write_from_handler`]), and must leave `errno` as it found it.
pub(crate) unsafe fn sigaction(signum: libc::c_int, handler: extern "C" fn(libc::c_int)) -> io::Result<()> {
    // SAFETY: all zeroes is a valid sigaction (empty mask, no flags) before we fill it in.
    let mut action: libc::sigaction = unsafe { std::mem::zeroed() };
    action.sa_sigaction = handler as libc::sighandler_t;
    action.sa_flags = libc::SA_RESTART;
    // SAFETY: `action` is a valid sigaction whose handler is async-signal-safe (the caller's
    // promise); the old action is not needed (null).
    cvt(unsafe { libc::sigaction(signum, &action, std::ptr::null_mut()) })?;
    Ok(())
}

/// Writes one byte to `fd`, for a signal handler: async-signal-safe, it does only `write(2)`,
/// with `errno` saved before and restored after (the interrupted code may be about to read it),
/// and no allocation, lock or panic. The result is ignored: a full pipe (`EAGAIN`) already holds a
/// wake-up.
pub(crate) fn write_from_handler(fd: BorrowedFd<'_>) {
    // SAFETY: reading errno through its (thread-local, always valid) location is
    // async-signal-safe; it is restored below.
    let saved_errno = unsafe { *libc::__errno_location() };
    let byte = 1u8;
    // SAFETY: `fd` is borrowed, so open for the call; writes one byte from a live local.
    unsafe { libc::write(fd.as_raw_fd(), &byte as *const u8 as *const libc::c_void, 1) };
    // SAFETY: as above.
    unsafe { *libc::__errno_location() = saved_errno };
}

//! The signal syscalls: the self-pipe, installing a handler with `sigaction`, signalling one
//! thread (`tgkill`), and the one thing the signal module's handler calls, a `write(2)` that
//! leaves `errno` as it found it.
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

/// `sigaction(2)` with `SA_RESTART`, as [`sigaction`], but only where the signal is free: its
/// action is the default one (or already `handler`). Returns whether `handler` is installed; a
/// signal the program ignores or handles itself is left alone (`Ok(false)`).
///
/// # Safety
/// As for [`sigaction`]: `handler` must be async-signal-safe.
pub(crate) unsafe fn sigaction_if_free(signum: libc::c_int, handler: extern "C" fn(libc::c_int)) -> io::Result<bool> {
    // SAFETY: all zeroes is a valid sigaction for the kernel to overwrite.
    let mut current: libc::sigaction = unsafe { std::mem::zeroed() };
    // SAFETY: a null new action only reads the current one into `current`, a live sigaction.
    cvt(unsafe { libc::sigaction(signum, std::ptr::null(), &mut current) })?;
    let ours = handler as libc::sighandler_t;
    match current.sa_sigaction {
        action if action == ours => Ok(true),
        libc::SIG_DFL => {
            // SAFETY: the caller's promise, passed on.
            unsafe { sigaction(signum, handler)? };
            Ok(true)
        }
        _ => Ok(false),
    }
}

/// `tgkill(2)`: sends `signum` to the thread `tid` of this process. `ESRCH` if it has exited.
pub(crate) fn tgkill(tid: u64, signum: libc::c_int) -> io::Result<()> {
    // SAFETY: getpid and tgkill take integers only; a wrong tid is an error, not UB.
    cvt(unsafe { libc::syscall(libc::SYS_tgkill, libc::getpid(), tid as libc::pid_t, signum) })?;
    Ok(())
}

//! The process module's syscall: `pidfd_open`, the fd through which the reactor learns that a
//! child exited.

use super::cvt;
use std::io;
use std::os::fd::{FromRawFd, OwnedFd};

/// `pidfd_open(2)` (Linux 5.3+, through `syscall`: not every libc wraps it): a new close-on-exec
/// fd, owned by the caller, that turns readable when `pid` exits. Kernels without it give
/// `ENOSYS`.
pub(crate) fn pidfd_open(pid: u32) -> io::Result<OwnedFd> {
    // SAFETY: pidfd_open takes no pointers.
    let fd = cvt(unsafe { libc::syscall(libc::SYS_pidfd_open, pid as libc::pid_t, 0) })?;
    // SAFETY: pidfd_open succeeded: `fd` is a new fd that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as libc::c_int) })
}

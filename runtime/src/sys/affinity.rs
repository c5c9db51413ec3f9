//! CPU affinity: the CPUs this process may run on, and pinning the calling thread to one
//! (`Builder::pin_workers`).

use super::cvt;
use std::io;
use std::mem;

/// The CPUs in the calling thread's affinity mask, in order. The kernel keeps the mask within
/// the cgroup's cpuset, so this honours both `taskset` and container limits.
pub(crate) fn allowed_cpus() -> io::Result<Vec<usize>> {
    // SAFETY: all zeroes is an empty cpu_set_t.
    let mut set: libc::cpu_set_t = unsafe { mem::zeroed() };
    // SAFETY: the kernel writes at most `size_of::<cpu_set_t>()` bytes into `set`.
    cvt(unsafe { libc::sched_getaffinity(0, mem::size_of::<libc::cpu_set_t>(), &mut set) })?;
    Ok((0..libc::CPU_SETSIZE as usize)
        // SAFETY: `cpu` is below CPU_SETSIZE, the number of CPUs a cpu_set_t holds.
        .filter(|&cpu| unsafe { libc::CPU_ISSET(cpu, &set) })
        .collect())
}

/// Pins the calling thread to `cpu`.
///
/// # Errors
/// `InvalidInput` if `cpu` is not below `CPU_SETSIZE`; whatever `sched_setaffinity` says (for
/// example `EINVAL` when `cpu` is not in the process's cpuset).
pub(crate) fn pin_current_thread(cpu: usize) -> io::Result<()> {
    if cpu >= libc::CPU_SETSIZE as usize {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("CPU {cpu} is out of range"),
        ));
    }
    // SAFETY: all zeroes is an empty cpu_set_t.
    let mut set: libc::cpu_set_t = unsafe { mem::zeroed() };
    // SAFETY: `cpu` is below CPU_SETSIZE (checked above).
    unsafe { libc::CPU_SET(cpu, &mut set) };
    // SAFETY: the kernel reads `size_of::<cpu_set_t>()` bytes from `set`; pid 0 is this thread.
    cvt(unsafe { libc::sched_setaffinity(0, mem::size_of::<libc::cpu_set_t>(), &set) })?;
    Ok(())
}

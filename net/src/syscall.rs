//! Syscalls made directly, for the calls on the path of every read and write (`recv`, `readv`,
//! `send`, `sendmsg`).
//!
//! glibc's wrappers of those calls are pthread cancellation points: in a process with more than
//! one thread (any process with a mini runtime: its stall detector's watchdog is a thread) each
//! call switches asynchronous cancellation on and off around the syscall, some 40 instructions a
//! call that Rust, which never cancels threads, does not need. glibc's generic `syscall(2)` avoids
//! that but still costs a call, an argument shuffle and an `errno` store and load (about 20
//! instructions per request in hello_http, callgrind). On x86-64 and aarch64 the instruction is
//! issued inline here, and the kernel's `-errno` return becomes the `io::Error` directly; other
//! architectures go through `libc::syscall`.

use std::io;

/// Makes syscall `number` with `args` (unused trailing arguments are 0), returning its
/// non-negative result or the error it reports.
///
/// # Safety
/// The arguments must be valid for that syscall: every pointer points to memory the kernel may
/// read or write as the syscall's contract says, for the lengths passed.
#[inline(always)]
pub(crate) unsafe fn syscall(number: libc::c_long, args: [usize; 6]) -> io::Result<usize> {
    // SAFETY: the caller guarantees the arguments are valid for `number`.
    let result = unsafe { raw(number, args) };
    if result < 0 {
        Err(io::Error::from_raw_os_error(-result as i32))
    } else {
        Ok(result as usize)
    }
}

/// The syscall instruction: the kernel's result, `-errno` on failure.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn raw(number: libc::c_long, args: [usize; 6]) -> isize {
    let result: isize;
    // SAFETY: the x86-64 Linux syscall ABI: number in rax, arguments in rdi, rsi, rdx, r10, r8,
    // r9, result in rax; the instruction clobbers rcx and r11 and nothing else, and does not use
    // the stack. Memory is not declared untouched: the kernel reads and writes the buffers.
    unsafe {
        std::arch::asm!(
            "syscall",
            inlateout("rax") number as isize => result,
            in("rdi") args[0],
            in("rsi") args[1],
            in("rdx") args[2],
            in("r10") args[3],
            in("r8") args[4],
            in("r9") args[5],
            lateout("rcx") _,
            lateout("r11") _,
            options(nostack, preserves_flags),
        );
    }
    result
}

/// The syscall instruction: the kernel's result, `-errno` on failure.
#[cfg(target_arch = "aarch64")]
#[inline(always)]
unsafe fn raw(number: libc::c_long, args: [usize; 6]) -> isize {
    let result: isize;
    // SAFETY: the aarch64 Linux syscall ABI: number in x8, arguments in x0..x5, result in x0;
    // `svc 0` clobbers nothing else and does not use the stack. Memory is not declared untouched:
    // the kernel reads and writes the buffers.
    unsafe {
        std::arch::asm!(
            "svc 0",
            in("x8") number,
            inlateout("x0") args[0] as isize => result,
            in("x1") args[1],
            in("x2") args[2],
            in("x3") args[3],
            in("x4") args[4],
            in("x5") args[5],
            options(nostack, preserves_flags),
        );
    }
    result
}

/// Through glibc's `syscall(2)`, turned into the same `-errno` convention.
#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
#[inline(always)]
unsafe fn raw(number: libc::c_long, args: [usize; 6]) -> isize {
    // SAFETY: the caller guarantees the arguments are valid for `number`.
    let result = unsafe { libc::syscall(number, args[0], args[1], args[2], args[3], args[4], args[5]) };
    if result == -1 {
        -(io::Error::last_os_error().raw_os_error().unwrap_or(libc::EIO) as isize)
    } else {
        result as isize
    }
}

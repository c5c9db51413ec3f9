//! Benchmarks of mini beside other runtimes, on the same handler code.
//!
//! The HTTP handler is `examples/support/http.rs`, shared with mini's `hello_http` example, so
//! each server differs only in the runtime underneath. `http_cpu.sh` drives them with wrk.

#[path = "../../examples/support/http.rs"]
pub mod http;
pub mod sched;
pub mod server;
pub mod timers;

/// Raises this process's soft fd limit to `wanted` (at most the hard limit); children inherit it.
pub fn raise_fd_limit(wanted: u64) {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes one rlimit into a live one; setrlimit reads one.
    unsafe {
        libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit);
        limit.rlim_cur = limit.rlim_max.min(wanted.max(limit.rlim_cur));
        libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
    }
}

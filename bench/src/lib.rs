//! Benchmarks of mini beside other runtimes, on the same handler code.
//!
//! The HTTP handler is `examples/support/http.rs`, shared with mini's `hello_http` example, so
//! each server differs only in the runtime underneath. `http_cpu.sh` drives them with wrk.

#[path = "../../examples/support/http.rs"]
pub mod http;
pub mod sched;
pub mod server;
pub mod timers;

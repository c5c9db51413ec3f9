//! `bench_server VARIANT WORKLOAD ADDR`: one benchmark server, for the harness to run pinned to a
//! core. VARIANT: mini, mini-mt, mini-tpc, tokio-ct, tokio-mt, smol, floor. WORKLOAD: http,
//! echo, idle. The multi-thread and thread-per-core variants take their worker count from `MINI_WORKER_THREADS` /
//! `TOKIO_WORKER_THREADS`, else one per CPU the process may use.

use mini_bench::server::mini::Flavor;
use mini_bench::server::{self, Workload};

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let usage = "usage: bench_server VARIANT WORKLOAD ADDR";
    let variant = args.next().expect(usage);
    let workload = Workload::parse(&args.next().expect(usage));
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:8080".into());
    match variant.as_str() {
        "mini" => server::mini::run(workload, &addr, Flavor::CurrentThread),
        "mini-mt" => server::mini::run(workload, &addr, Flavor::MultiThread),
        "mini-tpc" => server::mini::run(workload, &addr, Flavor::ThreadPerCore),
        "tokio-ct" => server::tokio::run(workload, &addr, false),
        "tokio-mt" => server::tokio::run(workload, &addr, true),
        "smol" => server::smol::run(workload, &addr),
        "floor" => server::floor::run(workload, &addr),
        other => {
            panic!("unknown variant {other:?}: expected mini, mini-mt, mini-tpc, tokio-ct, tokio-mt, smol or floor")
        }
    }
}

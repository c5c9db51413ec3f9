//! The benchmark server on mini: current-thread, multi-thread, or thread-per-core with a
//! `SO_REUSEPORT` listener per worker (worker count from `MINI_WORKER_THREADS`, else one per
//! CPU the process may use). `MINI_BENCH_POLL_HISTOGRAM=1`
//! turns the poll-time histogram on, to measure what it costs.

use super::Workload;
use mini::net::{TcpListener, TcpStream};

super::connection_handlers!(TcpStream);

/// mini's flavors.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flavor {
    CurrentThread,
    MultiThread,
    ThreadPerCore,
}

pub fn run(workload: Workload, addr: &str, flavor: Flavor) -> std::io::Result<()> {
    let mut builder = match flavor {
        Flavor::CurrentThread => mini::runtime::Builder::new_current_thread(),
        Flavor::MultiThread => mini::runtime::Builder::new_multi_thread(),
        Flavor::ThreadPerCore => mini::runtime::Builder::new_thread_per_core(),
    };
    if std::env::var_os("MINI_BENCH_POLL_HISTOGRAM").is_some_and(|value| value == "1") {
        builder.enable_poll_time_histogram();
    }
    let runtime = builder.build()?;
    if flavor == Flavor::ThreadPerCore {
        return runtime.block_on(serve_per_core(workload, addr));
    }
    runtime.block_on(async {
        let listener = TcpListener::bind(addr).await?;
        super::announce(listener.local_addr()?);
        loop {
            let (stream, _) = listener.accept().await?;
            mini::spawn(async move {
                let _ = serve(workload, stream).await;
            });
        }
    })
}

/// Each worker accepts from its own `SO_REUSEPORT` socket and serves its connections itself.
async fn serve_per_core(workload: Workload, addr: &str) -> std::io::Result<()> {
    let listener = TcpListener::bind_per_worker(addr).await?;
    super::announce(listener.local_addr());
    let workers = mini::runtime::Handle::current().run_on_each(move |_worker| {
        let listener = listener.clone();
        async move {
            loop {
                let (stream, _) = listener.accept().await?;
                mini::spawn(async move {
                    let _ = serve(workload, stream).await;
                });
            }
            #[allow(unreachable_code)]
            std::io::Result::Ok(())
        }
    });
    workers.await.into_iter().collect()
}

//! The benchmark server on mini, current-thread or multi-thread (worker count from
//! `MINI_WORKER_THREADS`, else one per CPU the process may use). `MINI_BENCH_POLL_HISTOGRAM=1`
//! turns the poll-time histogram on, to measure what it costs.

use super::Workload;
use mini::net::{TcpListener, TcpStream};

super::connection_handlers!(TcpStream);

pub fn run(workload: Workload, addr: &str, multi_thread: bool) -> std::io::Result<()> {
    let mut builder = if multi_thread {
        mini::runtime::Builder::new_multi_thread()
    } else {
        mini::runtime::Builder::new_current_thread()
    };
    if std::env::var_os("MINI_BENCH_POLL_HISTOGRAM").is_some_and(|value| value == "1") {
        builder.enable_poll_time_histogram();
    }
    let runtime = builder.build()?;
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

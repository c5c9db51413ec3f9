//! The benchmark server on mini, current-thread or multi-thread (worker count from
//! `MINI_WORKER_THREADS`, else one per CPU the process may use).

use super::Workload;
use mini::net::{TcpListener, TcpStream};

super::connection_handlers!(TcpStream);

pub fn run(workload: Workload, addr: &str, multi_thread: bool) -> std::io::Result<()> {
    let runtime = if multi_thread {
        mini::runtime::Builder::new_multi_thread().build()?
    } else {
        mini::runtime::Builder::new_current_thread().build()?
    };
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

//! The benchmark server on tokio, current-thread or multi-thread.

use super::Workload;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

super::connection_handlers!(TcpStream);

pub fn run(workload: Workload, addr: &str, multi_thread: bool) -> std::io::Result<()> {
    let runtime = if multi_thread {
        tokio::runtime::Builder::new_multi_thread().enable_all().build()?
    } else {
        tokio::runtime::Builder::new_current_thread().enable_all().build()?
    };
    runtime.block_on(async {
        let listener = TcpListener::bind(addr).await?;
        super::announce(listener.local_addr()?);
        loop {
            let (stream, _) = listener.accept().await?;
            tokio::spawn(async move {
                let _ = serve(workload, stream).await;
            });
        }
    })
}

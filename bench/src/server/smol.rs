//! The benchmark server on smol: async-io's reactor and async-executor's `LocalExecutor`,
//! driven by the main thread (its single-threaded configuration).

use super::Workload;
use smol::io::{AsyncReadExt, AsyncWriteExt};
use smol::net::{TcpListener, TcpStream};

super::connection_handlers!(TcpStream);

pub fn run(workload: Workload, addr: &str) -> std::io::Result<()> {
    let executor = smol::LocalExecutor::new();
    smol::block_on(executor.run(async {
        let listener = TcpListener::bind(addr).await?;
        super::announce(listener.local_addr()?);
        loop {
            let (stream, _) = listener.accept().await?;
            executor
                .spawn(async move {
                    let _ = serve(workload, stream).await;
                })
                .detach();
        }
    }))
}

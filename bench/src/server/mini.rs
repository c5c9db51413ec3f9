//! The benchmark server on mini's current-thread runtime.

use super::Workload;
use mini::net::{TcpListener, TcpStream};

super::connection_handlers!(TcpStream);

pub fn run(workload: Workload, addr: &str) -> std::io::Result<()> {
    let runtime = mini::Runtime::new()?;
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

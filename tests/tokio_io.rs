//! The `tokio-io` feature: tokio's `AsyncRead`/`AsyncWrite` on mini's streams, so a tokio-util
//! codec runs on mini with no tokio runtime anywhere. Run with
//! `cargo test --features tokio-io --test tokio_io` (`.ci/run` does).
#![cfg(feature = "tokio-io")]

mod common;

use common::*;
use futures::{SinkExt, StreamExt};
use mini::net::{TcpStream, UnixStream};
use tokio_util::codec::{Framed, LinesCodec};

#[test]
fn a_lines_codec_frames_a_conversation_over_a_mini_tcp_stream() {
    run_on_worker_flavors(2, || async {
        let (listener, addr) = bind_loopback().await;
        let server = mini::spawn(async move {
            let (stream, _) = listener.accept().await.unwrap();
            let mut lines = Framed::new(stream, LinesCodec::new());
            let mut count = 0;
            while let Some(line) = lines.next().await {
                let line = line.unwrap();
                lines.send(line.to_uppercase()).await.unwrap();
                count += 1;
            }
            count
        });
        let stream = TcpStream::connect(addr).await.unwrap();
        let mut lines = Framed::new(stream, LinesCodec::new());
        for i in 0..100 {
            lines.send(format!("line {i}")).await.unwrap();
            assert_eq!(lines.next().await.unwrap().unwrap(), format!("LINE {i}"));
        }
        // tokio's `poll_shutdown` ends the writing side: the server's stream of lines ends.
        SinkExt::<String>::close(&mut lines).await.unwrap();
        assert_eq!(server.await.unwrap(), 100);
    })
}

#[test]
fn tokio_io_ext_traits_read_and_write_a_unix_stream() {
    run(|| async {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let (mut a, mut b) = UnixStream::pair().unwrap();
        AsyncWriteExt::write_all(&mut a, b"through tokio's traits")
            .await
            .unwrap();
        AsyncWriteExt::shutdown(&mut a).await.unwrap();
        let mut received = String::new();
        AsyncReadExt::read_to_string(&mut b, &mut received).await.unwrap();
        assert_eq!(received, "through tokio's traits");
    })
}

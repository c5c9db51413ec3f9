//! `mini::io::copy` and `copy_bidirectional` over real sockets: an echo server made of one
//! `copy`, 64 MiB through a proxy arriving intact (checksum), the byte counts, end-of-file passed
//! on in both directions, and an error ending the copy.

mod common;

use common::*;
use mini::net::TcpStream;
use std::io::ErrorKind;
use std::net::{Shutdown, SocketAddr};

/// FNV-1a over `bytes`, continued from `hash`.
fn fnv1a(mut hash: u64, bytes: &[u8]) -> u64 {
    for &byte in bytes {
        hash = (hash ^ u64::from(byte)).wrapping_mul(0x100_0000_01b3);
    }
    hash
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;

/// A proxy on 127.0.0.1 that forwards each connection to `target` with `copy_bidirectional` and
/// reports each connection's byte counts.
async fn start_proxy(target: SocketAddr) -> (SocketAddr, mini::task::JoinHandle<(u64, u64)>) {
    let (listener, addr) = bind_loopback().await;
    let proxy = mini::spawn(async move {
        let (mut client, _) = listener.accept().await.unwrap();
        let mut server = TcpStream::connect(target).await.unwrap();
        mini::io::copy_bidirectional(&mut client, &mut server).await.unwrap()
    });
    (addr, proxy)
}

#[test]
fn an_echo_server_is_one_copy_from_the_read_half_to_the_write_half() {
    run(|| async {
        let (listener, addr) = bind_loopback().await;
        let server = mini::spawn(async move {
            let (stream, _) = listener.accept().await.unwrap();
            let (mut reader, mut writer) = stream.into_split();
            mini::io::copy(&mut reader, &mut writer).await.unwrap()
        });
        let client = TcpStream::connect(addr).await.unwrap();
        let data = pattern(1 << 20);
        let (mut reader, mut writer) = client.into_split();
        let sender = mini::spawn({
            let data = data.clone();
            async move {
                writer.write_all(&data).await.unwrap();
                drop(writer); // shuts down the writing side: the server's copy ends
            }
        });
        let mut echoed = vec![0u8; data.len()];
        reader.read_exact(&mut echoed).await.unwrap();
        sender.await.unwrap();
        assert!(echoed == data, "the echo differs");
        assert_eq!(server.await.unwrap(), data.len() as u64);
    })
}

#[test]
fn sixty_four_mebibytes_through_a_proxy_arrive_intact() {
    const SIZE: usize = 64 << 20;
    run(|| async {
        // The sink hashes everything it receives and answers with the count and the hash.
        let (sink, sink_addr) = bind_loopback().await;
        let sink = mini::spawn(async move {
            let (mut stream, _) = sink.accept().await.unwrap();
            let (mut count, mut hash) = (0u64, FNV_OFFSET);
            let mut buf = vec![0u8; 64 * 1024];
            loop {
                match stream.read(&mut buf).await.unwrap() {
                    0 => break,
                    n => {
                        count += n as u64;
                        hash = fnv1a(hash, &buf[..n]);
                    }
                }
            }
            let mut answer = [0u8; 16];
            answer[..8].copy_from_slice(&count.to_be_bytes());
            answer[8..].copy_from_slice(&hash.to_be_bytes());
            stream.write_all(&answer).await.unwrap();
        });
        let (proxy_addr, proxy) = start_proxy(sink_addr).await;
        let mut client = TcpStream::connect(proxy_addr).await.unwrap();
        let chunk = pattern(1 << 20);
        let mut expected = FNV_OFFSET;
        for _ in 0..SIZE / chunk.len() {
            client.write_all(&chunk).await.unwrap();
            expected = fnv1a(expected, &chunk);
        }
        client.shutdown(Shutdown::Write).unwrap();
        let mut answer = [0u8; 16];
        client.read_exact(&mut answer).await.unwrap();
        let mut rest = [0u8; 1];
        assert_eq!(
            client.read(&mut rest).await.unwrap(),
            0,
            "the proxy passes the sink's end-of-file on"
        );
        let count = u64::from_be_bytes(answer[..8].try_into().unwrap());
        let hash = u64::from_be_bytes(answer[8..].try_into().unwrap());
        assert_eq!(count, SIZE as u64, "bytes lost or added on the way");
        assert_eq!(hash, expected, "bytes changed or reordered on the way");
        sink.await.unwrap();
        assert_eq!(proxy.await.unwrap(), (SIZE as u64, 16));
    })
}

#[test]
fn a_reset_on_one_side_ends_copy_bidirectional_with_an_error() {
    run(|| async {
        let (target, target_addr) = bind_loopback().await;
        let (listener, proxy_addr) = bind_loopback().await;
        let proxy = mini::spawn(async move {
            let (mut client, _) = listener.accept().await.unwrap();
            let mut server = TcpStream::connect(target_addr).await.unwrap();
            mini::io::copy_bidirectional(&mut client, &mut server).await
        });
        let mut client = TcpStream::connect(proxy_addr).await.unwrap();
        let (mut server, _) = target.accept().await.unwrap();
        client.write_all(b"hello").await.unwrap();
        // Once the proxy has relayed this, it is connected and copying.
        let mut hello = [0u8; 5];
        server.read_exact(&mut hello).await.unwrap();
        set_linger_zero(&server);
        drop(server); // a reset
        let error = proxy.await.unwrap().expect_err("the reset must surface");
        assert!(
            matches!(error.kind(), ErrorKind::ConnectionReset | ErrorKind::BrokenPipe),
            "unexpected error: {error:?}"
        );
    })
}

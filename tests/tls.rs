//! TLS on mini with futures-rustls (rustls over futures-io): an echo server and a client, with
//! a certificate made in the test by rcgen (nothing read from disk or the network).

mod common;

use common::*;
use futures::io::{AsyncReadExt, AsyncWriteExt};
use futures_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};
use futures_rustls::rustls::{ClientConfig, RootCertStore, ServerConfig};
use futures_rustls::{TlsAcceptor, TlsConnector};
use mini::net::TcpStream;
use std::sync::Arc;

/// A self-signed certificate for `localhost`, and the server and client configurations that use
/// it (the client trusts exactly that certificate).
fn configs() -> (Arc<ServerConfig>, Arc<ClientConfig>) {
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let cert = CertificateDer::from(certified.cert.der().to_vec());
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(certified.key_pair.serialize_der()));
    let provider = Arc::new(futures_rustls::rustls::crypto::ring::default_provider());
    let server = ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert.clone()], key)
        .unwrap();
    let mut roots = RootCertStore::empty();
    roots.add(cert).unwrap();
    let client = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    (Arc::new(server), Arc::new(client))
}

#[test]
fn a_tls_echo_server_and_client_on_mini_round_trip_a_mebibyte() {
    run_on_worker_flavors(2, || async {
        let (server_config, client_config) = configs();
        let (listener, addr) = bind_loopback().await;
        let acceptor = TlsAcceptor::from(server_config);
        let server = mini::spawn(async move {
            let (stream, _) = listener.accept().await.unwrap();
            let mut tls = acceptor.accept(stream).await.unwrap();
            let mut buf = vec![0u8; 16 * 1024];
            let mut echoed = 0;
            loop {
                match tls.read(&mut buf).await.unwrap() {
                    0 => {
                        tls.close().await.unwrap(); // close_notify back
                        break;
                    }
                    n => {
                        tls.write_all(&buf[..n]).await.unwrap();
                        tls.flush().await.unwrap();
                        echoed += n;
                    }
                }
            }
            echoed
        });
        let stream = TcpStream::connect(addr).await.unwrap();
        let name = ServerName::try_from("localhost").unwrap();
        let tls = TlsConnector::from(client_config).connect(name, stream).await.unwrap();
        let (mut reader, mut writer) = tls.split();
        let data = pattern(1 << 20);
        let (sent, received) = futures::join!(
            async {
                writer.write_all(&data).await.unwrap();
                writer.close().await.unwrap(); // close_notify, then the TCP write side
            },
            async {
                let mut received = Vec::new();
                reader.read_to_end(&mut received).await.unwrap();
                received
            }
        );
        let () = sent;
        assert!(received == data, "the echo through TLS differs");
        assert_eq!(server.await.unwrap(), data.len());
    })
}

#[test]
fn a_client_that_does_not_trust_the_certificate_is_refused() {
    run(|| async {
        let (server_config, _) = configs();
        let (_, stranger_config) = configs(); // trusts another certificate
        let (listener, addr) = bind_loopback().await;
        let acceptor = TlsAcceptor::from(server_config);
        let server = mini::spawn(async move {
            let (stream, _) = listener.accept().await.unwrap();
            acceptor.accept(stream).await.is_err()
        });
        let stream = TcpStream::connect(addr).await.unwrap();
        let name = ServerName::try_from("localhost").unwrap();
        let error = TlsConnector::from(stranger_config)
            .connect(name, stream)
            .await
            .expect_err("the certificate is not trusted");
        assert_eq!(error.kind(), std::io::ErrorKind::InvalidData, "{error}");
        assert!(server.await.unwrap(), "the server sees the handshake fail too");
    })
}

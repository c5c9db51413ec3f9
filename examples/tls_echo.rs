//! A TLS echo server with futures-rustls on mini, its certificate made at start-up by rcgen
//! (self-signed, for `localhost`; printed so that a client can trust it).
//!
//! ```text
//! cargo run --example tls_echo > /tmp/mini-tls.txt &     # listens on 127.0.0.1:8443
//! sed -n '/BEGIN/,/END/p' /tmp/mini-tls.txt > /tmp/mini-cert.pem
//! openssl s_client -connect 127.0.0.1:8443 -servername localhost -CAfile /tmp/mini-cert.pem
//! ```

use futures::io::{AsyncReadExt, AsyncWriteExt};
use futures_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use futures_rustls::rustls::ServerConfig;
use futures_rustls::TlsAcceptor;
use mini::net::TcpListener;
use std::sync::Arc;

#[mini::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:8443".to_string());
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).map_err(std::io::Error::other)?;
    println!("{}", certified.cert.pem());
    let cert = CertificateDer::from(certified.cert.der().to_vec());
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(certified.key_pair.serialize_der()));
    let provider = Arc::new(futures_rustls::rustls::crypto::ring::default_provider());
    let config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(std::io::Error::other)?
        .with_no_client_auth()
        .with_single_cert(vec![cert], key)
        .map_err(std::io::Error::other)?;
    let acceptor = TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind(addr.as_str()).await?;
    println!("tls_echo: listening on {}", listener.local_addr()?);
    loop {
        let (stream, peer) = listener.accept().await?;
        let acceptor = acceptor.clone();
        mini::spawn(async move {
            let result = async {
                let mut tls = acceptor.accept(stream).await?;
                let mut buf = vec![0u8; 16 * 1024];
                loop {
                    match tls.read(&mut buf).await? {
                        0 => return tls.close().await,
                        n => {
                            tls.write_all(&buf[..n]).await?;
                            tls.flush().await?;
                        }
                    }
                }
            };
            if let Err(error) = result.await {
                eprintln!("tls_echo: {peer}: {error}");
            }
        });
    }
}

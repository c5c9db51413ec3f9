//! hyper 1.x on mini (the `hyper` feature): a hyper server and a hyper client, both on mini,
//! talking over a mini `TcpStream`; and `curl` against the server when curl is installed. Run
//! with `cargo test --features hyper --test hyper` (`.ci/run` does).
#![cfg(feature = "hyper")]

mod common;

use common::*;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::{Request, Response};
use mini::net::{TcpListener, TcpStream};
use std::convert::Infallible;
use std::net::SocketAddr;

async fn echo_path(request: Request<hyper::body::Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let path = request.uri().path().to_owned();
    let body = request
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    Ok(Response::new(Full::new(Bytes::from(format!("{path}:{}", body.len())))))
}

/// A hyper server on `listener` for `connections` connections.
fn serve(listener: TcpListener, connections: usize) -> mini::task::JoinHandle<()> {
    mini::spawn(async move {
        for _ in 0..connections {
            let (stream, _) = listener.accept().await.unwrap();
            mini::spawn(async move {
                hyper::server::conn::http1::Builder::new()
                    .timer(mini::hyper::Timer)
                    .serve_connection(stream, hyper::service::service_fn(echo_path))
                    .await
                    .unwrap();
            });
        }
    })
}

async fn client(addr: SocketAddr) -> hyper::client::conn::http1::SendRequest<Full<Bytes>> {
    let stream = TcpStream::connect(addr).await.unwrap();
    let (sender, connection) = hyper::client::conn::http1::handshake(stream).await.unwrap();
    hyper::rt::Executor::execute(&mini::hyper::Executor, async move {
        connection.await.unwrap();
    });
    sender
}

#[test]
fn a_hyper_client_and_server_on_mini_exchange_a_hundred_requests() {
    run_on_worker_flavors(2, || async {
        let (listener, addr) = bind_loopback().await;
        let server = serve(listener, 1);
        let mut sender = client(addr).await;
        for i in 0..100 {
            let request = Request::post(format!("http://{addr}/item/{i}"))
                .body(Full::new(Bytes::from(vec![b'x'; i])))
                .unwrap();
            // HTTP/1: one request at a time; wait until the connection can take the next.
            sender.ready().await.unwrap();
            let response = sender.send_request(request).await.unwrap();
            assert_eq!(response.status(), 200);
            let body = response.into_body().collect().await.unwrap().to_bytes();
            assert_eq!(body, format!("/item/{i}:{i}"));
        }
        drop(sender);
        server.await.unwrap();
    })
}

#[test]
fn curl_gets_an_answer_from_the_hyper_server() {
    if std::process::Command::new("curl").arg("--version").output().is_err() {
        eprintln!("skipped: curl is not installed (`apt-get install -y curl`)");
        return;
    }
    run(|| async {
        let (listener, addr) = bind_loopback().await;
        let server = serve(listener, 1);
        let output = mini::process::Command::new("curl")
            .args(["-s", "--max-time", "10", &format!("http://{addr}/from-curl")])
            .output()
            .await
            .unwrap();
        assert!(output.status.success(), "curl failed: {output:?}");
        assert_eq!(output.stdout, b"/from-curl:0");
        server.await.unwrap();
    })
}

/// The `hyper_server` example, run as a process (`cargo test --features hyper` builds it next to
/// the tests): hyper's client on mini and curl both get its answer.
#[test]
fn the_hyper_server_example_answers_a_hyper_client_on_mini_and_curl() {
    let server = ExampleServer::start("hyper_server", &["127.0.0.1:0"], |_| {});
    let (url, addr) = (server.announced.clone(), server.addr);
    let body = run(move || async move {
        let mut sender = client(addr).await;
        let request = Request::get(format!("{url}/from-hyper"))
            .body(Full::new(Bytes::new()))
            .unwrap();
        let response = sender.send_request(request).await.unwrap();
        response.into_body().collect().await.unwrap().to_bytes()
    });
    assert_eq!(body, "Hello from hyper on mini: GET /from-hyper\n");
    if std::process::Command::new("curl").arg("--version").output().is_ok() {
        let output = std::process::Command::new("curl")
            .args(["-s", "--max-time", "10", &format!("http://{addr}/from-curl")])
            .output()
            .unwrap();
        assert_eq!(output.stdout, b"Hello from hyper on mini: GET /from-curl\n");
    } else {
        eprintln!("curl is not installed: only hyper's client was checked");
    }
}

//! `TcpSocket`: options read back, `SO_REUSEPORT` listeners sharing a port, binding the local
//! end of a connection, a dual-stack IPv6 listener taking an IPv4 client, `IPV6_V6ONLY`, and
//! the errors of a taken port or a mismatched family.

mod common;

use common::*;
use mini::net::{TcpSocket, TcpStream};
use std::io::ErrorKind;
use std::net::SocketAddr;
use std::time::Duration;

fn loopback_v4() -> SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}

#[test]
fn options_set_before_listening_read_back() {
    let socket = TcpSocket::new_v4().unwrap(); // no runtime needed yet
    socket.set_reuseaddr(true).unwrap();
    assert!(socket.reuseaddr().unwrap());
    socket.set_reuseport(true).unwrap();
    assert!(socket.reuseport().unwrap());
    socket.set_keepalive(true).unwrap();
    assert!(socket.keepalive().unwrap());
    socket.set_nodelay(true).unwrap();
    assert!(socket.nodelay().unwrap());
    assert_eq!(socket.linger().unwrap(), None);
    socket.set_linger(Some(Duration::from_secs(3))).unwrap();
    assert_eq!(socket.linger().unwrap(), Some(Duration::from_secs(3)));
    socket.set_send_buffer_size(64 * 1024).unwrap();
    socket.set_recv_buffer_size(64 * 1024).unwrap();
    // Linux doubles the requested size for its bookkeeping.
    assert!(socket.send_buffer_size().unwrap() >= 64 * 1024);
    assert!(socket.recv_buffer_size().unwrap() >= 64 * 1024);
    assert!(is_nonblocking(&socket));
}

#[test]
fn two_reuseport_listeners_share_one_port_and_both_accept() {
    run(|| async {
        let first = TcpSocket::new_v4().unwrap();
        first.set_reuseport(true).unwrap();
        first.bind(loopback_v4()).unwrap();
        let addr = first.local_addr().unwrap();
        let second = TcpSocket::new_v4().unwrap();
        second.set_reuseport(true).unwrap();
        second.bind(addr).unwrap();
        let (first, second) = (first.listen(64).unwrap(), second.listen(64).unwrap());
        assert_eq!(second.local_addr().unwrap(), addr);
        // The kernel hashes connections to the two listeners; with enough of them both get some.
        let mut clients = Vec::new();
        for _ in 0..64 {
            clients.push(TcpStream::connect(addr).await.unwrap());
        }
        let (mut on_first, mut on_second) = (0, 0);
        for _ in 0..64 {
            futures::select! {
                accepted = futures::FutureExt::fuse(first.accept()) => { accepted.unwrap(); on_first += 1 }
                accepted = futures::FutureExt::fuse(second.accept()) => { accepted.unwrap(); on_second += 1 }
            }
        }
        assert_eq!(on_first + on_second, 64);
        assert!(
            on_first > 0 && on_second > 0,
            "SO_REUSEPORT spread nothing: {on_first} / {on_second}"
        );
    })
}

#[test]
fn a_connection_can_leave_from_a_chosen_local_address() {
    run(|| async {
        let (listener, addr) = bind_loopback().await;
        let socket = TcpSocket::new_v4().unwrap();
        socket.bind(loopback_v4()).unwrap();
        let local = socket.local_addr().unwrap();
        let stream = socket.connect(addr).await.unwrap();
        assert_eq!(stream.local_addr().unwrap(), local);
        let (_, peer) = listener.accept().await.unwrap();
        assert_eq!(peer, local);
    })
}

#[test]
fn a_dual_stack_listener_takes_ipv4_clients_unless_v6_only() {
    run(|| async {
        let socket = match TcpSocket::new_v6() {
            Ok(socket) => socket,
            Err(error) => {
                eprintln!("skipped: no IPv6 here ({error})");
                return;
            }
        };
        if let Err(error) = socket.bind("[::]:0".parse().unwrap()) {
            eprintln!("skipped: cannot bind [::] ({error})");
            return;
        }
        let port = socket.local_addr().unwrap().port();
        let listener = socket.listen(16).unwrap();
        let client = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        let (_, peer) = listener.accept().await.unwrap();
        assert_eq!(peer.port(), client.local_addr().unwrap().port());
        assert!(
            matches!(peer, SocketAddr::V6(v6) if v6.ip().to_ipv4_mapped().is_some()),
            "{peer}"
        );

        let only_v6 = TcpSocket::new_v6().unwrap();
        only_v6.set_only_v6(true).unwrap();
        only_v6.bind("[::]:0".parse().unwrap()).unwrap();
        let port = only_v6.local_addr().unwrap().port();
        let _listener = only_v6.listen(16).unwrap();
        let error = TcpStream::connect(("127.0.0.1", port)).await.expect_err("IPv6 only");
        assert_eq!(error.kind(), ErrorKind::ConnectionRefused);
    })
}

#[test]
fn a_taken_port_and_a_mismatched_family_are_clear_errors() {
    run(|| async {
        let (_listener, addr) = bind_loopback().await;
        let socket = TcpSocket::new_v4().unwrap();
        assert_eq!(socket.bind(addr).unwrap_err().kind(), ErrorKind::AddrInUse);
        let v4 = TcpSocket::new_v4().unwrap();
        let error = v4
            .bind("[::1]:0".parse().unwrap())
            .expect_err("an IPv6 address on an IPv4 socket");
        assert!(
            matches!(error.raw_os_error(), Some(libc::EINVAL) | Some(libc::EAFNOSUPPORT)),
            "unexpected error: {error:?}"
        );
    })
}

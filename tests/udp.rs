//! `UdpSocket` over 127.0.0.1 (and [::1]): datagrams round trip, connected sockets, peeking,
//! truncation, waiting for a datagram, errors from the peer's absence and from bad input, and
//! the socket options.

mod common;

use common::*;
use mini::net::UdpSocket;
use std::io::ErrorKind;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::thread;

async fn bind_udp() -> (UdpSocket, SocketAddr) {
    let socket = UdpSocket::bind("127.0.0.1:0").await.expect("bind 127.0.0.1:0");
    let addr = socket.local_addr().expect("local_addr");
    (socket, addr)
}

#[test]
fn datagrams_round_trip_between_two_sockets_with_their_senders() {
    run(|| async {
        let (a, a_addr) = bind_udp().await;
        let (b, b_addr) = bind_udp().await;
        let mut buf = [0u8; 64];
        for i in 0..1_000u32 {
            let message = i.to_be_bytes();
            assert_eq!(a.send_to(&message, b_addr).await.unwrap(), 4);
            let (n, from) = b.recv_from(&mut buf).await.unwrap();
            assert_eq!((&buf[..n], from), (&message[..], a_addr));
            b.send_to(&buf[..n], from).await.unwrap();
            let (n, from) = a.recv_from(&mut buf).await.unwrap();
            assert_eq!((&buf[..n], from), (&message[..], b_addr));
        }
    })
}

#[test]
fn a_connected_socket_sends_to_its_peer_and_hears_only_from_it() {
    run(|| async {
        let (a, a_addr) = bind_udp().await;
        let (b, b_addr) = bind_udp().await;
        let (stranger, _) = bind_udp().await;
        b.connect(a_addr).await.unwrap();
        assert_eq!(b.peer_addr().unwrap(), a_addr);
        stranger.send_to(b"not for you", b_addr).await.unwrap();
        a.send_to(b"from a", b_addr).await.unwrap();
        let mut buf = [0u8; 64];
        let n = b.recv(&mut buf).await.unwrap();
        assert_eq!(
            &buf[..n],
            b"from a",
            "a connected socket drops other senders' datagrams"
        );
        b.send(b"to a").await.unwrap();
        let (n, from) = a.recv_from(&mut buf).await.unwrap();
        assert_eq!((&buf[..n], from), (&b"to a"[..], b_addr));
    })
}

#[test]
fn peek_from_leaves_the_datagram_for_the_next_receive() {
    run(|| async {
        let (a, a_addr) = bind_udp().await;
        let (b, b_addr) = bind_udp().await;
        a.send_to(b"first", b_addr).await.unwrap();
        a.send_to(b"second", b_addr).await.unwrap();
        let mut buf = [0u8; 64];
        assert_eq!(b.peek_from(&mut buf).await.unwrap(), (5, a_addr));
        assert_eq!(b.peek_from(&mut buf).await.unwrap(), (5, a_addr));
        assert_eq!(b.recv_from(&mut buf).await.unwrap(), (5, a_addr));
        assert_eq!(&buf[..5], b"first");
        assert_eq!(b.recv_from(&mut buf).await.unwrap(), (6, a_addr));
        assert_eq!(&buf[..6], b"second");
    })
}

#[test]
fn a_datagram_longer_than_the_buffer_is_truncated_and_the_rest_is_lost() {
    run(|| async {
        let (a, _) = bind_udp().await;
        let (b, b_addr) = bind_udp().await;
        let long = pattern(1_000);
        a.send_to(&long, b_addr).await.unwrap();
        a.send_to(b"next", b_addr).await.unwrap();
        let mut small = [0u8; 10];
        let (n, _) = b.recv_from(&mut small).await.unwrap();
        assert_eq!(n, 10);
        assert_eq!(&small[..], &long[..10]);
        let (n, _) = b.recv_from(&mut small).await.unwrap();
        assert_eq!(&small[..n], b"next", "the truncated datagram's tail is gone");
    })
}

#[test]
fn recv_from_waits_until_a_std_thread_sends() {
    run(|| async {
        let (b, b_addr) = bind_udp().await;
        let tid = current_tid();
        let sender = thread::spawn(move || {
            let parked = wait_until_parked(tid);
            let socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
            socket.send_to(b"late", b_addr).unwrap();
            parked
        });
        let mut buf = [0u8; 16];
        let (n, _) = b.recv_from(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"late");
        assert!(
            sender.join().unwrap(),
            "the runtime never parked while recv_from waited"
        );
    })
}

#[test]
fn tasks_on_a_multi_threaded_runtime_share_one_socket() {
    run_on_worker_flavors(2, || async {
        let (server, server_addr) = bind_udp().await;
        let server = Arc::new(server);
        let echo = mini::spawn({
            let server = server.clone();
            async move {
                let mut buf = [0u8; 64];
                for _ in 0..400 {
                    let (n, from) = server.recv_from(&mut buf).await.unwrap();
                    server.send_to(&buf[..n], from).await.unwrap();
                }
            }
        });
        let clients: Vec<_> = (0..4u8)
            .map(|client| {
                mini::spawn(async move {
                    let (socket, _) = bind_udp().await;
                    socket.connect(server_addr).await.unwrap();
                    let mut buf = [0u8; 64];
                    for i in 0..100u8 {
                        socket.send(&[client, i]).await.unwrap();
                        let n = socket.recv(&mut buf).await.unwrap();
                        assert_eq!(&buf[..n], &[client, i]);
                    }
                })
            })
            .collect();
        for client in clients {
            client.await.unwrap();
        }
        echo.await.unwrap();
    })
}

#[test]
fn a_connected_send_to_a_port_nobody_listens_on_ends_in_connection_refused() {
    run(|| async {
        let (gone, gone_addr) = bind_udp().await;
        drop(gone);
        let (socket, _) = bind_udp().await;
        socket.connect(gone_addr).await.unwrap();
        socket.send(b"anyone?").await.unwrap();
        // The ICMP port-unreachable comes back as a socket error, which wakes the receiver.
        let mut buf = [0u8; 16];
        let error = socket.recv(&mut buf).await.expect_err("nobody answers");
        assert_eq!(error.kind(), ErrorKind::ConnectionRefused);
    })
}

#[test]
fn bad_addresses_and_taken_ports_are_clear_errors() {
    run(|| async {
        let error = UdpSocket::bind("not an address").await.expect_err("cannot parse");
        assert_eq!(error.kind(), ErrorKind::InvalidInput);
        let (taken, taken_addr) = bind_udp().await;
        let error = UdpSocket::bind(taken_addr).await.expect_err("the port is taken");
        assert_eq!(error.kind(), ErrorKind::AddrInUse);
        let error = UdpSocket::bind("192.0.2.1:0").await.expect_err("not a local address");
        assert_eq!(error.kind(), ErrorKind::AddrNotAvailable);
        let error = taken.send(b"where to?").await.expect_err("not connected");
        assert!(
            matches!(error.raw_os_error(), Some(libc::EDESTADDRREQ) | Some(libc::ENOTCONN)),
            "unexpected error: {error:?}"
        );
        assert_eq!(taken.peer_addr().unwrap_err().kind(), ErrorKind::NotConnected);
    })
}

#[test]
fn socket_options_read_back_and_multicast_groups_can_be_joined_on_loopback() {
    run(|| async {
        let (socket, _) = bind_udp().await;
        assert!(!socket.broadcast().unwrap());
        socket.set_broadcast(true).unwrap();
        assert!(socket.broadcast().unwrap());
        socket.set_ttl(7).unwrap();
        assert_eq!(socket.ttl().unwrap(), 7);
        let group = Ipv4Addr::new(239, 255, 42, 99);
        socket.join_multicast_v4(group, Ipv4Addr::LOCALHOST).unwrap();
        socket.set_multicast_loop_v4(true).unwrap();
        socket.set_multicast_ttl_v4(1).unwrap();
        socket.leave_multicast_v4(group, Ipv4Addr::LOCALHOST).unwrap();
        let error = socket
            .leave_multicast_v4(group, Ipv4Addr::LOCALHOST)
            .expect_err("not a member any more");
        assert_eq!(error.raw_os_error(), Some(libc::EADDRNOTAVAIL));
        assert!(socket.take_error().unwrap().is_none());
    })
}

#[test]
fn ipv6_loopback_datagrams_round_trip() {
    run(|| async {
        let a = match UdpSocket::bind("[::1]:0").await {
            Ok(socket) => socket,
            Err(error) if error.kind() == ErrorKind::AddrNotAvailable => {
                eprintln!("skipped: this machine has no IPv6 loopback ({error})");
                return;
            }
            Err(error) => panic!("bind [::1]:0: {error}"),
        };
        let b = UdpSocket::bind("[::1]:0").await.unwrap();
        a.send_to(b"over v6", b.local_addr().unwrap()).await.unwrap();
        let mut buf = [0u8; 16];
        let (n, from) = b.recv_from(&mut buf).await.unwrap();
        assert_eq!((&buf[..n], from), (&b"over v6"[..], a.local_addr().unwrap()));
    })
}

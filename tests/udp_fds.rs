//! `UdpSocket` closes what it opens: a binary of its own, since it compares `/proc/self/fd`
//! before and after (tests in one binary run in parallel and open sockets of their own).

mod common;

use common::*;
use mini::net::UdpSocket;

#[test]
fn sockets_close_their_fds_and_convert_to_and_from_std() {
    run(|| async {
        let before = open_fds();
        {
            let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
            let a_addr = a.local_addr().unwrap();
            let std_socket = a.into_std().unwrap();
            let a = UdpSocket::from_std(std_socket).unwrap();
            assert_eq!(a.local_addr().unwrap(), a_addr);
            let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
            let b_addr = b.local_addr().unwrap();
            a.send_to(b"x", b_addr).await.unwrap();
            let mut buf = [0u8; 1];
            b.recv_from(&mut buf).await.unwrap();
            assert!(is_nonblocking(&a) && is_nonblocking(&b));
        }
        assert_eq!(open_fds(), before, "every fd a UdpSocket opened is closed");
    })
}

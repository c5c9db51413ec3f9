//! `UdpSocket` and `UnixDatagram` close what they open: a binary of its own, since it compares `/proc/self/fd`
//! before and after (tests in one binary run in parallel and open sockets of their own).

mod common;

use common::*;
use mini::net::{UdpSocket, UnixDatagram};

#[test]
fn datagram_sockets_close_their_fds_and_convert_to_and_from_std() {
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
            let (c, d) = UnixDatagram::pair().unwrap();
            c.send(b"y").await.unwrap();
            d.recv(&mut buf).await.unwrap();
            assert!(is_nonblocking(&c) && is_nonblocking(&d));
            let d = UnixDatagram::from_std(d.into_std().unwrap()).unwrap();
            drop((c, d));
        }
        assert_eq!(open_fds(), before, "every fd the sockets opened is closed");
    })
}

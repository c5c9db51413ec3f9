//! UDP and Unix sockets, child processes with pipes, and files close what they open: a binary
//! of its own, since it compares `/proc/self/fd`
//! before and after (tests in one binary run in parallel and open sockets of their own).

mod common;

use common::*;
use mini::net::{UdpSocket, UnixDatagram, UnixListener, UnixStream};

#[test]
fn sockets_processes_and_files_close_their_fds() {
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
            let dir = std::env::temp_dir().join(format!("mini-fds-test-{}", std::process::id()));
            std::fs::create_dir_all(&dir).unwrap();
            let listener = UnixListener::bind(dir.join("fds.sock")).unwrap();
            let (client, accepted) = futures::join!(UnixStream::connect(dir.join("fds.sock")), listener.accept());
            let (mut client, (mut server, _)) = (client.unwrap(), accepted.unwrap());
            client.write_all(b"z").await.unwrap();
            server.read_exact(&mut buf).await.unwrap();
            assert!(is_nonblocking(&listener) && is_nonblocking(&client) && is_nonblocking(&server));
            let (e, f) = UnixStream::pair().unwrap();
            let e = UnixStream::from_std(e.into_std().unwrap()).unwrap();
            drop((listener, client, server, e, f));
            let mut child = mini::process::Command::new("cat")
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped())
                .spawn()
                .unwrap();
            let mut stdin = child.stdin.take().unwrap();
            futures::io::AsyncWriteExt::write_all(&mut stdin, b"via cat")
                .await
                .unwrap();
            drop(stdin);
            let output = child.wait_with_output().await.unwrap();
            assert_eq!(output.stdout, b"via cat");
            let path = dir.join("file");
            mini::fs::write(&path, b"file").await.unwrap();
            let mut file = mini::fs::File::open(&path).await.unwrap();
            let mut contents = Vec::new();
            futures::io::AsyncReadExt::read_to_end(&mut file, &mut contents)
                .await
                .unwrap();
            drop(file);
            std::fs::remove_dir_all(dir).unwrap();
        }
        assert_eq!(open_fds(), before, "every fd mini opened is closed");
    })
}

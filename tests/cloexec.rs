//! Every fd mini creates is close-on-exec: with a runtime of each flavor, TCP, UDP and Unix
//! sockets, a signal listener, a file and a child's pipes all open, a child process started with
//! `exec` sees only its standard streams (and the directory it lists).

mod common;

use common::*;
use mini::net::{TcpListener, TcpStream, UdpSocket, UnixDatagram, UnixStream};
use mini::process::Command;
use mini::signal::{signal, SignalKind};
use std::process::Stdio;

#[test]
fn a_child_inherits_no_fd_that_mini_opened() {
    // Whatever this process inherited itself (a test harness may pass fds on) is not ours.
    let before: Vec<u32> = open_fds()
        .iter()
        .filter_map(|entry| entry.split(" -> ").next()?.parse().ok())
        .collect();
    let _other_runtime = mini::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .build()
        .unwrap();
    run(move || async move {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (client, accepted) = futures::join!(TcpStream::connect(addr), listener.accept());
        let (_client, _accepted) = (client.unwrap(), accepted.unwrap());
        let _udp = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let _unix_streams = UnixStream::pair().unwrap();
        let _unix_datagrams = UnixDatagram::pair().unwrap();
        let _signals = signal(SignalKind::user_defined1()).unwrap();
        let path = std::env::temp_dir().join(format!("mini-cloexec-{}", std::process::id()));
        mini::fs::write(&path, b"x").await.unwrap();
        let _file = mini::fs::File::open(&path).await.unwrap();
        let _sleeper = Command::new("sleep")
            .arg("30")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        assert!(open_fds().len() > 15, "the test opened fewer fds than it meant to");

        // `ls` lists its own fds: 0, 1, 2 and the directory it reads (plus what this process
        // inherited before the test began); nothing of ours.
        let output = Command::new("ls").arg("/proc/self/fd").output().await.unwrap();
        assert!(output.status.success());
        let listed = String::from_utf8(output.stdout).unwrap();
        let inherited: Vec<u32> = listed
            .split_whitespace()
            .map(|fd| fd.parse().unwrap())
            .filter(|fd| *fd > 3 && !before.contains(fd))
            .collect();
        assert!(
            inherited.is_empty(),
            "the child inherited fds {inherited:?} (all: {listed:?})"
        );
        std::fs::remove_file(path).unwrap();
    })
}

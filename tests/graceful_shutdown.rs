//! The `graceful_shutdown` example, run as a process: after SIGTERM it refuses new clients,
//! keeps serving the open connection until the client leaves, and exits 0; with a client that
//! never leaves, it exits 0 at its deadline.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The example's binary: a plain `cargo test` builds every example before it runs the tests; a
/// filtered run (`cargo test --test graceful_shutdown`) does not, hence the message.
fn example() -> std::path::PathBuf {
    let exe = std::env::current_exe().unwrap();
    let path = exe
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .join("examples/graceful_shutdown");
    assert!(
        path.exists(),
        "{} is missing: run `cargo build --example graceful_shutdown` (a plain `cargo test` builds it)",
        path.display()
    );
    path
}

/// Starts the example and reads the address it listens on.
fn start(deadline_secs: u32) -> (Child, BufReader<std::process::ChildStdout>, SocketAddr) {
    let mut child = Command::new(example())
        .args(["127.0.0.1:0", &deadline_secs.to_string()])
        .stdout(Stdio::piped())
        .spawn()
        .expect("run the graceful_shutdown example");
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    let addr = line
        .trim()
        .rsplit(' ')
        .next()
        .unwrap()
        .parse()
        .expect("an address on the first line");
    (child, stdout, addr)
}

fn terminate(child: &Child) {
    // SAFETY: kill takes no pointers; the pid is our child's.
    assert_eq!(unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) }, 0);
}

/// Waits (bounded to 10 s) for the child to exit; returns its status.
fn wait(child: &mut Child) -> std::process::ExitStatus {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the server did not exit within 10 s of SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn after_sigterm_open_connections_finish_new_ones_are_refused_and_it_exits_0() {
    let (mut child, mut stdout, addr) = start(10);
    let mut client = TcpStream::connect(addr).unwrap();
    client.write_all(b"before").unwrap();
    let mut buf = [0u8; 6];
    client.read_exact(&mut buf).unwrap();
    terminate(&child);
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    assert!(line.contains("waiting up to"), "unexpected line: {line}");
    assert!(
        TcpStream::connect(addr).is_err(),
        "a new client was accepted after SIGTERM"
    );
    client.write_all(b"during").unwrap();
    client.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"during", "the open connection is still served");
    drop(client);
    let status = wait(&mut child);
    assert!(status.success(), "exit status {status}");
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).unwrap();
    assert!(rest.contains("every connection finished"), "unexpected output: {rest}");
}

#[test]
fn a_client_that_never_leaves_is_dropped_at_the_deadline() {
    let (mut child, mut stdout, addr) = start(1);
    let _stuck = TcpStream::connect(addr).unwrap();
    // Make sure the server has accepted it before the signal.
    let mut echo = TcpStream::connect(addr).unwrap();
    echo.write_all(b"x").unwrap();
    echo.read_exact(&mut [0u8; 1]).unwrap();
    terminate(&child);
    let started = Instant::now();
    let status = wait(&mut child);
    assert!(status.success(), "exit status {status}");
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "it did not wait for the deadline"
    );
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).unwrap();
    assert!(rest.contains("deadline passed"), "unexpected output: {rest}");
}

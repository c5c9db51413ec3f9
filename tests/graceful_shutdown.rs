//! The `graceful_shutdown` example, run as a process: after SIGTERM it refuses new clients,
//! keeps serving the open connection until the client leaves, and exits 0; with a client that
//! never leaves, it exits 0 at its deadline.

mod common;

use common::ExampleServer;
use std::io::{BufRead, Read, Write};
use std::net::TcpStream;
use std::process::Child;
use std::time::{Duration, Instant};

/// Starts the example with a deadline of `deadline_secs`.
fn start(deadline_secs: u32) -> ExampleServer {
    ExampleServer::start(
        "graceful_shutdown",
        &["127.0.0.1:0", &deadline_secs.to_string()],
        |_| {},
    )
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
    let mut server = start(10);
    let addr = server.addr;
    let mut client = TcpStream::connect(addr).unwrap();
    client.write_all(b"before").unwrap();
    let mut buf = [0u8; 6];
    client.read_exact(&mut buf).unwrap();
    terminate(&server.child);
    let mut line = String::new();
    server.stdout.read_line(&mut line).unwrap();
    assert!(line.contains("waiting up to"), "unexpected line: {line}");
    assert!(
        TcpStream::connect(addr).is_err(),
        "a new client was accepted after SIGTERM"
    );
    client.write_all(b"during").unwrap();
    client.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"during", "the open connection is still served");
    drop(client);
    let status = wait(&mut server.child);
    assert!(status.success(), "exit status {status}");
    let mut rest = String::new();
    server.stdout.read_to_string(&mut rest).unwrap();
    assert!(rest.contains("every connection finished"), "unexpected output: {rest}");
}

#[test]
fn a_client_that_never_leaves_is_dropped_at_the_deadline() {
    let mut server = start(1);
    let addr = server.addr;
    let _stuck = TcpStream::connect(addr).unwrap();
    // Make sure the server has accepted it before the signal.
    let mut echo = TcpStream::connect(addr).unwrap();
    echo.write_all(b"x").unwrap();
    echo.read_exact(&mut [0u8; 1]).unwrap();
    terminate(&server.child);
    let started = Instant::now();
    let status = wait(&mut server.child);
    assert!(status.success(), "exit status {status}");
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "it did not wait for the deadline"
    );
    let mut rest = String::new();
    server.stdout.read_to_string(&mut rest).unwrap();
    assert!(rest.contains("deadline passed"), "unexpected output: {rest}");
}

//! The `echo` example run as a child with `RLIMIT_NOFILE` lowered to 64. Its accept loop is the
//! plain one (log the error, go on): once its fds run out, the listener's own back-off must keep
//! it from spinning the CPU while it is starved, and it must accept every queued connection once
//! fds free up, without a new connection arriving to wake it, within the back-off's cap. With
//! `--shed`, the connections it cannot take are closed at once instead of left queued.

mod common;

use common::ExampleServer;
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::os::unix::process::CommandExt;
use std::time::{Duration, Instant};

/// The child's fd limit.
const FD_LIMIT: u64 = 64;
/// Connections opened to it: more than it can hold at once.
const CLIENTS: usize = 100;
/// How long the clients hold the starved child's fds.
const STARVED_WINDOW: Duration = Duration::from_secs(2);
/// The CPU time the starved child may use in [`STARVED_WINDOW`]: 5 % of one core. An accept loop
/// that retries at once uses all of it on every worker.
const MAX_STARVED_CPU: Duration = Duration::from_millis(100);
/// The listener's longest back-off (`mini-net`'s `accept_backoff.rs`), and the slack allowed on
/// top of it for the accept and the echo themselves.
const BACKOFF_CAP: Duration = Duration::from_secs(1);
const SLACK: Duration = Duration::from_millis(250);

/// Whether every fd number below the limit is taken, so the next `accept` gets `EMFILE`.
fn is_out_of_fds(server: &ExampleServer) -> bool {
    server.fds().iter().filter(|(number, _)| *number < FD_LIMIT).count() as u64 == FD_LIMIT
}

fn start_echo_with_fd_limit(args: &[&str]) -> ExampleServer {
    let args: Vec<&str> = ["127.0.0.1:0"].into_iter().chain(args.iter().copied()).collect();
    ExampleServer::start("echo", &args, |command| {
        // SAFETY: the closure runs in the child between fork and exec and calls only
        // setrlimit, which is async-signal-safe, on a live rlimit.
        unsafe {
            command.pre_exec(|| {
                let limit = libc::rlimit {
                    rlim_cur: FD_LIMIT,
                    rlim_max: FD_LIMIT,
                };
                if libc::setrlimit(libc::RLIMIT_NOFILE, &limit) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
    })
}

fn message(client: usize) -> Vec<u8> {
    format!("client {client:04}").into_bytes()
}

/// Reads the echo of `client`'s message, failing after 10 s instead of hanging.
fn expect_echo(stream: &mut TcpStream, client: usize) {
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut echo = vec![0u8; message(client).len()];
    stream
        .read_exact(&mut echo)
        .unwrap_or_else(|e| panic!("client {client} got no echo: {e}"));
    assert_eq!(echo, message(client), "client {client} got another echo");
}

/// Connects every client and sends its message; returns once the child is out of fds, with the
/// clients and how many of them it accepted.
fn starve(server: &ExampleServer) -> (Vec<TcpStream>, usize) {
    let clients: Vec<TcpStream> = (0..CLIENTS)
        .map(|client| {
            let mut stream = TcpStream::connect(server.addr).expect("connect: the backlog holds every client");
            stream.write_all(&message(client)).unwrap();
            stream
        })
        .collect();
    let deadline = Instant::now() + Duration::from_secs(10);
    while !is_out_of_fds(server) {
        assert!(
            Instant::now() < deadline,
            "the child never ran out of fds: {:?}",
            server.fds()
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    // The connections it holds are its sockets but the listener; the accept queue is FIFO, so
    // they are the first ones.
    let sockets = server
        .fds()
        .iter()
        .filter(|(_, target)| target.starts_with("socket:"))
        .count();
    let accepted = sockets - 1;
    assert!(
        (CLIENTS / 3..CLIENTS).contains(&accepted),
        "the child holds {accepted} of {CLIENTS} connections"
    );
    (clients, accepted)
}

#[test]
fn a_plain_accept_loop_out_of_fds_waits_without_spinning_and_resumes_within_the_cap() {
    let server = start_echo_with_fd_limit(&[]);
    let (mut clients, accepted) = starve(&server);
    for (client, stream) in clients.iter_mut().enumerate().take(accepted) {
        expect_echo(stream, client);
    }
    for (client, stream) in clients.iter_mut().enumerate().skip(accepted) {
        stream.set_nonblocking(true).unwrap();
        let error = stream.read(&mut [0u8; 1]).expect_err("a queued client got an answer");
        assert_eq!(error.kind(), ErrorKind::WouldBlock, "client {client}: {error}");
        stream.set_nonblocking(false).unwrap();
    }

    let cpu_before = server.cpu_time();
    std::thread::sleep(STARVED_WINDOW);
    let starved_cpu = server.cpu_time() - cpu_before;
    assert!(is_out_of_fds(&server), "the child should still be out of fds");
    println!(
        "out of fds with {accepted} of {CLIENTS} clients accepted; CPU time while starved: \
         {starved_cpu:?} in {STARVED_WINDOW:?}"
    );
    assert!(
        starved_cpu <= MAX_STARVED_CPU,
        "the accept loop spins while out of fds: {starved_cpu:?} of CPU in {STARVED_WINDOW:?}"
    );

    // Free the fds; the queued connections must now be accepted and served, with no new
    // connection arriving to produce a fresh readiness event, by the back-off's next try.
    let mut queued = clients.split_off(accepted);
    drop(clients);
    let freed = Instant::now();
    expect_echo(&mut queued[0], accepted);
    let waited = freed.elapsed();
    println!("the first queued client was served {waited:?} after the fds were freed");
    assert!(waited <= BACKOFF_CAP + SLACK, "it waited {waited:?}, more than the cap");
    for (client, stream) in queued.iter_mut().enumerate().skip(1) {
        expect_echo(stream, accepted + client);
    }
}

#[test]
fn a_shedding_listener_out_of_fds_closes_the_queued_connections_at_once() {
    let server = start_echo_with_fd_limit(&["--shed"]);
    let (mut clients, accepted) = starve(&server);
    // The ones it holds are served; the ones it could not take see a clean close, not a hang.
    for (client, stream) in clients.iter_mut().enumerate().take(accepted) {
        expect_echo(stream, client);
    }
    let shed_deadline = Instant::now() + BACKOFF_CAP + SLACK;
    for (client, stream) in clients.iter_mut().enumerate().skip(accepted) {
        stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        match stream.read(&mut [0u8; 16]) {
            Ok(0) => {}
            Err(error) if error.kind() == ErrorKind::ConnectionReset => {}
            other => panic!("client {client}: expected a close, got {other:?}"),
        }
    }
    assert!(
        Instant::now() <= shed_deadline + Duration::from_secs(1),
        "shedding took too long"
    );
    // And it still serves new clients once fds free up (once it has closed the ones dropped
    // here: a client arriving before that would be shed too).
    drop(clients);
    let deadline = Instant::now() + Duration::from_secs(10);
    while is_out_of_fds(&server) {
        assert!(Instant::now() < deadline, "the child never freed its fds");
        std::thread::sleep(Duration::from_millis(5));
    }
    let mut late = TcpStream::connect(server.addr).unwrap();
    late.write_all(&message(CLIENTS)).unwrap();
    expect_echo(&mut late, CLIENTS);
}

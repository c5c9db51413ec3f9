//! The `echo` example run as a child with `RLIMIT_NOFILE` lowered to 64: once its fds run out,
//! its accept loop (the one `TcpListener`'s docs recommend) must not spin the CPU while it is
//! starved, and must accept every queued connection once fds free up, without a new connection
//! arriving to wake it.

mod common;

use common::ExampleServer;
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::os::unix::process::CommandExt;
use std::time::{Duration, Instant};

/// The child's fd limit.
const FD_LIMIT: u64 = 64;
/// Connections opened to it: more than it can hold at once.
const CLIENTS: usize = 80;
/// The CPU time the starved child may use in [`STARVED_WINDOW`]; an accept loop that retries at
/// once uses all of it on every worker.
const MAX_STARVED_CPU: Duration = Duration::from_millis(200);
const STARVED_WINDOW: Duration = Duration::from_secs(1);

/// Whether every fd number below the limit is taken, so the next `accept` gets `EMFILE`.
fn is_out_of_fds(server: &ExampleServer) -> bool {
    server.fds().iter().filter(|(number, _)| *number < FD_LIMIT).count() as u64 == FD_LIMIT
}

fn start_echo_with_fd_limit() -> ExampleServer {
    ExampleServer::start("echo", &["127.0.0.1:0"], |command| {
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

#[test]
fn an_accept_loop_out_of_fds_waits_without_spinning_and_resumes_when_fds_free_up() {
    let server = start_echo_with_fd_limit();
    let addr = server.addr;
    let mut clients: Vec<TcpStream> = (0..CLIENTS)
        .map(|client| {
            let mut stream = TcpStream::connect(addr).expect("connect: the backlog holds every client");
            stream.write_all(&message(client)).unwrap();
            stream
        })
        .collect();

    let deadline = Instant::now() + Duration::from_secs(10);
    while !is_out_of_fds(&server) {
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
        accepted >= CLIENTS - accepted && accepted < CLIENTS,
        "the child holds {accepted} of {CLIENTS} connections"
    );
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
        starved_cpu < MAX_STARVED_CPU,
        "the accept loop spins while out of fds: {starved_cpu:?} of CPU in {STARVED_WINDOW:?}"
    );

    // Free the fds; the queued connections must now be accepted and served, with no new
    // connection arriving to produce a fresh readiness event.
    let queued = clients.split_off(accepted);
    drop(clients);
    for (client, mut stream) in queued.into_iter().enumerate() {
        expect_echo(&mut stream, accepted + client);
    }
}

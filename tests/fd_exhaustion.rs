//! The `echo` example run as a child with `RLIMIT_NOFILE` lowered to 64: once its fds run out,
//! its accept loop (the one `TcpListener`'s docs recommend) must not spin the CPU while it is
//! starved, and must accept every queued connection once fds free up, without a new connection
//! arriving to wake it.

use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The child's fd limit.
const FD_LIMIT: u64 = 64;
/// Connections opened to it: more than it can hold at once.
const CLIENTS: usize = 80;
/// The CPU time the starved child may use in [`STARVED_WINDOW`]; an accept loop that retries at
/// once uses all of it on every worker.
const MAX_STARVED_CPU: Duration = Duration::from_millis(200);
const STARVED_WINDOW: Duration = Duration::from_secs(1);

/// The example's binary (a plain `cargo test` builds every example first).
fn echo_example() -> std::path::PathBuf {
    let exe = std::env::current_exe().unwrap();
    let path = exe.parent().unwrap().parent().unwrap().join("examples/echo");
    assert!(
        path.exists(),
        "{} is missing: run `cargo build --example echo` (a plain `cargo test` builds it)",
        path.display()
    );
    path
}

/// Kills the child when the test ends, however it ends.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Server {
    fn fds(&self) -> Vec<(u64, String)> {
        std::fs::read_dir(format!("/proc/{}/fd", self.0.id()))
            .expect("read the child's /proc/PID/fd")
            .filter_map(|entry| {
                let entry = entry.ok()?;
                let number = entry.file_name().to_str()?.parse().ok()?;
                let target = std::fs::read_link(entry.path()).ok()?;
                Some((number, target.display().to_string()))
            })
            .collect()
    }

    /// Whether every fd number below the limit is taken, so the next `accept` gets `EMFILE`.
    fn is_out_of_fds(&self) -> bool {
        self.fds().iter().filter(|(number, _)| *number < FD_LIMIT).count() as u64 == FD_LIMIT
    }

    /// utime + stime of all its threads.
    fn cpu_time(&self) -> Duration {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.0.id())).expect("read /proc/PID/stat");
        let fields: Vec<u64> = stat
            .rsplit_once(')')
            .expect("stat has a comm")
            .1
            .split_whitespace()
            .skip(11)
            .take(2)
            .map(|field| field.parse().expect("a tick count"))
            .collect();
        // SAFETY: sysconf takes no pointers.
        let ticks_per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
        Duration::from_secs_f64((fields[0] + fields[1]) as f64 / ticks_per_second)
    }
}

fn start_echo_with_fd_limit() -> (Server, SocketAddr) {
    let mut command = Command::new(echo_example());
    command.arg("127.0.0.1:0").stdout(Stdio::piped());
    // SAFETY: the closure runs in the child between fork and exec and calls only setrlimit,
    // which is async-signal-safe, on a live rlimit.
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
    let mut child = command.spawn().expect("run the echo example");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .expect("read the example's first line");
    let addr = line
        .trim()
        .rsplit(' ')
        .next()
        .and_then(|addr| addr.parse().ok())
        .unwrap_or_else(|| panic!("no address on the example's first line: {line:?}"));
    (Server(child), addr)
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
    let (server, addr) = start_echo_with_fd_limit();
    let mut clients: Vec<TcpStream> = (0..CLIENTS)
        .map(|client| {
            let mut stream = TcpStream::connect(addr).expect("connect: the backlog holds every client");
            stream.write_all(&message(client)).unwrap();
            stream
        })
        .collect();

    let deadline = Instant::now() + Duration::from_secs(10);
    while !server.is_out_of_fds() {
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
    assert!(server.is_out_of_fds(), "the child should still be out of fds");
    println!("CPU time while out of fds: {starved_cpu:?} in {STARVED_WINDOW:?}");
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

//! An example binary run as a child process, as a user would run it: the address it listens on
//! (the last word of its first line), its fds, CPU time and memory from `/proc`, and a kill when
//! the test ends, however it ends (on drop, or by the kernel when the test's thread exits).

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::Duration;

/// The binary of example `name`: a plain `cargo test` builds every example before it runs the
/// tests; a filtered run does not, hence the message.
pub fn example_binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let path = exe.parent().unwrap().parent().unwrap().join("examples").join(name);
    assert!(
        path.exists(),
        "{} is missing: run `cargo build --example {name}` (with the example's features, if it needs any); a plain `cargo test` builds it",
        path.display()
    );
    path
}

pub struct ExampleServer {
    pub child: Child,
    /// The rest of its standard output.
    pub stdout: BufReader<ChildStdout>,
    pub addr: SocketAddr,
    /// Its first line's last word, e.g. `127.0.0.1:4242` or `http://127.0.0.1:4242`.
    pub announced: String,
}

impl ExampleServer {
    /// Runs example `name` with `args`, after `configure` had its say on the command.
    pub fn start(name: &str, args: &[&str], configure: impl FnOnce(&mut Command)) -> ExampleServer {
        let mut command = Command::new(example_binary(name));
        command.args(args).stdout(Stdio::piped());
        // SAFETY: runs in the child between fork and exec and only calls prctl, which is
        // async-signal-safe. The child is killed when the thread that started it ends, even if
        // the test is stuck elsewhere and never drops this value.
        unsafe {
            command.pre_exec(|| {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        configure(&mut command);
        let mut child = command
            .spawn()
            .unwrap_or_else(|e| panic!("run the {name} example: {e}"));
        let stdout = BufReader::new(child.stdout.take().unwrap());
        // Owned (and killed on drop) before anything here can fail.
        let mut server = ExampleServer {
            child,
            stdout,
            addr: SocketAddr::from(([0, 0, 0, 0], 0)),
            announced: String::new(),
        };
        let mut line = String::new();
        server
            .stdout
            .read_line(&mut line)
            .expect("read the example's first line");
        server.announced = line.trim().rsplit(' ').next().unwrap_or_default().to_string();
        server.addr = server
            .announced
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .parse()
            .unwrap_or_else(|_| panic!("no address at the end of {name}'s first line: {line:?}"));
        server
    }

    fn proc_file(&self, name: &str) -> String {
        std::fs::read_to_string(format!("/proc/{}/{name}", self.child.id()))
            .unwrap_or_else(|e| panic!("read /proc/PID/{name}: {e}"))
    }

    /// Its open fds: (number, what it points to).
    pub fn fds(&self) -> Vec<(u64, String)> {
        std::fs::read_dir(format!("/proc/{}/fd", self.child.id()))
            .expect("read the child's /proc/PID/fd")
            .filter_map(|entry| {
                let entry = entry.ok()?;
                let number = entry.file_name().to_str()?.parse().ok()?;
                let target = std::fs::read_link(entry.path()).ok()?;
                Some((number, target.display().to_string()))
            })
            .collect()
    }

    /// How many of its fds are sockets.
    pub fn sockets(&self) -> usize {
        self.fds()
            .iter()
            .filter(|(_, target)| target.starts_with("socket:"))
            .count()
    }

    /// utime + stime of all its threads.
    pub fn cpu_time(&self) -> Duration {
        let stat = self.proc_file("stat");
        let ticks: u64 = stat
            .rsplit_once(')')
            .expect("stat has a comm")
            .1
            .split_whitespace()
            .skip(11)
            .take(2)
            .map(|field| field.parse::<u64>().expect("a tick count"))
            .sum();
        // SAFETY: sysconf takes no pointers.
        let ticks_per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
        Duration::from_secs_f64(ticks as f64 / ticks_per_second)
    }

    /// Its resident memory in KiB.
    pub fn rss_kib(&self) -> u64 {
        self.proc_file("status")
            .lines()
            .find_map(|line| line.strip_prefix("VmRSS:"))
            .and_then(|value| value.split_whitespace().next()?.parse().ok())
            .expect("VmRSS in /proc/PID/status")
    }
}

impl Drop for ExampleServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

//! `cargo run --release -p mini-bench -- <suite> [--quick]`: mini beside tokio, smol and a
//! hand-written epoll loop, on the same handler code, in one run.
//!
//! Suites: `http` (wrk at 50 and 500 connections and pipelined: requests/s, p99, server CPU
//! time per request), `instructions` (callgrind: user-space instructions per request),
//! `syscalls` (strace: syscalls per request), `echo` (messages/s), `idle` (memory per idle
//! connection, and wake-ups per second while idle), `sched` (tokio's scheduler benchmarks), `timers`, `scaling` (hello_http on the
//! multi-threaded runtimes with 1 and 2 workers), `soak` (C10K and connection churn: errors,
//! time, memory and fds before and after), or `all`.
//!
//! Servers run pinned to CPU 0 and load generators to CPU 1 (`taskset`), as separate processes,
//! talking over 127.0.0.1 only, each run bounded in time. Variants run in alternation (A B C A B
//! C …) so that drift hits all of them alike, and each figure is the median of the rounds (5, or
//! 1 with `--quick`). Ratios are to tokio's current-thread runtime. `mini` and `tokio-ct` are
//! current-thread runtimes; `mini-mt` and `tokio-mt` multi-threaded ones and `mini-tpc` the
//! thread-per-core one (a `SO_REUSEPORT` listener per worker), with one worker per CPU they may
//! use (one, under the pinning above, except in `scaling`).

use mini_bench::sched;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const SERVER_CPU: &str = "0";
const LOAD_CPU: &str = "1";
const SERVER_VARIANTS: &[&str] = &["mini", "mini-mt", "mini-tpc", "tokio-ct", "tokio-mt", "smol", "floor"];
const BASELINE: &str = "tokio-ct";
const MT_BASELINE: &str = "tokio-mt";

struct Options {
    rounds: usize,
    seconds: u32,
    quick: bool,
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("sched-run") {
        return sched_run(&args[1..]);
    }
    if let [command, variant, workload] = args.as_slice() {
        if command == "timers-run" {
            return mini_bench::timers::run(variant, workload);
        }
    }
    let quick = args.iter().any(|a| a == "--quick");
    let suite = args.iter().find(|a| !a.starts_with("--")).map_or("all", String::as_str);
    let options = Options {
        rounds: if quick { 1 } else { 5 },
        seconds: if quick { 3 } else { 10 },
        quick,
    };
    build_binaries();
    print_header(suite, &options);
    let all = suite == "all";
    let mut ran = false;
    for (name, run) in [
        ("http", http_suite as fn(&Options)),
        ("instructions", instructions_suite),
        ("syscalls", syscalls_suite),
        ("echo", echo_suite),
        ("idle", idle_suite),
        ("sched", sched_suite),
        ("timers", timers_suite),
        ("scaling", scaling_suite),
        ("soak", soak_suite),
    ] {
        if all || suite == name {
            run(&options);
            ran = true;
        }
    }
    if !ran {
        eprintln!(
            "unknown suite {suite:?}: expected http, instructions, syscalls, echo, idle, sched, timers, scaling, soak or all"
        );
        std::process::exit(2);
    }
}

// ---- processes ---------------------------------------------------------------------------

fn bin_dir() -> PathBuf {
    std::env::current_exe()
        .expect("current_exe")
        .parent()
        .expect("a directory")
        .to_path_buf()
}

fn bin(name: &str) -> PathBuf {
    bin_dir().join(name)
}

/// Builds the servers and load generators beside this binary, so one `cargo run` is all it takes.
fn build_binaries() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
        .args(["build", "--release", "-p", "mini-bench", "--bins"])
        .status()
        .expect("run cargo build");
    assert!(status.success(), "building the benchmark binaries failed");
}

fn require(tool: &str, install: &str) -> bool {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        println!("\n_{tool} is missing: `{install}` — skipped._\n");
    }
    found
}

fn run_output(command: &mut Command) -> String {
    let output = command.output().unwrap_or_else(|e| panic!("run {command:?}: {e}"));
    assert!(
        output.status.success(),
        "{command:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

struct Server {
    child: Child,
    addr: String,
}

static NEXT_PORT: std::sync::atomic::AtomicU16 = std::sync::atomic::AtomicU16::new(21000);

impl Server {
    /// Starts `bench_server VARIANT WORKLOAD` pinned to the server CPU, behind `wrapper` (for
    /// valgrind), and waits for its "listening on" line.
    fn start(variant: &str, workload: &str, wrapper: &[String]) -> Server {
        Server::start_on(SERVER_CPU, &[], variant, workload, wrapper)
    }

    /// Like `start`, on the CPUs `cpus` (a taskset list), with `env` set.
    fn start_on(cpus: &str, env: &[(&str, String)], variant: &str, workload: &str, wrapper: &[String]) -> Server {
        let port = NEXT_PORT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let addr = format!("127.0.0.1:{port}");
        let mut child = Command::new("taskset")
            .args(["-c", cpus])
            .envs(env.iter().map(|(name, value)| (name, value)))
            .args(wrapper)
            .arg(bin("bench_server"))
            .args([variant, workload, &addr])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start bench_server");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("piped"))
            .read_line(&mut line)
            .expect("read the server's first line");
        assert!(
            line.starts_with("listening on"),
            "{variant} {workload} did not start: {line:?}"
        );
        Server { child, addr }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// utime + stime in seconds, over all threads.
    fn cpu_seconds(&self) -> f64 {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.pid())).expect("read /proc/PID/stat");
        let fields: Vec<&str> = stat
            .rsplit_once(')')
            .expect("stat has a comm")
            .1
            .split_whitespace()
            .collect();
        // Fields 14 and 15 of stat; after the comm, they are the 12th and 13th.
        let ticks: f64 = fields[11].parse::<f64>().unwrap() + fields[12].parse::<f64>().unwrap();
        // SAFETY: sysconf takes no pointers.
        ticks / unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64
    }

    fn rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).expect("read /proc/PID/status");
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.split_whitespace().next()?.parse().ok())
            .expect("VmRSS in status")
    }

    fn open_fds(&self) -> usize {
        std::fs::read_dir(format!("/proc/{}/fd", self.pid())).map_or(0, |d| d.count())
    }

    /// Context switches (voluntary and not) of every thread of the server so far: each time a
    /// thread went to sleep or was woken counts.
    fn context_switches(&self) -> u64 {
        let tasks = std::fs::read_dir(format!("/proc/{}/task", self.pid())).expect("read /proc/PID/task");
        let mut switches = 0;
        for task in tasks.flatten() {
            let Ok(status) = std::fs::read_to_string(task.path().join("status")) else {
                continue; // the thread exited meanwhile
            };
            switches += status
                .lines()
                .filter_map(|line| {
                    line.strip_prefix("voluntary_ctxt_switches:")
                        .or(line.strip_prefix("nonvoluntary_ctxt_switches:"))
                })
                .filter_map(|value| value.trim().parse::<u64>().ok())
                .sum::<u64>();
        }
        switches
    }

    /// Stops the server with SIGTERM (valgrind writes its output then) and waits for it.
    fn stop(mut self) {
        // SAFETY: kill takes no pointers; the pid is our child's.
        unsafe { libc::kill(self.pid() as libc::pid_t, libc::SIGTERM) };
        let deadline = Instant::now() + Duration::from_secs(30);
        while self.child.try_wait().ok().flatten().is_none() {
            if Instant::now() > deadline {
                let _ = self.child.kill();
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

// ---- wrk ---------------------------------------------------------------------------------

struct WrkResult {
    requests: f64,
    rps: f64,
    p99_us: f64,
}

fn wrk(addr: &str, connections: u32, seconds: u32, script: Option<&Path>) -> WrkResult {
    wrk_on(LOAD_CPU, addr, connections, seconds, script)
}

fn wrk_on(cpus: &str, addr: &str, connections: u32, seconds: u32, script: Option<&Path>) -> WrkResult {
    let mut command = Command::new("taskset");
    command.args([
        "-c",
        cpus,
        "wrk",
        "-t1",
        &format!("-c{connections}"),
        &format!("-d{seconds}s"),
        "--latency",
    ]);
    if let Some(script) = script {
        command.arg("-s").arg(script);
    }
    let out = run_output(command.arg(format!("http://{addr}/")));
    let field = |prefix: &str, index: usize| -> &str {
        out.lines()
            .map(str::trim)
            .find(|l| l.starts_with(prefix) || l.split_whitespace().nth(1) == Some(prefix))
            .and_then(|l| l.split_whitespace().nth(index))
            .unwrap_or_else(|| panic!("no {prefix:?} in wrk's output:\n{out}"))
    };
    let requests = out
        .lines()
        .find(|l| l.contains("requests in"))
        .and_then(|l| l.split_whitespace().next())
        .expect("requests");
    let p99 = field("99%", 1);
    let p99_us = if let Some(v) = p99.strip_suffix("us") {
        v.parse::<f64>().unwrap()
    } else if let Some(v) = p99.strip_suffix("ms") {
        v.parse::<f64>().unwrap() * 1e3
    } else {
        p99.trim_end_matches('s').parse::<f64>().unwrap() * 1e6
    };
    WrkResult {
        requests: requests.parse().unwrap(),
        rps: field("Requests/sec:", 1).parse().unwrap(),
        p99_us,
    }
}

/// A wrk script that sends 16 requests per write.
fn pipeline_script() -> PathBuf {
    let path = std::env::temp_dir().join("mini-bench-pipeline.lua");
    std::fs::write(
        &path,
        "init = function(args)\n  local r = {}\n  for i = 1, 16 do r[i] = wrk.format(nil, \"/\") end\n  \
         req = table.concat(r)\nend\nrequest = function() return req end\n",
    )
    .expect("write the wrk script");
    path
}

// ---- tables ------------------------------------------------------------------------------

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(|a, b| a.total_cmp(b));
    let n = values.len();
    if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    }
}

/// Per variant, per column: the values of each round.
type Samples = BTreeMap<&'static str, BTreeMap<&'static str, Vec<f64>>>;

/// Prints a markdown table: one row per variant, each column's median, and for `ratio_of` the
/// ratio of each variant's median to the baseline's.
fn print_table(
    title: &str,
    variants: &[&'static str],
    columns: &[(&'static str, usize)],
    ratio_of: &str,
    samples: &mut Samples,
) {
    println!("\n#### {title}\n");
    print!("| variant |");
    for (name, _) in columns {
        print!(" {name} |");
    }
    println!(" {ratio_of} ÷ tokio of the same flavor |");
    println!("|---|{}---|", "---|".repeat(columns.len()));
    let baselines: BTreeMap<&str, f64> = [BASELINE, MT_BASELINE]
        .into_iter()
        .filter_map(|baseline| {
            let values = samples.get_mut(baseline)?.get_mut(ratio_of)?;
            Some((baseline, median(values)))
        })
        .collect();
    for variant in variants {
        let Some(columns_of) = samples.get_mut(variant) else {
            continue;
        };
        print!("| {variant} |");
        for (name, decimals) in columns {
            match columns_of.get_mut(name) {
                Some(values) if !values.is_empty() => print!(" {:.*} |", decimals, median(values)),
                _ => print!(" n/a |"),
            }
        }
        let baseline = baselines.get(baseline_of(variant)).copied();
        match (columns_of.get_mut(ratio_of).map(|v| median(v)), baseline) {
            (Some(value), Some(base)) if base > 0.0 => println!(" {:.2} |", value / base),
            _ => println!(" n/a |"),
        }
    }
    let _ = std::io::stdout().flush();
}

/// What a variant's ratios are to: tokio's multi-threaded runtime for the variants with worker
/// threads, its current-thread one for the others.
fn baseline_of(variant: &str) -> &'static str {
    if variant.ends_with("-mt") || variant == "mini-tpc" {
        MT_BASELINE
    } else {
        BASELINE
    }
}

fn record(samples: &mut Samples, variant: &'static str, column: &'static str, value: f64) {
    samples
        .entry(variant)
        .or_default()
        .entry(column)
        .or_default()
        .push(value);
}

// ---- suites ------------------------------------------------------------------------------

fn http_suite(options: &Options) {
    if !require("wrk", "apt-get install -y wrk") {
        return;
    }
    println!(
        "\n### HTTP plaintext (`wrk -t1`, {} s, median of {} rounds)",
        options.seconds, options.rounds
    );
    let script = pipeline_script();
    for (title, connections, script) in [
        ("50 connections", 50, None),
        ("500 connections", 500, None),
        (
            "50 connections, 16 requests pipelined per write",
            50,
            Some(script.as_path()),
        ),
    ] {
        let mut samples = Samples::new();
        for _ in 0..options.rounds {
            for &variant in SERVER_VARIANTS {
                let server = Server::start(variant, "http", &[]);
                let before = server.cpu_seconds();
                let result = wrk(&server.addr, connections, options.seconds, script);
                let cpu = server.cpu_seconds() - before;
                server.stop();
                record(&mut samples, variant, "requests/s", result.rps);
                record(&mut samples, variant, "p99 µs", result.p99_us);
                record(&mut samples, variant, "CPU µs/request", cpu / result.requests * 1e6);
            }
        }
        let columns = [("requests/s", 0), ("p99 µs", 0), ("CPU µs/request", 2)];
        print_table(title, SERVER_VARIANTS, &columns, "CPU µs/request", &mut samples);
    }
}

fn instructions_suite(options: &Options) {
    if !require("valgrind", "apt-get install -y valgrind") {
        return;
    }
    let (n1, n2) = if options.quick {
        (5_000, 15_000)
    } else {
        (20_000, 60_000)
    };
    println!("\n### User-space instructions per request (callgrind; `http_load`, ({n2} − {n1} requests) apart)");
    for (title, connections, pipeline) in [
        ("50 connections", 50, 1),
        ("500 connections", 500, 1),
        ("50 connections, 16 pipelined", 50, 16),
    ] {
        let mut samples = Samples::new();
        for &variant in SERVER_VARIANTS {
            let first = callgrind_instructions(variant, connections, n1, pipeline);
            let second = callgrind_instructions(variant, connections, n2, pipeline);
            record(
                &mut samples,
                variant,
                "instructions/request",
                (second - first) / (n2 - n1) as f64,
            );
        }
        print_table(
            title,
            SERVER_VARIANTS,
            &[("instructions/request", 0)],
            "instructions/request",
            &mut samples,
        );
    }
}

fn callgrind_instructions(variant: &str, connections: u32, requests: u32, pipeline: u32) -> f64 {
    let out = std::env::temp_dir().join(format!("mini-bench-{variant}-{requests}.callgrind"));
    let wrapper = [
        "valgrind".into(),
        "--tool=callgrind".into(),
        format!("--callgrind-out-file={}", out.display()),
    ];
    let server = Server::start(variant, "http", &wrapper);
    run_output(
        Command::new("taskset")
            .args(["-c", LOAD_CPU])
            .arg(bin("http_load"))
            .args([
                server.addr.clone(),
                connections.to_string(),
                requests.to_string(),
                pipeline.to_string(),
            ]),
    );
    server.stop();
    let text = std::fs::read_to_string(&out).expect("read the callgrind output");
    let _ = std::fs::remove_file(&out);
    text.lines()
        .find_map(|l| l.strip_prefix("summary:"))
        .and_then(|v| v.trim().parse().ok())
        .expect("a summary line in the callgrind output")
}

fn syscalls_suite(options: &Options) {
    if !require("wrk", "apt-get install -y wrk") || !require("strace", "apt-get install -y strace") {
        return;
    }
    let seconds = options.seconds.min(5);
    println!("\n### Syscalls per request (`strace -f -c` on the server, `wrk -t1 -c50 -d{seconds}s`)\n");
    println!("| variant | syscalls/request | breakdown (per request) | ÷ {BASELINE} |");
    println!("|---|---|---|---|");
    let mut rows = Vec::new();
    for &variant in SERVER_VARIANTS {
        let server = Server::start(variant, "http", &[]);
        let out = std::env::temp_dir().join(format!("mini-bench-{variant}.strace"));
        let mut tracer = Command::new("strace")
            .args(["-f", "-c", "-o"])
            .arg(&out)
            .args(["-p", &server.pid().to_string()])
            .stderr(Stdio::null())
            .spawn()
            .expect("start strace");
        std::thread::sleep(Duration::from_millis(500));
        let result = wrk(&server.addr, 50, seconds, None);
        // SAFETY: kill takes no pointers; the pid is our child's.
        unsafe { libc::kill(tracer.id() as libc::pid_t, libc::SIGINT) };
        let _ = tracer.wait();
        server.stop();
        let table = std::fs::read_to_string(&out).expect("read strace's summary");
        let mut total = 0.0;
        let mut breakdown = Vec::new();
        for line in table.lines() {
            let fields: Vec<&str> = line.split_whitespace().collect();
            if fields.len() < 5 || fields[0].starts_with('-') || fields[0] == "%" {
                continue;
            }
            let calls: f64 = fields[3].parse().unwrap_or(0.0);
            let name = *fields.last().unwrap();
            if name == "total" {
                total = calls;
            } else if calls / result.requests >= 0.001 {
                breakdown.push(format!("{name} {:.3}", calls / result.requests));
            }
        }
        rows.push((variant, total / result.requests, breakdown.join(", ")));
    }
    let baseline = rows.iter().find(|r| r.0 == BASELINE).map(|r| r.1);
    for (variant, per_request, breakdown) in rows {
        let ratio = baseline.map_or("n/a".to_string(), |b| format!("{:.2}", per_request / b));
        println!("| {variant} | {per_request:.3} | {breakdown} | {ratio} |");
    }
}

fn echo_suite(options: &Options) {
    println!(
        "\n### Echo (64-byte messages, 100 connections, `echo_load`: a thread per connection, {} s, median of {} rounds)",
        options.seconds, options.rounds
    );
    let mut samples = Samples::new();
    for _ in 0..options.rounds {
        for &variant in SERVER_VARIANTS {
            let server = Server::start(variant, "echo", &[]);
            let before = server.cpu_seconds();
            let out = run_output(
                Command::new("taskset")
                    .args(["-c", LOAD_CPU])
                    .arg(bin("echo_load"))
                    .args([server.addr.clone(), "100".into(), options.seconds.to_string()]),
            );
            let cpu = server.cpu_seconds() - before;
            server.stop();
            let messages: f64 = out
                .lines()
                .find_map(|l| l.strip_prefix("messages "))
                .and_then(|v| v.parse().ok())
                .expect("messages");
            let rate: f64 = out
                .lines()
                .find_map(|l| l.strip_prefix("messages/s "))
                .and_then(|v| v.parse().ok())
                .expect("rate");
            record(&mut samples, variant, "messages/s", rate);
            record(&mut samples, variant, "CPU µs/message", cpu / messages * 1e6);
        }
    }
    print_table(
        "echo",
        SERVER_VARIANTS,
        &[("messages/s", 0), ("CPU µs/message", 2)],
        "messages/s",
        &mut samples,
    );
}

/// How long the idle suite watches an idle server's context switches.
const IDLE_WATCH: Duration = Duration::from_secs(2);

fn idle_suite(options: &Options) {
    let count: usize = if options.quick { 2_000 } else { 10_000 };
    println!(
        "\n### Idle connections ({count} connections, each parked in `read` with a 4 KiB buffer; \
         wake-ups/s: the server's context switches per second while they all wait, over {IDLE_WATCH:?})"
    );
    let mut samples = Samples::new();
    for _ in 0..options.rounds.min(3) {
        for &variant in SERVER_VARIANTS {
            let server = Server::start(variant, "idle", &[]);
            let (before, fds_before) = (server.rss_kib(), server.open_fds());
            let mut load = Command::new("taskset")
                .args(["-c", LOAD_CPU])
                .arg(bin("idle_load"))
                .args([server.addr.clone(), count.to_string(), server.pid().to_string()])
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .spawn()
                .expect("start idle_load");
            let mut line = String::new();
            BufReader::new(load.stdout.take().unwrap())
                .read_line(&mut line)
                .expect("read idle_load");
            assert_eq!(line.trim(), "ready", "idle_load failed");
            let with = server.rss_kib();
            // Every connection idle: what the server's threads do meanwhile (timers, the stall
            // detector's watchdog, a reactor that polls) shows as context switches.
            let switches = server.context_switches();
            std::thread::sleep(IDLE_WATCH);
            let wake_ups = (server.context_switches() - switches) as f64 / IDLE_WATCH.as_secs_f64();
            writeln!(load.stdin.take().unwrap()).expect("tell idle_load to close");
            let _ = load.wait();
            let deadline = Instant::now() + Duration::from_secs(30);
            while server.open_fds() > fds_before && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(5));
            }
            let after = settle_rss(&server);
            server.stop();
            let per_connection = (with as f64 - before as f64) * 1024.0 / count as f64;
            record(&mut samples, variant, "RSS before KiB", before as f64);
            record(&mut samples, variant, "RSS with KiB", with as f64);
            record(&mut samples, variant, "RSS after KiB", after as f64);
            record(
                &mut samples,
                variant,
                "RSS after − before KiB",
                after as f64 - before as f64,
            );
            record(&mut samples, variant, "bytes/connection", per_connection);
            record(&mut samples, variant, "wake-ups/s idle", wake_ups);
            record(
                &mut samples,
                variant,
                "runtime bytes/connection",
                per_connection - 4096.0,
            );
        }
    }
    let columns = [
        ("RSS before KiB", 0),
        ("RSS with KiB", 0),
        ("RSS after KiB", 0),
        ("RSS after − before KiB", 0),
        ("bytes/connection", 0),
        ("runtime bytes/connection", 0),
        ("wake-ups/s idle", 1),
    ];
    print_table(
        "idle",
        SERVER_VARIANTS,
        &columns,
        "runtime bytes/connection",
        &mut samples,
    );
    check_burst_leftover(&samples, "RSS after − before KiB");
}

/// Reads `name VALUE` from a load generator's output.
fn output_value(output: &str, name: &str) -> f64 {
    output
        .lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' '))
        .and_then(|value| value.parse().ok())
        .unwrap_or_else(|| panic!("no `{name}` in {output:?}"))
}

/// Waits (bounded to 30 s) until the server has at most `fds` fds open, e.g. after its clients
/// closed; returns how many it has.
/// The server's RSS once it stops changing (two readings 100 ms apart agree; at most 3 s): the
/// frees of the last closed connections may lag the fds' closing a little.
fn settle_rss(server: &Server) -> u64 {
    let deadline = Instant::now() + Duration::from_secs(3);
    let mut last = server.rss_kib();
    loop {
        std::thread::sleep(Duration::from_millis(100));
        let now = server.rss_kib();
        if now == last || Instant::now() >= deadline {
            return now;
        }
        last = now;
    }
}

/// How much memory a burst may leave behind: RSS after closing every connection at most this
/// much above RSS before any (issue 16 §4).
const BURST_LEFTOVER_KIB: f64 = 2048.0;

/// Prints, for mini's flavors, whether `column` (RSS after a burst minus before, in KiB)
/// stayed within [`BURST_LEFTOVER_KIB`].
fn check_burst_leftover(samples: &Samples, column: &str) {
    for variant in ["mini", "mini-mt", "mini-tpc"] {
        let Some(values) = samples.get(variant).and_then(|columns| columns.get(column)) else {
            continue;
        };
        let worst = values.iter().copied().fold(f64::MIN, f64::max);
        let verdict = if worst <= BURST_LEFTOVER_KIB { "yes" } else { "NO" };
        println!("{variant}: memory back after the burst (RSS after − before ≤ {BURST_LEFTOVER_KIB} KiB, worst round {worst:.0} KiB): {verdict}");
    }
}

fn settle_fds(server: &Server, fds: usize) -> usize {
    let deadline = Instant::now() + Duration::from_secs(30);
    while server.open_fds() > fds && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    server.open_fds()
}

fn soak_suite(options: &Options) {
    let (connections, cycles, warm_up) = if options.quick {
        (2_000, 20_000, 2_000)
    } else {
        (15_000, 500_000, 50_000)
    };
    mini_bench::raise_fd_limit(connections as u64 + 1_000);
    println!(
        "\n### Soak: C10K ({connections} connections × 10 echoes) and, on a fresh server, churn ({cycles} \
         connect / 1 KiB echo / close cycles from 200 clients, after {warm_up} warm-up cycles); `soak_load` \
         on tokio, one round"
    );
    let mut samples = Samples::new();
    for &variant in SERVER_VARIANTS {
        let server = Server::start(variant, "echo", &[]);
        let (rss_before, fds_before) = (server.rss_kib(), server.open_fds());
        let mut load = Command::new("taskset")
            .args(["-c", LOAD_CPU])
            .arg(bin("soak_load"))
            .args(["c10k", &server.addr, &connections.to_string(), "10"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start soak_load");
        let mut output = String::new();
        let mut stdout = BufReader::new(load.stdout.take().unwrap());
        while !output.ends_with("ready\n") {
            assert_ne!(
                stdout.read_line(&mut output).expect("read soak_load"),
                0,
                "soak_load failed: {output}"
            );
        }
        let (rss_with, fds_with) = (server.rss_kib(), server.open_fds());
        writeln!(load.stdin.take().unwrap()).expect("tell soak_load to close");
        let _ = load.wait();
        let fds_after = settle_fds(&server, fds_before);
        let rss_after = settle_rss(&server);
        server.stop();
        record(&mut samples, variant, "C10K errors", output_value(&output, "errors"));
        record(
            &mut samples,
            variant,
            "RSS after − before KiB",
            rss_after as f64 - rss_before as f64,
        );
        record(&mut samples, variant, "connect s", output_value(&output, "connected_s"));
        record(&mut samples, variant, "serve s", output_value(&output, "served_s"));
        record(
            &mut samples,
            variant,
            "fds open at peak",
            (fds_with - fds_before) as f64,
        );
        record(
            &mut samples,
            variant,
            "fds left after",
            fds_after as f64 - fds_before as f64,
        );
        let per_connection = (rss_with as f64 - rss_before as f64) * 1024.0 / connections as f64;
        record(&mut samples, variant, "RSS bytes/connection", per_connection);

        // Churn on a fresh server, so that "cold" is its memory before any connection.
        let server = Server::start(variant, "echo", &[]);
        let rss_cold = server.rss_kib();
        let churn = |count: usize| {
            run_output(
                Command::new("taskset")
                    .args(["-c", LOAD_CPU])
                    .arg(bin("soak_load"))
                    .args(["churn", &server.addr, "200", &count.to_string(), "300"]),
            )
        };
        let warm = churn(warm_up);
        let fds_warm = settle_fds(&server, fds_before);
        let rss_warm = server.rss_kib();
        // In two halves, so that a leak would show as growth in each.
        let first_half = churn(cycles / 2);
        let rss_mid = server.rss_kib();
        let second_half = churn(cycles - cycles / 2);
        let fds_end = settle_fds(&server, fds_warm);
        let rss_end = server.rss_kib();
        server.stop();
        let total = |name: &str, runs: &[&String]| runs.iter().map(|output| output_value(output, name)).sum::<f64>();
        let (all, measured) = ([&warm, &first_half, &second_half], [&first_half, &second_half]);
        assert_eq!(
            total("cycles", &all),
            (cycles + warm_up) as f64,
            "{variant}: {second_half}"
        );
        record(&mut samples, variant, "churn errors", total("errors", &all));
        let rate = total("cycles", &measured) / total("seconds", &measured);
        record(&mut samples, variant, "cycles/s", rate);
        record(&mut samples, variant, "RSS mid KiB", rss_mid as f64);
        record(&mut samples, variant, "RSS cold KiB", rss_cold as f64);
        record(&mut samples, variant, "RSS warm KiB", rss_warm as f64);
        record(&mut samples, variant, "RSS end KiB", rss_end as f64);
        record(
            &mut samples,
            variant,
            "RSS end ÷ warm %",
            rss_end as f64 / rss_warm as f64 * 100.0,
        );
        record(&mut samples, variant, "fds warm", fds_warm as f64);
        record(&mut samples, variant, "fds end", fds_end as f64);
    }
    print_table(
        "C10K",
        SERVER_VARIANTS,
        &[
            ("C10K errors", 0),
            ("connect s", 2),
            ("serve s", 2),
            ("fds open at peak", 0),
            ("fds left after", 0),
            ("RSS bytes/connection", 0),
            ("RSS after − before KiB", 0),
        ],
        "RSS bytes/connection",
        &mut samples,
    );
    check_burst_leftover(&samples, "RSS after − before KiB");
    print_table(
        "churn",
        SERVER_VARIANTS,
        &[
            ("churn errors", 0),
            ("cycles/s", 0),
            ("RSS cold KiB", 0),
            ("RSS warm KiB", 0),
            ("RSS mid KiB", 0),
            ("RSS end KiB", 0),
            ("RSS end ÷ warm %", 1),
            ("fds warm", 0),
            ("fds end", 0),
        ],
        "cycles/s",
        &mut samples,
    );
}

fn sched_suite(options: &Options) {
    let iterations = if options.quick { 5 } else { 50 };
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let all_cpus = format!("0-{}", cores - 1);
    println!(
        "\n### Scheduler (tokio's `rt_multi_threaded` workloads; µs per iteration, median of {} rounds of {iterations}; \
         current-thread variants on CPU {SERVER_CPU}, multi-thread ones with {cores} workers on CPUs {all_cpus})",
        options.rounds
    );
    for workload in sched::WORKLOADS {
        let variants: Vec<&'static str> = sched::VARIANTS
            .iter()
            .copied()
            .filter(|variant| sched::runs(variant, workload))
            .collect();
        let mut samples = Samples::new();
        for _ in 0..options.rounds {
            for &variant in &variants {
                let cpus = if sched::is_multi_thread(variant) {
                    all_cpus.as_str()
                } else {
                    SERVER_CPU
                };
                let out = run_output(
                    Command::new("taskset")
                        .args(["-c", cpus])
                        .arg(std::env::current_exe().unwrap())
                        .args(["sched-run", variant, workload, &iterations.to_string()]),
                );
                let nanos: f64 = out.trim().parse().expect("sched-run prints nanoseconds");
                record(&mut samples, variant, "µs/iteration", nanos / 1e3);
            }
        }
        print_table(
            workload,
            &variants,
            &[("µs/iteration", 1)],
            "µs/iteration",
            &mut samples,
        );
    }
}

/// hello_http on the runtimes with worker threads (multi-threaded and thread-per-core) with 1
/// and 2 workers. With one worker the server
/// has CPU 0 and wrk CPU 1; with two the server may use both and shares CPU 1 with wrk (this
/// machine has two cores), so the two-worker rows compare the runtimes with each other, not
/// with the one-worker rows.
fn scaling_suite(options: &Options) {
    if !require("wrk", "apt-get install -y wrk") {
        return;
    }
    println!(
        "\n### Scaling: hello_http, `wrk -t1 -c50`, {} s, median of {} rounds, runtimes with worker threads",
        options.seconds, options.rounds
    );
    for (workers, cpus) in [(1, SERVER_CPU), (2, "0,1")] {
        let mut samples = Samples::new();
        for _ in 0..options.rounds {
            for variant in ["mini-mt", "mini-tpc", "tokio-mt"] {
                let env = [
                    ("MINI_WORKER_THREADS", workers.to_string()),
                    ("TOKIO_WORKER_THREADS", workers.to_string()),
                ];
                let server = Server::start_on(cpus, &env, variant, "http", &[]);
                let (cpu_before, switches_before) = (server.cpu_seconds(), server.context_switches());
                let result = wrk_on(LOAD_CPU, &server.addr, 50, options.seconds, None);
                let cpu = server.cpu_seconds() - cpu_before;
                let switches = server.context_switches() - switches_before;
                server.stop();
                record(&mut samples, variant, "requests/s", result.rps);
                record(&mut samples, variant, "p99 µs", result.p99_us);
                record(&mut samples, variant, "CPU µs/request", cpu * 1e6 / result.requests);
                record(
                    &mut samples,
                    variant,
                    "context switches/request",
                    switches as f64 / result.requests,
                );
            }
        }
        print_table(
            &format!("{workers} worker(s), server on CPUs {cpus}"),
            &["mini-mt", "mini-tpc", "tokio-mt"],
            &[
                ("requests/s", 0),
                ("p99 µs", 0),
                ("CPU µs/request", 2),
                ("context switches/request", 3),
            ],
            "requests/s",
            &mut samples,
        );
    }
}

fn timers_suite(options: &Options) {
    println!(
        "\n### Timers (mini against tokio current-thread; median of {} rounds, each in a fresh process)",
        options.rounds
    );
    for workload in mini_bench::timers::WORKLOADS {
        let mut samples = Samples::new();
        let mut columns: Vec<&'static str> = Vec::new();
        for _ in 0..options.rounds {
            for &variant in mini_bench::timers::VARIANTS {
                let out = run_output(
                    Command::new("taskset")
                        .args(["-c", SERVER_CPU])
                        .arg(std::env::current_exe().unwrap())
                        .args(["timers-run", variant, workload]),
                );
                for line in out.lines() {
                    let (name, value) = line.rsplit_once(' ').expect("`name value` lines");
                    let name: &'static str = Box::leak(name.to_string().into_boxed_str());
                    if !columns.contains(&name) {
                        columns.push(name);
                    }
                    record(&mut samples, variant, name, value.parse().expect("a number"));
                }
            }
        }
        let table: Vec<(&'static str, usize)> = columns.iter().map(|c| (*c, 1)).collect();
        let ratio_of = columns.first().copied().unwrap_or("");
        print_table(workload, mini_bench::timers::VARIANTS, &table, ratio_of, &mut samples);
    }
}

/// The child side of the `sched` suite: one variant, one workload, in a fresh process.
fn sched_run(args: &[String]) {
    let usage = "usage: mini-bench sched-run VARIANT WORKLOAD ITERATIONS";
    let (variant, workload) = (args.first().expect(usage), args.get(1).expect(usage));
    let iterations: u32 = args.get(2).expect(usage).parse().expect(usage);
    println!(
        "{}",
        sched::time_per_iteration(variant, workload, iterations).as_nanos()
    );
}

fn print_header(suite: &str, options: &Options) {
    let commit = Command::new("git").args(["rev-parse", "--short", "HEAD"]).output().ok();
    let commit = commit
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines().find_map(|l| {
                l.strip_prefix("model name")
                    .map(|v| v.trim_start_matches([' ', '\t', ':']).to_string())
            })
        })
        .unwrap_or_default();
    let kernel = run_output(Command::new("uname").arg("-r"));
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!(
        "## mini-bench `{suite}`{}",
        if options.quick { " (--quick)" } else { "" }
    );
    println!();
    println!(
        "commit {commit}, {cores} cores ({cpu}), Linux {}; server on CPU {SERVER_CPU}, load on CPU {LOAD_CPU}",
        kernel.trim()
    );
}

//! Timer benchmarks, each run in a fresh process per variant (`mini-bench timers-run VARIANT
//! WORKLOAD`), printing `name value` lines for the harness:
//!
//! - `arm_cancel`: 1,000,000 sleeps armed (first poll) and then cancelled (dropped): ns per
//!   arm+cancel, and the RSS growth per armed timer (the futures included).
//! - `precision`: 1,000 tasks sleeping to staggered deadlines on an otherwise idle runtime: p50
//!   and p99 lateness.
//! - `burst`: 100,000 tasks sleeping pseudo-random 1–100 ms: wall time, p50/p99 lateness, peak RSS.
//! - `timeout_read`: 50,000 echo round trips over 127.0.0.1 with `timeout(5 s, read)` and with a
//!   bare `read`: the overhead per operation.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Waker};
use std::time::{Duration, Instant};

pub const VARIANTS: &[&str] = &["mini", "tokio-ct"];
pub const WORKLOADS: &[&str] = &["arm_cancel", "precision", "burst", "timeout_read"];

/// What a workload needs from a runtime, implemented for mini and tokio.
trait Rt {
    type Sleep: Future<Output = ()> + Send + 'static;
    fn block_on<F: Future>(&self, future: F) -> F::Output;
    fn spawn<F: Future<Output = ()> + Send + 'static>(future: F) -> Pin<Box<dyn Future<Output = ()> + Send>>;
    fn sleep_until(deadline: Instant) -> Self::Sleep;
    /// Echo round trips over `stream`: ns per round trip without and with a timeout on the read.
    fn round_trips(&self, stream: std::net::TcpStream, count: usize) -> (f64, f64);
}

struct Mini(mini::Runtime);
struct Tokio(tokio::runtime::Runtime);

impl Rt for Mini {
    type Sleep = mini::time::Sleep;
    fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.0.block_on(future)
    }
    fn spawn<F: Future<Output = ()> + Send + 'static>(future: F) -> Pin<Box<dyn Future<Output = ()> + Send>> {
        let task = mini::spawn(future);
        Box::pin(async move { task.await.unwrap() })
    }
    fn sleep_until(deadline: Instant) -> Self::Sleep {
        mini::time::sleep_until(deadline.into())
    }
    fn round_trips(&self, stream: std::net::TcpStream, count: usize) -> (f64, f64) {
        self.0.block_on(mini_round_trips(stream, count))
    }
}

impl Rt for Tokio {
    type Sleep = tokio::time::Sleep;
    fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.0.block_on(future)
    }
    fn spawn<F: Future<Output = ()> + Send + 'static>(future: F) -> Pin<Box<dyn Future<Output = ()> + Send>> {
        let task = tokio::spawn(future);
        Box::pin(async move { task.await.unwrap() })
    }
    fn sleep_until(deadline: Instant) -> Self::Sleep {
        tokio::time::sleep_until(deadline.into())
    }
    fn round_trips(&self, stream: std::net::TcpStream, count: usize) -> (f64, f64) {
        self.0.block_on(tokio_round_trips(stream, count))
    }
}

/// Runs `workload` on `variant` and prints its figures.
pub fn run(variant: &str, workload: &str) {
    match variant {
        "mini" => run_on(
            &Mini(mini::runtime::Builder::new_current_thread().build().unwrap()),
            workload,
        ),
        "tokio-ct" => run_on(
            &Tokio(
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap(),
            ),
            workload,
        ),
        other => panic!("unknown variant {other:?}: expected one of {VARIANTS:?}"),
    }
}

fn run_on<R: Rt>(rt: &R, workload: &str) {
    match workload {
        "arm_cancel" => arm_cancel(rt),
        "precision" => precision(rt),
        "burst" => burst(rt),
        "timeout_read" => timeout_read(rt),
        other => panic!("unknown workload {other:?}: expected one of {WORKLOADS:?}"),
    }
}

fn rss_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap()
}

fn arm_cancel<R: Rt>(rt: &R) {
    const TIMERS: usize = 1_000_000;
    rt.block_on(async {
        let mut sleeps: Vec<R::Sleep> = Vec::with_capacity(TIMERS);
        let before = rss_kib("VmRSS:");
        let base = Instant::now() + Duration::from_secs(10);
        let mut cx = Context::from_waker(Waker::noop());
        let started = Instant::now();
        for i in 0..TIMERS {
            sleeps.push(R::sleep_until(
                base + Duration::from_micros(i as u64 * 37 % 3_600_000_000),
            ));
            // SAFETY: `sleeps` never reallocates (its capacity is TIMERS) and the elements are
            // not moved until the vector is dropped, so each stays pinned where it is.
            let sleep = unsafe { Pin::new_unchecked(sleeps.last_mut().unwrap()) };
            assert!(sleep.poll(&mut cx).is_pending());
        }
        let armed = rss_kib("VmRSS:");
        drop(sleeps);
        let elapsed = started.elapsed();
        println!("ns/arm+cancel {:.1}", elapsed.as_nanos() as f64 / TIMERS as f64);
        println!(
            "bytes/armed timer {:.1}",
            (armed - before) as f64 * 1024.0 / TIMERS as f64
        );
    });
}

/// Sleeps until each deadline in tasks and returns the lateness of each, in µs, sorted.
fn lateness<R: Rt>(rt: &R, deadlines: Vec<Instant>) -> Vec<f64> {
    rt.block_on(async move {
        let late = std::sync::Arc::new(std::sync::Mutex::new(Vec::with_capacity(deadlines.len())));
        let tasks: Vec<_> = deadlines
            .into_iter()
            .map(|deadline| {
                let late = late.clone();
                R::spawn(async move {
                    R::sleep_until(deadline).await;
                    let woke = Instant::now();
                    assert!(woke >= deadline, "a timer fired early");
                    late.lock().unwrap().push((woke - deadline).as_secs_f64() * 1e6);
                })
            })
            .collect();
        for task in tasks {
            task.await;
        }
        let mut late = std::mem::take(&mut *late.lock().unwrap());
        late.sort_by(f64::total_cmp);
        late
    })
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn precision<R: Rt>(rt: &R) {
    let start = Instant::now() + Duration::from_millis(20);
    let deadlines = (0..1_000u64)
        .map(|i| start + Duration::from_micros(i * 1_537))
        .collect();
    let late = lateness(rt, deadlines);
    println!("p50 lateness µs {:.0}", percentile(&late, 0.5));
    println!("p99 lateness µs {:.0}", percentile(&late, 0.99));
}

fn burst<R: Rt>(rt: &R) {
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let start = Instant::now();
    let deadlines = (0..100_000)
        .map(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            start + Duration::from_micros(1_000 + seed % 99_000)
        })
        .collect();
    let late = lateness(rt, deadlines);
    println!("wall ms {:.1}", start.elapsed().as_secs_f64() * 1e3);
    println!("p50 lateness µs {:.0}", percentile(&late, 0.5));
    println!("p99 lateness µs {:.0}", percentile(&late, 0.99));
    println!("peak RSS KiB {}", rss_kib("VmHWM:"));
}

/// An echo peer on a plain thread; `round_trips` over one connection, with and without a
/// timeout around each read, alternating in blocks so drift hits both alike.
fn timeout_read<R: Rt>(rt: &R) {
    const ROUND_TRIPS: usize = 50_000;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let echo = std::thread::spawn(move || {
        use std::io::{Read, Write};
        let (mut stream, _) = listener.accept().unwrap();
        stream.set_nodelay(true).unwrap();
        let mut buf = [0u8; 64];
        while stream.read_exact(&mut buf).is_ok() && stream.write_all(&buf).is_ok() {}
    });
    let stream = std::net::TcpStream::connect(addr).unwrap();
    stream.set_nodelay(true).unwrap();
    let (plain, timed) = rt.round_trips(stream, ROUND_TRIPS);
    echo.join().unwrap();
    println!("ns/round trip {:.0}", plain);
    println!("ns/round trip with timeout {:.0}", timed);
    println!("timeout overhead ns {:.0}", timed - plain);
}

/// Stamps the same round-trip loop onto a runtime's stream and timeout.
macro_rules! round_trips {
    ($name:ident, $stream:ty, $timeout:path) => {
        async fn $name(stream: std::net::TcpStream, count: usize) -> (f64, f64) {
            stream.set_nonblocking(true).unwrap();
            let mut stream = <$stream>::from_std(stream).unwrap();
            let message = [7u8; 64];
            let mut buf = [0u8; 64];
            let (mut plain, mut timed) = (Duration::ZERO, Duration::ZERO);
            for block in 0..20 {
                let started = Instant::now();
                for _ in 0..count / 20 {
                    stream.write_all(&message).await.unwrap();
                    if block % 2 == 0 {
                        stream.read_exact(&mut buf).await.unwrap();
                    } else {
                        $timeout(Duration::from_secs(5), stream.read_exact(&mut buf))
                            .await
                            .unwrap()
                            .unwrap();
                    }
                }
                if block % 2 == 0 {
                    plain += started.elapsed();
                } else {
                    timed += started.elapsed();
                }
            }
            let per = |total: Duration| total.as_nanos() as f64 / (count / 2) as f64;
            (per(plain), per(timed))
        }
    };
}

mod mini_io {
    pub(crate) use mini::net::TcpStream;
}
mod tokio_io {
    pub(crate) use tokio::net::TcpStream;
}
use tokio::io::{AsyncReadExt, AsyncWriteExt};
round_trips!(mini_round_trips, mini_io::TcpStream, mini::time::timeout);
round_trips!(tokio_round_trips, tokio_io::TcpStream, tokio::time::timeout);

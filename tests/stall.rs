//! The stall detector (issue 14 §3): a poll that blocks its worker is reported while it still
//! runs, with its task, spawn site and the blocking line, then again when it returns; polls that
//! yield often are never reported; each runtime reports its own workers.

use mini::runtime::{Builder, StallReport};
use std::panic::Location;
use std::sync::mpsc;
use std::time::{Duration, Instant};

const THRESHOLD: Duration = Duration::from_millis(100);

/// What the test's callback records of each report: when it came, and what it said.
struct Seen {
    at: Instant,
    returned: bool,
    task_id: Option<mini::task::Id>,
    task_name: Option<String>,
    location: Option<&'static Location<'static>>,
    worker: usize,
    thread_name: String,
    duration: Duration,
    text: String,
}

fn builder_reporting_to(mut builder: Builder, reports: mpsc::Sender<Seen>) -> Builder {
    let reports = std::sync::Mutex::new(reports);
    builder
        .stall_threshold(Some(THRESHOLD))
        .on_stall(move |report: &StallReport| {
            let at = Instant::now();
            let _ = reports.lock().unwrap().send(Seen {
                at,
                returned: report.poll_returned(),
                task_id: report.task_id(),
                task_name: report.task_name().map(str::to_owned),
                location: report.spawn_location(),
                worker: report.worker(),
                thread_name: report.thread_name().to_owned(),
                duration: report.duration(),
                text: report.to_string(),
            });
        });
    builder
}

/// The blocking call the report's stack must name; sends when it starts, and the line that
/// sleeps.
#[inline(never)]
fn sleep_in_a_task(started: &mpsc::Sender<(Instant, u32)>) {
    started.send((Instant::now(), line!() + 1)).unwrap();
    std::thread::sleep(Duration::from_millis(300));
}

fn a_sleeping_task_is_reported(builder: Builder) {
    let (reports, seen) = mpsc::channel();
    let rt = builder_reporting_to(builder, reports).build().unwrap();
    let (started_tx, started) = mpsc::channel();
    let (id, location) = rt.block_on(async move {
        let location = Location::caller();
        let task = mini::task::Builder::new()
            .name("sleeper")
            .spawn(async move { sleep_in_a_task(&started_tx) })
            .unwrap();
        let id = task.id();
        task.await.unwrap();
        (id, location)
    });
    let (started, sleeping_line) = started.recv().unwrap();

    let stall = seen
        .recv_timeout(Duration::from_secs(5))
        .expect("the stall is reported");
    assert!(
        !stall.returned,
        "the first report comes while the poll runs:\n{}",
        stall.text
    );
    let latency = stall.at - started;
    assert!(
        latency <= THRESHOLD + Duration::from_millis(50),
        "reported {latency:?} after the poll began (threshold {THRESHOLD:?})"
    );
    assert!(
        stall.duration >= THRESHOLD && stall.duration <= latency,
        "{:?}",
        stall.duration
    );
    assert_eq!(stall.task_id, Some(id));
    assert_eq!(stall.task_name.as_deref(), Some("sleeper"));
    let spawned_at = stall.location.expect("a task has a spawn location");
    assert_eq!(
        (spawned_at.file(), spawned_at.line()),
        (location.file(), location.line() + 3)
    );
    assert_eq!(stall.worker, 0);
    assert!(
        stall
            .text
            .contains(&format!("task {id} \"sleeper\" (spawned at {spawned_at})")),
        "{}",
        stall.text
    );
    let frame = ": stall::sleep_in_a_task\n";
    let at = stall.text.find(frame).map(|start| &stall.text[start + frame.len()..]);
    let at = at.and_then(|rest| rest.lines().next()).unwrap_or_default();
    assert!(
        at.trim_start().starts_with("at ") && at.ends_with(&format!("{}:{sleeping_line}", file!())),
        "the stack names the function that sleeps and its line ({}:{sleeping_line}):\n{}",
        file!(),
        stall.text
    );
    assert!(
        stall.text.contains(": std::thread::functions::sleep\n"),
        "{}",
        stall.text
    );
    assert!(
        !stall.text.contains("thread_stack"),
        "the handler's frames are left out:\n{}",
        stall.text
    );

    let over = seen
        .recv_timeout(Duration::from_secs(5))
        .expect("the end of the stall is reported");
    assert!(over.returned, "{}", over.text);
    assert_eq!(over.task_id, Some(id));
    let total = over.duration;
    assert!(
        total >= Duration::from_millis(300) - THRESHOLD / 8 && total <= Duration::from_millis(500),
        "total {total:?}"
    );
    assert!(over.text.contains("returned from its poll after"), "{}", over.text);
    assert_eq!(rt.metrics().stall_count(), 1);
    drop(rt);
    assert!(seen.try_recv().is_err(), "one stall, two reports");
}

#[test]
fn a_sleeping_task_is_reported_on_the_current_thread_runtime() {
    a_sleeping_task_is_reported(Builder::new_current_thread());
}

#[test]
fn a_sleeping_task_is_reported_on_the_multi_threaded_runtime() {
    let mut builder = Builder::new_multi_thread();
    builder.worker_threads(1);
    a_sleeping_task_is_reported(builder);
}

#[test]
fn a_sleeping_task_is_reported_on_the_thread_per_core_runtime() {
    let mut builder = Builder::new_thread_per_core();
    builder.worker_threads(2);
    a_sleeping_task_is_reported(builder);
}

#[test]
fn a_blocking_block_on_future_is_reported() {
    let (reports, seen) = mpsc::channel();
    let mut builder = Builder::new_current_thread();
    builder.thread_name("unused: block_on runs on the test's thread");
    let rt = builder_reporting_to(builder, reports).build().unwrap();
    rt.block_on(async { std::thread::sleep(Duration::from_millis(250)) });
    let stall = seen.recv_timeout(Duration::from_secs(5)).unwrap();
    assert_eq!(stall.task_id, None);
    assert!(stall.text.contains("the future passed to `block_on`"), "{}", stall.text);
    assert_eq!(
        stall.thread_name,
        std::thread::current().name().unwrap(),
        "the thread in block_on is the worker"
    );
    assert!(seen.recv_timeout(Duration::from_secs(5)).unwrap().returned);
}

#[test]
fn a_task_that_yields_every_millisecond_is_never_reported() {
    let (reports, seen) = mpsc::channel();
    let rt = builder_reporting_to(Builder::new_current_thread(), reports)
        .build()
        .unwrap();
    rt.block_on(async {
        mini::spawn(async {
            let start = Instant::now();
            while start.elapsed() < Duration::from_secs(1) {
                let slice = Instant::now();
                while slice.elapsed() < Duration::from_millis(1) {
                    std::hint::spin_loop();
                }
                mini::task::yield_now().await;
            }
        })
        .await
        .unwrap();
    });
    assert_eq!(rt.metrics().stall_count(), 0);
    drop(rt);
    let reports: Vec<Seen> = seen.try_iter().collect();
    assert!(
        reports.is_empty(),
        "reported:\n{}",
        reports.iter().map(|report| report.text.as_str()).collect::<String>()
    );
}

#[test]
fn a_stall_is_reported_by_its_own_runtime_with_its_worker() {
    let (quiet_reports, quiet_seen) = mpsc::channel();
    let mut quiet = Builder::new_multi_thread();
    quiet.worker_threads(2).thread_name("quiet-worker");
    let quiet = builder_reporting_to(quiet, quiet_reports).build().unwrap();

    let (reports, seen) = mpsc::channel();
    let mut busy = Builder::new_multi_thread();
    let next = std::sync::atomic::AtomicUsize::new(0);
    busy.worker_threads(3).thread_name_fn(move || {
        format!(
            "busy-worker-{}",
            next.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        )
    });
    let busy = builder_reporting_to(busy, reports).build().unwrap();
    let (started, _sleeping) = mpsc::channel();
    let thread = busy.block_on(async move {
        mini::spawn(async move {
            sleep_in_a_task(&started);
            std::thread::current().name().unwrap().to_owned()
        })
        .await
        .unwrap()
    });
    let stall = seen.recv_timeout(Duration::from_secs(5)).unwrap();
    assert_eq!(stall.thread_name, thread, "the report names the thread that slept");
    assert!(stall.worker < 3);
    assert!(
        stall
            .text
            .contains(&format!("on worker {} (thread \"{thread}\"", stall.worker)),
        "{}",
        stall.text
    );
    assert!(seen.recv_timeout(Duration::from_secs(5)).unwrap().returned);
    assert_eq!(busy.metrics().stall_count(), 1);
    assert_eq!(quiet.metrics().stall_count(), 0);
    drop(quiet);
    assert!(quiet_seen.try_recv().is_err(), "the idle runtime reports nothing");
}

#[test]
fn no_report_when_the_detector_is_off() {
    let (reports, seen) = mpsc::channel();
    let mut builder = builder_reporting_to(Builder::new_current_thread(), reports);
    builder.stall_threshold(None);
    let rt = builder.build().unwrap();
    rt.block_on(async { std::thread::sleep(Duration::from_millis(250)) });
    assert_eq!(rt.metrics().stall_count(), 0);
    drop(rt);
    assert!(seen.try_recv().is_err());
}

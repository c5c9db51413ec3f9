//! Task dumps (issue 14 §4): every live task with its state and what it waits on, taken while a
//! worker is blocked; and `dump_on_signal`, which prints one on each delivery while the program
//! goes on.

use futures::channel::oneshot;
use mini::net::{TcpListener, TcpStream};
use mini::runtime::{Builder, Dump, TaskState, WaitingOn};
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const EACH: usize = 250;

/// Takes dumps until `done` says one is complete (every task polled and settled), for at most
/// ten seconds.
fn dump_until(handle: &mini::runtime::Handle, done: impl Fn(&Dump) -> bool) -> Dump {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let dump = handle.dump();
        if done(&dump) || Instant::now() > deadline {
            return dump;
        }
        std::thread::yield_now();
    }
}

#[test]
fn a_dump_of_1000_tasks_while_a_worker_is_blocked() {
    let rt = Builder::new_multi_thread().worker_threads(2).build().unwrap();
    let (unblock, blocked) = mpsc::channel::<()>();
    let (senders_tx, senders_rx) = mpsc::channel();
    let ids = rt.block_on(async move {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mut ids: HashMap<mini::task::Id, &str> = HashMap::new();
        // One task blocks its worker until the test is done.
        let blocker = mini::task::Builder::new()
            .name("blocker")
            .spawn(async move {
                let _ = blocked.recv_timeout(Duration::from_secs(30));
            })
            .unwrap();
        ids.insert(blocker.id(), "blocker");
        // Readers, each on a connection whose peer sends nothing.
        let mut clients = Vec::new();
        for _ in 0..EACH {
            clients.push(TcpStream::connect(addr).await.unwrap());
            let (mut server_side, _) = listener.accept().await.unwrap();
            let reader = mini::spawn(async move {
                let mut byte = [0u8; 1];
                let _ = futures::AsyncReadExt::read(&mut server_side, &mut byte).await;
            });
            ids.insert(reader.id(), "reader");
        }
        // Sleepers, and a task awaiting each sleeper's JoinHandle.
        for _ in 0..EACH {
            let sleeper = mini::spawn(mini::time::sleep(Duration::from_secs(60)));
            ids.insert(sleeper.id(), "sleeper");
            let joiner = mini::spawn(sleeper);
            ids.insert(joiner.id(), "joiner");
        }
        // Tasks on a channel: mini does not know what they wait on.
        let mut senders = Vec::new();
        for _ in 0..EACH - 1 {
            let (sender, receiver) = oneshot::channel::<()>();
            senders.push(sender);
            ids.insert(mini::spawn(receiver).id(), "channel");
        }
        senders_tx.send((senders, clients)).unwrap();
        ids
    });
    assert_eq!(ids.len(), 1000);
    let _keep = senders_rx.recv().unwrap();

    let settled = |dump: &Dump| {
        dump.tasks().iter().all(|task| match task.state() {
            TaskState::Running { .. } => true,
            TaskState::Idle => !matches!(task.waiting_on(), WaitingOn::NotPolled),
            _ => false,
        })
    };
    let dump = dump_until(rt.handle(), settled);
    let text = dump.to_string();
    assert_eq!(dump.tasks().len(), 1000, "{text}");
    let now = Instant::now();
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for task in dump.tasks() {
        let kind = ids[&task.id()];
        *seen.entry(kind).or_default() += 1;
        assert!(task.polls() >= 1, "{kind} {}: {task:?}", task.id());
        assert!(task.since_last_poll().unwrap() <= task.age(), "{task:?}");
        assert_eq!(task.spawn_location().file(), file!());
        match kind {
            "blocker" => {
                assert!(
                    matches!(task.state(), TaskState::Running { worker: Some(0 | 1) }),
                    "{task:?}"
                );
                assert_eq!(task.name(), Some("blocker"));
                assert_eq!(task.waiting_on(), &WaitingOn::Running);
            }
            "reader" => {
                assert_eq!(task.state(), TaskState::Idle);
                let WaitingOn::Readable { fd, local, peer } = task.waiting_on() else {
                    panic!("a reader waits for its socket: {task:?}");
                };
                assert!(*fd > 2);
                assert!(
                    local.unwrap().ip().is_loopback() && peer.unwrap().ip().is_loopback(),
                    "{task:?}"
                );
            }
            "sleeper" => {
                assert_eq!(task.state(), TaskState::Idle);
                let WaitingOn::Timer { deadline } = task.waiting_on() else {
                    panic!("a sleeper waits for its timer: {task:?}");
                };
                let left = deadline.saturating_duration_since(now);
                assert!(
                    left > Duration::from_secs(45) && left <= Duration::from_secs(61),
                    "{left:?}"
                );
            }
            "joiner" => {
                let WaitingOn::Task(awaited) = task.waiting_on() else {
                    panic!("a joiner waits for its sleeper: {task:?}");
                };
                assert_eq!(ids[awaited], "sleeper");
            }
            "channel" => assert_eq!(task.waiting_on(), &WaitingOn::Other, "{task:?}"),
            _ => unreachable!(),
        }
    }
    assert_eq!(seen["reader"], EACH);
    assert_eq!(seen["channel"], EACH - 1);
    assert!(text.lines().count() > 1000, "a header and a line per task");
    assert!(text.contains("\"blocker\""), "{}", &text[..2000]);
    unblock.send(()).unwrap();
}

#[test]
fn a_current_thread_runtime_blocked_in_a_task_can_be_dumped_from_another_thread() {
    let rt = Builder::new_current_thread().build().unwrap();
    let handle = rt.handle().clone();
    let dumper = std::thread::spawn(move || {
        dump_until(&handle, |dump| {
            (dump.tasks().iter()).any(|task| task.state() == TaskState::Running { worker: Some(0) })
        })
    });
    rt.block_on(async {
        mini::spawn(async {
            // Blocks the only worker until the dump is taken.
            while !dumper.is_finished() {
                std::thread::yield_now();
            }
            dumper.join().unwrap()
        })
        .await
        .unwrap()
    });
    let _ = rt;
}

/// The child's side of `dump_on_signal_prints_on_each_delivery`: a runtime with a named task,
/// then "ready" on stdout, then running until stdin closes.
#[test]
fn dump_on_signal_child() {
    if std::env::var_os("MINI_DUMP_CHILD").is_none() {
        return;
    }
    let rt = Builder::new_current_thread()
        .dump_on_signal(mini::signal::SignalKind::user_defined2())
        .build()
        .unwrap();
    rt.block_on(async {
        let _named = mini::task::Builder::new()
            .name("still-here")
            .spawn(mini::time::sleep(Duration::from_secs(60)))
            .unwrap();
        mini::task::yield_now().await;
        println!("ready");
        mini::task::spawn_blocking(|| std::io::stdin().lines().count())
            .await
            .unwrap();
    });
}

#[test]
fn dump_on_signal_prints_on_each_delivery() {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "dump_on_signal_child", "--nocapture", "--test-threads=1"])
        .env("MINI_DUMP_CHILD", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    // libtest may print "test dump_on_signal_child ... " on the same line.
    while !line.trim_end().ends_with("ready") {
        line.clear();
        assert!(stdout.read_line(&mut line).unwrap() > 0, "the child exited early");
    }
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    for _ in 0..2 {
        // SAFETY: kill takes no pointers; the pid is our child's.
        assert_eq!(unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGUSR2) }, 0);
        let mut dump = String::new();
        loop {
            let mut line = String::new();
            assert!(stderr.read_line(&mut line).unwrap() > 0, "the child exited: {dump}");
            dump.push_str(&line);
            if line.contains("\"still-here\"") {
                break;
            }
        }
        assert!(dump.contains("mini: task dump:"), "{dump}");
        assert!(dump.contains("timer due in"), "{dump}");
    }
    drop(child.stdin.take());
    let status = child.wait().unwrap();
    assert!(
        status.success(),
        "the child keeps running after each dump, then exits normally"
    );
    let _ = stdout.lines().count();
    let _ = std::io::stdout().flush();
}

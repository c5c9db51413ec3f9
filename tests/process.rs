//! `mini::process`: output and exit codes, a stdin → stdout round trip larger than a pipe's
//! buffer, stderr, kill and kill-on-drop, reaping a dropped child, a missing program, and many children at once on a
//! multi-threaded runtime. Only `sh`, `cat`, `echo` and `sleep` are run.

mod common;

use common::*;
use futures::io::{AsyncReadExt, AsyncWriteExt};
use mini::process::Command;
use std::io::ErrorKind;
use std::os::unix::process::ExitStatusExt;
use std::process::Stdio;
use std::time::{Duration, Instant};

#[test]
fn output_collects_stdout_and_the_exit_status() {
    run(|| async {
        let output = Command::new("echo").args(["hello", "child"]).output().await.unwrap();
        assert!(output.status.success());
        assert_eq!(output.stdout, b"hello child\n");
        assert!(output.stderr.is_empty());
        let output = Command::new("sh")
            .args(["-c", "echo oops >&2; exit 3"])
            .output()
            .await
            .unwrap();
        assert_eq!(output.status.code(), Some(3));
        assert_eq!(output.stderr, b"oops\n");
        let status = Command::new("sh").args(["-c", "exit 7"]).status().await.unwrap();
        assert_eq!(status.code(), Some(7));
    })
}

#[test]
fn a_mebibyte_through_cat_needs_both_pipes_to_wait_and_arrives_intact() {
    run(|| async {
        let mut child = Command::new("cat")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        let mut stdout = child.stdout.take().unwrap();
        // 1 MiB is far more than a pipe holds (64 KiB): the writer must wait for the reader.
        let data = pattern(1 << 20);
        let writer = mini::spawn({
            let data = data.clone();
            async move {
                stdin.write_all(&data).await.unwrap();
                // Dropping stdin closes the pipe: cat sees end-of-file and exits.
            }
        });
        let mut echoed = Vec::new();
        stdout.read_to_end(&mut echoed).await.unwrap();
        writer.await.unwrap();
        assert!(echoed == data, "cat's output differs from its input");
        assert!(child.wait().await.unwrap().success());
    })
}

/// Whether process `pid` is gone (reaped) within about 10 s: a zombie still answers
/// `kill(pid, 0)`, a reaped process fails it with `ESRCH`.
async fn reaped(pid: libc::pid_t) -> bool {
    for _ in 0..10_000 {
        // SAFETY: kill with signal 0 only checks that the process exists.
        if unsafe { libc::kill(pid, 0) } == -1 {
            return true;
        }
        mini::time::sleep(Duration::from_millis(1)).await;
    }
    false
}

#[test]
fn kill_ends_a_child_and_wait_reports_the_signal() {
    run(|| async {
        let mut child = Command::new("sleep").arg("30").spawn().unwrap();
        assert!(child.id().is_some());
        assert!(child.try_wait().unwrap().is_none());
        let started = Instant::now();
        child.kill().await.unwrap();
        assert!(started.elapsed() < Duration::from_secs(5));
        let status = child.wait().await.unwrap();
        assert_eq!(status.signal(), Some(libc::SIGKILL));
        assert_eq!(child.id(), None, "a reaped child has no id");
    })
}

#[test]
fn dropping_a_kill_on_drop_child_kills_and_reaps_it() {
    run(|| async {
        let child = Command::new("sleep").arg("30").kill_on_drop(true).spawn().unwrap();
        let pid = child.id().unwrap() as libc::pid_t;
        drop(child);
        assert!(reaped(pid).await, "the child {pid} outlived its kill-on-drop Child");
    })
}

/// A child dropped while it runs (no `kill_on_drop`) keeps running, and is reaped once it exits
/// (tokio does the same, best effort): no zombie is left while the runtime runs.
#[test]
fn a_dropped_child_is_reaped_once_it_exits_on_every_flavor() {
    with_timeout(|| {
        for (flavor, rt) in runtimes() {
            rt.block_on(async move {
                let child = Command::new("sleep").arg("0.05").spawn().unwrap();
                let pid = child.id().unwrap() as libc::pid_t;
                drop(child);
                assert!(reaped(pid).await, "{flavor}: the dropped child {pid} was never reaped");
            });
        }
    });
}

#[test]
fn envs_sets_each_variable() {
    run(|| async {
        let output = Command::new("sh")
            .args(["-c", "echo \"$MINI_A-$MINI_B\""])
            .envs([("MINI_A", "one"), ("MINI_B", "two")])
            .output()
            .await
            .unwrap();
        assert_eq!(output.stdout, b"one-two\n");
    })
}

#[test]
fn a_missing_program_is_not_found() {
    run(|| async {
        let error = Command::new("/nonexistent/mini-test-program")
            .spawn()
            .expect_err("no such program");
        assert_eq!(error.kind(), ErrorKind::NotFound);
    })
}

#[test]
fn fifty_children_at_once_on_a_multi_threaded_runtime() {
    run_on_worker_flavors(2, || async {
        let children: Vec<_> = (0..50)
            .map(|code| {
                mini::spawn(async move {
                    let status = Command::new("sh")
                        .args(["-c", &format!("exit {code}")])
                        .status()
                        .await
                        .unwrap();
                    assert_eq!(status.code(), Some(code));
                })
            })
            .collect();
        for child in children {
            child.await.unwrap();
        }
    })
}

/// As in tokio, a child outlives the runtime that spawned it: another runtime (either flavor)
/// waits for it and gets its exit status.
#[test]
fn a_child_is_waited_for_on_another_runtime_after_its_own_shut_down() {
    with_timeout(|| {
        for (flavor, waiter) in runtimes() {
            let spawner = mini::runtime::Builder::new_current_thread().build().unwrap();
            let mut child =
                spawner.block_on(async { Command::new("sh").args(["-c", "sleep 0.2; exit 4"]).spawn().unwrap() });
            drop(spawner);
            let status = waiter
                .block_on(async move { child.wait().await })
                .unwrap_or_else(|e| panic!("{flavor}: wait after the spawner shut down: {e}"));
            assert_eq!(status.code(), Some(4), "{flavor}");
        }
    });
}

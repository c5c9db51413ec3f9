//! Signals: every listener of a signal is woken once per delivery, on every runtime flavor and
//! across runtimes; a delivery wakes a parked runtime; `ctrl_c`; and the signals that cannot be
//! handled. Each test uses a signal of its own (tests in one binary run in parallel, and a
//! signal goes to the whole process); every listener exists before the signal is raised, so the
//! default action (terminating) never runs.

mod common;

use common::*;
use futures::StreamExt;
use mini::signal::{ctrl_c, signal, SignalKind};
use std::io::ErrorKind;
use std::pin::pin;
use std::thread;

fn raise(kind: SignalKind) {
    // SAFETY: kill takes no pointers; this process has a handler for the signal.
    assert_eq!(unsafe { libc::kill(libc::getpid(), kind.as_raw()) }, 0);
}

#[test]
fn two_listeners_each_see_every_delivery() {
    run(|| async {
        let kind = SignalKind::user_defined1();
        let mut first = signal(kind).unwrap();
        let mut second = signal(kind).unwrap();
        for _ in 0..3 {
            raise(kind);
            assert_eq!(first.recv().await, Some(()));
            assert_eq!(second.recv().await, Some(()));
        }
        // Nothing more is pending for either.
        assert!(futures::poll!(pin!(first.recv())).is_pending());
        assert!(futures::poll!(pin!(second.recv())).is_pending());
    })
}

#[test]
fn a_delivery_from_another_thread_wakes_a_parked_runtime() {
    run(|| async {
        let kind = SignalKind::user_defined2();
        let mut deliveries = signal(kind).unwrap();
        let tid = current_tid();
        let raiser = thread::spawn(move || {
            let parked = wait_until_parked(tid);
            raise(kind);
            parked
        });
        assert_eq!(deliveries.next().await, Some(()));
        assert!(
            raiser.join().unwrap(),
            "the runtime never parked while waiting for the signal"
        );
    })
}

#[test]
fn listeners_on_two_runtimes_are_both_woken() {
    let kind = SignalKind::hangup();
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    let other = thread::spawn(move || {
        with_timeout(move || {
            let runtime = mini::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .build()
                .unwrap();
            runtime.block_on(async move {
                let mut hangups = signal(kind).unwrap();
                ready_tx.send(()).unwrap();
                hangups.recv().await
            })
        })
    });
    run(move || async move {
        let mut hangups = signal(kind).unwrap();
        ready_rx.recv().unwrap();
        raise(kind);
        assert_eq!(hangups.recv().await, Some(()));
    });
    assert_eq!(other.join().unwrap(), Some(()));
}

#[test]
fn ctrl_c_completes_on_sigint() {
    run(|| async {
        let mut interrupted = pin!(ctrl_c());
        // The first poll installs the handler; only then is SIGINT safe to raise.
        assert!(futures::poll!(interrupted.as_mut()).is_pending());
        raise(SignalKind::interrupt());
        interrupted.await.unwrap();
    })
}

#[test]
fn signals_that_cannot_be_handled_are_refused() {
    run(|| async {
        for signum in [libc::SIGKILL, libc::SIGSTOP, libc::SIGSEGV, 0, 65, -1] {
            let error = signal(SignalKind::from_raw(signum)).expect_err("cannot be handled");
            assert_eq!(error.kind(), ErrorKind::InvalidInput, "signal {signum}");
        }
    })
}

#[test]
fn a_listener_on_each_thread_per_core_worker_is_woken() {
    with_timeout(|| {
        let kind = SignalKind::window_change();
        let runtime = mini::runtime::Builder::new_thread_per_core()
            .worker_threads(2)
            .build()
            .unwrap();
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let raiser = thread::spawn(move || {
            // Both listeners exist (each registered with its own worker's reactor).
            ready_rx.recv().unwrap();
            ready_rx.recv().unwrap();
            raise(kind);
        });
        let woken = runtime.run_on_each(move |worker| {
            let ready_tx = ready_tx.clone();
            async move {
                let mut deliveries = signal(kind).unwrap();
                ready_tx.send(()).unwrap();
                (worker, deliveries.recv().await)
            }
        });
        raiser.join().unwrap();
        assert_eq!(woken, [(0, Some(())), (1, Some(()))]);
    })
}

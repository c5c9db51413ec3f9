//! loom models of a registration's readiness word racing the reactor: an event that arrives
//! while a task registers its waker, or while it clears readiness after `WouldBlock`, is never
//! lost.
//!
//! Run with `RUSTFLAGS="--cfg loom" cargo test -p mini-runtime --release --lib loom`.

use super::{Direction, Ready, ScheduledIo};
use crate::util::flag_waker::flag_waker;
use loom::sync::atomic::AtomicBool;
use loom::sync::Arc;
use loom::thread;
use std::sync::atomic::Ordering::SeqCst;
use std::task::{Context, Waker};

/// The reactor thread: one event with `ready`, then wake what it took.
fn deliver(io: &Arc<ScheduledIo>, ready: Ready) -> thread::JoinHandle<()> {
    let io = io.clone();
    thread::spawn(move || {
        let mut wake_list = Vec::new();
        io.set_readiness(ready, &mut wake_list);
        wake_list.into_iter().for_each(Waker::wake);
    })
}

#[test]
fn loom_event_racing_waker_registration_is_not_lost() {
    loom::model(|| {
        let io = Arc::new(ScheduledIo::new());
        let woken = Arc::new(AtomicBool::new(false));
        let reactor = deliver(&io, Ready::READABLE);
        let waker = flag_waker(woken.clone());
        let ready_at_once = io
            .poll_ready(&mut Context::from_waker(&waker), Direction::Read)
            .is_ready();
        reactor.join().unwrap();
        assert!(ready_at_once || woken.load(SeqCst), "the event was lost");
    });
}

#[test]
fn loom_event_racing_clear_readiness_is_kept() {
    loom::model(|| {
        let io = Arc::new(ScheduledIo::new());
        io.set_readiness(Ready::READABLE, &mut Vec::new());
        let mut cx = Context::from_waker(Waker::noop());
        let event = match io.poll_ready(&mut cx, Direction::Read) {
            std::task::Poll::Ready(Ok(event)) => event,
            _ => panic!("readiness was set"),
        };
        // The task's read said WouldBlock; meanwhile the reactor reports new data.
        let reactor = deliver(&io, Ready::READABLE);
        io.clear_readiness(event);
        reactor.join().unwrap();
        assert!(
            io.poll_ready(&mut cx, Direction::Read).is_ready(),
            "the new data's event was cleared"
        );
    });
}

#[test]
fn loom_clearing_read_readiness_keeps_write_readiness_and_closed_flags() {
    loom::model(|| {
        let io = Arc::new(ScheduledIo::new());
        io.set_readiness(Ready::READABLE | Ready::WRITABLE | Ready::READ_CLOSED, &mut Vec::new());
        let mut cx = Context::from_waker(Waker::noop());
        let std::task::Poll::Ready(Ok(event)) = io.poll_ready(&mut cx, Direction::Read) else {
            panic!("readiness was set")
        };
        io.clear_readiness(event);
        assert!(io.poll_ready(&mut cx, Direction::Write).is_ready());
        // READ_CLOSED stays: a read after the peer's FIN must not wait.
        assert!(io.poll_ready(&mut cx, Direction::Read).is_ready());
    });
}

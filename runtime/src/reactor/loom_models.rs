//! loom models of a registration's readiness word racing the reactor: an event that arrives
//! while a task registers its waker, or while it clears readiness after `WouldBlock`, is never
//! lost; and of the registrations racing the driver: a stale event after `deregister` never
//! reaches the registration that took its slot, an event right after `register` is seen, and a
//! registration racing shutdown is refused or fails, never left waiting.
//!
//! Run with `RUSTFLAGS="--cfg loom" cargo test -p mini-runtime --release --lib loom`.

use super::{Direction, FdState, Reactor, Ready, Registration};
use crate::sys::epoll::{self, Event};
use crate::util::flag_waker::flag_waker;
use crate::util::wake_all::wake_all;
use loom::sync::atomic::AtomicBool;
use loom::sync::Arc;
use loom::thread;
use std::os::fd::{AsFd, OwnedFd};
use std::sync::atomic::Ordering::SeqCst;
use std::task::{Context, Waker};

/// The reactor thread: one event with `ready`, then wake what it took.
fn deliver(io: &Arc<FdState>, ready: Ready) -> thread::JoinHandle<()> {
    let io = io.clone();
    thread::spawn(move || {
        let mut wake_list = Vec::new();
        io.set_readiness(ready, &mut wake_list);
        wake_list.into_iter().for_each(Waker::wake);
    })
}

#[test]
fn loom_event_racing_waker_registration_is_not_lost() {
    crate::loom::model(|| {
        let io = Arc::new(FdState::new());
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
    crate::loom::model(|| {
        let io = Arc::new(FdState::new());
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
    crate::loom::model(|| {
        let io = Arc::new(FdState::new());
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

/// A non-blocking eventfd to register: epoll accepts it, and nothing ever makes it ready, so
/// every event in these models is one the model delivers itself.
fn eventfd() -> OwnedFd {
    epoll::eventfd().expect("eventfd")
}

/// The driver's side of one `epoll_wait` that returned `events` for `token`: dispatch under the
/// registrations' lock, wake after it.
fn dispatch_on_driver(reactor: &std::sync::Arc<Reactor>, token: u64, events: libc::c_int) -> thread::JoinHandle<()> {
    let reactor = reactor.clone();
    thread::spawn(move || {
        let mut wake_list = Vec::new();
        reactor.dispatch(&[Event::new(token, events)], &mut wake_list);
        wake_all(wake_list);
    })
}

#[test]
fn loom_a_stale_event_racing_deregistration_never_reaches_the_registration_in_its_slot() {
    crate::loom::model(|| {
        let (reactor, _driver) = Reactor::new().unwrap();
        let (old_fd, new_fd) = (eventfd(), eventfd());
        let old = Registration::new(&reactor, old_fd.as_fd()).unwrap();
        let old_woken = Arc::new(AtomicBool::new(false));
        let waker = flag_waker(old_woken.clone());
        assert!(old
            .poll_ready(&mut Context::from_waker(&waker), Direction::Read)
            .is_pending());
        // The driver got an event for the old fd just before the owner closed it ...
        let driver = dispatch_on_driver(&reactor, old.token(), libc::EPOLLIN);
        // SAFETY: the registration's last use.
        unsafe { old.deregister(old_fd.as_fd()) }.unwrap();
        drop((old, old_fd));
        // ... and a new fd may be registered in the same slot meanwhile.
        let new = Registration::new(&reactor, new_fd.as_fd()).unwrap();
        driver.join().unwrap();
        assert!(
            new.poll_ready(&mut Context::from_waker(Waker::noop()), Direction::Read)
                .is_pending(),
            "the old fd's event made the new registration readable"
        );
        // SAFETY: the registration's last use.
        unsafe { new.deregister(new_fd.as_fd()) }.unwrap();
    });
}

#[test]
fn loom_an_event_right_after_registration_is_seen_by_the_first_poll() {
    crate::loom::model(|| {
        let (reactor, _driver) = Reactor::new().unwrap();
        let fd = eventfd();
        let registration = Registration::new(&reactor, fd.as_fd()).unwrap();
        let woken = Arc::new(AtomicBool::new(false));
        // The fd became readable as soon as it was in the epoll set; the owner polls meanwhile.
        let driver = dispatch_on_driver(&reactor, registration.token(), libc::EPOLLIN);
        let waker = flag_waker(woken.clone());
        let ready = registration
            .poll_ready(&mut Context::from_waker(&waker), Direction::Read)
            .is_ready();
        driver.join().unwrap();
        assert!(ready || woken.load(SeqCst), "the first event was lost");
        // SAFETY: the registration's last use.
        unsafe { registration.deregister(fd.as_fd()) }.unwrap();
    });
}

#[test]
fn loom_registration_racing_shutdown_is_refused_or_woken_with_an_error() {
    crate::loom::model(|| {
        let (reactor, _driver) = Reactor::new().unwrap();
        let fd = eventfd();
        let shutdown = {
            let reactor = reactor.clone();
            thread::spawn(move || reactor.shutdown())
        };
        let woken = Arc::new(AtomicBool::new(false));
        let waker = flag_waker(woken.clone());
        let waiting = match Registration::new(&reactor, fd.as_fd()) {
            // Refused: the runtime is gone.
            Err(_) => None,
            Ok(registration) => {
                let first = registration.poll_ready(&mut Context::from_waker(&waker), Direction::Read);
                Some((registration, first))
            }
        };
        shutdown.join().unwrap();
        if let Some((registration, first)) = waiting {
            // Never left waiting for a runtime that is gone: failed at once, or woken, and
            // failing from then on.
            assert!(
                first.is_ready() || woken.load(SeqCst),
                "a registration waits on a dead runtime"
            );
            let again = registration.poll_ready(&mut Context::from_waker(Waker::noop()), Direction::Read);
            assert!(
                matches!(again, std::task::Poll::Ready(Err(_))),
                "I/O after shutdown must fail"
            );
            // SAFETY: the registration's last use.
            unsafe { registration.deregister(fd.as_fd()) }.unwrap();
        }
    });
}

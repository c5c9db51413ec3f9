//! How one worker sleeps and is woken: on its condition variable, or, if it holds the reactor's
//! driver, in `epoll_wait` (woken through the eventfd).
//!
//! `state` says where the worker sleeps, so that `unpark` knows what to poke:
//!
//! | state            | meaning                                   | `unpark` does            |
//! |------------------|-------------------------------------------|--------------------------|
//! | `EMPTY`          | awake, no wake-up pending                 | sets `NOTIFIED`          |
//! | `PARKED_CONDVAR` | asleep on the condition variable          | signals the condvar      |
//! | `PARKED_DRIVER`  | blocked in `epoll_wait`                   | writes the eventfd       |
//! | `NOTIFIED`       | a wake-up is pending; the next park returns at once | nothing        |
//!
//! A sleeper moves `EMPTY → PARKED_*` with a CAS, so an `unpark` that came first (`NOTIFIED`)
//! is never missed; the condvar sleeper re-checks under the mutex that `unpark` takes before it
//! signals, so the signal cannot fall between its check and its wait.

use crate::loom::{AtomicUsize, Condvar, StdMutex};
use crate::reactor::Reactor;
use std::sync::atomic::Ordering::SeqCst;

const EMPTY: usize = 0;
const PARKED_CONDVAR: usize = 1;
const PARKED_DRIVER: usize = 2;
const NOTIFIED: usize = 3;

pub(super) struct Parker {
    state: AtomicUsize,
    mutex: StdMutex<()>,
    condvar: Condvar,
}

impl Parker {
    pub(super) fn new() -> Parker {
        Parker {
            state: AtomicUsize::new(EMPTY),
            mutex: StdMutex::new(()),
            condvar: Condvar::new(),
        }
    }

    /// Sleeps on the condition variable until `unpark`.
    pub(super) fn park_condvar(&self) {
        if self.take_notification() {
            return;
        }
        let mut guard = self.mutex.lock().expect("the parker's mutex guards no data");
        match self.state.compare_exchange(EMPTY, PARKED_CONDVAR, SeqCst, SeqCst) {
            Ok(_) => {}
            Err(NOTIFIED) => {
                self.state.store(EMPTY, SeqCst);
                return;
            }
            Err(state) => unreachable!("a worker parks while in parker state {state}"),
        }
        loop {
            guard = self.condvar.wait(guard).expect("the parker's mutex guards no data");
            // Wake-ups without `unpark` happen: only `NOTIFIED` ends the sleep.
            if self.state.compare_exchange(NOTIFIED, EMPTY, SeqCst, SeqCst).is_ok() {
                return;
            }
        }
    }

    /// Runs `wait` (a blocking `epoll_wait` on the driver this worker holds) unless an
    /// `unpark` is already pending; an `unpark` meanwhile writes the eventfd to end it.
    pub(super) fn park_driver(&self, wait: impl FnOnce()) {
        if self.take_notification() {
            return;
        }
        match self.state.compare_exchange(EMPTY, PARKED_DRIVER, SeqCst, SeqCst) {
            Ok(_) => {}
            Err(NOTIFIED) => {
                self.state.store(EMPTY, SeqCst);
                return;
            }
            Err(state) => unreachable!("a worker parks while in parker state {state}"),
        }
        wait();
        // `PARKED_DRIVER` (events or a timer woke us) or `NOTIFIED`: either way, awake now. A
        // swap, so that a concurrent `unpark`'s write is read (and ordered before what the
        // worker checks next).
        self.state.swap(EMPTY, SeqCst);
    }

    /// Consumes a pending `unpark`; returns whether there was one.
    fn take_notification(&self) -> bool {
        self.state.compare_exchange(NOTIFIED, EMPTY, SeqCst, SeqCst).is_ok()
    }

    /// Wakes the worker, or makes its next park return at once.
    pub(super) fn unpark(&self, reactor: &Reactor) {
        match self.state.swap(NOTIFIED, SeqCst) {
            EMPTY | NOTIFIED => {}
            PARKED_CONDVAR => {
                // Taking the mutex orders this signal after the sleeper's wait began.
                drop(self.mutex.lock().expect("the parker's mutex guards no data"));
                self.condvar.notify_one();
            }
            PARKED_DRIVER => reactor.unpark(),
            state => unreachable!("parker state {state}"),
        }
    }
}

//! What a listener does when `accept` fails for lack of resources (`EMFILE`, `ENFILE`,
//! `ENOBUFS`, `ENOMEM`): it returns the error and waits before it tries again, so that the accept
//! loop most people write (`Err(e) => { eprintln!(..); continue }`) neither spins a core at 100 %
//! while the connection stays queued nor starves the tasks that would close fds.
//!
//! The wait is Go's (`net/http`'s `Server.Serve`): 5 ms after the first failure, doubling after
//! each further one, at most 1 s, forgotten after a success. The queued connection is accepted
//! at the first try after fds free up, at most a second later.
//!
//! Optionally ([`FdExhaustion::Shed`]) the listener keeps one fd in reserve: out of fds, it closes
//! the reserve, accepts each queued connection and closes it at once (its client sees a clean
//! close instead of hanging in the backlog), then opens the reserve again.

use mini_runtime::time::Sleep;
use std::fs::File;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

/// The first wait after a failure.
const FIRST_DELAY: Duration = Duration::from_millis(5);
/// The longest wait.
pub(crate) const MAX_DELAY: Duration = Duration::from_secs(1);
/// The most queued connections one exhausted `accept` sheds, so that a flood cannot hold the
/// task forever.
const MAX_SHED_AT_ONCE: usize = 1024;

/// What a listener does with the connections it cannot take when the process is out of fds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum FdExhaustion {
    /// Leave them queued in the backlog until fds free up (the default): no connection is lost,
    /// but clients wait.
    Wait,
    /// Accept each and close it at once, with the fd kept in reserve for that: its client sees a
    /// clean close instead of waiting; the listener still backs off before the next `accept`.
    Shed,
}

/// A listener's back-off state and counts; shared by every task that polls its `accept`.
#[derive(Default)]
pub(crate) struct AcceptBackoff {
    /// Set from a failure to the next success: the fast path of a healthy listener reads only
    /// this.
    engaged: AtomicBool,
    state: Mutex<State>,
    exhausted: AtomicU64,
    shed: AtomicU64,
}

#[derive(Default)]
struct State {
    /// The last wait (zero: none since the last success).
    delay: Duration,
    /// The wait in progress.
    sleep: Option<Pin<Box<Sleep>>>,
    /// Every task that polled `accept` during the wait: all are woken when it ends.
    waiters: Arc<Waiters>,
    /// The fd kept for shedding (`FdExhaustion::Shed`); `None` with `Wait`.
    reserve: Option<File>,
    shedding: bool,
}

#[derive(Default)]
struct Waiters(Mutex<Vec<Waker>>);

impl Wake for Waiters {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        let waiters = std::mem::take(&mut *self.0.lock().unwrap_or_else(PoisonError::into_inner));
        waiters.into_iter().for_each(Waker::wake);
    }
}

/// Whether `error` means the process or the system is out of something that closing
/// connections gives back.
fn is_exhaustion(error: &io::Error) -> bool {
    matches!(
        error.raw_os_error(),
        Some(libc::EMFILE | libc::ENFILE | libc::ENOBUFS | libc::ENOMEM)
    )
}

impl AcceptBackoff {
    /// Polls `accept` unless a wait is pending; after a failure for lack of resources, sheds
    /// the queued connections (if asked) and starts the next wait.
    pub(crate) fn poll_accept<T>(
        &self,
        cx: &mut Context<'_>,
        mut accept: impl FnMut(&mut Context<'_>) -> Poll<io::Result<T>>,
    ) -> Poll<io::Result<T>> {
        if self.engaged.load(Relaxed) && self.poll_wait(cx).is_pending() {
            return Poll::Pending;
        }
        let result = std::task::ready!(accept(cx));
        match &result {
            Ok(_) if self.engaged.load(Relaxed) => {
                let mut state = self.lock();
                state.delay = Duration::ZERO;
                self.engaged.store(state.sleep.is_some(), Relaxed);
            }
            Err(error) if is_exhaustion(error) => {
                self.exhausted.fetch_add(1, Relaxed);
                let shed = self.shed_queued(cx, &mut accept);
                self.shed.fetch_add(shed, Relaxed);
                self.start_wait();
            }
            _ => {}
        }
        Poll::Ready(result)
    }

    /// `Ready` when no wait is pending (or the pending one has ended; then the other tasks that
    /// wait are woken, outside the lock).
    fn poll_wait(&self, cx: &mut Context<'_>) -> Poll<()> {
        let others = {
            let mut state = self.lock();
            let State { sleep, waiters, .. } = &mut *state;
            let Some(wait) = sleep else {
                return Poll::Ready(());
            };
            let mut list = waiters.0.lock().unwrap_or_else(PoisonError::into_inner);
            if !list.iter().any(|waiter| waiter.will_wake(cx.waker())) {
                list.push(cx.waker().clone());
            }
            drop(list);
            if poll_armed(wait, waiters).is_pending() {
                return Poll::Pending;
            }
            *sleep = None;
            let others = std::mem::take(&mut *waiters.0.lock().unwrap_or_else(PoisonError::into_inner));
            others
        };
        (others.into_iter())
            .filter(|waiter| !waiter.will_wake(cx.waker()))
            .for_each(Waker::wake);
        Poll::Ready(())
    }

    /// Starts the next wait, armed at once (its timer holds the list's waker), unless one is
    /// pending already (another task's failure started it): then that one stands.
    fn start_wait(&self) {
        let mut state = self.lock();
        self.engaged.store(true, Relaxed);
        if state.sleep.is_some() {
            return;
        }
        state.delay = if state.delay.is_zero() {
            FIRST_DELAY
        } else {
            (state.delay * 2).min(MAX_DELAY)
        };
        let mut wait = Box::pin(mini_runtime::time::sleep(state.delay));
        // Ready only for a zero delay, which never happens: the first poll arms the timer.
        let _ = poll_armed(&mut wait, &state.waiters);
        state.sleep = Some(wait);
    }

    /// With `FdExhaustion::Shed`: frees the reserve fd, accepts and closes each queued
    /// connection (not under the lock: other tasks may poll `accept` meanwhile), and takes the
    /// reserve back. Returns how many it shed.
    fn shed_queued<T>(
        &self,
        cx: &mut Context<'_>,
        accept: &mut impl FnMut(&mut Context<'_>) -> Poll<io::Result<T>>,
    ) -> u64 {
        let reserve = {
            let mut state = self.lock();
            if !state.shedding {
                return 0;
            }
            state.reserve.take()
        };
        drop(reserve);
        let mut shed = 0;
        for _ in 0..MAX_SHED_AT_ONCE {
            match accept(cx) {
                Poll::Ready(Ok(connection)) => {
                    drop(connection);
                    shed += 1;
                }
                // A client that reset before it was accepted: on to the next.
                Poll::Ready(Err(error)) if error.kind() == io::ErrorKind::ConnectionAborted => {}
                Poll::Ready(Err(_)) | Poll::Pending => break,
            }
        }
        // If the reserve cannot be had back now, the next exhausted accept tries again.
        let mut state = self.lock();
        if state.shedding && state.reserve.is_none() {
            state.reserve = open_reserve().ok();
        }
        shed
    }

    pub(crate) fn set_fd_exhaustion(&self, policy: FdExhaustion) -> io::Result<()> {
        let mut state = self.lock();
        state.shedding = policy == FdExhaustion::Shed;
        state.reserve = match policy {
            FdExhaustion::Shed => Some(open_reserve()?),
            FdExhaustion::Wait => None,
        };
        Ok(())
    }

    /// Accepts that failed for lack of resources (each started a wait).
    pub(crate) fn exhausted_count(&self) -> u64 {
        self.exhausted.load(Relaxed)
    }

    /// Connections accepted and closed at once for lack of fds (`FdExhaustion::Shed`).
    pub(crate) fn shed_count(&self) -> u64 {
        self.shed.load(Relaxed)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Polls `wait` with a waker that wakes every task in `waiters`, so that its timer, once armed,
/// wakes them all.
fn poll_armed(wait: &mut Pin<Box<Sleep>>, waiters: &Arc<Waiters>) -> Poll<()> {
    let list_waker = Waker::from(waiters.clone());
    wait.as_mut().poll(&mut Context::from_waker(&list_waker))
}

/// An fd to give back when out of fds: `/dev/null`, close-on-exec (as `std` opens every file).
fn open_reserve() -> io::Result<File> {
    File::open("/dev/null")
}

#[cfg(test)]
mod tests {
    use super::*;
    use mini_runtime::time::Instant;
    use std::cell::RefCell;
    use std::future::poll_fn;

    /// An `accept` that replays `script` (an error number, or 0 for a connection) and records
    /// when it was called, on paused time.
    fn run(script: &[i32]) -> Vec<Duration> {
        let runtime = mini_runtime::runtime::Builder::new_current_thread()
            .start_paused(true)
            .build()
            .unwrap();
        runtime.block_on(async {
            let backoff = AcceptBackoff::default();
            let start = Instant::now();
            let calls = RefCell::new(Vec::new());
            for &errno in script {
                let _ = poll_fn(|cx| {
                    backoff.poll_accept(cx, |_| {
                        calls.borrow_mut().push(start.elapsed());
                        Poll::Ready(if errno == 0 {
                            Ok(())
                        } else {
                            Err(io::Error::from_raw_os_error(errno))
                        })
                    })
                })
                .await;
            }
            assert_eq!(
                backoff.exhausted_count(),
                script.iter().filter(|&&e| e != 0 && e != libc::ECONNABORTED).count() as u64
            );
            calls.take()
        })
    }

    fn ms(millis: &[u64]) -> Vec<Duration> {
        millis.iter().map(|&m| Duration::from_millis(m)).collect()
    }

    #[test]
    fn each_exhausted_accept_doubles_the_wait_before_the_next_up_to_a_second() {
        let emfile = libc::EMFILE;
        let calls = run(&[emfile; 10]);
        // Waits of 5, 10, 20, …, 640, then 1000 ms.
        assert_eq!(calls, ms(&[0, 5, 15, 35, 75, 155, 315, 635, 1275, 2275]));
    }

    #[test]
    fn a_failure_during_a_wait_keeps_the_armed_wait_and_its_waiters() {
        let runtime = mini_runtime::runtime::Builder::new_current_thread()
            .start_paused(true)
            .build()
            .unwrap();
        runtime.block_on(async {
            let backoff = std::sync::Arc::new(AcceptBackoff::default());
            let start = Instant::now();
            backoff.start_wait();
            // A task waits on it; then another task's accept fails too (on another worker, in
            // a real server, between this one's check and its own failure).
            let waiter = mini_runtime::spawn({
                let backoff = backoff.clone();
                async move { poll_fn(|cx| backoff.poll_wait(cx)).await }
            });
            mini_runtime::task::yield_now().await;
            backoff.start_wait();
            // The armed wait stands: the waiter is woken by its timer, at 5 ms, not left behind.
            waiter.await.unwrap();
            assert_eq!(start.elapsed(), Duration::from_millis(5));
        });
    }

    #[test]
    fn a_success_resets_the_wait_and_other_errors_start_none() {
        let calls = run(&[libc::ENFILE, libc::ENOBUFS, 0, libc::ENOMEM, libc::ECONNABORTED, 0]);
        // 5 ms after ENFILE, 10 after ENOBUFS; the success resets: 5 after ENOMEM; none after
        // the aborted connection.
        assert_eq!(calls, ms(&[0, 5, 15, 15, 20, 20]));
    }
}

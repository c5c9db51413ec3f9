//! The deferred list: the wakers of the tasks that gave up their turn on this thread (by
//! `yield_now`, or with their cooperative budget spent), woken once the scheduler running here
//! has next looked at the reactor (and fired due timers), as in tokio.
//!
//! So a task that yields in a loop, or that always finds its socket ready, delays other tasks'
//! I/O by at most one turn of the reactor, not by the `event_interval` polls between two of the
//! scheduler's own looks. The schedulers drive the list: [`DeferScope`] while they run tasks on
//! a thread, [`wake_deferred`] after each turn of the reactor, and [`has_deferred`] before they
//! would park (then they turn the reactor without blocking instead). Elsewhere (the
//! multi-threaded runtime's `block_on` thread, a blocking job) a deferred task wakes at once;
//! so does a waker that is not the polled task's own (`coop::give_up_turn`).

use std::cell::RefCell;
use std::task::Waker;

thread_local! {
    /// The wakers of the tasks that yielded on this thread since the scheduler running here
    /// last turned the reactor; `None` while no scheduler runs tasks on this thread.
    static DEFERRED: RefCell<Option<Vec<Waker>>> = const { RefCell::new(None) };
}

/// Wakes `waker` after the scheduler running on this thread next turns the reactor, or now if
/// none runs here.
#[inline]
pub(crate) fn defer(waker: &Waker) {
    defer_unless_last(waker, false);
}

/// `defer`, unless `waker` is the last one deferred: a task whose budget is spent is refused
/// by every readiness check it makes in that poll (all its futures at once, in a `join`), and
/// is woken once.
pub(crate) fn defer_once(waker: &Waker) {
    defer_unless_last(waker, true);
}

#[inline(always)]
fn defer_unless_last(waker: &Waker, check_last: bool) {
    let deferred = DEFERRED.try_with(|deferred| match deferred.borrow_mut().as_mut() {
        Some(list) => {
            if !(check_last && list.last().is_some_and(|last| last.will_wake(waker))) {
                list.push(waker.clone());
            }
            true
        }
        None => false,
    });
    if deferred != Ok(true) {
        waker.wake_by_ref();
    }
}

/// While alive, yields on this thread are deferred to the scheduler that made it. On drop (the
/// scheduler stops running tasks here, by return or unwind) the tasks still deferred are
/// woken, so none is stranded, and the previous scope (if any) is back.
pub(crate) struct DeferScope {
    previous: Option<Vec<Waker>>,
}

impl DeferScope {
    pub(crate) fn enter() -> DeferScope {
        let previous = DEFERRED
            .try_with(|deferred| deferred.replace(Some(Vec::new())))
            .ok()
            .flatten();
        DeferScope { previous }
    }
}

impl Drop for DeferScope {
    fn drop(&mut self) {
        let previous = self.previous.take();
        let left = DEFERRED.try_with(|deferred| deferred.replace(previous)).ok().flatten();
        crate::util::wake_all::wake_all(left.into_iter().flatten());
    }
}

/// Stops deferring on this thread until dropped: the tasks deferred so far are woken now, and
/// deferring wakes at once meanwhile. For `block_in_place`'s closure, which blocks the thread
/// (and may `block_on` a future that yields) while the scheduler cannot turn the reactor.
pub(crate) fn suspend() -> Suspended {
    let taken = DEFERRED.try_with(RefCell::take).ok().flatten();
    let was_deferring = taken.is_some();
    // A foreign waker's panic (already reported by the panic hook) must not unwind into the
    // caller's closure; every other waker is still woken.
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        crate::util::wake_all::wake_all(taken.into_iter().flatten());
    }));
    Suspended { was_deferring }
}

/// Deferring set aside by [`suspend`]; dropping it resumes deferring (with an empty list) if it
/// was on.
pub(crate) struct Suspended {
    was_deferring: bool,
}

impl Drop for Suspended {
    fn drop(&mut self) {
        if self.was_deferring {
            let _ = DEFERRED.try_with(|deferred| deferred.replace(Some(Vec::new())));
        }
    }
}

/// Whether tasks on this thread wait for the next turn of the reactor.
pub(crate) fn has_deferred() -> bool {
    DEFERRED
        .try_with(|deferred| deferred.borrow().as_ref().is_some_and(|list| !list.is_empty()))
        .unwrap_or(false)
}

/// Wakes the tasks deferred on this thread (after a turn of the reactor). The list's storage is
/// kept for the next round; wakers run outside the thread-local's borrow (a waker may yield
/// again, or drop a task that does).
pub(crate) fn wake_deferred() {
    let taken = DEFERRED.try_with(|deferred| match deferred.borrow_mut().as_mut() {
        Some(list) if !list.is_empty() => Some(std::mem::take(list)),
        // Nothing deferred (every turn, mostly): the list keeps its storage.
        _ => None,
    });
    let Ok(Some(mut wakers)) = taken else { return };
    crate::util::wake_all::wake_all(wakers.drain(..));
    // Give the storage back unless the wakers deferred more meanwhile (after a waker's panic,
    // raised again above once all are woken, it is simply dropped).
    let _ = DEFERRED.try_with(|deferred| {
        if let Some(list) = deferred.borrow_mut().as_mut() {
            if list.is_empty() {
                *list = wakers;
            }
        }
    });
}

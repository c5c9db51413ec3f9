//! Schedulers: who runs tasks, on which threads, in which order. Today there is one, the
//! current-thread scheduler; the work-stealing multi-threaded one will sit beside it behind the
//! same `Handle`.

pub(crate) mod current_thread;
mod inject;

use crate::blocking::BlockingPool;
use crate::reactor::Reactor;
use crate::task::JoinHandle;
use crate::time::timers::Timers;
use std::future::Future;
use std::sync::Arc;

/// A cheap, cloneable reference to a runtime's scheduler, shared by every task it runs.
#[derive(Clone)]
pub(crate) enum Handle {
    CurrentThread(Arc<current_thread::Handle>),
}

impl Handle {
    pub(crate) fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        match self {
            Handle::CurrentThread(handle) => handle.spawn(future),
        }
    }

    pub(crate) fn reactor(&self) -> &Arc<Reactor> {
        match self {
            Handle::CurrentThread(handle) => &handle.reactor,
        }
    }

    pub(crate) fn blocking(&self) -> &BlockingPool {
        match self {
            Handle::CurrentThread(handle) => &handle.blocking,
        }
    }

    pub(crate) fn timers(&self) -> &Timers {
        match self {
            Handle::CurrentThread(handle) => &handle.timers,
        }
    }

    /// A timer was armed or moved: a runtime parked on another thread must recompute how long
    /// it may sleep.
    pub(crate) fn timer_armed(&self) {
        match self {
            Handle::CurrentThread(handle) => handle.wake_parked_from_elsewhere(),
        }
    }
}

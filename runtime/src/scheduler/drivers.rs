//! What every runtime has besides its scheduler, whatever the flavor: the reactor (its shared
//! half), the timers and the blocking pool, created together and shut down together.

use super::blocking::BlockingPool;
use super::config::Config;
use crate::reactor::{Driver, Reactor};
use crate::time::timers::Timers;
use std::sync::Arc;
use std::time::Duration;

pub(crate) struct Drivers {
    pub(crate) reactor: Arc<Reactor>,
    pub(crate) timers: Timers,
    /// The runtime's pool: a thread-per-core runtime's workers share one.
    pub(crate) blocking: Arc<BlockingPool>,
}

impl Drivers {
    /// Creates a reactor and timers for `config`, with the blocking pool `blocking`; the
    /// reactor's `Driver` (the half that waits in `epoll_wait`) goes to the scheduler.
    pub(crate) fn new(config: &Config, blocking: Arc<BlockingPool>) -> std::io::Result<(Drivers, Driver)> {
        let (reactor, driver) = Reactor::new()?;
        let drivers = Drivers {
            reactor,
            timers: Timers::new(config.start_paused),
            blocking,
        };
        Ok((drivers, driver))
    }

    /// Runtime shutdown, once the tasks are cancelled: I/O that outlives the runtime fails,
    /// sleeps that outlive it panic when polled, and blocking jobs are waited for (at most
    /// `blocking_timeout`).
    pub(crate) fn shutdown(&self, blocking_timeout: Option<Duration>) {
        self.shutdown_io_and_timers();
        self.blocking.shutdown(blocking_timeout);
    }

    /// The reactor and timers' part of `shutdown` (a thread-per-core worker's, whose blocking
    /// pool is the runtime's).
    pub(crate) fn shutdown_io_and_timers(&self) {
        self.reactor.shutdown();
        self.timers.shutdown();
    }
}

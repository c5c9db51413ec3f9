//! What a runtime's threads (its workers, its blocking pool's) are named and run when they start
//! and stop: the `Builder`'s `thread_name` and `on_thread_start/stop`, as in tokio, for both.

use std::io;
use std::sync::Arc;

/// The name of a worker thread, unless the `Builder` names the runtime's threads.
pub(crate) const WORKER_THREAD: &str = "mini-worker";
/// The name of a blocking-pool thread, unless the `Builder` names the runtime's threads.
pub(crate) const BLOCKING_THREAD: &str = "mini-blocking";

type Callback = Arc<dyn Fn() + Send + Sync>;

/// What a runtime's threads are named and run when they start and stop.
#[derive(Clone, Default)]
pub(crate) struct ThreadHooks {
    /// `None`: each kind of thread keeps its own name (`WORKER_THREAD`, `BLOCKING_THREAD`).
    pub(crate) name: Option<Arc<dyn Fn() -> String + Send + Sync>>,
    pub(crate) on_start: Option<Callback>,
    pub(crate) on_stop: Option<Callback>,
}

impl ThreadHooks {
    /// Starts a thread (named `default_name` unless the runtime's threads are named) that runs
    /// `body` between the start and stop callbacks.
    pub(crate) fn spawn<T: Send + 'static>(
        &self,
        default_name: &'static str,
        body: impl FnOnce() -> T + Send + 'static,
    ) -> io::Result<std::thread::JoinHandle<T>> {
        self.spawn_and_then(default_name, body, |output| output)
    }

    /// `spawn`, then `after` with `body`'s output once the stop callback has returned.
    pub(crate) fn spawn_and_then<T, U: Send + 'static>(
        &self,
        default_name: &'static str,
        body: impl FnOnce() -> T + Send + 'static,
        after: impl FnOnce(T) -> U + Send + 'static,
    ) -> io::Result<std::thread::JoinHandle<U>> {
        let name = self
            .name
            .as_ref()
            .map_or_else(|| default_name.to_owned(), |name| name());
        let hooks = self.clone();
        std::thread::Builder::new().name(name).spawn(move || {
            if let Some(on_start) = &hooks.on_start {
                on_start();
            }
            let output = body();
            if let Some(on_stop) = &hooks.on_stop {
                on_stop();
            }
            after(output)
        })
    }
}

impl std::fmt::Debug for ThreadHooks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ThreadHooks").finish_non_exhaustive()
    }
}

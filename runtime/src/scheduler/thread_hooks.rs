//! What a runtime's threads (its workers, its blocking pool's) are named and run when they start
//! and stop: the `Builder`'s `thread_name` and `on_thread_start/stop`, as in tokio.

use std::io;
use std::sync::Arc;

type Callback = Arc<dyn Fn() + Send + Sync>;

/// What a runtime's threads (its workers, its blocking pool's) are named and run when they
/// start and stop.
#[derive(Clone)]
pub(crate) struct ThreadHooks {
    pub(crate) name: Arc<dyn Fn() -> String + Send + Sync>,
    pub(crate) on_start: Option<Callback>,
    pub(crate) on_stop: Option<Callback>,
}

impl ThreadHooks {
    /// Starts a thread that runs `body` between the start and stop callbacks.
    pub(crate) fn spawn<T: Send + 'static>(
        &self,
        body: impl FnOnce() -> T + Send + 'static,
    ) -> io::Result<std::thread::JoinHandle<T>> {
        self.spawn_and_then(body, |output| output)
    }

    /// `spawn`, then `after` with `body`'s output once the stop callback has returned.
    pub(crate) fn spawn_and_then<T, U: Send + 'static>(
        &self,
        body: impl FnOnce() -> T + Send + 'static,
        after: impl FnOnce(T) -> U + Send + 'static,
    ) -> io::Result<std::thread::JoinHandle<U>> {
        let hooks = self.clone();
        std::thread::Builder::new().name((self.name)()).spawn(move || {
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

impl ThreadHooks {
    /// Threads named `name`, with no callbacks.
    pub(crate) fn named(name: &'static str) -> ThreadHooks {
        ThreadHooks {
            name: Arc::new(move || name.to_owned()),
            on_start: None,
            on_stop: None,
        }
    }
}

impl Default for ThreadHooks {
    fn default() -> Self {
        ThreadHooks::named("mini-worker")
    }
}

impl std::fmt::Debug for ThreadHooks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ThreadHooks").finish_non_exhaustive()
    }
}

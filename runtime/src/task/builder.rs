//! `task::Builder`: spawning a task with a name, which task dumps and stall reports show next
//! to its id and spawn site.

use super::identity::SpawnSite;
use super::spawn::{spawn_at, spawn_blocking_at, spawn_local_at};
use super::{JoinHandle, LocalSet};
use crate::runtime::Handle;
use std::future::Future;
use std::io;
use std::panic::Location;

/// Spawns tasks with a name, as tokio's `task::Builder` does (with the same methods, and the
/// same `io::Result`, which mini never fails: a missing runtime panics as `spawn` does).
///
/// ```
/// mini_runtime::Runtime::new().unwrap().block_on(async {
///     let task = mini_runtime::task::Builder::new().name("answer").spawn(async { 42 }).unwrap();
///     assert_eq!(task.await.unwrap(), 42);
/// });
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct Builder<'a> {
    name: Option<&'a str>,
}

impl<'a> Builder<'a> {
    /// A builder for an unnamed task.
    pub fn new() -> Builder<'a> {
        Builder { name: None }
    }

    /// Names the task (copied into the task when it is spawned).
    pub fn name(self, name: &'a str) -> Builder<'a> {
        Builder { name: Some(name) }
    }

    /// Like [`spawn`](crate::spawn), with this builder's name.
    ///
    /// # Panics
    /// Outside a mini runtime, as `spawn` does.
    #[track_caller]
    pub fn spawn<F>(self, future: F) -> io::Result<JoinHandle<F::Output>>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        Ok(spawn_at(future, self.site()))
    }

    /// Like [`Handle::spawn`], with this builder's name.
    #[track_caller]
    pub fn spawn_on<F>(self, future: F, handle: &Handle) -> io::Result<JoinHandle<F::Output>>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        Ok(handle.inner.spawn(future, self.site()))
    }

    /// Like [`spawn_local`](super::spawn_local), with this builder's name.
    ///
    /// # Panics
    /// Where `spawn_local` does.
    #[track_caller]
    pub fn spawn_local<F>(self, future: F) -> io::Result<JoinHandle<F::Output>>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        Ok(spawn_local_at(future, self.site()))
    }

    /// Like [`LocalSet::spawn_local`], with this builder's name.
    #[track_caller]
    pub fn spawn_local_on<F>(self, future: F, local_set: &LocalSet) -> io::Result<JoinHandle<F::Output>>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        Ok(local_set.spawn_local_at(future, self.site()))
    }

    /// Like [`spawn_blocking`](super::spawn_blocking), with this builder's name.
    ///
    /// # Panics
    /// Outside a mini runtime, as `spawn_blocking` does.
    #[track_caller]
    pub fn spawn_blocking<F, R>(self, job: F) -> io::Result<JoinHandle<R>>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        Ok(spawn_blocking_at(job, self.site()))
    }

    #[track_caller]
    fn site(self) -> SpawnSite {
        SpawnSite {
            location: Location::caller(),
            name: self.name.map(Box::from),
        }
    }
}

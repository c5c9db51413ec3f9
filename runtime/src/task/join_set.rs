//! `JoinSet`: a group of spawned tasks whose outputs are collected as they finish, and which are
//! all aborted when the set is dropped.
//!
//! # O(1) per completion
//!
//! Each task's `JoinHandle` sits in a slot of the set and is polled with a waker of its own (an
//! `EntryWaker`, made once per slot). That waker puts the slot's `(index, generation)` on the
//! set's ready list (once: `queued`) and wakes whoever waits in `join_next`. `join_next` polls
//! only the handles on the ready list, so a set of 10,000 tasks does one poll per completion,
//! not a scan of the set per completion. A new task starts on the ready list, so that its first
//! poll registers its waker. The generation makes a waker of a slot since reused (its task
//! finished or was detached) queue nothing but a skipped entry.

use super::{AbortHandle, JoinError, JoinHandle};
use crate::runtime::Handle;
use parking_lot::Mutex;
use std::collections::VecDeque;
use std::fmt;
use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::sync::atomic::AtomicBool;
use std::sync::atomic::Ordering::{AcqRel, Release};
use std::sync::Arc;
use std::task::{ready, Context, Poll, Wake, Waker};

/// A set of tasks spawned into it, joined in the order they finish.
///
/// ```
/// use mini_runtime::task::JoinSet;
///
/// mini_runtime::Runtime::new().unwrap().block_on(async {
///     let mut set = JoinSet::new();
///     for i in 0..10u64 {
///         set.spawn(async move {
///             mini_runtime::time::sleep(std::time::Duration::from_millis(10 - i)).await;
///             i
///         });
///     }
///     let mut finished = Vec::new();
///     while let Some(result) = set.join_next().await {
///         finished.push(result.unwrap());
///     }
///     finished.sort();
///     assert_eq!(finished, (0..10).collect::<Vec<_>>());
/// });
/// ```
///
/// Dropping the set aborts every task still in it (as [`abort_all`](JoinSet::abort_all) does);
/// [`detach_all`](JoinSet::detach_all) lets them run on instead.
pub struct JoinSet<T> {
    slots: Vec<Slot<T>>,
    /// Free slot indices.
    free: Vec<usize>,
    /// Tasks in the set.
    len: usize,
    ready: Arc<ReadyList>,
}

struct Slot<T> {
    /// Bumped each time the slot is emptied, so that an old waker's entry is skipped.
    generation: u64,
    entry: Option<Entry<T>>,
}

struct Entry<T> {
    handle: JoinHandle<T>,
    /// This slot's `EntryWaker`, as a `Waker` (made once).
    waker: Waker,
    state: Arc<EntryWaker>,
}

/// The slots whose task woke its `JoinHandle`'s waker, and the task waiting in `join_next`.
struct ReadyList {
    inner: Mutex<ReadyInner>,
}

struct ReadyInner {
    queue: VecDeque<(usize, u64)>,
    waiter: Option<Waker>,
}

/// The waker a slot's `JoinHandle` is polled with.
struct EntryWaker {
    ready: Arc<ReadyList>,
    index: usize,
    generation: u64,
    /// Set while the slot is on the ready list (cleared just before its handle is polled).
    queued: AtomicBool,
}

impl Wake for EntryWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if self.queued.swap(true, AcqRel) {
            return;
        }
        let waiter = {
            let mut ready = self.ready.inner.lock();
            ready.queue.push_back((self.index, self.generation));
            ready.waiter.take()
        };
        // Woken outside the lock: the waiter may poll the set at once, on another thread.
        if let Some(waiter) = waiter {
            waiter.wake();
        }
    }
}

impl<T> JoinSet<T> {
    /// An empty set.
    pub fn new() -> JoinSet<T> {
        JoinSet {
            slots: Vec::new(),
            free: Vec::new(),
            len: 0,
            ready: Arc::new(ReadyList {
                inner: Mutex::new(ReadyInner {
                    queue: VecDeque::new(),
                    waiter: None,
                }),
            }),
        }
    }

    /// How many tasks are in the set (running, or finished and not yet joined).
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the set holds no task.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Adds a spawned task's handle; returns the task's `AbortHandle`.
    fn insert(&mut self, handle: JoinHandle<T>) -> AbortHandle {
        let abort = handle.abort_handle();
        let index = self.free.pop().unwrap_or_else(|| {
            self.slots.push(Slot {
                generation: 0,
                entry: None,
            });
            self.slots.len() - 1
        });
        let generation = self.slots[index].generation;
        let state = Arc::new(EntryWaker {
            ready: self.ready.clone(),
            index,
            generation,
            queued: AtomicBool::new(false),
        });
        let waker = Waker::from(state.clone());
        // On the ready list from the start: its first poll registers its waker.
        waker.wake_by_ref();
        self.slots[index].entry = Some(Entry { handle, waker, state });
        self.len += 1;
        abort
    }

    /// Empties slot `index`, returning its entry.
    fn remove(&mut self, index: usize) -> Entry<T> {
        let slot = &mut self.slots[index];
        let entry = slot
            .entry
            .take()
            .expect("a slot on the ready list with this generation is full");
        slot.generation += 1;
        self.free.push(index);
        self.len -= 1;
        entry
    }

    /// Polls the handles on the ready list until one is finished; with `waiter`, registers it
    /// to be woken when the list gets a new entry.
    fn poll_ready_list(&mut self, waiter: Option<&Waker>) -> Poll<Option<Result<T, JoinError>>> {
        loop {
            let next = {
                let mut ready = self.ready.inner.lock();
                match ready.queue.pop_front() {
                    Some(next) => next,
                    None if self.len == 0 => return Poll::Ready(None),
                    None => {
                        if let Some(waiter) = waiter {
                            if !ready.waiter.as_ref().is_some_and(|old| old.will_wake(waiter)) {
                                ready.waiter = Some(waiter.clone());
                            }
                        }
                        return Poll::Pending;
                    }
                }
            };
            let (index, generation) = next;
            let slot = &mut self.slots[index];
            let entry = match slot.entry.as_mut() {
                Some(entry) if slot.generation == generation => entry,
                _ => continue, // a waker of a slot since emptied
            };
            // Cleared before the poll: a wake from now on queues the slot again.
            entry.state.queued.store(false, Release);
            let polled = Pin::new(&mut entry.handle).poll(&mut Context::from_waker(&entry.waker));
            if let Poll::Ready(result) = polled {
                self.remove(index);
                return Poll::Ready(Some(result));
            }
        }
    }

    /// Waits for a task of the set to finish and returns its result (`Err` if it panicked or
    /// was aborted), removing it from the set; `None` once the set is empty. Results come in
    /// the order the tasks finished. Cancel-safe: a result is never lost by dropping the future.
    pub async fn join_next(&mut self) -> Option<Result<T, JoinError>> {
        poll_fn(|cx| self.poll_join_next(cx)).await
    }

    /// Polls for the next finished task (see [`join_next`](JoinSet::join_next)); the task that
    /// polls is woken when one finishes.
    pub fn poll_join_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<T, JoinError>>> {
        ready!(crate::coop::poll_proceed(cx));
        self.poll_ready_list(Some(cx.waker()))
    }

    /// The result of a task that has finished, if any, without waiting; `None` if none has
    /// (or the set is empty).
    pub fn try_join_next(&mut self) -> Option<Result<T, JoinError>> {
        match self.poll_ready_list(None) {
            Poll::Ready(result) => result,
            Poll::Pending => None,
        }
    }

    /// Waits for every task and returns their outputs, in the order they finished.
    ///
    /// # Panics
    /// If a task panicked, that panic is resumed here (the set, and so the other tasks, are
    /// dropped and aborted); if a task was aborted, with a message saying so.
    pub async fn join_all(mut self) -> Vec<T> {
        let mut outputs = Vec::with_capacity(self.len);
        while let Some(result) = self.join_next().await {
            match result {
                Ok(output) => outputs.push(output),
                Err(error) if error.is_panic() => std::panic::resume_unwind(error.into_panic()),
                Err(error) => panic!("`JoinSet::join_all`: a task of the set was aborted ({error})"),
            }
        }
        outputs
    }

    /// Aborts every task in the set. They stay in it: `join_next` gives each one's result,
    /// `Err` with [`is_cancelled`](JoinError::is_cancelled) unless it had finished already.
    pub fn abort_all(&mut self) {
        self.entries().for_each(|entry| entry.handle.abort());
    }

    /// Aborts every task and waits until each has stopped; the set is empty afterwards.
    pub async fn shutdown(&mut self) {
        self.abort_all();
        while self.join_next().await.is_some() {}
    }

    /// Removes every task from the set without aborting it: they run on, detached.
    pub fn detach_all(&mut self) {
        for index in 0..self.slots.len() {
            if self.slots[index].entry.is_some() {
                drop(self.remove(index));
            }
        }
        self.ready.inner.lock().queue.clear();
    }

    fn entries(&self) -> impl Iterator<Item = &Entry<T>> {
        self.slots.iter().filter_map(|slot| slot.entry.as_ref())
    }
}

impl<T: Send + 'static> JoinSet<T> {
    /// Spawns `future` on the current runtime (as [`spawn`](crate::spawn)) into the set.
    ///
    /// # Panics
    /// Outside a mini runtime.
    #[track_caller]
    pub fn spawn<F>(&mut self, future: F) -> AbortHandle
    where
        F: Future<Output = T> + Send + 'static,
    {
        self.insert(crate::spawn(future))
    }

    /// Spawns `future` on `handle`'s runtime into the set.
    #[track_caller]
    pub fn spawn_on<F>(&mut self, future: F, handle: &Handle) -> AbortHandle
    where
        F: Future<Output = T> + Send + 'static,
    {
        self.insert(handle.spawn(future))
    }

    /// Runs `job` on the current runtime's blocking pool (as
    /// [`spawn_blocking`](super::spawn_blocking)), in the set. Aborting it cancels it only
    /// before it starts.
    ///
    /// # Panics
    /// Outside a mini runtime.
    #[track_caller]
    pub fn spawn_blocking<F>(&mut self, job: F) -> AbortHandle
    where
        F: FnOnce() -> T + Send + 'static,
    {
        self.insert(super::spawn_blocking(job))
    }
}

impl<T: 'static> JoinSet<T> {
    /// Spawns a `!Send` future (as [`spawn_local`](super::spawn_local)) into the set.
    ///
    /// # Panics
    /// Where `spawn_local` panics: outside a `LocalSet`, a current-thread runtime's `block_on`
    /// or a thread-per-core worker.
    #[track_caller]
    pub fn spawn_local<F>(&mut self, future: F) -> AbortHandle
    where
        F: Future<Output = T> + 'static,
    {
        self.insert(super::spawn_local(future))
    }
}

impl<T> Drop for JoinSet<T> {
    fn drop(&mut self) {
        self.abort_all();
    }
}

impl<T> Default for JoinSet<T> {
    fn default() -> Self {
        JoinSet::new()
    }
}

impl<T> fmt::Debug for JoinSet<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinSet").field("len", &self.len).finish()
    }
}

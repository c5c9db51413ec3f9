//! Shuffled scheduling (`Builder::shuffle(seed)`): every choice a scheduler makes about the order
//! of ready work is drawn from one seeded generator, so that tests meet the orders that
//! production load produces, and a failing order can be replayed from its seed.
//!
//! # The choices
//!
//! - Which ready task runs next: any task in the run queue, not only its head (current-thread:
//!   the `block_on` future is one more candidate; `LocalSet`: its own queue).
//! - The order in which one batch of wakers is woken: a reactor turn's I/O events, the timers
//!   that fire in one tick, the tasks that yielded (`util::wake_all`, `task::yield_now`).
//! - Multi-thread: whether a woken task takes the LIFO slot, when the inject queue is checked
//!   first, and the steal victims (each worker draws from its own generator).
//!
//! # The decision log
//!
//! Each choice among two or more options is a [`Decision`]: what was chosen, among how many. A
//! running hash of them identifies the schedule (`Handle::schedule_hash`); the full log is kept
//! only when asked (`MINI_CHECK_DETERMINISM`), to say where two runs of one seed split. On the
//! current-thread flavor with paused time the same seed gives the same log, as long as the test
//! itself is deterministic: wakes from other threads (the blocking pool, user threads) and real
//! I/O arrive when the kernel delivers them, not when the seed says.
//!
//! # Whose generator
//!
//! A scheduler's core owns its `Shuffle` and makes its choices through it (it lives down here
//! with the primitives because the batch wakes of `wake_all.rs` use it too). While a core runs,
//! its thread points at the `Shuffle` (`enter`), so that code that does not know the scheduler
//! (the batch wakes, a `LocalSet`) draws from the same generator. With shuffle off the pointer is
//! null and each batch pays one thread-local load.

use crate::util::rng::Rng;
use parking_lot::Mutex;
use std::cell::Cell;
use std::fmt;
use std::sync::Arc;

/// What a shuffled scheduler was asked to choose.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Choice {
    /// The next task to run, among the ready ones.
    NextTask,
    /// Whether the `block_on` future is polled before the ready tasks (among them and it).
    BlockOnFuture,
    /// A position in a batch of wakes (a Fisher-Yates step).
    WakeOrder,
    /// Whether a woken task takes the LIFO slot (multi-thread).
    LifoSlot,
    /// Whether the inject queue is looked at first (multi-thread).
    InjectFirst,
    /// The first steal victim (multi-thread).
    StealVictim,
    /// The next task of a `LocalSet`.
    LocalSetTask,
}

/// One choice: option `chose` (from 0) of `among`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Decision {
    pub(crate) choice: Choice,
    pub(crate) among: u32,
    pub(crate) chose: u32,
}

impl fmt::Display for Decision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.choice {
            Choice::NextTask => "next task",
            Choice::BlockOnFuture => "block_on future or a task",
            Choice::WakeOrder => "wake order",
            Choice::LifoSlot => "LIFO slot",
            Choice::InjectFirst => "inject queue first",
            Choice::StealVictim => "steal victim",
            Choice::LocalSetTask => "LocalSet task",
        };
        write!(f, "{what}: option {} of {}", self.chose, self.among)
    }
}

/// One core's generator and decision log.
pub(crate) struct Shuffle {
    /// Touched by the core's thread only, but the scheduler handle that holds it is shared.
    state: Mutex<State>,
}

struct State {
    rng: Rng,
    hash: u64,
    /// Every decision, when asked for.
    log: Option<Vec<Decision>>,
}

/// FNV-1a's offset and prime, folding one decision at a time.
const HASH_START: u64 = 0xcbf2_9ce4_8422_2325;
const HASH_PRIME: u64 = 0x0000_0100_0000_01b3;

impl Shuffle {
    pub(crate) fn new(seed: u64, keep_log: bool) -> Arc<Shuffle> {
        Arc::new(Shuffle {
            state: Mutex::new(State {
                rng: Rng::new(seed),
                hash: HASH_START,
                log: keep_log.then(Vec::new),
            }),
        })
    }

    /// An option in `0..among`; with fewer than two there is nothing to choose (0, not logged).
    pub(crate) fn choose(&self, choice: Choice, among: usize) -> usize {
        if among < 2 {
            return 0;
        }
        self.state.lock().choose(choice, among)
    }

    /// Puts `items` in a random order (Fisher-Yates: one decision per position).
    pub(crate) fn permute<T>(&self, items: &mut [T]) {
        if items.len() < 2 {
            return;
        }
        let mut state = self.state.lock();
        for last in (1..items.len()).rev() {
            let other = state.choose(Choice::WakeOrder, last + 1);
            items.swap(last, other);
        }
    }

    /// The hash of every decision so far.
    pub(crate) fn hash(&self) -> u64 {
        self.state.lock().hash
    }

    /// The decisions so far, if the log is kept.
    pub(crate) fn log(&self) -> Option<Vec<Decision>> {
        self.state.lock().log.clone()
    }
}

impl State {
    fn choose(&mut self, choice: Choice, among: usize) -> usize {
        let chose = self.rng.below(among);
        let decision = Decision {
            choice,
            among: among as u32,
            chose: chose as u32,
        };
        let word = (choice as u64) << 56 | u64::from(decision.among) << 28 | u64::from(decision.chose);
        for byte in word.to_le_bytes() {
            self.hash = (self.hash ^ u64::from(byte)).wrapping_mul(HASH_PRIME);
        }
        if let Some(log) = &mut self.log {
            log.push(decision);
        }
        chose
    }
}

thread_local! {
    /// The `Shuffle` of the core running on this thread, or null. A plain cell with a const
    /// initialiser and no destructor: one load for a thread with shuffle off.
    static CURRENT: Cell<*const Shuffle> = const { Cell::new(std::ptr::null()) };
}

/// Makes `shuffle` this thread's until the guard drops (then the previous one is back).
pub(crate) fn enter(shuffle: &Arc<Shuffle>) -> Entered {
    let previous = CURRENT.with(|current| current.replace(Arc::as_ptr(shuffle)));
    Entered {
        _shuffle: shuffle.clone(),
        previous,
    }
}

/// Makes this thread use no `Shuffle` until the guard of the enclosing [`enter`] drops: a
/// multi-threaded worker that gave its core to another thread (`block_in_place`) no longer
/// draws from the worker's `Shuffle`, which that thread now uses.
pub(crate) fn leave() {
    let _ = CURRENT.try_with(|current| current.set(std::ptr::null()));
}

/// Keeps the entered `Shuffle` alive while this thread points at it.
pub(crate) struct Entered {
    _shuffle: Arc<Shuffle>,
    previous: *const Shuffle,
}

impl Drop for Entered {
    fn drop(&mut self) {
        let _ = CURRENT.try_with(|current| {
            // Guards drop in the reverse order of their making (each lives in the scope of the
            // core run that made it): this one's `Shuffle` is the current one.
            debug_assert!(
                current.get() == Arc::as_ptr(&self._shuffle) || current.get().is_null(),
                "`shuffle::Entered` dropped out of order"
            );
            current.set(self.previous);
        });
    }
}

/// Calls `f` with the `Shuffle` of the core running on this thread, if shuffle is on there.
#[inline]
pub(crate) fn with_current<R>(f: impl FnOnce(&Shuffle) -> R) -> Option<R> {
    let current = CURRENT.try_with(Cell::get).ok()?;
    // SAFETY: a non-null pointer was set by `enter`, whose guard holds an `Arc` of the `Shuffle`
    // until it restores the previous pointer; guards are dropped in the reverse order of their
    // creation (each lives in the scope of the core run that entered it).
    (!current.is_null()).then(|| f(unsafe { &*current }))
}

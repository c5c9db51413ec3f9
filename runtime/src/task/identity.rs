//! Who a task is: its [`Id`], where it was spawned, and its optional name, fixed at spawn and
//! kept in the task's header for the task dumps, stall reports and metrics to show.
//!
//! None of it costs a clock read or a lock: the id is one relaxed `fetch_add` per spawn, the
//! spawn site a `&'static Location` that `#[track_caller]` gives for free, and an unnamed task
//! stores no name.

use std::fmt;
use std::num::NonZeroU64;
use std::panic::Location;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// A task's id: unique among the tasks of this process, for as long as it runs (ids are not
/// reused). Shown by [`Display`](fmt::Display) as a number, as tokio's is.
///
/// ```
/// mini_runtime::Runtime::new().unwrap().block_on(async {
///     let task = mini_runtime::spawn(async { mini_runtime::task::id() });
///     let id = task.id();
///     assert_eq!(task.await.unwrap(), id);
/// });
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Id(NonZeroU64);

impl Id {
    /// The next id: 1, 2, 3, … in spawn order across every runtime of the process.
    pub(crate) fn next() -> Id {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        let id = NEXT.fetch_add(1, Relaxed);
        Id(NonZeroU64::new(id).expect("task ids run out after 2^64 spawns"))
    }
}

impl Id {
    /// The number, for task traces (`trace.rs`), stall events and `tracing` spans.
    pub(crate) fn as_u64(self) -> u64 {
        self.0.get()
    }

    /// The id whose number is `id`, if it is one.
    pub(crate) fn from_u64(id: u64) -> Option<Id> {
        NonZeroU64::new(id).map(Id)
    }
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl fmt::Debug for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Id({})", self.0)
    }
}

/// What a spawn function records about the task it starts.
pub(crate) struct SpawnSite {
    /// The caller of the public spawn function (`spawn`, `Builder::spawn`, …).
    pub(crate) location: &'static Location<'static>,
    /// From `task::Builder::name`; `None` costs no allocation.
    pub(crate) name: Option<Box<str>>,
}

impl SpawnSite {
    /// The spawn site of an unnamed task: where the `#[track_caller]` chain that leads here
    /// started.
    #[track_caller]
    pub(crate) fn caller() -> SpawnSite {
        SpawnSite {
            location: Location::caller(),
            name: None,
        }
    }
}

/// A task's identity, in its header: written once at spawn, read by anyone who holds a
/// reference to the task.
pub(crate) struct Identity {
    pub(crate) id: Id,
    pub(crate) location: &'static Location<'static>,
    pub(crate) name: Option<Box<str>>,
    /// The task's `tracing` span, for waker events (`span.rs`; nothing without the feature).
    pub(crate) span_id: super::span::SpanId,
}

impl Identity {
    /// A new task's identity; its span id is set by `with_span` once the span exists.
    pub(crate) fn new(site: SpawnSite) -> Identity {
        Identity {
            id: Id::next(),
            location: site.location,
            name: site.name,
            span_id: super::span::SpanId::NONE,
        }
    }

    pub(crate) fn with_span(self, span_id: super::span::SpanId) -> Identity {
        Identity { span_id, ..self }
    }
}

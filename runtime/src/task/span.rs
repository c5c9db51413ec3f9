//! What `tracing` (and so tokio-console) sees of a task, with the `tracing` feature on; without
//! it, nothing: the future is stored as it is and the waker hooks are empty inline functions.
//!
//! console-subscriber does not care which runtime emits the data. It recognises:
//!
//! - a task by a span named `runtime.spawn` with the fields `kind` (`task`, `local` or
//!   `blocking`), `task.name`, `task.id`, `loc.file`, `loc.line` and `loc.col`, entered around
//!   each poll and closed when the task's future is dropped (on completion or cancellation);
//! - its wakers by events with target `runtime::waker`, whose `op` is `waker.wake`,
//!   `waker.wake_by_ref`, `waker.clone` or `waker.drop` and whose `task.id` is the task span's
//!   *tracing* id (not mini's task id).
//!
//! So the span lives with the future ([`Traced`], tokio's `Instrumented`) and the header keeps
//! only the span's id, for the wakers. Each poll enters the task's own span once: the console
//! attributes a poll to the innermost task span entered.

#[cfg(feature = "tracing")]
mod on {
    use std::future::Future;
    use std::panic::Location;
    use std::pin::Pin;
    use std::task::{Context, Poll};

    pin_project_lite::pin_project! {
        /// A task's future with its span, entered around every poll.
        pub(crate) struct Traced<F> {
            #[pin]
            future: F,
            span: tracing::Span,
        }
    }

    impl<F: Future> Future for Traced<F> {
        type Output = F::Output;

        fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
            let this = self.project();
            let _entered = this.span.enter();
            this.future.poll(cx)
        }
    }

    /// The id of a task's span, as waker events name it (`None` when no subscriber wanted
    /// the span).
    #[derive(Clone, Copy)]
    pub(crate) struct SpanId(Option<u64>);

    /// Wraps a new task's future in its `runtime.spawn` span.
    pub(crate) fn traced<F>(
        future: F,
        kind: &'static str,
        id: u64,
        name: Option<&str>,
        location: &'static Location<'static>,
    ) -> (Traced<F>, SpanId) {
        let span = tracing::trace_span!(
            target: "mini::task",
            parent: None,
            "runtime.spawn",
            kind = kind,
            task.name = name.unwrap_or(""),
            task.id = id,
            loc.file = location.file(),
            loc.line = location.line(),
            loc.col = location.column(),
        );
        let span_id = SpanId(span.id().map(|id| id.into_u64()));
        (Traced { future, span }, span_id)
    }

    impl SpanId {
        /// No span (before the span is made).
        pub(crate) const NONE: SpanId = SpanId(None);

        /// Emits the waker event `op` for the task whose span this is.
        #[inline]
        pub(crate) fn waker_op(self, op: &'static str) {
            if let Some(id) = self.0 {
                tracing::trace!(target: "runtime::waker", op = op, task.id = id);
            }
        }
    }
}

#[cfg(not(feature = "tracing"))]
mod off {
    use std::panic::Location;

    /// Without the feature a future is stored as it is.
    pub(crate) type Traced<F> = F;

    /// Without the feature, nothing.
    #[derive(Clone, Copy)]
    pub(crate) struct SpanId;

    #[inline(always)]
    pub(crate) fn traced<F>(
        future: F,
        _kind: &'static str,
        _id: u64,
        _name: Option<&str>,
        _location: &'static Location<'static>,
    ) -> (Traced<F>, SpanId) {
        (future, SpanId)
    }

    impl SpanId {
        pub(crate) const NONE: SpanId = SpanId;

        #[inline(always)]
        pub(crate) fn waker_op(self, _op: &'static str) {}
    }
}

#[cfg(not(feature = "tracing"))]
pub(crate) use off::*;
#[cfg(feature = "tracing")]
pub(crate) use on::*;

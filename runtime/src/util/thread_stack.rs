//! Capturing the stack of another thread of this process while it runs, as glommio's stall
//! detector does: the stall detector signals the stalled thread with a real-time signal, whose
//! handler (running on that thread, on top of the code it interrupted) walks its own stack and
//! writes the raw return addresses into one preallocated, process-wide buffer. The handler
//! allocates nothing and takes no lock of ours; the caller waits for it, then copies the addresses
//! out. Turning addresses into function names and lines (`symbolize`) is slow and allocates, so
//! it happens later, on the caller's thread, only when a report is shown.
//!
//! # The slot's protocol
//!
//! One capture at a time, process-wide (`CAPTURES` serializes the callers). `SLOT.state` packs
//! the target thread's id with a phase, so that the handler checks "this request is for me" and
//! claims it in one compare-and-swap:
//!
//! - the caller stores `tid | REQUESTED`, then sends the signal;
//! - the handler on thread `tid` swaps `tid | REQUESTED` for `tid | WRITING`, fills `frames`
//!   and `len`, and stores `tid | DONE` (release); a handler on another thread, or one that comes
//!   late, finds no request of its own and returns;
//! - the caller reads `DONE` (acquire), copies the frames and stores `IDLE`; or, if no handler
//!   claimed the request in time, takes it back with `REQUESTED → IDLE`. A handler that claimed
//!   it but never finishes (its unwinder stuck) leaves the slot in use: no capture is tried again.
//!
//! Walking the stack goes through libgcc's unwinder, which may take the dynamic loader's lock on
//! the first walk through a library: a thread stalled inside `dlopen` cannot be captured (the
//! caller gives up after its timeout and reports without a stack).

use crate::sys::gettid_from_handler;
use crate::sys::signal::{sigaction_if_free, tgkill};
use std::fmt;
use std::sync::atomic::Ordering::{Acquire, Relaxed, Release, SeqCst};
use std::sync::atomic::{AtomicU64, AtomicUsize};
use std::time::{Duration, Instant};

/// The most frames a capture keeps (the innermost ones).
const MAX_FRAMES: usize = 128;

const IDLE: u64 = 0;
const REQUESTED: u64 = 1;
const WRITING: u64 = 2;
const DONE: u64 = 3;
const PHASE_BITS: u32 = 2;

struct Slot {
    /// `tid << PHASE_BITS | phase` (see the module doc).
    state: AtomicU64,
    len: AtomicUsize,
    frames: [AtomicUsize; MAX_FRAMES],
}

static SLOT: Slot = Slot {
    state: AtomicU64::new(IDLE),
    len: AtomicUsize::new(0),
    frames: [const { AtomicUsize::new(0) }; MAX_FRAMES],
};

/// Who may use the slot now, and what is known of the signals.
struct Captures {
    /// The signals whose handler is ours (installed on first use, for the life of the process).
    installed: Vec<libc::c_int>,
    /// A handler claimed a request and never finished: the slot may still be written.
    slot_lost: bool,
}

static CAPTURES: parking_lot::Mutex<Captures> = parking_lot::Mutex::new(Captures {
    installed: Vec::new(),
    slot_lost: false,
});

/// Return addresses of a thread's stack, innermost first, as the signal handler found them (the
/// handler's own frames included; `symbolize` leaves them out).
pub(crate) struct RawStack(Vec<usize>);

/// Why a stack was not captured.
#[derive(Debug)]
pub(crate) enum NotCaptured {
    /// The signal has a handler (or is ignored) that is not ours: we leave it alone.
    SignalTaken(libc::c_int),
    /// The thread did not run the handler in time (blocked in the kernel with signals held off,
    /// or the program handles the signal some other way).
    NoAnswer(Duration),
    /// An earlier capture never finished; captures are off for the life of the process.
    SlotLost,
    /// `sigaction` or `tgkill` failed (`ESRCH`: the thread exited).
    Failed(std::io::Error),
}

impl fmt::Display for NotCaptured {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NotCaptured::SignalTaken(signal) => write!(
                f,
                "signal {signal} has a handler of the program's, which mini leaves alone: \
                 choose a free real-time signal with `Builder::stall_signal`"
            ),
            NotCaptured::NoAnswer(waited) => write!(f, "the thread did not run the signal handler within {waited:?}"),
            NotCaptured::SlotLost => write!(f, "an earlier capture never finished, so captures are off"),
            NotCaptured::Failed(error) => write!(f, "{error}"),
        }
    }
}

/// Captures the stack of thread `tid` of this process by sending it `signal` (whose handler this
/// installs the first time, unless the program has one), waiting at most `timeout` for it.
pub(crate) fn capture(tid: u64, signal: libc::c_int, timeout: Duration) -> Result<RawStack, NotCaptured> {
    let mut captures = CAPTURES.lock();
    if captures.slot_lost {
        return Err(NotCaptured::SlotLost);
    }
    if !captures.installed.contains(&signal) {
        // SAFETY: `on_signal` is async-signal-safe: it uses atomics, `gettid` and the stack walk
        // (module doc), and restores errno.
        match unsafe { sigaction_if_free(signal, on_signal) } {
            Ok(true) => captures.installed.push(signal),
            Ok(false) => return Err(NotCaptured::SignalTaken(signal)),
            Err(error) => return Err(NotCaptured::Failed(error)),
        }
    }
    let target = tid << PHASE_BITS;
    SLOT.state.store(target | REQUESTED, SeqCst);
    if let Err(error) = tgkill(tid, signal) {
        SLOT.state.store(IDLE, SeqCst);
        return Err(NotCaptured::Failed(error));
    }
    let started = Instant::now();
    loop {
        let state = SLOT.state.load(Acquire);
        if state == target | DONE {
            let len = SLOT.len.load(Relaxed);
            let frames = SLOT.frames[..len].iter().map(|frame| frame.load(Relaxed)).collect();
            SLOT.state.store(IDLE, SeqCst);
            return Ok(RawStack(frames));
        }
        let waited = started.elapsed();
        if waited > timeout {
            if state == target | REQUESTED {
                if SLOT.state.compare_exchange(state, IDLE, SeqCst, SeqCst).is_ok() {
                    return Err(NotCaptured::NoAnswer(waited));
                }
            } else if waited > timeout + Duration::from_secs(1) {
                // Claimed, and still writing a second later.
                captures.slot_lost = true;
                return Err(NotCaptured::SlotLost);
            }
        }
        std::thread::sleep(Duration::from_micros(100));
    }
}

/// The capture signal's handler (see the module doc for the protocol). Async-signal-safe.
extern "C" fn on_signal(_signal: libc::c_int) {
    // SAFETY: errno's location is thread-local and always valid; it is restored below.
    let saved_errno = unsafe { *libc::__errno_location() };
    let target = gettid_from_handler() << PHASE_BITS;
    if SLOT
        .state
        .compare_exchange(target | REQUESTED, target | WRITING, Acquire, Relaxed)
        .is_ok()
    {
        let mut len = 0;
        // SAFETY: `trace_unsynchronized` is not synchronized with other backtraces of this
        // process; the stack walk only reads this thread's own stack and the unwind tables, and
        // the closure only stores into the slot, which this handler owns while it is `WRITING`.
        unsafe {
            backtrace::trace_unsynchronized(|frame| {
                SLOT.frames[len].store(frame.ip() as usize, Relaxed);
                len += 1;
                len < MAX_FRAMES
            })
        };
        SLOT.len.store(len, Relaxed);
        SLOT.state.store(target | DONE, Release);
    }
    // SAFETY: as above.
    unsafe { *libc::__errno_location() = saved_errno };
}

/// One frame of a captured stack, symbolized.
pub(crate) struct Frame {
    pub(crate) function: Option<String>,
    pub(crate) file: Option<String>,
    pub(crate) line: Option<u32>,
}

impl RawStack {
    /// The frames of the interrupted code, innermost first, named from the debug info where
    /// there is one: the handler's own frames (up to the kernel's signal trampoline) are left
    /// out. Slow the first time (it loads the debug info); allocates.
    pub(crate) fn symbolize(&self) -> Vec<Frame> {
        let mut frames = Vec::new();
        for &ip in &self.0 {
            let before = frames.len();
            // The return address points after the call: look up the call itself.
            backtrace::resolve(ip.saturating_sub(1) as *mut std::ffi::c_void, |symbol| {
                frames.push(Frame {
                    function: symbol.name().map(|name| format!("{name:#}")),
                    file: symbol.filename().map(|file| file.display().to_string()),
                    line: symbol.lineno(),
                });
            });
            if frames.len() == before {
                frames.push(Frame {
                    function: None,
                    file: None,
                    line: None,
                });
            }
        }
        // Everything up to the signal trampoline is the handler and the stack walk: the frame
        // of `on_signal`, then the trampoline (glibc's `__restore_rt`, often unnamed).
        let handler = frames.iter().position(|frame| {
            (frame.function.as_deref()).is_some_and(|name| name.ends_with("thread_stack::on_signal"))
        });
        match handler {
            Some(handler) => {
                let trampoline = handler + 1;
                let interrupted = match frames.get(trampoline) {
                    Some(frame) if frame.function.as_deref().is_none_or(|name| name == "__restore_rt") => {
                        trampoline + 1
                    }
                    _ => trampoline,
                };
                frames.split_off(interrupted.min(frames.len()))
            }
            None => frames,
        }
    }
}

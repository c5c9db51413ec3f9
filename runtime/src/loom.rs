//! The synchronisation primitives the runtime is built on, from `std` and `parking_lot`
//! normally and from [loom](https://docs.rs/loom) under `--cfg loom`, so that the same code is
//! model-checked.

#[cfg(loom)]
pub(crate) use loom::sync::atomic::{fence, AtomicBool, AtomicI64, AtomicPtr, AtomicU32, AtomicU64, AtomicUsize};
/// A mutex and condition variable with `std`'s API, for threads that sleep (worker parking).
#[cfg(loom)]
pub(crate) use loom::sync::{Condvar, Mutex as StdMutex};

#[cfg(not(loom))]
pub(crate) use parking_lot::Mutex;
#[cfg(not(loom))]
pub(crate) use std::sync::atomic::{fence, AtomicBool, AtomicI64, AtomicPtr, AtomicU32, AtomicU64, AtomicUsize};
/// A mutex and condition variable with `std`'s API, for threads that sleep (worker parking).
#[cfg(not(loom))]
pub(crate) use std::sync::{Condvar, Mutex as StdMutex};

/// loom's mutex with `parking_lot`'s signature (no poisoning).
#[cfg(loom)]
#[derive(Debug)]
pub(crate) struct Mutex<T>(loom::sync::Mutex<T>);

#[cfg(loom)]
impl<T> Mutex<T> {
    pub(crate) fn new(value: T) -> Mutex<T> {
        Mutex(loom::sync::Mutex::new(value))
    }

    pub(crate) fn lock(&self) -> loom::sync::MutexGuard<'_, T> {
        self.0.lock().expect("a panic while holding a runtime lock")
    }
}

/// An `UnsafeCell` whose accesses loom checks for data races; `std`'s otherwise.
#[cfg(loom)]
pub(crate) use loom::cell::UnsafeCell;

/// An `UnsafeCell` whose accesses loom checks for data races; `std`'s otherwise.
#[cfg(not(loom))]
#[derive(Debug)]
pub(crate) struct UnsafeCell<T>(std::cell::UnsafeCell<T>);

#[cfg(not(loom))]
impl<T> UnsafeCell<T> {
    pub(crate) fn new(value: T) -> UnsafeCell<T> {
        UnsafeCell(std::cell::UnsafeCell::new(value))
    }

    pub(crate) fn with<R>(&self, f: impl FnOnce(*const T) -> R) -> R {
        f(self.0.get())
    }

    pub(crate) fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
        f(self.0.get())
    }
}

/// `loom::model`, with `body` on a loom thread of a 1 MiB stack: the runtime's structures (the
/// timer wheel, the slabs' page tables) are built on the stack and outgrow the small one loom
/// gives a model's first thread.
#[cfg(all(test, loom))]
pub(crate) fn model(body: impl Fn() + Send + Sync + 'static) {
    let body = std::sync::Arc::new(body);
    loom::model(move || {
        let body = body.clone();
        let thread = loom::thread::Builder::new().stack_size(1 << 20).spawn(move || body());
        thread
            .expect("start the model's thread")
            .join()
            .expect("the model's thread");
    });
}

//! A `Runtime` or a `LocalSet` kept in a `thread_local!` is dropped by the thread's exit, after
//! mini's own thread-locals may already be gone. As in tokio, that drop works: the thread exits
//! normally, the tasks' futures are dropped and their sockets closed (issue 18 §1.1). Before,
//! it aborted the process ("thread local panicked on drop"), so these tests live in a binary of
//! their own.

mod common;

use common::*;
use mini::net::TcpListener;
use mini::runtime::Builder;
use mini::task::LocalSet;
use std::any::Any;
use std::cell::RefCell;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

thread_local! {
    /// What a test's thread keeps until it exits: registered before mini's thread-locals, so
    /// dropped after them.
    static KEPT: RefCell<Vec<Box<dyn Any>>> = const { RefCell::new(Vec::new()) };
}

/// Sets its flag when dropped.
struct DropFlag(Arc<AtomicBool>);

impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// A task future that holds `listener` and a drop flag and never completes.
async fn hold(listener: TcpListener, flag: DropFlag) {
    let _kept = (listener, flag);
    std::future::pending::<()>().await;
}

/// Runs `body` on a thread of its own, which then exits; returns what it returned once the
/// thread is joined (its thread-local destructors have run).
fn on_exiting_thread<T: Send + 'static>(body: impl FnOnce() -> T + Send + 'static) -> T {
    with_timeout(|| {
        std::thread::spawn(body)
            .join()
            .expect("the thread exits normally, dropping what its thread-local kept")
    })
}

/// After the thread exited: the task's future was dropped and its listener closed.
fn assert_dropped_and_closed(what: &str, addr: SocketAddr, flag: &AtomicBool) {
    assert!(flag.load(Ordering::SeqCst), "{what}: the task's future was dropped");
    let error = std::net::TcpStream::connect(addr).expect_err("the listener is closed");
    assert_eq!(error.kind(), std::io::ErrorKind::ConnectionRefused, "{what}");
}

fn runtime_kept_in_a_thread_local(flavor: &'static str, build: fn() -> mini::Runtime) {
    let flag = Arc::new(AtomicBool::new(false));
    let addr = on_exiting_thread({
        let flag = flag.clone();
        move || {
            KEPT.with(|kept| kept.borrow_mut().push(Box::new(build())));
            let addr = KEPT.with(|kept| {
                let kept = kept.borrow();
                let runtime = kept[0].downcast_ref::<mini::Runtime>().expect("a runtime");
                runtime.block_on(async move {
                    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
                    let addr = listener.local_addr().unwrap();
                    drop(mini::spawn(hold(listener, DropFlag(flag))));
                    addr
                })
            });
            // Another runtime, made and dropped: mini's thread-locals are in use past `KEPT`.
            Builder::new_current_thread().build().unwrap().block_on(async {});
            addr
        }
    });
    assert_dropped_and_closed(flavor, addr, &flag);
}

#[test]
fn a_current_thread_runtime_kept_in_a_thread_local_is_dropped_at_thread_exit() {
    runtime_kept_in_a_thread_local("current-thread", || Builder::new_current_thread().build().unwrap());
}

#[test]
fn a_multi_thread_runtime_kept_in_a_thread_local_is_dropped_at_thread_exit() {
    runtime_kept_in_a_thread_local("multi-thread", || {
        Builder::new_multi_thread().worker_threads(2).build().unwrap()
    });
}

#[test]
fn a_thread_per_core_runtime_kept_in_a_thread_local_is_dropped_at_thread_exit() {
    runtime_kept_in_a_thread_local("thread-per-core", || {
        Builder::new_thread_per_core().worker_threads(2).build().unwrap()
    });
}

#[test]
fn a_local_set_kept_in_a_thread_local_is_dropped_at_thread_exit() {
    let flag = Arc::new(AtomicBool::new(false));
    let addr = on_exiting_thread({
        let flag = flag.clone();
        move || {
            let runtime = Builder::new_current_thread().build().unwrap();
            KEPT.with(|kept| kept.borrow_mut().push(Box::new(LocalSet::new())));
            KEPT.with(|kept| {
                let kept = kept.borrow();
                let local = kept[0].downcast_ref::<LocalSet>().expect("a local set");
                local.block_on(&runtime, async move {
                    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
                    let addr = listener.local_addr().unwrap();
                    drop(mini::task::spawn_local(hold(listener, DropFlag(flag))));
                    mini::task::yield_now().await;
                    addr
                })
            })
        }
    });
    assert_dropped_and_closed("LocalSet", addr, &flag);
}

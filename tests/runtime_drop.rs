//! Dropping a runtime drops every future it still owns and closes every fd it opened.
//!
//! One test in its own binary: it compares /proc/self/fd before and after, which other tests
//! running in parallel threads would disturb.

mod common;

use common::*;
use futures::channel::oneshot;
use mini::runtime::Handle;
use mini::task::{spawn_local, yield_now};
use std::future::{pending, poll_fn};
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::task::{Poll, Waker};
use std::thread;

/// Spawns a task that holds a guard and never finishes.
fn spawn_pending(handle: &Handle, drops: &Drops) {
    let guard = drops.guard();
    drop(handle.spawn(async move {
        let _guard = guard;
        pending::<()>().await
    }));
}

/// A guard that, when dropped (at shutdown), spawns another pending task holding a guard.
struct SpawnOnDrop(Drops);

impl Drop for SpawnOnDrop {
    fn drop(&mut self) {
        let guard = self.0.guard();
        drop(mini::spawn(async move {
            let _guard = guard;
            pending::<()>().await
        }));
    }
}

#[test]
fn dropping_the_runtime_drops_every_pending_future_and_closes_its_fds() {
    with_timeout(|| {
        let fds_before = open_fds();
        let drops = Drops::default();
        let mut expected = 0;
        let stale_waker: Arc<Mutex<Option<Waker>>> = Arc::default();

        let runtime = current_thread_runtime().unwrap();
        let handle = runtime.handle().clone();

        // Never polled: spawned before block_on ...
        for _ in 0..3 {
            spawn_pending(&handle, &drops);
        }
        expected += 3;
        // ... and from another thread through a Handle.
        let remote = handle.clone();
        let remote_drops = drops.clone();
        thread::spawn(move || {
            for _ in 0..3 {
                spawn_pending(&remote, &remote_drops);
            }
        })
        .join()
        .unwrap();
        expected += 3;

        let polled = Arc::new(AtomicUsize::new(0));
        let (release, released) = oneshot::channel::<()>();
        runtime.block_on(async {
            // Waiting on sockets: a read on each end of a connection, and an accept.
            let (listener, _addr) = bind_loopback().await;
            let (client, server) = connected_pair().await;
            for mut stream in [client, server] {
                let (guard, polled) = (drops.guard(), polled.clone());
                drop(mini::spawn(async move {
                    let _guard = guard;
                    polled.fetch_add(1, SeqCst);
                    let mut buf = [0u8; 8];
                    let _ = stream.read(&mut buf).await;
                    pending::<()>().await
                }));
            }
            let (guard, counter) = (drops.guard(), polled.clone());
            drop(mini::spawn(async move {
                let _guard = guard;
                counter.fetch_add(1, SeqCst);
                let _ = listener.accept().await;
                pending::<()>().await
            }));
            // Spawned from another thread while the runtime runs, and polled.
            let remote = Handle::current();
            let (guard, counter) = (drops.guard(), polled.clone());
            thread::spawn(move || {
                drop(remote.spawn(async move {
                    let _guard = guard;
                    counter.fetch_add(1, SeqCst);
                    pending::<()>().await
                }))
            })
            .join()
            .unwrap();
            // Not Send, holding an Rc.
            let (guard, counter) = (Rc::new(drops.guard()), polled.clone());
            drop(spawn_local(async move {
                let _guard = guard;
                counter.fetch_add(1, SeqCst);
                pending::<()>().await
            }));
            // Awaiting another pending task's JoinHandle.
            let (guard, counter) = (drops.guard(), polled.clone());
            let inner_guard = drops.guard();
            drop(mini::spawn(async move {
                let _guard = guard;
                counter.fetch_add(1, SeqCst);
                let inner = mini::spawn(async move {
                    let _guard = inner_guard;
                    pending::<()>().await
                });
                let _ = inner.await;
            }));
            // Waiting on a oneshot whose sender outlives the runtime.
            let (guard, counter) = (drops.guard(), polled.clone());
            drop(mini::spawn(async move {
                let _guard = guard;
                counter.fetch_add(1, SeqCst);
                let _ = released.await;
            }));
            // Whose waker is kept by someone outside the runtime.
            let (guard, counter, waker_slot) = (drops.guard(), polled.clone(), stale_waker.clone());
            drop(mini::spawn(async move {
                let _guard = guard;
                counter.fetch_add(1, SeqCst);
                poll_fn(|cx| {
                    *waker_slot.lock().unwrap() = Some(cx.waker().clone());
                    Poll::<()>::Pending
                })
                .await
            }));
            // Whose drop spawns another task while the runtime shuts down.
            let (guard, counter, spawner) = (drops.guard(), polled.clone(), SpawnOnDrop(drops.clone()));
            drop(mini::spawn(async move {
                let _guard = guard;
                let _spawner = spawner;
                counter.fetch_add(1, SeqCst);
                pending::<()>().await
            }));

            for _ in 0..1000 {
                if polled.load(SeqCst) == 9 {
                    break;
                }
                yield_now().await;
            }
            assert_eq!(polled.load(SeqCst), 9, "every task has run up to its first wait");
        });
        // 2 socket readers, accept, remote, local, outer + inner, oneshot, stale waker,
        // spawner + the task it spawns on drop.
        expected += 2 + 1 + 1 + 1 + 2 + 1 + 1 + 2;

        assert_eq!(drops.count(), 0, "nothing is dropped while the runtime lives");
        drop(handle);
        drop(runtime);
        assert_eq!(
            drops.count(),
            expected,
            "every pending future is dropped with the runtime"
        );

        // A waker that outlives its runtime can still be used and dropped.
        let waker = stale_waker.lock().unwrap().take().expect("the task stored its waker");
        waker.wake_by_ref();
        waker.wake();
        drop(release);

        let fds_after = open_fds();
        assert_eq!(
            fds_after, fds_before,
            "the runtime left fds open (or closed some it did not own)"
        );
    })
}

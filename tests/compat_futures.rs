//! Runtime-agnostic libraries on mini, unchanged: the `futures` crate's combinators, macros,
//! io traits and channels, and smol's `async-channel`, `async-lock` and `event-listener`, between
//! tasks on different workers and a blocking-pool thread.

mod common;

use common::*;
use futures::channel::{mpsc, oneshot};
use futures::io::{AsyncReadExt, AsyncWriteExt};
use futures::{FutureExt, SinkExt, StreamExt};
use mini::net::TcpStream;
use std::sync::Arc;
use std::time::Duration;

#[test]
fn select_and_join_race_and_combine_mini_futures() {
    run(|| async {
        let slow = mini::time::sleep(Duration::from_secs(10)).fuse();
        let fast = mini::spawn(async { 7 }).fuse();
        futures::pin_mut!(slow, fast);
        let winner = futures::select! {
            () = slow => "slow",
            value = fast => { assert_eq!(value.unwrap(), 7); "fast" }
        };
        assert_eq!(winner, "fast");
        let (a, b) = futures::join!(mini::spawn(async { 1 }), async { 2 });
        assert_eq!((a.unwrap(), b), (1, 2));
        let mapped = mini::spawn(async { 20 }).map(|result| result.unwrap() + 1).await;
        assert_eq!(mapped, 21);
    })
}

#[test]
fn stream_ext_drives_incoming_connections_and_intervals() {
    run(|| async {
        let (listener, addr) = bind_loopback().await;
        let clients = mini::spawn(async move {
            for _ in 0..3 {
                drop(TcpStream::connect(addr).await.unwrap());
            }
        });
        let accepted: Vec<_> = listener.incoming().take(3).collect().await;
        assert!(accepted.iter().all(Result::is_ok));
        clients.await.unwrap();
        let ticks: Vec<_> = mini::time::interval(Duration::from_millis(2)).take(3).collect().await;
        assert_eq!(ticks.len(), 3);
        assert!(ticks.windows(2).all(|pair| pair[1] > pair[0]));
    })
}

#[test]
fn futures_io_copy_and_ext_traits_work_over_mini_sockets() {
    run(|| async {
        let (listener, addr) = bind_loopback().await;
        let server = mini::spawn(async move {
            let (stream, _) = listener.accept().await.unwrap();
            let (reader, mut writer) = AsyncReadExt::split(stream);
            futures::io::copy(reader, &mut writer).await.unwrap()
        });
        let mut client = TcpStream::connect(addr).await.unwrap();
        let data = pattern(256 * 1024);
        let (mut reader, mut writer) = AsyncReadExt::split(&mut client);
        let (written, echoed) = futures::join!(
            async {
                writer.write_all(&data).await.unwrap();
                writer.close().await.unwrap();
            },
            async {
                let mut echoed = Vec::new();
                reader.read_to_end(&mut echoed).await.unwrap();
                echoed
            }
        );
        let () = written;
        assert!(echoed == data);
        assert_eq!(server.await.unwrap(), data.len() as u64);
    })
}

#[test]
fn futures_channels_carry_messages_between_workers() {
    run_on_worker_flavors(2, || async {
        let (mut tx, rx) = mpsc::channel::<u32>(8);
        // Both tasks block on one barrier first: they can only pass it on two different workers.
        let barrier = Arc::new(std::sync::Barrier::new(2));
        let consumer = mini::spawn({
            let barrier = barrier.clone();
            async move {
                barrier.wait();
                rx.fold(0u64, |sum, n| async move { sum + u64::from(n) }).await
            }
        });
        let producer = mini::spawn(async move {
            barrier.wait();
            for n in 1..=1000 {
                tx.send(n).await.unwrap();
            }
        });
        producer.await.unwrap();
        assert_eq!(consumer.await.unwrap(), 500_500);
        let (done_tx, done_rx) = oneshot::channel();
        mini::spawn(async move { done_tx.send("done").unwrap() });
        assert_eq!(done_rx.await.unwrap(), "done");
    })
}

#[test]
fn async_channel_async_lock_and_event_listener_work_across_workers_and_the_blocking_pool() {
    run_on_worker_flavors(2, || async {
        // async-channel: a bounded MPMC queue, fed by a blocking-pool thread too.
        let (tx, rx) = async_channel::bounded::<u32>(4);
        let blocking_tx = tx.clone();
        let from_pool = mini::task::spawn_blocking(move || {
            for n in 0..100 {
                blocking_tx.send_blocking(n).unwrap();
            }
        });
        let from_task = mini::spawn(async move {
            for n in 100..200 {
                tx.send(n).await.unwrap();
            }
        });
        let receivers: Vec<_> = (0..2)
            .map(|_| {
                let rx = rx.clone();
                mini::spawn(async move {
                    let mut sum = 0u64;
                    while let Ok(n) = rx.recv().await {
                        sum += u64::from(n);
                    }
                    sum
                })
            })
            .collect();
        drop(rx);
        from_pool.await.unwrap();
        from_task.await.unwrap();
        let mut total = 0;
        for receiver in receivers {
            total += receiver.await.unwrap();
        }
        assert_eq!(total, (0..200u64).sum());

        // async-lock: a mutex held across awaits by tasks on both workers.
        let counter = Arc::new(async_lock::Mutex::new(0u32));
        let tasks: Vec<_> = (0..50)
            .map(|_| {
                let counter = counter.clone();
                mini::spawn(async move {
                    let mut guard = counter.lock().await;
                    mini::task::yield_now().await;
                    *guard += 1;
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
        assert_eq!(*counter.lock().await, 50);

        // event-listener: a notification from a blocking-pool thread wakes a task.
        let event = Arc::new(event_listener::Event::new());
        let flag = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let waiter = mini::spawn({
            let (event, flag) = (event.clone(), flag.clone());
            async move {
                loop {
                    if flag.load(std::sync::atomic::Ordering::SeqCst) {
                        return;
                    }
                    let listener = event.listen();
                    if flag.load(std::sync::atomic::Ordering::SeqCst) {
                        return;
                    }
                    listener.await;
                }
            }
        });
        mini::task::spawn_blocking(move || {
            flag.store(true, std::sync::atomic::Ordering::SeqCst);
            event.notify(usize::MAX);
        })
        .await
        .unwrap();
        waiter.await.unwrap();
    })
}

// On a current-thread runtime, as `#[mini::test]`s: CI also runs these under a sweep of shuffled
// schedules (`MINI_TEST_SEEDS`), so they assert only what holds in every order.

#[mini::test]
async fn each_futures_channel_keeps_its_own_order_whatever_the_schedule() {
    let _watchdog = watchdog("each_futures_channel_keeps_its_own_order_whatever_the_schedule");
    let (a_sender, a) = mpsc::unbounded::<(char, u32)>();
    let (b_sender, b) = mpsc::channel::<(char, u32)>(2);
    let producers = [
        mini::spawn(async move {
            for i in 0..50 {
                a_sender.unbounded_send(('a', i)).unwrap();
                if i % 7 == 0 {
                    mini::task::yield_now().await;
                }
            }
        }),
        mini::spawn(async move {
            let mut b_sender = b_sender;
            for i in 0..50 {
                b_sender.send(('b', i)).await.unwrap(); // bounded: waits for the reader
            }
        }),
    ];
    let merged: Vec<_> = futures::stream::select(a, b).collect().await;
    for producer in producers {
        producer.await.unwrap();
    }
    for channel in ['a', 'b'] {
        let numbers: Vec<u32> = merged.iter().filter(|(c, _)| *c == channel).map(|(_, i)| *i).collect();
        assert_eq!(
            numbers,
            (0..50).collect::<Vec<_>>(),
            "channel {channel} in its send order"
        );
    }
}

#[mini::test(start_paused = true)]
async fn select_and_join_over_mini_timers_and_tasks_in_paused_time() {
    let _watchdog = watchdog("select_and_join_over_mini_timers_and_tasks_in_paused_time");
    let start = mini::time::Instant::now();
    let soon = mini::time::sleep(Duration::from_millis(5)).fuse();
    let late = mini::time::sleep(Duration::from_secs(60)).fuse();
    futures::pin_mut!(soon, late);
    let winner = futures::select! {
        () = late => "late",
        () = soon => "soon",
    };
    assert_eq!(winner, "soon");
    let (sum, ()) = futures::join!(
        mini::spawn(async {
            mini::time::sleep(Duration::from_millis(20)).await;
            20
        }),
        mini::time::sleep(Duration::from_millis(30)),
    );
    assert_eq!(sum.unwrap(), 20);
    let elapsed = start.elapsed();
    assert!(
        elapsed >= Duration::from_millis(35) && elapsed < Duration::from_secs(60),
        "{elapsed:?}"
    );
}

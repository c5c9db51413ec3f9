//! Timers: sleep, timeout, interval, and paused (virtual) time.

mod common;

use common::*;
use futures::channel::oneshot;
use futures::FutureExt;
use mini::time::{self, Instant, MissedTickBehavior};
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[mini::test(start_paused = true)]
async fn many_timers_fire_in_deadline_order() {
    let order = Arc::new(Mutex::new(Vec::new()));
    let mut tasks = Vec::new();
    // Equal and different deadlines, spawned out of order.
    for (i, millis) in [30u64, 10, 20, 10, 0, 5000, 20, 1, 10_000_000].into_iter().enumerate() {
        let order = order.clone();
        tasks.push(mini::spawn(async move {
            time::sleep(Duration::from_millis(millis)).await;
            order.lock().unwrap().push((millis, i));
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let order = order.lock().unwrap();
    let deadlines: Vec<u64> = order.iter().map(|(millis, _)| *millis).collect();
    assert_eq!(deadlines, [0, 1, 10, 10, 20, 20, 30, 5000, 10_000_000]);
}

#[test]
fn sleeps_never_end_early_on_the_real_clock() {
    run(|| async {
        for micros in [0u64, 50, 300, 1_000, 2_500, 10_000, 25_000] {
            let duration = Duration::from_micros(micros);
            let start = std::time::Instant::now();
            time::sleep(duration).await;
            assert!(
                start.elapsed() >= duration,
                "a {duration:?} sleep ended after {:?}",
                start.elapsed()
            );
        }
    })
}

#[mini::test(start_paused = true)]
async fn a_zero_sleep_is_ready_at_once_and_a_far_one_waits_years_of_virtual_time() {
    assert!(time::sleep(Duration::ZERO).now_or_never().is_some());
    let start = Instant::now();
    let three_years = Duration::from_secs(3 * 365 * 86_400);
    time::sleep(three_years).await;
    assert!(start.elapsed() >= three_years);
    // Duration::MAX saturates instead of overflowing.
    assert!(time::sleep(Duration::MAX).now_or_never().is_none());
}

#[mini::test(start_paused = true)]
async fn reset_moves_a_sleep_earlier_and_later() {
    let start = Instant::now();
    let mut sleep = time::sleep(Duration::from_secs(100));
    assert!((&mut sleep).now_or_never().is_none(), "armed");
    sleep.reset(start + Duration::from_secs(5));
    (&mut sleep).await;
    assert_eq!(Instant::now() - start, Duration::from_secs(5));
    sleep.reset(start + Duration::from_secs(60));
    assert!(!sleep.is_elapsed());
    (&mut sleep).await;
    assert_eq!(Instant::now() - start, Duration::from_secs(60));
}

#[mini::test(start_paused = true)]
async fn a_timeout_that_fires_drops_the_inner_future() {
    let drops = Drops::default();
    let guard = drops.guard();
    let slow = async move {
        let _guard = guard;
        std::future::pending::<()>().await
    };
    let result = time::timeout(Duration::from_secs(30), slow).await;
    let elapsed = result.unwrap_err();
    assert_eq!(drops.count(), 1, "the inner future was dropped");
    assert_eq!(std::io::Error::from(elapsed).kind(), std::io::ErrorKind::TimedOut);
    assert_eq!(time::timeout(Duration::from_secs(1), async { 7 }).await, Ok(7));
}

#[mini::test(start_paused = true)]
async fn cancelling_timers_at_every_wheel_level_drops_their_futures() {
    let drops = Drops::default();
    // From a millisecond to years: one timer in each level of the wheel.
    for seconds in [0.001, 0.01, 0.5, 30.0, 3_000.0, 200_000.0, 20_000_000.0, 100_000_000.0] {
        let guard = drops.guard();
        let task = mini::spawn(time::timeout(Duration::from_secs_f64(seconds), async move {
            let _guard = guard;
            std::future::pending::<()>().await
        }));
        mini::task::yield_now().await;
        task.abort();
        assert!(task.await.unwrap_err().is_cancelled());
    }
    assert_eq!(drops.count(), 8);
    // The runtime is idle with no timers left: a short sleep is the next thing that happens.
    let start = Instant::now();
    time::sleep(Duration::from_millis(3)).await;
    assert_eq!(Instant::now() - start, Duration::from_millis(3));
}

async fn ticks(behavior: MissedTickBehavior) -> Vec<Duration> {
    let start = Instant::now();
    let mut interval = time::interval(Duration::from_millis(10));
    interval.set_missed_tick_behavior(behavior);
    let mut at = Vec::new();
    for i in 0..5 {
        interval.tick().await;
        at.push(Instant::now() - start);
        if i == 1 {
            // Busy for 35 ms: three ticks are missed.
            time::advance(Duration::from_millis(35)).await;
        }
    }
    at
}

#[mini::test(start_paused = true)]
async fn interval_catches_up_per_missed_tick_behavior() {
    let ms = Duration::from_millis;
    assert_eq!(
        ticks(MissedTickBehavior::Burst).await,
        [ms(0), ms(10), ms(45), ms(45), ms(45)]
    );
    assert_eq!(
        ticks(MissedTickBehavior::Delay).await,
        [ms(0), ms(10), ms(45), ms(55), ms(65)]
    );
    assert_eq!(
        ticks(MissedTickBehavior::Skip).await,
        [ms(0), ms(10), ms(45), ms(50), ms(60)]
    );
}

#[mini::test(start_paused = true)]
async fn interval_is_a_stream() {
    use futures::StreamExt;
    let start = Instant::now();
    let ticks: Vec<Instant> = time::interval(Duration::from_secs(1)).take(3).collect().await;
    let offsets: Vec<Duration> = ticks.iter().map(|t| *t - start).collect();
    assert_eq!(
        offsets,
        [Duration::ZERO, Duration::from_secs(1), Duration::from_secs(2)]
    );
}

#[test]
fn a_timer_armed_from_another_thread_wakes_the_parked_runtime() {
    with_timeout(|| {
        let runtime = current_thread_runtime().unwrap();
        let handle = runtime.handle().clone();
        let (done_tx, done_rx) = oneshot::channel();
        let tid = std::sync::Arc::new(std::sync::atomic::AtomicI32::new(0));
        let runtime_tid = tid.clone();
        let arming = std::thread::spawn(move || {
            // Wait until the runtime's thread sleeps in epoll_wait with no timer armed.
            while runtime_tid.load(std::sync::atomic::Ordering::SeqCst) == 0 {
                std::thread::yield_now();
            }
            assert!(wait_until_parked(runtime_tid.load(std::sync::atomic::Ordering::SeqCst)));
            let _enter = handle.enter();
            let start = std::time::Instant::now();
            futures::executor::block_on(time::sleep(Duration::from_millis(20)));
            done_tx.send(start.elapsed()).unwrap();
        });
        let slept = runtime.block_on(async move {
            tid.store(current_tid(), std::sync::atomic::Ordering::SeqCst);
            done_rx.await.unwrap()
        });
        arming.join().unwrap();
        assert!(slept >= Duration::from_millis(20));
    })
}

#[test]
fn a_hundred_thousand_concurrent_sleeps_all_complete() {
    run(|| async {
        let done = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let tasks: Vec<_> = (0..100_000u64)
            .map(|i| {
                let done = done.clone();
                mini::spawn(async move {
                    time::sleep(Duration::from_micros(1_000 + (i * 7919) % 20_000)).await;
                    done.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
        assert_eq!(done.load(std::sync::atomic::Ordering::Relaxed), 100_000);
    })
}

#[test]
fn a_timer_outside_a_runtime_panics_with_a_clear_message() {
    let panic = std::panic::catch_unwind(|| time::sleep(Duration::from_secs(1))).unwrap_err();
    let message = panic.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(
        message.contains("must be called from within a mini runtime"),
        "{message}"
    );
}

#[mini::test(start_paused = true)]
async fn paused_time_does_not_jump_past_io_that_is_already_ready() {
    let (mut client, mut server) = connected_pair().await;
    let echo = mini::spawn(async move {
        let mut buf = [0u8; 4];
        server.read_exact(&mut buf).await.unwrap();
        server.write_all(&buf).await.unwrap();
    });
    client.write_all(b"ping").await.unwrap();
    let mut buf = [0u8; 4];
    // The echo is on its way over loopback when the runtime next parks: the clock must not jump
    // 5 s before that ready socket is seen.
    let reply = time::timeout(Duration::from_secs(5), client.read_exact(&mut buf)).await;
    assert!(reply.is_ok(), "the paused clock jumped past a ready socket");
    assert_eq!(&buf, b"ping");
    echo.await.unwrap();
}

#[mini::test(start_paused = true)]
async fn a_sleep_reset_into_the_past_completes_on_its_next_poll() {
    let mut sleep = time::sleep(Duration::from_secs(60));
    assert!((&mut sleep).now_or_never().is_none(), "armed");
    sleep.reset(Instant::now() - Duration::from_millis(1));
    assert!((&mut sleep).now_or_never().is_some());
}

#[mini::test]
async fn advance_fires_exactly_and_resume_continues_from_the_paused_time() {
    time::pause();
    let paused_at = Instant::now();
    let sleeper = mini::spawn(time::sleep(Duration::from_millis(10)));
    mini::task::yield_now().await;
    time::advance(Duration::from_millis(10)).await;
    assert!(sleeper.is_finished(), "advance(10 ms) fires a 10 ms sleep");
    assert_eq!(Instant::now() - paused_at, Duration::from_millis(10));
    // Real time passes while paused; after resume the clock goes on from the paused value.
    std::thread::sleep(Duration::from_millis(30));
    time::resume();
    let resumed = Instant::now() - paused_at;
    assert!(
        resumed >= Duration::from_millis(10) && resumed < Duration::from_millis(25),
        "{resumed:?}"
    );
}

#[test]
#[allow(clippy::async_yields_async)] // block_on hands the armed sleep out on purpose
fn a_sleep_outliving_its_runtime_panics_when_polled_instead_of_hanging() {
    with_timeout(|| {
        let runtime = current_thread_runtime().unwrap();
        let mut sleep = runtime.block_on(async {
            let mut sleep = time::sleep(Duration::from_secs(3600));
            assert!((&mut sleep).now_or_never().is_none(), "armed");
            sleep
        });
        drop(runtime);
        let panic = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| (&mut sleep).now_or_never())).unwrap_err();
        let message = panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned());
        assert!(message.unwrap_or_default().contains("after its runtime was dropped"));
    })
}

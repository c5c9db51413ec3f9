//! tokio-console on a mini program, end to end (the `tracing` feature): console-subscriber's
//! layer collects mini's task spans and waker events and serves them over gRPC; a client of that
//! API (what the `tokio-console` binary is) must see the tasks with their names, spawn
//! locations, poll and wake counts, and a finished task as completed.
//!
//! One test in its own binary: the subscriber is process-wide.

mod common;

use common::with_timeout;
use console_api::field::{Name, Value};
use console_api::instrument::instrument_client::InstrumentClient;
use console_api::instrument::InstrumentRequest;
use console_api::tasks::{Stats, Task};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tracing_subscriber::prelude::*;

/// What the console knows of a task: as announced, and its latest stats.
#[derive(Default)]
struct Seen {
    tasks: HashMap<u64, Task>,
    stats: HashMap<u64, Stats>,
}

impl Seen {
    fn named(&self, name: &str) -> Option<(&Task, Option<&Stats>)> {
        let (id, task) = self.tasks.iter().find(|(_, task)| {
            task.fields.iter().any(|field| {
                field.name == Some(Name::StrName("task.name".into())) && field.value == Some(Value::StrVal(name.into()))
            })
        })?;
        Some((task, self.stats.get(id)))
    }
}

fn polls(stats: Option<&Stats>) -> u64 {
    stats
        .and_then(|stats| stats.poll_stats.as_ref())
        .map_or(0, |poll| poll.polls)
}

/// Reads the console's update stream until `done` holds (bounded to 20 s).
fn watch_until(addr: SocketAddr, done: impl Fn(&Seen) -> bool) -> Seen {
    let client_runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    client_runtime.block_on(async {
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut client = loop {
            match InstrumentClient::connect(format!("http://{addr}")).await {
                Ok(client) => break client,
                Err(error) if Instant::now() < deadline => {
                    let _ = error;
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                Err(error) => panic!("the console server at {addr} never answered: {error}"),
            }
        };
        let mut updates = client.watch_updates(InstrumentRequest {}).await.unwrap().into_inner();
        let mut seen = Seen::default();
        while !done(&seen) {
            let left = deadline.saturating_duration_since(Instant::now());
            let update = tokio::time::timeout(left, updates.message())
                .await
                .expect("the console did not show what was expected within 20 s")
                .expect("the update stream failed")
                .expect("the update stream ended");
            if let Some(task_update) = update.task_update {
                for task in task_update.new_tasks {
                    let id = task.id.as_ref().expect("a task has an id").id;
                    seen.tasks.insert(id, task);
                }
                seen.stats.extend(task_update.stats_update);
            }
        }
        seen
    })
}

#[test]
fn the_console_shows_mini_s_tasks_with_names_locations_polls_wakes_and_completion() {
    with_timeout(|| {
        let addr: SocketAddr = {
            let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            probe.local_addr().unwrap()
        };
        let layer = console_subscriber::ConsoleLayer::builder()
            .server_addr(addr)
            .publish_interval(Duration::from_millis(50))
            .spawn();
        tracing_subscriber::registry().with(layer).init();

        let runtime = mini::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .unwrap();
        let (release, released) = futures::channel::oneshot::channel::<()>();
        let spawned_at = line!() + 7;
        // The waiter's `JoinHandle` comes out of `block_on` to be awaited at the end.
        #[allow(clippy::async_yields_async)]
        let waiter = runtime.block_on(async {
            // Four polls and three wakes (one per timer), then done.
            let sleeper = mini::task::Builder::new()
                .name("sleeper")
                .spawn(async {
                    for _ in 0..3 {
                        mini::time::sleep(Duration::from_millis(10)).await;
                    }
                })
                .unwrap();
            // Polled once, then idle until released.
            let waiter = mini::task::Builder::new()
                .name("waiter")
                .spawn(async move { released.await.unwrap() })
                .unwrap();
            sleeper.await.unwrap();
            waiter
        });

        let seen = watch_until(addr, |seen| {
            let (Some((_, sleeper)), Some((_, waiter))) = (seen.named("sleeper"), seen.named("waiter")) else {
                return false;
            };
            polls(sleeper) >= 4 && sleeper.is_some_and(|stats| stats.dropped_at.is_some()) && polls(waiter) >= 1
        });
        let (sleeper, sleeper_stats) = seen.named("sleeper").unwrap();
        let sleeper_stats = sleeper_stats.unwrap();
        let location = sleeper.location.as_ref().expect("the spawn location");
        assert!(
            location.file.as_deref().unwrap().ends_with("tests/console.rs"),
            "{location:?}"
        );
        assert_eq!(location.line, Some(spawned_at), "{location:?}");
        assert_eq!(polls(Some(sleeper_stats)), 4, "one poll per timer, and the first");
        assert_eq!(sleeper_stats.wakes, 3, "one wake per timer");
        assert!(sleeper_stats.dropped_at.is_some(), "a finished task is completed");
        let (waiter_task, waiter_stats) = seen.named("waiter").unwrap();
        assert_eq!(waiter_task.location.as_ref().unwrap().line, Some(spawned_at + 9));
        let waiter_stats = waiter_stats.expect("the waiter's stats");
        assert!(waiter_stats.dropped_at.is_none(), "the waiter still waits");
        assert!(waiter_stats.waker_clones >= 1, "its waker was cloned into the channel");

        release.send(()).unwrap();
        runtime.block_on(waiter).unwrap();
    });
}

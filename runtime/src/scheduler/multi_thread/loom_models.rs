//! loom models of the multi-threaded scheduler's lock-free parts: the local queue (push, pop,
//! steal and overflow racing each other), the parking protocol (a task queued while the
//! worker goes to sleep is never left behind) and the worker stats' change of writer when
//! `block_in_place` hands a worker to a new thread.
//!
//! Run with `RUSTFLAGS="--cfg loom" cargo test -p mini-runtime --release --lib loom`.

use super::idle::Idle;
use super::park::Parker;
use super::queue;
use crate::reactor::Reactor;
use crate::scheduler::inject::Inject;
use crate::scheduler::stats::WorkerStats;
use crate::task::{new_task, Notified, Schedule, Task};
use loom::sync::atomic::AtomicUsize;
use loom::sync::Arc;
use loom::thread;
use std::sync::atomic::Ordering::SeqCst;

/// A scheduler the models never need: tasks here complete on their first poll.
#[derive(Clone)]
struct Unscheduled;

impl Schedule for Unscheduled {
    fn schedule(&self, _task: Notified<Self>) {
        unreachable!("the models' tasks never wake");
    }

    fn release(&self, _task: &Task<Self>) -> Option<Task<Self>> {
        None
    }
}

/// A task that counts its run in `ran`.
fn counting_task(ran: &Arc<AtomicUsize>) -> Notified<Unscheduled> {
    let ran = ran.clone();
    let (task, notified, join) = new_task(
        async move {
            ran.fetch_add(1, SeqCst);
        },
        Unscheduled,
        false,
        crate::task::SpawnSite::caller(),
    );
    drop((task, join));
    notified
}

fn run_all(queue: &mut queue::Local<Unscheduled>) -> usize {
    let mut count = 0;
    while let Some(task) = queue.pop() {
        task.run();
        count += 1;
    }
    count
}

/// On a thread of its own, steals from `steal` into a fresh queue and runs what it got; the
/// join handle returns how many tasks that was.
fn spawn_thief(steal: queue::Steal<Unscheduled>) -> thread::JoinHandle<usize> {
    thread::spawn(move || {
        let (mut mine, _) = queue::local();
        match steal.steal_into(&mut mine) {
            Some(task) => {
                task.run();
                1 + run_all(&mut mine)
            }
            None => 0,
        }
    })
}

/// The owner pushes and pops while another worker steals: every task runs exactly once.
#[test]
fn loom_steal_racing_push_and_pop_runs_each_task_once() {
    crate::loom::model(|| {
        let ran = Arc::new(AtomicUsize::new(0));
        let inject = Inject::new();
        let (mut owner, steal) = queue::local();
        owner.push_back_or_overflow(counting_task(&ran), &inject);
        owner.push_back_or_overflow(counting_task(&ran), &inject);
        let thief = spawn_thief(steal);
        owner.push_back_or_overflow(counting_task(&ran), &inject);
        let mut count = run_all(&mut owner);
        count += thief.join().unwrap();
        assert!(inject.is_empty(), "nothing overflowed a ring of 4");
        assert_eq!(count, 3);
        assert_eq!(ran.load(SeqCst), 3);
    });
}

/// A full ring overflows to the inject queue while a stealer works on it: no task is lost or
/// run twice.
#[test]
fn loom_overflow_racing_steal_loses_no_task() {
    crate::loom::model(|| {
        let ran = Arc::new(AtomicUsize::new(0));
        let inject = Arc::new(Inject::new());
        let (mut owner, steal) = queue::local();
        for _ in 0..4 {
            owner.push_back_or_overflow(counting_task(&ran), &inject);
        }
        let thief = spawn_thief(steal);
        owner.push_back_or_overflow(counting_task(&ran), &inject);
        let mut count = run_all(&mut owner);
        count += thief.join().unwrap();
        while let Some(task) = inject.pop() {
            task.run();
            count += 1;
        }
        assert_eq!(count, 5);
        assert_eq!(ran.load(SeqCst), 5);
    });
}

/// Two workers steal from the same queue at once: one may give up, none takes a task twice.
#[test]
fn loom_two_stealers_take_disjoint_tasks() {
    crate::loom::model(|| {
        let ran = Arc::new(AtomicUsize::new(0));
        let inject = Inject::new();
        let (mut owner, steal) = queue::local();
        for _ in 0..3 {
            owner.push_back_or_overflow(counting_task(&ran), &inject);
        }
        let thieves: Vec<_> = (0..2).map(|_| spawn_thief(steal.clone())).collect();
        let mut count: usize = thieves.into_iter().map(|thief| thief.join().unwrap()).sum();
        count += run_all(&mut owner);
        assert_eq!(count, 3);
        assert_eq!(ran.load(SeqCst), 3);
    });
}

/// The parking protocol of `worker.rs`, reduced to one worker and one remote spawner: the
/// worker searches the inject queue, finds it empty, parks (re-checking as the last searcher),
/// and sleeps; the spawner pushes a task and notifies. The worker must end up running the
/// task: loom reports a deadlock if it sleeps with the task queued.
#[test]
fn loom_task_pushed_while_the_worker_parks_is_run() {
    crate::loom::model(|| {
        let (reactor, _driver) = Reactor::new().unwrap();
        let idle = Arc::new(Idle::new(1));
        let parker = Arc::new(Parker::new());
        let inject = Arc::new(Inject::new());
        let ran = Arc::new(AtomicUsize::new(0));
        assert!(idle.transition_worker_to_searching());
        let spawner = {
            let (idle, parker, inject, reactor) = (idle.clone(), parker.clone(), inject.clone(), reactor.clone());
            let task = counting_task(&ran);
            thread::spawn(move || {
                inject.push(task);
                if let Some(worker) = idle.worker_to_notify(usize::MAX) {
                    assert_eq!(worker, 0);
                    parker.unpark(&reactor);
                }
            })
        };
        let mut is_searching = true;
        loop {
            if let Some(task) = inject.pop() {
                task.run();
                break;
            }
            let is_last_searcher = idle.transition_worker_to_parked(0, is_searching);
            if is_last_searcher && !inject.is_empty() {
                if let Some(worker) = idle.worker_to_notify(usize::MAX) {
                    assert_eq!(worker, 0);
                    parker.unpark(&reactor);
                }
            }
            loop {
                parker.park_condvar();
                if !idle.is_parked(0) {
                    break;
                }
            }
            is_searching = true;
        }
        spawner.join().unwrap();
        assert_eq!(ran.load(SeqCst), 1);
    });
}

/// `block_in_place` inside a poll: the old thread ends the poll's record and starts a new thread
/// for the worker, which polls while the old thread's own end of that poll runs, and a watchdog
/// samples meanwhile. The old end writes nothing, the sequence never goes back, and the new
/// thread's poll is counted.
#[test]
fn loom_stats_hand_over_keeps_one_writer() {
    loom::model(|| {
        let stats = Arc::new(WorkerStats::new(None));
        let handed_over = stats.start_poll(None);
        stats.hand_over_poll();
        let new_worker = {
            let stats = stats.clone();
            thread::spawn(move || {
                let seq = stats.start_poll(None);
                stats.end_poll(seq);
            })
        };
        let watchdog = {
            let stats = stats.clone();
            thread::spawn(move || {
                let first = stats.poll_seq();
                let second = stats.poll_seq();
                assert!(second >= first, "the poll sequence went back: {first} then {second}");
            })
        };
        assert!(
            !stats.end_poll_if_still_ours(handed_over),
            "the handed-over poll ends once"
        );
        new_worker.join().unwrap();
        watchdog.join().unwrap();
        assert_eq!(stats.poll_seq(), 4, "two polls, both ended");
    });
}

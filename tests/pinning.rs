//! `Builder::pin_workers`: each worker thread of a multi-threaded or thread-per-core runtime runs on a CPU
//! of its own, within the process's affinity mask; asking for more workers than allowed CPUs, or pinning
//! a current-thread runtime, is a clear error.

mod common;

use common::with_timeout;
use mini::runtime::Builder;
use std::collections::HashSet;
use std::io::ErrorKind;

/// The CPUs this process may run on (its affinity mask), from `/proc/self/status`.
fn allowed_cpus(status: &str) -> Vec<usize> {
    let list = status
        .lines()
        .find_map(|line| line.strip_prefix("Cpus_allowed_list:"))
        .expect("Cpus_allowed_list in status")
        .trim();
    list.split(',')
        .flat_map(|range| {
            let (first, last) = range.split_once('-').unwrap_or((range, range));
            first.parse::<usize>().unwrap()..=last.parse::<usize>().unwrap()
        })
        .collect()
}

#[test]
fn each_pinned_worker_runs_on_a_cpu_of_its_own_within_the_mask() {
    each_pinned_worker_runs_on_a_cpu_of_its_own(Builder::new_multi_thread, "pinned-mt");
}

#[test]
fn each_pinned_thread_per_core_worker_runs_on_a_cpu_of_its_own_within_the_mask() {
    each_pinned_worker_runs_on_a_cpu_of_its_own(Builder::new_thread_per_core, "pinned-tpc");
}

fn each_pinned_worker_runs_on_a_cpu_of_its_own(builder: fn() -> Builder, name: &'static str) {
    with_timeout(move || {
        let allowed = allowed_cpus(&std::fs::read_to_string("/proc/self/status").unwrap());
        let workers = allowed.len().min(4);
        let runtime = builder()
            .worker_threads(workers)
            .thread_name(name)
            .pin_workers(true)
            .build()
            .unwrap();
        // The workers have started once they have run something.
        runtime.block_on(async {
            let tasks: Vec<_> = (0..workers * 4).map(|_| mini::spawn(async {})).collect();
            for task in tasks {
                task.await.unwrap();
            }
        });
        let mut pinned = Vec::new();
        for entry in std::fs::read_dir("/proc/self/task").unwrap() {
            let task = entry.unwrap().path();
            let comm = std::fs::read_to_string(task.join("comm")).unwrap_or_default();
            if comm.trim() == name {
                pinned.push(allowed_cpus(&std::fs::read_to_string(task.join("status")).unwrap()));
            }
        }
        assert_eq!(pinned.len(), workers, "{pinned:?}");
        assert!(pinned.iter().all(|cpus| cpus.len() == 1), "one CPU each: {pinned:?}");
        let distinct: HashSet<usize> = pinned.iter().map(|cpus| cpus[0]).collect();
        assert_eq!(distinct.len(), workers, "a CPU of its own each: {pinned:?}");
        assert!(
            distinct.iter().all(|cpu| allowed.contains(cpu)),
            "within the mask {allowed:?}: {pinned:?}"
        );
    });
}

#[test]
fn more_workers_than_allowed_cpus_or_a_current_thread_runtime_is_a_clear_error() {
    let allowed = allowed_cpus(&std::fs::read_to_string("/proc/self/status").unwrap());
    let Err(error) = Builder::new_multi_thread()
        .worker_threads(allowed.len() + 1)
        .pin_workers(true)
        .build()
    else {
        panic!("more workers than CPUs cannot be pinned one per CPU");
    };
    assert_eq!(error.kind(), ErrorKind::InvalidInput);
    let message = error.to_string();
    assert!(
        message.contains("pin_workers") && message.contains(&format!("only {} CPUs", allowed.len())),
        "{message}"
    );

    let Err(error) = Builder::new_current_thread().pin_workers(true).build() else {
        panic!("a current-thread runtime has no workers to pin");
    };
    assert_eq!(error.kind(), ErrorKind::InvalidInput);
    assert!(error.to_string().contains("current-thread"), "{error}");
}

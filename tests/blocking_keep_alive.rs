//! Idle blocking-pool threads exit. Alone in its binary: it counts the process's pool threads,
//! which other tests running in parallel would add to.

mod common;

use common::*;
use mini::runtime::Builder;
use mini::task::spawn_blocking;
use std::time::Duration;

fn blocking_threads() -> usize {
    std::fs::read_dir("/proc/self/task")
        .unwrap()
        .filter(|task| {
            let comm = std::fs::read_to_string(task.as_ref().unwrap().path().join("comm")).unwrap_or_default();
            comm.trim() == "mini-blocking"
        })
        .count()
}

#[test]
fn idle_pool_threads_exit_after_the_keep_alive() {
    with_timeout(|| {
        let runtime = Builder::new_current_thread()
            .thread_keep_alive(Duration::from_millis(20))
            .build()
            .unwrap();
        let before = blocking_threads();
        runtime.block_on(async { spawn_blocking(|| ()).await.unwrap() });
        for _ in 0..2_000 {
            if blocking_threads() <= before {
                return;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        panic!("the pool thread did not exit after its 20 ms keep-alive");
    })
}

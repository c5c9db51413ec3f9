//! tokio APIs that tokio code reaches for, on mini: `Interval::reset_*`,
//! `Runtime::shutdown_background`, `Runtime::spawn_blocking`, a runtime id, the socket
//! options (`linger`, `tos`, `tclass_v6`, the UDP multicast getters), and `Builder::enable_*`,
//! checked against tokio's documented behaviour.

mod common;

use common::*;
use mini::net::{TcpListener, TcpStream, UdpSocket};
use mini::runtime::Builder;
use mini::time::{interval, Instant};
use std::sync::mpsc;
use std::time::Duration;

#[test]
fn interval_resets_move_the_next_tick() {
    with_timeout(|| {
        let runtime = Builder::new_current_thread().start_paused(true).build().unwrap();
        runtime.block_on(async {
            let period = Duration::from_secs(10);
            let mut ticks = interval(period);
            let start = ticks.tick().await;
            // `reset`: a period from now.
            mini::time::sleep(Duration::from_secs(4)).await;
            ticks.reset();
            assert_eq!(ticks.tick().await, start + Duration::from_secs(14));
            // `reset_immediately`: now, then a period apart.
            ticks.reset_immediately();
            let now = Instant::now();
            assert_eq!(ticks.tick().await, now);
            assert_eq!(ticks.tick().await, now + period);
            // `reset_after` and `reset_at`.
            let now = Instant::now();
            ticks.reset_after(Duration::from_secs(3));
            assert_eq!(ticks.tick().await, now + Duration::from_secs(3));
            ticks.reset_at(now + Duration::from_secs(30));
            assert_eq!(ticks.tick().await, now + Duration::from_secs(30));
            assert_eq!(ticks.tick().await, now + Duration::from_secs(40));
        });
    });
}

#[test]
fn shutdown_background_does_not_wait_for_a_running_blocking_job() {
    with_timeout(|| {
        for (flavor, runtime) in runtimes() {
            let (started_tx, started) = mpsc::channel();
            let (release, released) = mpsc::channel::<()>();
            let (done_tx, done) = mpsc::channel();
            let drops = Drops::default();
            let guard = drops.guard();
            runtime.spawn(async move {
                let _guard = guard;
                std::future::pending::<()>().await;
            });
            let _job = runtime.spawn_blocking(move || {
                started_tx.send(()).unwrap();
                let _ = released.recv();
                done_tx.send(()).unwrap();
            });
            started.recv().unwrap();
            // Returns with the job still blocked (waiting for it would hang this test).
            runtime.shutdown_background();
            assert_eq!(drops.count(), 1, "{flavor}: the tasks were cancelled");
            assert!(done.try_recv().is_err(), "{flavor}: the job still runs");
            release.send(()).unwrap();
            done.recv().unwrap();
        }
    });
}

#[test]
fn each_runtime_has_an_id_of_its_own_that_every_handle_shares() {
    let (a, b) = (current_thread_runtime().unwrap(), current_thread_runtime().unwrap());
    assert_ne!(a.handle().id(), b.handle().id());
    assert_eq!(a.handle().id(), a.handle().clone().id());
    let inside = a.block_on(async { mini::runtime::Handle::current().id() });
    assert_eq!(inside, a.handle().id());
    assert!(!a.handle().id().to_string().is_empty());
}

#[test]
fn tcp_stream_linger_tos_and_tclass_round_trip() {
    with_timeout(|| {
        run(|| async {
            let (stream, _server) = connected_pair().await;
            assert_eq!(stream.linger().unwrap(), None, "off by default");
            stream.set_linger(Some(Duration::from_secs(2))).unwrap();
            assert_eq!(stream.linger().unwrap(), Some(Duration::from_secs(2)));
            stream.set_linger(None).unwrap();
            assert_eq!(stream.linger().unwrap(), None);
            stream.set_tos(0x10).unwrap();
            assert_eq!(stream.tos().unwrap(), 0x10);

            let listener = TcpListener::bind("[::1]:0").await.unwrap();
            let v6 = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
            v6.set_tclass_v6(0x20).unwrap();
            assert_eq!(v6.tclass_v6().unwrap(), 0x20);
        })
    });
}

#[test]
fn udp_multicast_getters_read_back_the_setters() {
    with_timeout(|| {
        run(|| async {
            let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
            assert!(socket.multicast_loop_v4().unwrap(), "on by default");
            socket.set_multicast_loop_v4(false).unwrap();
            assert!(!socket.multicast_loop_v4().unwrap());
            assert_eq!(socket.multicast_ttl_v4().unwrap(), 1, "this network only by default");
            socket.set_multicast_ttl_v4(4).unwrap();
            assert_eq!(socket.multicast_ttl_v4().unwrap(), 4);
            let v6 = UdpSocket::bind("[::1]:0").await.unwrap();
            v6.set_multicast_loop_v6(false).unwrap();
            assert!(!v6.multicast_loop_v6().unwrap());
        })
    });
}

/// `enable_all`, `enable_io` and `enable_time` change nothing (I/O and timers are always on),
/// so that tokio's usual builder line compiles and runs on every flavor.
#[test]
fn builder_enable_calls_keep_io_and_timers_on_every_flavor() {
    with_timeout(|| {
        let builders = [
            Builder::new_current_thread().enable_all().build().unwrap(),
            Builder::new_multi_thread().enable_io().enable_time().build().unwrap(),
            Builder::new_thread_per_core().enable_all().build().unwrap(),
        ];
        for runtime in builders {
            runtime.block_on(async {
                mini::time::sleep(Duration::from_millis(1)).await;
                let (listener, addr) = bind_loopback().await;
                let (client, accepted) = futures::join!(TcpStream::connect(addr), listener.accept());
                let (mut client, mut server) = (client.unwrap(), accepted.unwrap().0);
                client.write_all(b"on").await.unwrap();
                let mut got = [0u8; 2];
                server.read_exact(&mut got).await.unwrap();
                assert_eq!(&got, b"on");
            });
        }
    });
}

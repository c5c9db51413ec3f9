//! Panics in user code never take the runtime down: a panic in a task, in a task future's
//! `Drop`, in a waker's `wake` called by user code, and in a `spawn_blocking` job each end
//! only what panicked (its `JoinHandle` says so), and the runtime goes on serving a TCP echo
//! server, on both flavors.

mod common;

use common::*;
use futures::channel::oneshot;
use futures::StreamExt;
use mini::net::{TcpListener, TcpStream};

use mini::task::JoinError;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

/// Runs `scenario` on both flavors, each with an echo server spawned first; after the scenario,
/// three clients must still get their echoes from it.
fn on_both_flavors<Fut>(scenario: fn() -> Fut)
where
    Fut: Future<Output = ()> + Send + 'static,
{
    with_timeout(move || {
        for (flavor, runtime) in runtimes() {
            runtime.block_on(async move {
                let (listener, addr) = bind_loopback().await;
                let server = mini::spawn(serve_echo(listener));
                scenario().await;
                for client in 0..3 {
                    assert_echo(addr, client)
                        .await
                        .unwrap_or_else(|e| panic!("{flavor}: after the panic, echo {client} failed: {e}"));
                }
                server.abort();
            });
        }
    });
}

async fn serve_echo(listener: TcpListener) {
    let mut incoming = listener.incoming();
    while let Some(stream) = incoming.next().await {
        drop(mini::spawn(echo(stream.expect("accept"))));
    }
}

async fn assert_echo(addr: SocketAddr, client: usize) -> std::io::Result<()> {
    let mut stream = TcpStream::connect(addr).await?;
    let message = format!("client {client}");
    stream.write_all(message.as_bytes()).await?;
    let mut echo = vec![0u8; message.len()];
    stream.read_exact(&mut echo).await?;
    assert_eq!(echo, message.as_bytes());
    Ok(())
}

fn expect_panic(result: Result<impl std::fmt::Debug, JoinError>, message: &str) {
    let error = result.expect_err("the task should have panicked");
    assert_eq!(join_error_message(error), message);
}

#[test]
fn a_panicking_task_ends_alone_and_its_socket_is_closed() {
    on_both_flavors(|| async {
        let (mut client, server_side) = connected_pair().await;
        let task = mini::spawn(async move {
            let _socket = server_side;
            panic!("task panic");
        });
        expect_panic(task.await, "task panic");
        // Unwinding dropped the task's future, and with it the socket: the peer sees EOF.
        assert_eq!(client.read(&mut [0u8; 8]).await.unwrap(), 0);
        // A detached one, with nobody to report to: it ran, and its future was dropped.
        let (guard, dropped) = oneshot::channel::<()>();
        drop(mini::spawn(async move {
            let _guard = guard;
            panic!("detached task panic");
        }));
        assert!(dropped.await.is_err(), "the guard is dropped, never sent");
    });
}

/// A future that completes at once and panics when dropped (its guard is dropped all the same,
/// while the panic unwinds).
struct PanicsOnDrop {
    message: &'static str,
    _guard: Option<oneshot::Sender<()>>,
}

fn panics_on_drop(message: &'static str, guard: Option<oneshot::Sender<()>>) -> PanicsOnDrop {
    PanicsOnDrop { message, _guard: guard }
}

impl Future for PanicsOnDrop {
    type Output = u32;
    fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<u32> {
        Poll::Ready(7)
    }
}

impl Drop for PanicsOnDrop {
    fn drop(&mut self) {
        panic!("{}", self.message);
    }
}

#[test]
fn a_panic_in_the_drop_of_a_task_future_is_that_task_s_panic() {
    on_both_flavors(|| async {
        // Dropped after it completed: the panic replaces the output.
        expect_panic(
            mini::spawn(panics_on_drop("drop after completion", None)).await,
            "drop after completion",
        );
        // Dropped by abort while it waits.
        let (started, has_started) = oneshot::channel();
        let task = mini::spawn(async {
            let _guard = panics_on_drop("drop on abort", None);
            started.send(()).unwrap();
            std::future::pending::<()>().await;
        });
        has_started.await.unwrap();
        task.abort();
        expect_panic(task.await, "drop on abort");
        // Detached: it completed and was dropped.
        let (guard, dropped) = oneshot::channel::<()>();
        drop(mini::spawn(panics_on_drop("detached drop", Some(guard))));
        assert!(dropped.await.is_err(), "the guard is dropped, never sent");
    });
}

/// A waker whose `wake` panics, as a foreign executor's might.
struct PanickingWaker;

impl Wake for PanickingWaker {
    fn wake(self: Arc<Self>) {
        panic!("wake panic");
    }
}

#[test]
fn a_panic_in_a_waker_called_by_user_code_ends_only_the_caller() {
    on_both_flavors(|| async {
        // Called directly.
        let task = mini::spawn(async { Waker::from(Arc::new(PanickingWaker)).wake() });
        expect_panic(task.await, "wake panic");
        // Called by a channel's send, in the sending task: the receiver was polled with the
        // panicking waker, so the send wakes it.
        let (sender, mut receiver) = oneshot::channel::<u32>();
        let waker = Waker::from(Arc::new(PanickingWaker));
        assert!(receiver.poll_unpin_with(&waker).is_pending());
        let task = mini::spawn(async move {
            let _ = sender.send(1);
        });
        expect_panic(task.await, "wake panic");
        // The value was sent before the wake: the receiver still gets it.
        assert_eq!(receiver.await, Ok(1));
    });
}

/// Polls once with a given waker.
trait PollWith: Future + Unpin {
    fn poll_unpin_with(&mut self, waker: &Waker) -> Poll<Self::Output> {
        Pin::new(self).poll(&mut Context::from_waker(waker))
    }
}

impl<F: Future + Unpin> PollWith for F {}

#[test]
fn a_panicking_blocking_job_is_its_join_error_and_the_pool_goes_on() {
    on_both_flavors(|| async {
        let job = mini::task::spawn_blocking(|| -> u32 { panic!("blocking panic") });
        expect_panic(job.await, "blocking panic");
        let jobs: Vec<_> = (0..4).map(|i| mini::task::spawn_blocking(move || i * 2)).collect();
        for (i, job) in jobs.into_iter().enumerate() {
            assert_eq!(job.await.unwrap(), i * 2);
        }
        // A task that waits on the panicking job's handle is not disturbed either.
        let waiting = mini::spawn(async {
            let job = mini::task::spawn_blocking(|| panic!("blocking panic"));
            job.await
        });
        expect_panic(waiting.await.unwrap(), "blocking panic");
    });
}

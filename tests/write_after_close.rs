//! Writing to a connection the peer closed fails with `EPIPE`/`ECONNRESET` and never raises
//! `SIGPIPE`.
//!
//! Rust's runtime ignores `SIGPIPE` before `main`, which would hide a missing `MSG_NOSIGNAL`.
//! This binary restores the default action (terminate the process), so a write that raised the
//! signal kills the test binary and fails the run. It has a single test so that no other test
//! runs under that setting.

mod common;

use common::*;
use futures::io::AsyncWriteExt;
use mini::task::yield_now;
use std::io::{self, ErrorKind, IoSlice};

fn is_closed_connection_error(error: &io::Error) -> bool {
    matches!(error.kind(), ErrorKind::BrokenPipe | ErrorKind::ConnectionReset)
}

/// Writes `chunk` with `write` until it fails (bounded); returns the error.
async fn write_until_error<F, Fut>(mut write: F) -> io::Error
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = io::Result<usize>>,
{
    for _ in 0..10_000 {
        match write().await {
            Ok(_) => yield_now().await,
            Err(error) => return error,
        }
    }
    panic!("10000 writes to a closed peer all succeeded");
}

#[test]
fn writing_after_the_peer_closed_fails_with_broken_pipe_or_reset_without_sigpipe() {
    // SAFETY: setting a signal's disposition to its default is always sound.
    let previous = unsafe { libc::signal(libc::SIGPIPE, libc::SIG_DFL) };
    assert_ne!(previous, libc::SIG_ERR);

    run(|| async {
        let chunk = [0x5au8; 1024];

        // `write` (send with MSG_NOSIGNAL).
        let (client, server) = connected_pair().await;
        drop(server); // FIN now; the first data that reaches the closed socket gets an RST back
        let error = write_until_error(|| {
            let mut writer = &client;
            async move { writer.write(&chunk).await }
        })
        .await;
        assert!(is_closed_connection_error(&error), "{error:?}");
        // And it keeps failing, still without a signal.
        let mut client = client;
        let error = client.write_all(&chunk).await.unwrap_err();
        assert!(is_closed_connection_error(&error), "{error:?}");

        // `write_vectored` (sendmsg with MSG_NOSIGNAL).
        let (client, server) = connected_pair().await;
        drop(server);
        let error = write_until_error(|| {
            let mut writer = &client;
            async move {
                writer
                    .write_vectored(&[IoSlice::new(&chunk), IoSlice::new(&chunk)])
                    .await
            }
        })
        .await;
        assert!(is_closed_connection_error(&error), "{error:?}");
        let mut writer = &client;
        let error = writer.write_vectored(&[IoSlice::new(&chunk)]).await.unwrap_err();
        assert!(is_closed_connection_error(&error), "{error:?}");

        // A reset peer (RST instead of FIN) gives the same.
        let (mut client, server) = connected_pair().await;
        set_linger_zero(&server);
        drop(server);
        let error = write_until_error(|| {
            let mut writer = &client;
            async move { writer.write(&chunk).await }
        })
        .await;
        assert!(is_closed_connection_error(&error), "{error:?}");
        assert!(client.write_all(&chunk).await.is_err());
    });
    // Still alive: no SIGPIPE.
}

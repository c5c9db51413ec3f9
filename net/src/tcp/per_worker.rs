//! `PerWorkerListener`: one `SO_REUSEPORT` listener per runtime worker, all on one port, so that
//! the kernel spreads the connections over the workers and each worker accepts its own share
//! from its own socket, registered with its own reactor (the thread-per-core flavor's server).

use super::listener::BACKLOG;
use super::{TcpListener, TcpStream};
use crate::addr::{each_addr, ToSocketAddrs};
use crate::sys;
use mini_runtime::runtime::{worker_index, Handle, RuntimeFlavor};
use std::io;
use std::net::SocketAddr;
use std::os::fd::{AsFd, OwnedFd};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

/// A listener per worker of the current runtime, sharing one address through `SO_REUSEPORT`:
/// `accept` on a worker takes a connection from that worker's own socket, so on a
/// thread-per-core runtime a connection is accepted, served and closed without leaving the
/// worker the kernel gave it to. Made by [`TcpListener::bind_per_worker`]; clones share the
/// sockets.
///
/// ```
/// use mini_net::{TcpListener, TcpStream};
///
/// let rt = mini_runtime::runtime::Builder::new_thread_per_core().worker_threads(2).build().unwrap();
/// let listener = rt.block_on(TcpListener::bind_per_worker("127.0.0.1:0")).unwrap();
/// let addr = listener.local_addr();
/// let accepts = rt.handle().run_on_each({
///     let listener = listener.clone();
///     move |_worker| {
///         let listener = listener.clone();
///         // Each worker serves from its own socket; here, until it has served one client.
///         async move { listener.accept().await.map(|(_stream, peer)| peer) }
///     }
/// });
/// // The kernel picks a socket by hashing each connection's addresses: connect until every
/// // worker has had one (the others wait in their backlog until the listener is dropped).
/// let clients: Vec<_> = (0..64).map(|_| std::net::TcpStream::connect(addr).unwrap()).collect();
/// let peers = rt.block_on(accepts);
/// assert_eq!(peers.len(), 2);
/// # drop(clients);
/// ```
///
/// Every worker must accept: the kernel spreads connections over all the sockets whether their
/// worker accepts or not, and a connection queued on a socket nobody accepts from waits until
/// the listener is dropped. On a thread that is not a worker, `accept` uses worker 0's socket.
#[derive(Clone, Debug)]
pub struct PerWorkerListener {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    local_addr: SocketAddr,
    /// One per worker, in worker order (the order they joined the `SO_REUSEPORT` group).
    sockets: Box<[WorkerSocket]>,
}

/// A worker's socket: listening from the start (so the kernel sends it its share), registered
/// with the reactor of the worker that first accepts from it.
#[derive(Debug)]
struct WorkerSocket {
    unregistered: Mutex<Option<OwnedFd>>,
    registered: OnceLock<TcpListener>,
}

impl TcpListener {
    /// Binds one listener per worker of the current thread-per-core runtime to `addr`, with
    /// `SO_REUSEPORT` (and `SO_REUSEADDR`), and listens on each; with port 0, every socket gets
    /// the port the first one was given. See [`PerWorkerListener`]. On the other flavors, whose
    /// tasks are not tied to a worker, it binds one socket that every `accept` shares.
    ///
    /// # Errors
    /// As [`bind`](TcpListener::bind); `AddrInUse` also when a socket without `SO_REUSEPORT` (or
    /// of another user) holds the port.
    ///
    /// # Panics
    /// Outside a mini runtime.
    pub async fn bind_per_worker(addr: impl ToSocketAddrs) -> io::Result<PerWorkerListener> {
        let handle = Handle::current();
        // Elsewhere tasks move between workers (or there is one): one socket, which every
        // `accept` shares, leaves no connection queued on a socket nobody accepts from.
        let workers = match handle.runtime_flavor() {
            RuntimeFlavor::ThreadPerCore => handle.metrics().num_workers(),
            _ => 1,
        };
        each_addr(&addr, |addr| async move { PerWorkerListener::bind_addr(addr, workers) }).await
    }
}

impl PerWorkerListener {
    fn bind_addr(mut addr: SocketAddr, workers: usize) -> io::Result<PerWorkerListener> {
        let mut sockets = Vec::with_capacity(workers);
        for _ in 0..workers {
            let fd = sys::stream_socket(&addr)?;
            sys::set_reuseaddr(fd.as_fd())?;
            sys::setsockopt(fd.as_fd(), libc::SOL_SOCKET, libc::SO_REUSEPORT, 1 as libc::c_int)?;
            sys::bind(fd.as_fd(), &addr)?;
            sys::listen(fd.as_fd(), BACKLOG)?;
            // The next sockets bind the port this one got (port 0 picks one).
            addr = sys::local_addr(fd.as_fd())?;
            sockets.push(WorkerSocket {
                unregistered: Mutex::new(Some(fd)),
                registered: OnceLock::new(),
            });
        }
        Ok(PerWorkerListener {
            shared: Arc::new(Shared {
                local_addr: addr,
                sockets: sockets.into_boxed_slice(),
            }),
        })
    }

    /// The address every worker's socket is bound to.
    pub fn local_addr(&self) -> SocketAddr {
        self.shared.local_addr
    }

    /// This worker's listener (worker 0's on a thread that is no worker), registered with the
    /// current runtime the first time it is asked for: for its other methods
    /// (`incoming`, `set_fd_exhaustion`, …).
    ///
    /// # Errors
    /// If the registration fails (out of fds or memory).
    ///
    /// # Panics
    /// Outside a mini runtime.
    pub fn listener(&self) -> io::Result<&TcpListener> {
        let sockets = &self.shared.sockets;
        // A runtime with more workers than sockets (not the one that bound them) shares them.
        let socket = &sockets[worker_index().unwrap_or(0) % sockets.len()];
        if let Some(listener) = socket.registered.get() {
            return Ok(listener);
        }
        let mut unregistered = socket.unregistered.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(fd) = unregistered.as_ref() {
            // A duplicate is registered, so that a failure (out of fds or memory) keeps the
            // socket for the next call to retry.
            let listener = TcpListener::from_listening(fd.try_clone()?)?;
            *unregistered = None;
            let _ = socket.registered.set(listener);
        }
        Ok(socket
            .registered
            .get()
            .expect("registered under the lock before it was emptied"))
    }

    /// Waits for a connection on this worker's socket (see [`TcpListener::accept`]).
    pub async fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        self.listener()?.accept().await
    }
}

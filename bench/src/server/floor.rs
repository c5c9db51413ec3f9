//! `epoll-floor`: the same workloads on a hand-written, single-threaded, edge-triggered epoll
//! loop with no runtime at all: the floor that shows what any runtime costs on top.
//!
//! One registration per connection (`IN | OUT | RDHUP`, edge-triggered), reads until a short
//! read, the same request handling as the runtimes (`crate::http`), writes straight from the
//! loop and keeps what did not fit until the next `EPOLLOUT`.

use super::{Workload, ECHO_BUFFER, IDLE_BUFFER};
use crate::http;
use std::io;
use std::net::TcpListener;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

const LISTENER: u64 = u64::MAX;

struct Connection {
    /// A valid, non-blocking socket, closed (and so removed from epoll) when dropped.
    fd: OwnedFd,
    input: Vec<u8>,
    filled: usize,
    output: Vec<u8>,
}

fn check(result: isize) -> io::Result<usize> {
    if result < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(result as usize)
    }
}

fn register(epoll: RawFd, fd: RawFd, token: u64) -> io::Result<()> {
    let mut event = libc::epoll_event {
        events: (libc::EPOLLIN | libc::EPOLLOUT | libc::EPOLLRDHUP | libc::EPOLLET) as u32,
        u64: token,
    };
    // SAFETY: a live epoll_event; both fds are open.
    check(unsafe { libc::epoll_ctl(epoll, libc::EPOLL_CTL_ADD, fd, &mut event) } as isize)?;
    Ok(())
}

pub fn run(workload: Workload, addr: &str) -> io::Result<()> {
    let listener = TcpListener::bind(addr)?;
    listener.set_nonblocking(true)?;
    // SAFETY: epoll_create1 takes no pointers; we own the new fd.
    let epoll = unsafe { OwnedFd::from_raw_fd(check(libc::epoll_create1(libc::EPOLL_CLOEXEC) as isize)? as RawFd) };
    register(epoll.as_raw_fd(), listener.as_raw_fd(), LISTENER)?;
    super::announce(listener.local_addr()?);
    let mut connections: Vec<Option<Connection>> = Vec::new();
    let mut free: Vec<usize> = Vec::new();
    let mut events = vec![libc::epoll_event { events: 0, u64: 0 }; 1024];
    loop {
        // SAFETY: the buffer holds 1024 events.
        let ready = unsafe { libc::epoll_wait(epoll.as_raw_fd(), events.as_mut_ptr(), 1024, -1) };
        let ready = match check(ready as isize) {
            Ok(n) => n,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
            Err(error) => return Err(error),
        };
        for event in &events[..ready] {
            let token = event.u64;
            if token == LISTENER {
                accept_all(&listener, epoll.as_raw_fd(), workload, &mut connections, &mut free)?;
                continue;
            }
            let index = token as usize;
            let Some(connection) = connections[index].as_mut() else {
                continue;
            };
            if !connection.on_event(workload) {
                connections[index] = None;
                free.push(index);
            }
        }
    }
}

fn accept_all(
    listener: &TcpListener,
    epoll: RawFd,
    workload: Workload,
    connections: &mut Vec<Option<Connection>>,
    free: &mut Vec<usize>,
) -> io::Result<()> {
    loop {
        // SAFETY: null address arguments are allowed; on success we own the new fd.
        let fd = unsafe {
            libc::accept4(
                listener.as_raw_fd(),
                std::ptr::null_mut(),
                std::ptr::null_mut(),
                libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
            )
        };
        let fd = match check(fd as isize) {
            // SAFETY: accept4 returned a new fd that nothing else owns.
            Ok(fd) => unsafe { OwnedFd::from_raw_fd(fd as RawFd) },
            Err(error) if error.kind() == io::ErrorKind::WouldBlock => return Ok(()),
            Err(error) => return Err(error),
        };
        if workload != Workload::Idle {
            let one: libc::c_int = 1;
            // SAFETY: a live c_int and its size.
            unsafe {
                libc::setsockopt(
                    fd.as_raw_fd(),
                    libc::IPPROTO_TCP,
                    libc::TCP_NODELAY,
                    &one as *const libc::c_int as *const libc::c_void,
                    std::mem::size_of::<libc::c_int>() as libc::socklen_t,
                )
            };
        }
        let capacity = match workload {
            Workload::Http => http::REQUEST_BUFFER,
            Workload::Echo => ECHO_BUFFER,
            Workload::Idle => IDLE_BUFFER,
        };
        let index = free.pop().unwrap_or_else(|| {
            connections.push(None);
            connections.len() - 1
        });
        register(epoll, fd.as_raw_fd(), index as u64)?;
        connections[index] = Some(Connection {
            fd,
            input: vec![0xa5; capacity],
            filled: 0,
            output: Vec::new(),
        });
    }
}

impl Connection {
    /// Handles one edge: reads what there is, answers, writes. Returns `false` to close.
    fn on_event(&mut self, workload: Workload) -> bool {
        loop {
            let space = self.input.len() - self.filled;
            // SAFETY: the kernel writes at most `space` bytes into the free part of `input`.
            let n = unsafe {
                libc::recv(
                    self.fd.as_raw_fd(),
                    self.input[self.filled..].as_mut_ptr() as *mut libc::c_void,
                    space,
                    0,
                )
            };
            let n = match check(n) {
                Ok(0) => return false,
                Ok(n) => n,
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => break,
                Err(_) => return false,
            };
            match workload {
                Workload::Http => {
                    let consumed = http::respond(&self.input[..self.filled + n], &mut self.output);
                    match http::keep_tail(&mut self.input, self.filled + n, consumed) {
                        Some(left) => self.filled = left,
                        None => return false,
                    }
                }
                Workload::Echo => self.output.extend_from_slice(&self.input[..n]),
                Workload::Idle => {}
            }
            if n < space {
                // A short read emptied the socket: the next edge says when there is more.
                break;
            }
        }
        self.flush()
    }

    /// Writes what is pending; keeps the rest for the next `EPOLLOUT`. `false` on error.
    fn flush(&mut self) -> bool {
        let mut written = 0;
        while written < self.output.len() {
            let rest = &self.output[written..];
            // SAFETY: the kernel reads at most `rest.len()` bytes from `rest`.
            let n = unsafe {
                libc::send(
                    self.fd.as_raw_fd(),
                    rest.as_ptr() as *const libc::c_void,
                    rest.len(),
                    libc::MSG_NOSIGNAL,
                )
            };
            match check(n) {
                Ok(n) => written += n,
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => break,
                Err(_) => return false,
            }
        }
        self.output.drain(..written);
        true
    }
}

//! The socket syscalls mini-net needs that `std` does not offer on a raw fd: socket creation with
//! `SOCK_NONBLOCK | SOCK_CLOEXEC` (stream and datagram), `accept4`, non-blocking `connect`, and sends with
//! `MSG_NOSIGNAL` (so a closed peer is `EPIPE`, never `SIGPIPE`).
//!
//! Every function takes fds as `BorrowedFd`/`OwnedFd`, so a fd passed here is open by
//! construction.
//!
//! The calls on the path of every read and write (`recv`, `readv`, `send`, `sendmsg`) are made
//! directly (`syscall.rs` says why), not through glibc's wrappers of the same names.

use std::io::{self, IoSlice, IoSliceMut};
use std::mem;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

use crate::syscall::syscall;

fn cvt<T: PartialEq + From<i8>>(result: T) -> io::Result<T> {
    if result == T::from(-1) {
        Err(io::Error::last_os_error())
    } else {
        Ok(result)
    }
}

/// A new non-blocking, close-on-exec stream socket for `addr`'s family.
pub(crate) fn stream_socket(addr: &SocketAddr) -> io::Result<OwnedFd> {
    socket(addr, libc::SOCK_STREAM)
}

/// A new non-blocking, close-on-exec datagram socket for `addr`'s family.
pub(crate) fn datagram_socket(addr: &SocketAddr) -> io::Result<OwnedFd> {
    socket(addr, libc::SOCK_DGRAM)
}

fn socket(addr: &SocketAddr, kind: libc::c_int) -> io::Result<OwnedFd> {
    let domain = match addr {
        SocketAddr::V4(_) => libc::AF_INET,
        SocketAddr::V6(_) => libc::AF_INET6,
    };
    // SAFETY: socket takes no pointers; on success we own the returned fd.
    let fd = cvt(unsafe { libc::socket(domain, kind | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC, 0) })?;
    // SAFETY: `fd` is a new fd that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// A `sockaddr_storage` holding `addr`, and the length of the part that is used.
fn to_raw(addr: &SocketAddr) -> (libc::sockaddr_storage, libc::socklen_t) {
    // SAFETY: sockaddr_storage is plain old data; all zeroes is a valid (AF_UNSPEC) value.
    let mut storage: libc::sockaddr_storage = unsafe { mem::zeroed() };
    let len = match addr {
        SocketAddr::V4(v4) => {
            let raw = libc::sockaddr_in {
                sin_family: libc::AF_INET as libc::sa_family_t,
                sin_port: v4.port().to_be(),
                sin_addr: libc::in_addr {
                    s_addr: u32::from_ne_bytes(v4.ip().octets()),
                },
                sin_zero: [0; 8],
            };
            // SAFETY: sockaddr_storage is larger than and aligned for every sockaddr type.
            unsafe { (&mut storage as *mut libc::sockaddr_storage as *mut libc::sockaddr_in).write(raw) };
            mem::size_of::<libc::sockaddr_in>()
        }
        SocketAddr::V6(v6) => {
            let raw = libc::sockaddr_in6 {
                sin6_family: libc::AF_INET6 as libc::sa_family_t,
                sin6_port: v6.port().to_be(),
                sin6_flowinfo: v6.flowinfo(),
                sin6_addr: libc::in6_addr {
                    s6_addr: v6.ip().octets(),
                },
                sin6_scope_id: v6.scope_id(),
            };
            // SAFETY: as above.
            unsafe { (&mut storage as *mut libc::sockaddr_storage as *mut libc::sockaddr_in6).write(raw) };
            mem::size_of::<libc::sockaddr_in6>()
        }
    };
    (storage, len as libc::socklen_t)
}

/// The address the kernel wrote into `storage`.
fn from_raw(storage: &libc::sockaddr_storage) -> io::Result<SocketAddr> {
    match storage.ss_family as libc::c_int {
        libc::AF_INET => {
            // SAFETY: the family says the storage holds a sockaddr_in.
            let raw = unsafe { &*(storage as *const libc::sockaddr_storage as *const libc::sockaddr_in) };
            let ip = Ipv4Addr::from(raw.sin_addr.s_addr.to_ne_bytes());
            Ok(SocketAddr::V4(SocketAddrV4::new(ip, u16::from_be(raw.sin_port))))
        }
        libc::AF_INET6 => {
            // SAFETY: the family says the storage holds a sockaddr_in6.
            let raw = unsafe { &*(storage as *const libc::sockaddr_storage as *const libc::sockaddr_in6) };
            let ip = Ipv6Addr::from(raw.sin6_addr.s6_addr);
            Ok(SocketAddr::V6(SocketAddrV6::new(
                ip,
                u16::from_be(raw.sin6_port),
                raw.sin6_flowinfo,
                raw.sin6_scope_id,
            )))
        }
        family => Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("unexpected address family {family}"),
        )),
    }
}

pub(crate) fn set_reuseaddr(fd: BorrowedFd<'_>) -> io::Result<()> {
    setsockopt(fd, libc::SOL_SOCKET, libc::SO_REUSEADDR, 1 as libc::c_int)
}

/// `setsockopt(2)` with a plain-data value (`c_int`, `linger`).
pub(crate) fn setsockopt<T: Copy>(
    fd: BorrowedFd<'_>,
    level: libc::c_int,
    name: libc::c_int,
    value: T,
) -> io::Result<()> {
    // SAFETY: passes a live `T` and its size; the kernel only reads it.
    cvt(unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            level,
            name,
            &value as *const T as *const libc::c_void,
            mem::size_of::<T>() as libc::socklen_t,
        )
    })?;
    Ok(())
}

/// `getsockopt(2)` for a plain-data value (`c_int`, `linger`).
pub(crate) fn getsockopt<T: Copy>(fd: BorrowedFd<'_>, level: libc::c_int, name: libc::c_int) -> io::Result<T> {
    let mut value = mem::MaybeUninit::<T>::zeroed();
    let mut len = mem::size_of::<T>() as libc::socklen_t;
    // SAFETY: the kernel writes at most `len` bytes into `value`, which has room for a `T`.
    cvt(unsafe { libc::getsockopt(fd.as_raw_fd(), level, name, value.as_mut_ptr().cast(), &mut len) })?;
    // SAFETY: zero-initialised plain data, of which the kernel wrote `len` bytes: a valid `T`.
    Ok(unsafe { value.assume_init() })
}

/// `getsockname(2)`: the address a socket is bound to.
pub(crate) fn local_addr(fd: BorrowedFd<'_>) -> io::Result<SocketAddr> {
    // SAFETY: all zeroes is a valid sockaddr_storage.
    let mut storage: libc::sockaddr_storage = unsafe { mem::zeroed() };
    let mut len = mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
    // SAFETY: the kernel writes at most `len` bytes into `storage`.
    cvt(unsafe {
        libc::getsockname(
            fd.as_raw_fd(),
            &mut storage as *mut libc::sockaddr_storage as *mut libc::sockaddr,
            &mut len,
        )
    })?;
    from_raw(&storage)
}

pub(crate) fn bind(fd: BorrowedFd<'_>, addr: &SocketAddr) -> io::Result<()> {
    let (storage, len) = to_raw(addr);
    // SAFETY: `storage` holds a valid sockaddr of `len` bytes.
    cvt(unsafe {
        libc::bind(
            fd.as_raw_fd(),
            &storage as *const libc::sockaddr_storage as *const libc::sockaddr,
            len,
        )
    })?;
    Ok(())
}

pub(crate) fn listen(fd: BorrowedFd<'_>, backlog: libc::c_int) -> io::Result<()> {
    // SAFETY: listen takes no pointers.
    cvt(unsafe { libc::listen(fd.as_raw_fd(), backlog) })?;
    Ok(())
}

/// Starts connecting; a non-blocking socket reports `EINPROGRESS` as `Ok(false)`.
pub(crate) fn connect(fd: BorrowedFd<'_>, addr: &SocketAddr) -> io::Result<bool> {
    let (storage, len) = to_raw(addr);
    // SAFETY: `storage` holds a valid sockaddr of `len` bytes.
    let result = unsafe {
        libc::connect(
            fd.as_raw_fd(),
            &storage as *const libc::sockaddr_storage as *const libc::sockaddr,
            len,
        )
    };
    match cvt(result) {
        Ok(_) => Ok(true),
        Err(error) if error.raw_os_error() == Some(libc::EINPROGRESS) => Ok(false),
        Err(error) => Err(error),
    }
}

/// Accepts a connection as a new non-blocking, close-on-exec fd.
pub(crate) fn accept(fd: BorrowedFd<'_>) -> io::Result<(OwnedFd, SocketAddr)> {
    // SAFETY: all zeroes is a valid sockaddr_storage.
    let mut storage: libc::sockaddr_storage = unsafe { mem::zeroed() };
    let mut len = mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
    // SAFETY: the kernel writes at most `len` bytes into `storage` and updates `len`.
    let accepted = cvt(unsafe {
        libc::accept4(
            fd.as_raw_fd(),
            &mut storage as *mut libc::sockaddr_storage as *mut libc::sockaddr,
            &mut len,
            libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
        )
    })?;
    // SAFETY: accept4 returned a new fd that nothing else owns.
    let accepted = unsafe { OwnedFd::from_raw_fd(accepted) };
    Ok((accepted, from_raw(&storage)?))
}

#[inline]
pub(crate) fn recv(fd: BorrowedFd<'_>, buf: &mut [u8], flags: libc::c_int) -> io::Result<usize> {
    recv_into(fd, buf.as_mut_ptr(), buf.len(), flags)
}

/// `recvfrom(2)` with no address (what `recv` is), made directly (see the module doc).
#[inline]
fn recv_into(fd: BorrowedFd<'_>, buf: *mut u8, len: usize, flags: libc::c_int) -> io::Result<usize> {
    // SAFETY: the callers pass a buffer valid for `len` bytes, into which the kernel writes at
    // most `len` bytes; the null address and length mean "no source address wanted".
    unsafe {
        syscall(
            libc::SYS_recvfrom,
            [fd.as_raw_fd() as usize, buf as usize, len, flags as usize, 0, 0],
        )
    }
}

/// `recv` into memory that may be uninitialised (hyper's read buffers); the kernel initialises
/// the first `n` bytes it returns.
#[cfg(feature = "hyper")]
pub(crate) fn recv_uninit(fd: BorrowedFd<'_>, buf: &mut [mem::MaybeUninit<u8>]) -> io::Result<usize> {
    // The kernel writes at most `buf.len()` bytes into `buf` and never reads it.
    recv_into(fd, buf.as_mut_ptr().cast(), buf.len(), 0)
}

/// The most buffers one `readv`/`sendmsg` takes (`IOV_MAX` on Linux); the rest wait for the next
/// call.
pub(crate) const IOV_MAX: usize = 1024;

#[inline]
pub(crate) fn recv_vectored(fd: BorrowedFd<'_>, bufs: &mut [IoSliceMut<'_>]) -> io::Result<usize> {
    // SAFETY: IoSliceMut is ABI-compatible with iovec; the kernel writes within each of the
    // (at most IOV_MAX) buffers passed.
    unsafe {
        syscall(
            libc::SYS_readv,
            [
                fd.as_raw_fd() as usize,
                bufs.as_mut_ptr() as usize,
                bufs.len().min(IOV_MAX),
                0,
                0,
                0,
            ],
        )
    }
}

#[inline]
pub(crate) fn send(fd: BorrowedFd<'_>, buf: &[u8]) -> io::Result<usize> {
    // SAFETY: the kernel reads at most `buf.len()` bytes from `buf`; no destination address
    // (null, 0) is what `send` is.
    unsafe {
        syscall(
            libc::SYS_sendto,
            [
                fd.as_raw_fd() as usize,
                buf.as_ptr() as usize,
                buf.len(),
                libc::MSG_NOSIGNAL as usize,
                0,
                0,
            ],
        )
    }
}

#[inline]
pub(crate) fn send_vectored(fd: BorrowedFd<'_>, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
    // SAFETY: all zeroes is a valid msghdr (no name, no control data).
    let mut message: libc::msghdr = unsafe { mem::zeroed() };
    message.msg_iov = bufs.as_ptr() as *mut libc::iovec;
    message.msg_iovlen = bufs.len().min(IOV_MAX) as _;
    // SAFETY: IoSlice is ABI-compatible with iovec; the kernel only reads `message` and the
    // buffers it lists.
    unsafe {
        syscall(
            libc::SYS_sendmsg,
            [
                fd.as_raw_fd() as usize,
                &message as *const libc::msghdr as usize,
                libc::MSG_NOSIGNAL as usize,
                0,
                0,
                0,
            ],
        )
    }
}

/// `shutdown(2)`: ends reading, writing (the peer reads end-of-file), or both.
pub(crate) fn shutdown(fd: BorrowedFd<'_>, how: std::net::Shutdown) -> io::Result<()> {
    let how = match how {
        std::net::Shutdown::Read => libc::SHUT_RD,
        std::net::Shutdown::Write => libc::SHUT_WR,
        std::net::Shutdown::Both => libc::SHUT_RDWR,
    };
    // SAFETY: shutdown takes no pointers; `fd` is open for the call (borrowed).
    cvt(unsafe { libc::shutdown(fd.as_raw_fd(), how) })?;
    Ok(())
}

/// A Unix-domain socket address as `connect` takes it: a path, or an abstract name (Linux).
pub(crate) enum UnixAddr<'a> {
    Path(&'a std::path::Path),
    Abstract(&'a [u8]),
}

/// A new non-blocking, close-on-exec Unix-domain stream socket, connected (or connecting) to
/// `addr`; the `bool` says whether the connection is already complete.
pub(crate) fn unix_stream_connect(addr: UnixAddr<'_>) -> io::Result<(OwnedFd, bool)> {
    use std::os::unix::ffi::OsStrExt;
    // SAFETY: all zeroes is a valid sockaddr_un (AF_UNSPEC, empty path).
    let mut raw: libc::sockaddr_un = unsafe { mem::zeroed() };
    raw.sun_family = libc::AF_UNIX as libc::sa_family_t;
    let (bytes, offset) = match addr {
        UnixAddr::Path(path) => (path.as_os_str().as_bytes(), 0),
        // An abstract name starts with a NUL byte.
        UnixAddr::Abstract(name) => (name, 1),
    };
    // A path needs room for its terminating NUL.
    let room = raw.sun_path.len() - offset - usize::from(offset == 0);
    if bytes.len() > room || (offset == 0 && bytes.contains(&0)) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("a Unix socket address holds at most {room} bytes and no NUL"),
        ));
    }
    for (slot, byte) in raw.sun_path[offset..].iter_mut().zip(bytes) {
        *slot = *byte as libc::c_char;
    }
    let path_offset = mem::offset_of!(libc::sockaddr_un, sun_path);
    let len = path_offset + offset + bytes.len() + usize::from(offset == 0);
    // SAFETY: socket takes no pointers; on success we own the returned fd.
    let fd = cvt(unsafe {
        libc::socket(
            libc::AF_UNIX,
            libc::SOCK_STREAM | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
            0,
        )
    })?;
    // SAFETY: `fd` is a new fd that nothing else owns.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    // SAFETY: `raw` is a valid sockaddr_un whose first `len` bytes are meaningful.
    let result = unsafe {
        libc::connect(
            fd.as_raw_fd(),
            &raw as *const libc::sockaddr_un as *const libc::sockaddr,
            len as libc::socklen_t,
        )
    };
    match cvt(result) {
        Ok(_) => Ok((fd, true)),
        Err(error) if error.raw_os_error() == Some(libc::EINPROGRESS) => Ok((fd, false)),
        Err(error) if error.raw_os_error() == Some(libc::EAGAIN) => Err(io::Error::new(
            io::ErrorKind::WouldBlock,
            "the Unix socket's listen backlog is full: the listener is not accepting; try again later",
        )),
        Err(error) => Err(error),
    }
}

/// `SO_LINGER`: `Some(d)` makes closing wait up to `d` for unsent data (`Some(0)`: a reset).
pub(crate) fn set_linger(fd: BorrowedFd<'_>, linger: Option<std::time::Duration>) -> io::Result<()> {
    let value = libc::linger {
        l_onoff: libc::c_int::from(linger.is_some()),
        l_linger: linger.map_or(0, |d| d.as_secs().min(libc::c_int::MAX as u64) as libc::c_int),
    };
    setsockopt(fd, libc::SOL_SOCKET, libc::SO_LINGER, value)
}

/// The `SO_LINGER` setting.
pub(crate) fn linger(fd: BorrowedFd<'_>) -> io::Result<Option<std::time::Duration>> {
    let value: libc::linger = getsockopt(fd, libc::SOL_SOCKET, libc::SO_LINGER)?;
    Ok((value.l_onoff != 0).then(|| std::time::Duration::from_secs(value.l_linger as u64)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_survive_the_round_trip_through_sockaddr() {
        for addr in ["127.0.0.1:8080", "[::1]:443", "[fe80::1%2]:9", "0.0.0.0:0"] {
            let addr: SocketAddr = addr.parse().unwrap();
            let (storage, _) = to_raw(&addr);
            assert_eq!(from_raw(&storage).unwrap(), addr);
        }
    }
}

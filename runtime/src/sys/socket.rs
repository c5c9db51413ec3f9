//! The two socket syscalls the runtime makes itself: a task dump names the addresses of the
//! socket a task waits on (`getsockname`, `getpeername`). mini-net makes every other.

use super::cvt;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::os::fd::RawFd;

/// `getsockname(2)`: the local address of `fd`, if it is an IPv4 or IPv6 socket.
///
/// Takes a `RawFd`, not a `BorrowedFd`: a dump reads fd numbers that tasks recorded, which may
/// have been closed (the kernel answers `EBADF`) or reused since; the call writes only into its
/// own buffer whatever the fd is, so a stale number gives a wrong or no answer, never harm.
pub(crate) fn local_address(fd: RawFd) -> Option<SocketAddr> {
    // SAFETY: the kernel writes at most `len` bytes into `storage`, which is that long.
    address_of(|storage, len| unsafe { libc::getsockname(fd, storage, len) })
}

/// `getpeername(2)`: the peer address of `fd`, if it is a connected IPv4 or IPv6 socket (see
/// [`local_address`] for why a `RawFd`).
pub(crate) fn peer_address(fd: RawFd) -> Option<SocketAddr> {
    // SAFETY: as in `local_address`.
    address_of(|storage, len| unsafe { libc::getpeername(fd, storage, len) })
}

fn address_of(call: impl FnOnce(*mut libc::sockaddr, *mut libc::socklen_t) -> libc::c_int) -> Option<SocketAddr> {
    // SAFETY: all zeroes is a valid sockaddr_storage.
    let mut storage: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
    let mut len = std::mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
    cvt(call((&raw mut storage).cast(), &mut len)).ok()?;
    match libc::c_int::from(storage.ss_family) {
        libc::AF_INET => {
            // SAFETY: the family says the storage holds a sockaddr_in, which it is large and
            // aligned enough for.
            let v4 = unsafe { &*(&raw const storage).cast::<libc::sockaddr_in>() };
            let ip = Ipv4Addr::from(u32::from_be(v4.sin_addr.s_addr));
            Some(SocketAddr::V4(SocketAddrV4::new(ip, u16::from_be(v4.sin_port))))
        }
        libc::AF_INET6 => {
            // SAFETY: as above, for sockaddr_in6.
            let v6 = unsafe { &*(&raw const storage).cast::<libc::sockaddr_in6>() };
            let ip = Ipv6Addr::from(v6.sin6_addr.s6_addr);
            let port = u16::from_be(v6.sin6_port);
            Some(SocketAddr::V6(SocketAddrV6::new(
                ip,
                port,
                v6.sin6_flowinfo,
                v6.sin6_scope_id,
            )))
        }
        _ => None,
    }
}

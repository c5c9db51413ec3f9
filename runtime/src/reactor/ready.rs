//! Readiness: what an fd can do now, as reported by epoll, and the two directions a task waits in.

use std::fmt;
use std::ops;

/// What a registered fd was last reported ready for.
///
/// Returned by [`ReadyGuard::ready`](crate::io::ReadyGuard::ready). The closed flags are never
/// cleared once seen: after the peer's FIN, reads keep returning `Ok(0)` without waiting.
#[derive(Clone, Copy, PartialEq, Eq, Default)]
pub struct Ready(usize);

/// `Ready` for each combination of epoll's five low flags: `EPOLLIN` (1) or `EPOLLPRI` (2) is
/// readable, `EPOLLOUT` (4) writable, `EPOLLERR` (8) an error, `EPOLLHUP` (16) both sides closed.
const EPOLL_LOW_FLAGS: [u8; 32] = {
    let mut table = [0u8; 32];
    let mut flags = 0;
    while flags < 32 {
        let mut ready = 0;
        if flags & (libc::EPOLLIN | libc::EPOLLPRI) as usize != 0 {
            ready |= Ready::READABLE.0;
        }
        if flags & libc::EPOLLOUT as usize != 0 {
            ready |= Ready::WRITABLE.0;
        }
        if flags & libc::EPOLLERR as usize != 0 {
            ready |= Ready::ERROR.0;
        }
        if flags & libc::EPOLLHUP as usize != 0 {
            ready |= Ready::READ_CLOSED.0 | Ready::WRITE_CLOSED.0;
        }
        table[flags] = ready as u8;
        flags += 1;
    }
    table
};

impl Ready {
    /// Nothing is ready.
    pub const EMPTY: Ready = Ready(0);
    /// Data can be read, or a connection accepted (`EPOLLIN`).
    pub const READABLE: Ready = Ready(1 << 0);
    /// Data can be written, or a connect finished (`EPOLLOUT`).
    pub const WRITABLE: Ready = Ready(1 << 1);
    /// The peer shut down its writing side, or the connection is gone (`EPOLLRDHUP`, `EPOLLHUP`).
    /// Never cleared once seen.
    pub const READ_CLOSED: Ready = Ready(1 << 2);
    /// Writing can no longer succeed (`EPOLLHUP`).
    pub const WRITE_CLOSED: Ready = Ready(1 << 3);
    /// An error is pending on the fd (`EPOLLERR`); the next operation returns it.
    pub const ERROR: Ready = Ready(1 << 4);

    /// All the bits any readiness can have; fits in the low 16 bits of the readiness word.
    pub(crate) const MASK: usize = 0b1_1111;

    /// Converts the `events` of an `epoll_event`.
    pub(crate) fn from_epoll(events: u32) -> Ready {
        // One table lookup for the low five flags (IN, PRI, OUT, ERR, HUP), a shift for RDHUP:
        // this runs for every event the reactor delivers.
        let rdhup = (events >> libc::EPOLLRDHUP.trailing_zeros()) & 1;
        Ready(EPOLL_LOW_FLAGS[(events & 0x1f) as usize] as usize | (rdhup as usize * Ready::READ_CLOSED.0))
    }

    pub(crate) fn from_usize(bits: usize) -> Ready {
        Ready(bits & Ready::MASK)
    }

    pub(crate) fn as_usize(self) -> usize {
        self.0
    }

    /// Whether no flag is set.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
    /// Whether [`Ready::READABLE`] is set.
    pub fn is_readable(self) -> bool {
        self.contains(Ready::READABLE)
    }
    /// Whether [`Ready::WRITABLE`] is set.
    pub fn is_writable(self) -> bool {
        self.contains(Ready::WRITABLE)
    }
    /// Whether [`Ready::READ_CLOSED`] is set.
    pub fn is_read_closed(self) -> bool {
        self.contains(Ready::READ_CLOSED)
    }
    /// Whether [`Ready::WRITE_CLOSED`] is set.
    pub fn is_write_closed(self) -> bool {
        self.contains(Ready::WRITE_CLOSED)
    }
    /// Whether [`Ready::ERROR`] is set.
    pub fn is_error(self) -> bool {
        self.contains(Ready::ERROR)
    }

    fn contains(self, other: Ready) -> bool {
        self.0 & other.0 == other.0
    }
}

impl ops::BitOr for Ready {
    type Output = Ready;
    fn bitor(self, other: Ready) -> Ready {
        Ready(self.0 | other.0)
    }
}

impl ops::BitAnd for Ready {
    type Output = Ready;
    fn bitand(self, other: Ready) -> Ready {
        Ready(self.0 & other.0)
    }
}

impl ops::Not for Ready {
    type Output = Ready;
    fn not(self) -> Ready {
        Ready(!self.0 & Ready::MASK)
    }
}

impl fmt::Debug for Ready {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names = [
            (Ready::READABLE, "READABLE"),
            (Ready::WRITABLE, "WRITABLE"),
            (Ready::READ_CLOSED, "READ_CLOSED"),
            (Ready::WRITE_CLOSED, "WRITE_CLOSED"),
            (Ready::ERROR, "ERROR"),
        ];
        let mut list = f.debug_set();
        for (flag, name) in names {
            if self.contains(flag) {
                list.entry(&format_args!("{name}"));
            }
        }
        list.finish()
    }
}

/// The direction a task waits in; each has its own list of waiting tasks in a registration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Direction {
    Read,
    Write,
}

impl Direction {
    /// The readiness that lets an operation in this direction make progress (or fail at once).
    pub(crate) fn mask(self) -> Ready {
        match self {
            Direction::Read => Ready::READABLE | Ready::READ_CLOSED | Ready::ERROR,
            Direction::Write => Ready::WRITABLE | Ready::WRITE_CLOSED | Ready::ERROR,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Ready;

    #[test]
    fn every_combination_of_epoll_flags_maps_as_documented() {
        let flags = [
            libc::EPOLLIN,
            libc::EPOLLPRI,
            libc::EPOLLOUT,
            libc::EPOLLERR,
            libc::EPOLLHUP,
            libc::EPOLLRDHUP,
        ];
        for combination in 0..1u32 << flags.len() {
            let events = (0..flags.len())
                .filter(|bit| combination & (1 << bit) != 0)
                .fold(0, |events, bit| events | flags[bit] as u32);
            let has = |flag: libc::c_int| events & flag as u32 != 0;
            let mut expected = Ready::EMPTY;
            if has(libc::EPOLLIN) || has(libc::EPOLLPRI) {
                expected = expected | Ready::READABLE;
            }
            if has(libc::EPOLLOUT) {
                expected = expected | Ready::WRITABLE;
            }
            if has(libc::EPOLLRDHUP) || has(libc::EPOLLHUP) {
                expected = expected | Ready::READ_CLOSED;
            }
            if has(libc::EPOLLHUP) {
                expected = expected | Ready::WRITE_CLOSED;
            }
            if has(libc::EPOLLERR) {
                expected = expected | Ready::ERROR;
            }
            // Flags epoll may add that readiness ignores (EPOLLET's bit and others).
            let noisy = events | libc::EPOLLET as u32 | 0x40;
            assert_eq!(Ready::from_epoll(events), expected, "{events:#x}");
            assert_eq!(Ready::from_epoll(noisy), expected, "{noisy:#x}");
        }
    }
}

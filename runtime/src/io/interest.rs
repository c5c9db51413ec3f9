//! `Interest`: which directions of readiness an operation waits for (tokio's type of the same
//! name), for [`AsyncFd::ready`](super::AsyncFd::ready), [`AsyncFd::try_io`](super::AsyncFd::try_io)
//! and the sockets' `ready` and `try_*` methods.

use std::fmt;
use std::ops::{BitOr, BitOrAssign};

/// Readable, writable, or both.
///
/// ```
/// use mini_runtime::io::Interest;
/// let both = Interest::READABLE | Interest::WRITABLE;
/// assert!(both.is_readable() && both.is_writable());
/// assert!(!Interest::READABLE.is_writable());
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Interest(u8);

const READ: u8 = 1;
const WRITE: u8 = 2;

impl Interest {
    /// Waiting until a read can make progress (data, end-of-file, or an error).
    pub const READABLE: Interest = Interest(READ);
    /// Waiting until a write can make progress (room, or the peer gone, or an error).
    pub const WRITABLE: Interest = Interest(WRITE);

    /// Whether it includes reading.
    pub const fn is_readable(self) -> bool {
        self.0 & READ != 0
    }

    /// Whether it includes writing.
    pub const fn is_writable(self) -> bool {
        self.0 & WRITE != 0
    }

    /// Both `self`'s directions and `other`'s.
    pub const fn add(self, other: Interest) -> Interest {
        Interest(self.0 | other.0)
    }
}

impl BitOr for Interest {
    type Output = Interest;

    fn bitor(self, other: Interest) -> Interest {
        self.add(other)
    }
}

impl BitOrAssign for Interest {
    fn bitor_assign(&mut self, other: Interest) {
        *self = self.add(other);
    }
}

impl fmt::Debug for Interest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.is_readable(), self.is_writable()) {
            (true, true) => f.write_str("READABLE | WRITABLE"),
            (true, false) => f.write_str("READABLE"),
            _ => f.write_str("WRITABLE"),
        }
    }
}

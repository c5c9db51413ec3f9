//! What every socket type shares: access to its fd for code outside mini.

/// Implements `AsRawFd` and `AsFd` for `$ty` through its field `$field` (the registered
/// `AsyncFd`, or the plain `OwnedFd` of a socket not registered yet).
macro_rules! impl_as_fd {
    ($ty:ty, $field:ident) => {
        impl std::os::fd::AsRawFd for $ty {
            fn as_raw_fd(&self) -> std::os::fd::RawFd {
                self.$field.as_raw_fd()
            }
        }

        impl std::os::fd::AsFd for $ty {
            fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
                self.$field.as_fd()
            }
        }
    };
}

pub(crate) use impl_as_fd;

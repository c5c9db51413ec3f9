//! The halves of a `UnixStream` (see `crate::split`).

use super::UnixStream;

crate::split::split_halves!(UnixStream);

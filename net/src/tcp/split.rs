//! The halves of a `TcpStream` (see `crate::split`).

use super::TcpStream;

crate::split::split_halves!(TcpStream);

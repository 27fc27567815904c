//! macOS, FreeBSD and OpenBSD (the BSD socket layer they share): errno names as their C
//! libraries define them, SIGPIPE kept off with SO_NOSIGPIPE (macOS, FreeBSD) or MSG_NOSIGNAL
//! (OpenBSD), poll(2) without POLLRDHUP, and the TCP state where the kernel exposes it
//! (TCP_INFO on FreeBSD and OpenBSD, TCP_CONNECTION_INFO on macOS). No namespaces: only the
//! `host` topology runs here (see `super::without_linux`).

mod socket_io;
mod tcp_state;

pub use super::unix::errno::{errno_name, strerror};
pub use super::unix::readiness::{poll_one, readable_before, wait_readable};
pub use super::unix::signals::{block_watched_signals, on_termination, signal_name, take_signals};
pub use super::unix::socket_io::{close, create_private_dir, raw_handle, read, recv_dontwait, write};
pub use super::unix::usage::{peak_rss_kib, process_cpu};
pub use super::without_linux::*;
pub use socket_io::{SEND_NOSIGNAL, ack_at_once, int_option, send_nosignal, set_int_option};
pub use tcp_state::{tcp_bytes_acked, tcp_state};

/// What a readiness wait is given: a descriptor.
pub type RawHandle = std::os::fd::RawFd;

//! Windows (Winsock): errors by their WSA names and codes (`WSAECONNRESET`, 10054), no
//! SIGPIPE at all (a write to a reset connection returns its error), WSAPoll for readiness,
//! and the TCP state through SIO_TCP_INFO. No namespaces: only the `host` topology runs here
//! (see `super::without_linux`).

mod errno;
mod readiness;
mod socket_io;

pub use super::without_linux::*;
pub use errno::{errno_name, strerror};
pub use readiness::{poll_one, wait_readable};
pub use socket_io::{
    SEND_NOSIGNAL, ack_at_once, close, create_private_dir, int_option, raw_handle, read, recv_dontwait, send_nosignal,
    set_int_option, tcp_bytes_acked, tcp_state, write,
};

/// What a readiness wait is given: a socket handle.
pub type RawHandle = std::os::windows::io::RawSocket;

/// Windows raises no signal for a socket call: there is nothing to block.
pub fn block_watched_signals() -> std::io::Result<()> {
    Ok(())
}

/// No signal is ever raised by a socket call here.
pub fn take_signals() -> Vec<String> {
    Vec::new()
}

pub fn signal_name(signo: i32) -> String {
    format!("signal {signo}")
}

/// Console control events are not handled: an interrupted run leaves its unfinished files.
pub fn on_termination(_cleanup: fn()) -> std::io::Result<()> {
    Ok(())
}

/// Not measured here (GetProcessTimes is not called): zero.
pub fn process_cpu() -> std::time::Duration {
    std::time::Duration::ZERO
}

/// Not measured here: zero.
pub fn peak_rss_kib() -> u64 {
    0
}

/// The Windows build is not read (RtlGetVersion is not called): empty, and the report's
/// operating system says `windows`.
pub fn kernel_release() -> String {
    String::new()
}

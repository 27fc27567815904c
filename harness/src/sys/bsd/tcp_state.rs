//! The TCP state of a socket where the kernel tells it: TCP_INFO on FreeBSD and OpenBSD,
//! TCP_CONNECTION_INFO on macOS. Their `tcpi_state` counts as BSD's `tcp_fsm.h` does
//! (TCPS_CLOSED 0 ... TCPS_TIME_WAIT 10); reports name states as Linux does
//! ([`crate::sys::TCP_STATES`]), so each is mapped to that name.

use std::os::fd::AsRawFd;

use socket2::Socket;

/// BSD's `tcp_fsm.h` states in order, by the name reports use.
const BSD_STATES: [&str; 11] = [
    "CLOSE",
    "LISTEN",
    "SYN_SENT",
    "SYN_RECV",
    "ESTABLISHED",
    "CLOSE_WAIT",
    "FIN_WAIT1",
    "CLOSING",
    "LAST_ACK",
    "FIN_WAIT2",
    "TIME_WAIT",
];

#[cfg(target_vendor = "apple")]
type Info = libc::tcp_connection_info;
#[cfg(target_vendor = "apple")]
const INFO_OPTION: libc::c_int = libc::TCP_CONNECTION_INFO;
#[cfg(not(target_vendor = "apple"))]
type Info = libc::tcp_info;
#[cfg(not(target_vendor = "apple"))]
const INFO_OPTION: libc::c_int = libc::TCP_INFO;

fn info(socket: &Socket) -> Option<Info> {
    // SAFETY: a zeroed info is a valid value of this plain C struct.
    let mut info: Info = unsafe { std::mem::zeroed() };
    let mut len = std::mem::size_of::<Info>() as libc::socklen_t;
    // SAFETY: `info` and `len` are valid for writes of the sizes given.
    let rc = unsafe {
        libc::getsockopt(
            socket.as_raw_fd(),
            libc::IPPROTO_TCP,
            INFO_OPTION,
            (&raw mut info).cast(),
            &mut len,
        )
    };
    (rc == 0 && len > 0).then_some(info)
}

/// The socket's TCP state by name, `None` where the kernel does not say.
pub fn tcp_state(socket: &Socket) -> Option<&'static str> {
    BSD_STATES.get(usize::from(info(socket)?.tcpi_state)).copied()
}

/// Bytes the peer acknowledged: no BSD's TCP_INFO counts them (Linux's tcpi_bytes_acked).
pub fn tcp_bytes_acked(_socket: &Socket) -> Option<u64> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bsd_state_numbers_take_linuxs_names() {
        // tcp_fsm.h: TCPS_ESTABLISHED 4, TCPS_CLOSE_WAIT 5, TCPS_TIME_WAIT 10.
        assert_eq!(BSD_STATES[4], "ESTABLISHED");
        assert_eq!(BSD_STATES[5], "CLOSE_WAIT");
        assert_eq!(BSD_STATES[10], "TIME_WAIT");
        assert!(BSD_STATES.iter().all(|s| crate::sys::TCP_STATES.contains(s)));
    }
}

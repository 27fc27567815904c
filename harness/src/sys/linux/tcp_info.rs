//! TCP_INFO (tcp(7)): the state of a socket and how much the peer acknowledged.

use std::os::fd::AsRawFd;

use socket2::Socket;

use crate::sys::tcp_state_name;

/// TCP_INFO of a socket and how many bytes of it the kernel filled (fewer on older kernels),
/// or `None` if the socket is not TCP.
fn tcp_info(socket: &Socket) -> Option<(libc::tcp_info, usize)> {
    // SAFETY: tcp_info is plain old data; zeroed is a valid value.
    let mut info: libc::tcp_info = unsafe { std::mem::zeroed() };
    let mut len = std::mem::size_of::<libc::tcp_info>() as libc::socklen_t;
    // SAFETY: `info` and `len` are valid for writes of `len` bytes.
    let rc = unsafe {
        libc::getsockopt(
            socket.as_raw_fd(),
            libc::IPPROTO_TCP,
            libc::TCP_INFO,
            (&raw mut info).cast(),
            &mut len,
        )
    };
    (rc == 0).then_some((info, len as usize))
}

/// How many bytes of TCP_INFO the platform fills for a socket (fewer on older kernels), 0
/// where the socket has none.
pub fn tcp_info_len(socket: &Socket) -> usize {
    tcp_info(socket).map_or(0, |(_, len)| len)
}

/// The TCP state of a socket from TCP_INFO, by the kernel's name, or `None` if the socket is
/// not TCP. Only `tcpi_state`, the first byte, is read, so a short `tcp_info` from an older
/// kernel is fine.
pub fn tcp_state(socket: &Socket) -> Option<&'static str> {
    let (info, len) = tcp_info(socket)?;
    (len >= 1).then(|| tcp_state_name(info.tcpi_state))
}

/// How many bytes of sequence space the peer has acknowledged (TCP_INFO `tcpi_bytes_acked`,
/// Linux 4.2 and later; the SYN counts as one, as in the capture's relative numbers), or
/// `None` where TCP_INFO is missing or too short to hold it.
pub fn tcp_bytes_acked(socket: &Socket) -> Option<u64> {
    let (info, len) = tcp_info(socket)?;
    let needed = std::mem::offset_of!(libc::tcp_info, tcpi_bytes_acked) + std::mem::size_of::<u64>();
    (len >= needed).then_some(info.tcpi_bytes_acked)
}

/// The socket's current retransmission timeout (TCP_INFO `tcpi_rto`), or `None` where
/// TCP_INFO is missing or too short to hold it.
pub fn tcp_rto(socket: &Socket) -> Option<std::time::Duration> {
    let (info, len) = tcp_info(socket)?;
    let needed = std::mem::offset_of!(libc::tcp_info, tcpi_rto) + std::mem::size_of::<u32>();
    (len >= needed).then(|| std::time::Duration::from_micros(u64::from(info.tcpi_rto)))
}

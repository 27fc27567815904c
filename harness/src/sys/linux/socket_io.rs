//! The calls on a socket that socket2 makes differently from a C program: read(2) and
//! write(2) themselves (socket2's `send` adds MSG_NOSIGNAL), close(2) whose result is
//! recorded, and integer options by their typed name.

use std::io;
use std::os::fd::AsRawFd;

use socket2::Socket;

use crate::sockopt::SockOpt;
use crate::sys::unix::socket_io::{cvt, raw_option, set_raw_option};

/// send(2) with MSG_NOSIGNAL: the error without the signal.
pub fn send_nosignal(socket: &Socket, data: &[u8]) -> io::Result<i64> {
    // SAFETY: `data` is valid for reads of its length.
    cvt(unsafe { libc::send(socket.as_raw_fd(), data.as_ptr().cast(), data.len(), libc::MSG_NOSIGNAL) })
}

/// The flag of sendto(2) that keeps a datagram send from raising SIGPIPE.
pub const SEND_NOSIGNAL: libc::c_int = libc::MSG_NOSIGNAL;

/// The (level, name) of an option on this platform.
fn sockopt_id(option: SockOpt) -> (libc::c_int, libc::c_int) {
    match option {
        SockOpt::SoKeepalive => (libc::SOL_SOCKET, libc::SO_KEEPALIVE),
        SockOpt::SoRcvbuf => (libc::SOL_SOCKET, libc::SO_RCVBUF),
        SockOpt::SoSndbuf => (libc::SOL_SOCKET, libc::SO_SNDBUF),
        SockOpt::TcpNodelay => (libc::IPPROTO_TCP, libc::TCP_NODELAY),
        SockOpt::TcpCork => (libc::IPPROTO_TCP, libc::TCP_CORK),
        SockOpt::TcpUserTimeout => (libc::IPPROTO_TCP, libc::TCP_USER_TIMEOUT),
        SockOpt::TcpKeepidle => (libc::IPPROTO_TCP, libc::TCP_KEEPIDLE),
        SockOpt::TcpKeepintvl => (libc::IPPROTO_TCP, libc::TCP_KEEPINTVL),
        SockOpt::TcpKeepcnt => (libc::IPPROTO_TCP, libc::TCP_KEEPCNT),
        SockOpt::TcpSyncnt => (libc::IPPROTO_TCP, libc::TCP_SYNCNT),
        SockOpt::IpRecverr => (libc::SOL_IP, libc::IP_RECVERR),
        SockOpt::Ipv6Recverr => (libc::SOL_IPV6, libc::IPV6_RECVERR),
    }
}

/// setsockopt(2) of an integer option.
pub fn set_int_option(socket: &Socket, option: SockOpt, value: i32) -> io::Result<()> {
    let (level, name) = sockopt_id(option);
    set_raw_option(socket, level, name, value)
}

/// getsockopt(2) of an integer option.
pub fn int_option(socket: &Socket, option: SockOpt) -> io::Result<i32> {
    let (level, name) = sockopt_id(option);
    raw_option(socket, level, name)
}

/// Acknowledges what has arrived at once instead of after the delayed-ACK timer
/// (TCP_QUICKACK, tcp(7)).
pub fn ack_at_once(socket: &Socket) -> io::Result<()> {
    socket.set_tcp_quickack(true)
}

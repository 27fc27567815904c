//! The calls on a socket that socket2 makes differently from a C program: read(2) and
//! write(2) themselves, a send that raises no SIGPIPE the way each BSD offers it, close(2)
//! whose result is recorded, and integer options by their typed name (ENOPROTOOPT for the
//! options only Linux has, as the kernel would answer a program that asked).

use std::io;
use std::os::fd::AsRawFd;

use socket2::Socket;

use crate::sockopt::SockOpt;
use crate::sys::unix::socket_io::{cvt, raw_option, set_raw_option};

/// send(2) without SIGPIPE. macOS (MSG_NOSIGNAL only from macOS 11) and FreeBSD turn the
/// signal off per socket with SO_NOSIGPIPE, set for this call and cleared after it, so the
/// socket is as before for the calls that follow; OpenBSD has only MSG_NOSIGNAL.
pub fn send_nosignal(socket: &Socket, data: &[u8]) -> io::Result<i64> {
    #[cfg(any(target_vendor = "apple", target_os = "freebsd"))]
    {
        set_raw_option(socket, libc::SOL_SOCKET, libc::SO_NOSIGPIPE, 1)?;
        // SAFETY: `data` is valid for reads of its length.
        let sent = cvt(unsafe { libc::send(socket.as_raw_fd(), data.as_ptr().cast(), data.len(), 0) });
        set_raw_option(socket, libc::SOL_SOCKET, libc::SO_NOSIGPIPE, 0)?;
        sent
    }
    #[cfg(not(any(target_vendor = "apple", target_os = "freebsd")))]
    {
        // SAFETY: `data` is valid for reads of its length.
        cvt(unsafe { libc::send(socket.as_raw_fd(), data.as_ptr().cast(), data.len(), libc::MSG_NOSIGNAL) })
    }
}

/// The flag of sendto(2) that keeps a datagram send from raising SIGPIPE: none on macOS
/// before 11, where a datagram socket raises none for an unconnected send.
#[cfg(not(target_vendor = "apple"))]
pub const SEND_NOSIGNAL: libc::c_int = libc::MSG_NOSIGNAL;
#[cfg(target_vendor = "apple")]
pub const SEND_NOSIGNAL: libc::c_int = 0;

/// The (level, name) of an option on this platform, `None` where it has no such option.
fn sockopt_id(option: SockOpt) -> Option<(libc::c_int, libc::c_int)> {
    Some(match option {
        SockOpt::SoKeepalive => (libc::SOL_SOCKET, libc::SO_KEEPALIVE),
        SockOpt::SoRcvbuf => (libc::SOL_SOCKET, libc::SO_RCVBUF),
        SockOpt::SoSndbuf => (libc::SOL_SOCKET, libc::SO_SNDBUF),
        SockOpt::TcpNodelay => (libc::IPPROTO_TCP, libc::TCP_NODELAY),
        // macOS names the idle time before the first probe TCP_KEEPALIVE.
        #[cfg(target_vendor = "apple")]
        SockOpt::TcpKeepidle => (libc::IPPROTO_TCP, libc::TCP_KEEPALIVE),
        #[cfg(not(target_os = "openbsd"))]
        #[cfg(not(target_vendor = "apple"))]
        SockOpt::TcpKeepidle => (libc::IPPROTO_TCP, libc::TCP_KEEPIDLE),
        #[cfg(not(target_os = "openbsd"))]
        SockOpt::TcpKeepintvl => (libc::IPPROTO_TCP, libc::TCP_KEEPINTVL),
        #[cfg(not(target_os = "openbsd"))]
        SockOpt::TcpKeepcnt => (libc::IPPROTO_TCP, libc::TCP_KEEPCNT),
        // OpenBSD has no per-socket keepalive timers (only sysctls), and no BSD has
        // TCP_USER_TIMEOUT, TCP_SYNCNT, TCP_CORK or the IP error queue.
        _ => return None,
    })
}

fn no_such_option() -> io::Error {
    io::Error::from_raw_os_error(libc::ENOPROTOOPT)
}

/// setsockopt(2) of an integer option.
pub fn set_int_option(socket: &Socket, option: SockOpt, value: i32) -> io::Result<()> {
    let (level, name) = sockopt_id(option).ok_or_else(no_such_option)?;
    set_raw_option(socket, level, name, value)
}

/// getsockopt(2) of an integer option.
pub fn int_option(socket: &Socket, option: SockOpt) -> io::Result<i32> {
    let (level, name) = sockopt_id(option).ok_or_else(no_such_option)?;
    raw_option(socket, level, name)
}

/// The BSDs have no switch to acknowledge at once (Linux's TCP_QUICKACK): the delayed ACK
/// leaves when their stack sends it, and a wait on the wire for it says so.
pub fn ack_at_once(_socket: &Socket) -> io::Result<()> {
    Ok(())
}

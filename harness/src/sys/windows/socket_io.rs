//! The calls on a socket as Winsock makes them: recv and send (a socket handle is no file
//! descriptor for read and write), closesocket whose result is recorded, integer options by
//! their typed name, and the TCP state from SIO_TCP_INFO. Winsock raises no signal: a send
//! on a reset connection returns WSAECONNRESET or WSAECONNABORTED.

use std::io;
use std::os::windows::io::{AsRawSocket, IntoRawSocket};

use socket2::Socket;
use windows_sys::Win32::Networking::WinSock as ws;

use crate::sockopt::SockOpt;

fn handle(socket: &Socket) -> ws::SOCKET {
    socket.as_raw_socket() as ws::SOCKET
}

fn cvt(rc: i32) -> io::Result<i64> {
    if rc == ws::SOCKET_ERROR {
        // SAFETY: reads the calling thread's last Winsock error.
        Err(io::Error::from_raw_os_error(unsafe { ws::WSAGetLastError() }))
    } else {
        Ok(i64::from(rc))
    }
}

fn len(n: usize) -> i32 {
    n.min(i32::MAX as usize) as i32
}

/// recv into `buf` (what read(2) is on a Unix socket).
pub fn read(socket: &Socket, buf: &mut [u8]) -> io::Result<i64> {
    // SAFETY: `buf` is valid for writes of the length given.
    cvt(unsafe { ws::recv(handle(socket), buf.as_mut_ptr(), len(buf.len()), 0) })
}

/// send of `data` (what write(2) is on a Unix socket).
pub fn write(socket: &Socket, data: &[u8]) -> io::Result<i64> {
    // SAFETY: `data` is valid for reads of the length given.
    cvt(unsafe { ws::send(handle(socket), data.as_ptr(), len(data.len()), 0) })
}

/// send: Winsock has no SIGPIPE to keep off.
pub fn send_nosignal(socket: &Socket, data: &[u8]) -> io::Result<i64> {
    write(socket, data)
}

/// No flag is needed to keep a datagram send from raising a signal.
pub const SEND_NOSIGNAL: i32 = 0;

/// A non-blocking look at the socket: Winsock has no MSG_DONTWAIT, and switching the socket
/// to non-blocking would change it for the calls that follow, so it is WSAPoll first, then
/// recv only when something is there (data, end of file or an error); otherwise
/// WSAEWOULDBLOCK, as a non-blocking recv would answer.
pub fn recv_dontwait(socket: &Socket, buf: &mut [u8]) -> io::Result<i64> {
    match super::poll_one(socket, crate::Events::IN, Some(std::time::Duration::ZERO)) {
        (Err(e), _) => Err(e),
        (Ok(0), _) => Err(io::Error::from_raw_os_error(ws::WSAEWOULDBLOCK)),
        (Ok(_), _) => read(socket, buf),
    }
}

/// closesocket, its result as the program sees it. The socket is gone whatever it returns.
pub fn close(socket: Socket) -> io::Result<()> {
    let raw = socket.into_raw_socket() as ws::SOCKET;
    // SAFETY: `raw` was just released by its owner and is closed exactly once.
    cvt(unsafe { ws::closesocket(raw) }).map(|_| ())
}

/// The (level, name) of an option in Winsock, `None` where it has no such option (TCP_MAXRT
/// is no TCP_USER_TIMEOUT: it bounds retransmissions of every segment, SYNs included).
fn sockopt_id(option: SockOpt) -> Option<(i32, i32)> {
    Some(match option {
        SockOpt::SoKeepalive => (ws::SOL_SOCKET, ws::SO_KEEPALIVE),
        SockOpt::SoRcvbuf => (ws::SOL_SOCKET, ws::SO_RCVBUF),
        SockOpt::SoSndbuf => (ws::SOL_SOCKET, ws::SO_SNDBUF),
        SockOpt::TcpNodelay => (ws::IPPROTO_TCP, ws::TCP_NODELAY),
        SockOpt::TcpKeepidle => (ws::IPPROTO_TCP, ws::TCP_KEEPIDLE),
        SockOpt::TcpKeepintvl => (ws::IPPROTO_TCP, ws::TCP_KEEPINTVL),
        SockOpt::TcpKeepcnt => (ws::IPPROTO_TCP, ws::TCP_KEEPCNT),
        _ => return None,
    })
}

fn no_such_option() -> io::Error {
    io::Error::from_raw_os_error(ws::WSAENOPROTOOPT)
}

/// setsockopt of an integer option.
pub fn set_int_option(socket: &Socket, option: SockOpt, value: i32) -> io::Result<()> {
    let (level, name) = sockopt_id(option).ok_or_else(no_such_option)?;
    // SAFETY: `value` is valid for reads of its size for the duration of the call.
    let rc = unsafe {
        ws::setsockopt(
            handle(socket),
            level,
            name,
            (&raw const value).cast(),
            std::mem::size_of::<i32>() as i32,
        )
    };
    cvt(rc).map(|_| ())
}

/// getsockopt of an integer option.
pub fn int_option(socket: &Socket, option: SockOpt) -> io::Result<i32> {
    let (level, name) = sockopt_id(option).ok_or_else(no_such_option)?;
    let mut value: i32 = 0;
    let mut size = std::mem::size_of::<i32>() as i32;
    // SAFETY: `value` and `size` are valid for writes of the sizes given.
    let rc = unsafe { ws::getsockopt(handle(socket), level, name, (&raw mut value).cast(), &mut size) };
    cvt(rc).map(|_| value)
}

/// Windows acknowledges at once only through SIO_TCP_SET_ACK_FREQUENCY, which changes the
/// socket for good: nothing is done, and a wait on the wire for the ACK says when it left.
pub fn ack_at_once(_socket: &Socket) -> io::Result<()> {
    Ok(())
}

/// The socket's handle, for showing which one a call returned.
pub fn raw_handle(socket: &Socket) -> i64 {
    socket.as_raw_socket() as i64
}

/// Creates a directory for this trial's files (under the user's own temporary directory,
/// which other users cannot enter).
pub fn create_private_dir(path: &std::path::Path) -> io::Result<()> {
    std::fs::create_dir(path)
}

/// SIO_TCP_INFO (Windows 10 1703 and later), version 0.
fn tcp_info(socket: &Socket) -> Option<ws::TCP_INFO_v0> {
    let version: u32 = 0;
    // SAFETY: a zeroed TCP_INFO_v0 is a valid value of this plain C struct.
    let mut info: ws::TCP_INFO_v0 = unsafe { std::mem::zeroed() };
    let mut returned: u32 = 0;
    // SAFETY: in and out buffers valid for the sizes given; no overlapped I/O.
    let rc = unsafe {
        ws::WSAIoctl(
            handle(socket),
            ws::SIO_TCP_INFO,
            (&raw const version).cast(),
            std::mem::size_of::<u32>() as u32,
            (&raw mut info).cast(),
            std::mem::size_of::<ws::TCP_INFO_v0>() as u32,
            &mut returned,
            std::ptr::null_mut(),
            None,
        )
    };
    (rc == 0).then_some(info)
}

/// The socket's TCP state by the names reports use (Linux's), `None` where Windows does not
/// say.
pub fn tcp_state(socket: &Socket) -> Option<&'static str> {
    Some(match tcp_info(socket)?.State {
        ws::TCPSTATE_CLOSED => "CLOSE",
        ws::TCPSTATE_LISTEN => "LISTEN",
        ws::TCPSTATE_SYN_SENT => "SYN_SENT",
        ws::TCPSTATE_SYN_RCVD => "SYN_RECV",
        ws::TCPSTATE_ESTABLISHED => "ESTABLISHED",
        ws::TCPSTATE_FIN_WAIT_1 => "FIN_WAIT1",
        ws::TCPSTATE_FIN_WAIT_2 => "FIN_WAIT2",
        ws::TCPSTATE_CLOSE_WAIT => "CLOSE_WAIT",
        ws::TCPSTATE_CLOSING => "CLOSING",
        ws::TCPSTATE_LAST_ACK => "LAST_ACK",
        ws::TCPSTATE_TIME_WAIT => "TIME_WAIT",
        _ => return None,
    })
}

/// Bytes the peer acknowledged: TCP_INFO_v0 has no such count.
pub fn tcp_bytes_acked(_socket: &Socket) -> Option<u64> {
    None
}

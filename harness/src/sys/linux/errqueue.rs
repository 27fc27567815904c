//! The socket error queue (ip(7) IP_RECVERR, ipv6(7) IPV6_RECVERR): one recvmsg with
//! MSG_ERRQUEUE, and the extended error it carries, named.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::os::fd::AsRawFd;

/// `sock_extended_err.ee_origin` names (linux/errqueue.h).
fn origin_name(origin: u8) -> String {
    match origin {
        0 => "SO_EE_ORIGIN_NONE".into(),
        1 => "SO_EE_ORIGIN_LOCAL".into(),
        2 => "SO_EE_ORIGIN_ICMP".into(),
        3 => "SO_EE_ORIGIN_ICMP6".into(),
        4 => "SO_EE_ORIGIN_TXSTATUS".into(),
        5 => "SO_EE_ORIGIN_ZEROCOPY".into(),
        6 => "SO_EE_ORIGIN_TXTIME".into(),
        n => format!("origin {n}"),
    }
}

/// The offender address that follows the extended error (SO_EE_OFFENDER), if any.
fn offender(bytes: &[u8]) -> Option<IpAddr> {
    let family = i32::from(u16::from_ne_bytes([*bytes.first()?, *bytes.get(1)?]));
    match family {
        libc::AF_INET => Some(IpAddr::V4(Ipv4Addr::new(
            *bytes.get(4)?,
            *bytes.get(5)?,
            *bytes.get(6)?,
            *bytes.get(7)?,
        ))),
        libc::AF_INET6 => Some(IpAddr::V6(Ipv6Addr::from(
            <[u8; 16]>::try_from(bytes.get(8..24)?).ok()?,
        ))),
        _ => None,
    }
}

/// recvmsg(MSG_ERRQUEUE | MSG_DONTWAIT) of up to `len` bytes of the quoted payload: the
/// return value, and a detail naming each extended error of the control data
/// (`ee_errno ECONNREFUSED, SO_EE_ORIGIN_ICMP type 3 code 3, offender 127.0.0.1`).
pub fn recv_errqueue(socket: &socket2::Socket, len: usize) -> (io::Result<i64>, Option<String>) {
    let fd = socket.as_raw_fd();
    let mut data = vec![0u8; len];
    let mut control = [0u64; 64]; // 512 bytes, aligned for cmsghdr
    let mut iov = libc::iovec {
        iov_base: data.as_mut_ptr().cast(),
        iov_len: len,
    };
    // SAFETY: msghdr is plain old data; zeroed is a valid value.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &raw mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.as_mut_ptr().cast();
    msg.msg_controllen = std::mem::size_of_val(&control);
    // SAFETY: every buffer msg points to lives until the call returns.
    let rc = unsafe { libc::recvmsg(fd, &raw mut msg, libc::MSG_ERRQUEUE | libc::MSG_DONTWAIT) };
    if rc < 0 {
        return (Err(io::Error::last_os_error()), None);
    }
    let mut errors = Vec::new();
    // SAFETY: the CMSG_* macros walk the control buffer the kernel filled, within
    // msg_controllen.
    unsafe {
        let mut cmsg = libc::CMSG_FIRSTHDR(&raw const msg);
        while !cmsg.is_null() {
            let (level, kind) = ((*cmsg).cmsg_level, (*cmsg).cmsg_type);
            let is_recverr = (level == libc::SOL_IP && kind == libc::IP_RECVERR)
                || (level == libc::SOL_IPV6 && kind == libc::IPV6_RECVERR);
            if is_recverr {
                let start = libc::CMSG_DATA(cmsg);
                let size = (*cmsg).cmsg_len as usize - (start as usize - cmsg as usize);
                let bytes = std::slice::from_raw_parts(start, size);
                errors.push(describe(bytes));
            }
            cmsg = libc::CMSG_NXTHDR(&raw const msg, cmsg);
        }
    }
    let detail = if errors.is_empty() {
        "no extended error in the control data".to_string()
    } else {
        errors.join("; ")
    };
    (Ok(rc as i64), Some(detail))
}

/// One `struct sock_extended_err` and the offender address after it, in words.
fn describe(bytes: &[u8]) -> String {
    const SIZE: usize = std::mem::size_of::<libc::sock_extended_err>();
    if bytes.len() < SIZE {
        return format!("a truncated extended error ({} bytes)", bytes.len());
    }
    // SAFETY: `bytes` holds at least SIZE bytes; read_unaligned copies them.
    let ee: libc::sock_extended_err = unsafe { std::ptr::read_unaligned(bytes.as_ptr().cast()) };
    let mut text = format!(
        "ee_errno {}, {} type {} code {}",
        super::errno_name(ee.ee_errno as i32),
        origin_name(ee.ee_origin),
        ee.ee_type,
        ee.ee_code
    );
    if let Some(from) = offender(&bytes[SIZE..]) {
        text.push_str(&format!(", offender {from}"));
    }
    text
}

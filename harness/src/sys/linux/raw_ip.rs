//! A raw IP socket that sends whole IP packets built by the caller (headers included), so a
//! trial can put a forged segment or ICMP error on the wire from the namespace of the host it
//! impersonates.

use std::io;
use std::net::{IpAddr, SocketAddr};

use socket2::{Domain, Protocol, SockAddr, Socket, Type};

/// A socket(AF_INET or AF_INET6, SOCK_RAW, IPPROTO_RAW): raw(7) and ipv6(7) say such a
/// socket has the header-included mode on, so the kernel sends the packet as given (it fills
/// in only an IPv4 identification of 0 and the IPv4 header checksum). It sends in the
/// namespace it was opened in, whatever thread calls it, and through that namespace's
/// netfilter output hook, so the rules a trial sets there apply to it too.
#[derive(Debug)]
pub struct RawIpSender {
    socket: Socket,
}

impl RawIpSender {
    /// Opens the socket in the calling thread's network namespace (needs CAP_NET_RAW there).
    pub fn open(v6: bool) -> io::Result<RawIpSender> {
        let domain = if v6 { Domain::IPV6 } else { Domain::IPV4 };
        let socket = Socket::new(domain, Type::RAW, Some(Protocol::from(libc::IPPROTO_RAW)))?;
        Ok(RawIpSender { socket })
    }

    /// Sends one IP packet, header included, towards `dst` (the routing decision uses it; the
    /// header says the rest). Returns the bytes sent.
    pub fn send(&self, packet: &[u8], dst: IpAddr) -> io::Result<usize> {
        self.socket.send_to(packet, &SockAddr::from(SocketAddr::new(dst, 0)))
    }
}

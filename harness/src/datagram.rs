//! UDP endpoints and their recorded calls: sendto, recv without blocking, and the error queue
//! that IP_RECVERR / IPV6_RECVERR fill (ip(7), ipv6(7)).
//!
//! Receives never block: a datagram socket with nothing to report would otherwise sleep until
//! the blocking-call limit, and "nothing pending" (EAGAIN) is itself the answer a scenario
//! wants to record.

use std::io;
use std::net::SocketAddr;
use std::os::fd::AsRawFd;

use socket2::{Domain, Protocol, SockAddr, Socket, Type};

use crate::endpoint::{Endpoint, Returned, call_result, cvt};
use crate::record::Step;
use crate::sys;
use crate::trial::{SERVER_PORT, Trial};

impl Endpoint {
    /// sendto(2) of `data` to `addr`, with MSG_NOSIGNAL (UDP raises no SIGPIPE anyway).
    pub fn sendto(&mut self, addr: &SocketAddr, data: &[u8]) -> Step {
        let op = format!("sendto({} bytes, {addr})", data.len());
        self.step("sendto", op, |s| {
            Returned::from_io(
                s.send_to_with_flags(data, &SockAddr::from(*addr), libc::MSG_NOSIGNAL)
                    .map(|n| n as i64),
            )
        })
    }

    /// recv(2) of up to `len` bytes with MSG_DONTWAIT: a pending error, a datagram, or EAGAIN.
    pub fn recv_nowait(&mut self, len: usize) -> Step {
        self.step("recv", format!("recv({len}, MSG_DONTWAIT)"), |s| {
            let mut buf = vec![0u8; len];
            // SAFETY: `buf` is valid for writes of `len` bytes.
            let r = cvt(unsafe { libc::recv(s.as_raw_fd(), buf.as_mut_ptr().cast(), len, libc::MSG_DONTWAIT) });
            let detail = r.as_ref().ok().map(|n| format!("{n} bytes"));
            Returned {
                result: call_result(r),
                detail,
                child_signals: Vec::new(),
                revents: None,
            }
        })
    }

    /// recvmsg(2) with MSG_ERRQUEUE | MSG_DONTWAIT: the oldest queued error. The detail names
    /// the extended error's errno and origin (`sock_extended_err`, ip(7)); the return value is
    /// the length of the quoted payload.
    pub fn recv_errqueue(&mut self, len: usize) -> Step {
        let op = format!("recvmsg({len}, MSG_ERRQUEUE | MSG_DONTWAIT)");
        self.step("recv_errqueue", op, |s| {
            let (r, detail) = sys::recv_errqueue(s.as_raw_fd(), len);
            Returned {
                result: call_result(r),
                detail,
                child_signals: Vec::new(),
                revents: None,
            }
        })
    }
}

impl Trial {
    /// A new UDP socket on the client's host, actor `client`, not bound and not connected.
    pub fn udp_client(&mut self) -> io::Result<Endpoint> {
        self.enter(crate::trial::Host::Client)?;
        let domain = Domain::for_address(self.server_addr(SERVER_PORT));
        let socket = Socket::new(domain, Type::DGRAM, Some(Protocol::UDP))?;
        Endpoint::from_socket(self.log(), "client", socket)
    }
}

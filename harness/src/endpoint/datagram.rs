//! UDP endpoints and their recorded calls: sendto, recv without blocking, and the error queue
//! that IP_RECVERR / IPV6_RECVERR fill (ip(7), ipv6(7)).
//!
//! Receives never block: a datagram socket with nothing to report would otherwise sleep until
//! the blocking-call limit, and "nothing pending" (EAGAIN) is itself the answer a scenario
//! wants to record.

use std::net::SocketAddr;

use socket2::SockAddr;

use super::{Endpoint, Returned, call_result};
use crate::capabilities::Need;
use crate::record::Step;
use crate::sys;
use crate::verb::Verb;

impl Endpoint {
    /// sendto(2) of `data` to `addr`, with MSG_NOSIGNAL (UDP raises no SIGPIPE anyway).
    pub fn sendto(&mut self, addr: &SocketAddr, data: &[u8]) -> Step {
        let op = format!("sendto({} bytes, {addr})", data.len());
        self.step(Verb::Sendto, op, |s| {
            Returned::from_io(
                s.send_to_with_flags(data, &SockAddr::from(*addr), sys::SEND_NOSIGNAL)
                    .map(|n| n as i64),
            )
        })
    }

    /// recv(2) of up to `len` bytes with MSG_DONTWAIT: a pending error, a datagram, or EAGAIN.
    pub fn recv_nowait(&mut self, len: usize) -> Step {
        self.step(Verb::Recv, format!("recv({len}, MSG_DONTWAIT)"), |s| {
            let mut buf = vec![0u8; len];
            let r = sys::recv_dontwait(s, &mut buf);
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
        self.log.uses(Need::ErrorQueue);
        self.step(Verb::RecvErrqueue, op, |s| {
            let (r, detail) = sys::recv_errqueue(s, len);
            Returned {
                result: call_result(r),
                detail,
                child_signals: Vec::new(),
                revents: None,
            }
        })
    }
}

//! The request and acknowledgement machinery every noun shares: the route socket and its
//! event socket, one request answered by one ACK (or a dump ended by NLMSG_DONE), the
//! kernel's refusals with their extended-ack text, and the datagrams taken apart.

use std::io;
use std::os::fd::AsRawFd;
use std::time::Instant;

use netlink_packet_core::{
    DoneBuffer, ErrorBuffer, NLM_F_ACK, NLM_F_ACK_TLVS, NLM_F_CAPPED, NLM_F_DUMP_INTR, NLM_F_REQUEST, NLMSG_DONE,
    NLMSG_ERROR, NLMSG_NOOP, NLMSG_OVERRUN, NetlinkBuffer, NetlinkHeader, NetlinkMessage, NetlinkPayload, NlasIterator,
};
use netlink_packet_route::RouteNetlinkMessage;
use netlink_sys::protocols::NETLINK_ROUTE;
use netlink_sys::{Socket, SocketAddr};

use super::{NetlinkError, REPLY_TIMEOUT, failed, garbled};
use crate::sys::readable_before;

/// Size of `struct nlmsghdr`.
const NLMSGHDR_LEN: usize = 16;
/// `NLMSGERR_ATTR_MSG` from include/uapi/linux/netlink.h: the extended ack's text.
const NLMSGERR_ATTR_MSG: u16 = 1;

/// A route-netlink socket bound in the namespace of the thread that opened it, and the
/// sequence number of its last request (replies are matched to requests by it).
#[derive(Debug)]
pub struct Netlink {
    socket: Socket,
    /// A second socket for announcements, opened with `socket` so that it is in the same
    /// namespace (a socket opened later would be in whatever namespace the thread is in by
    /// then). It joins a multicast group only while a wait needs it; `None` only while lent.
    events: Option<Socket>,
    seq: u32,
    buf: Vec<u8>,
}

/// The messages a request brought back, before the ACK or NLMSG_DONE: (type, payload).
pub(super) type Replies = Vec<(u16, Vec<u8>)>;

impl Netlink {
    /// Opens a NETLINK_ROUTE socket in the calling thread's current network namespace (the
    /// socket every `ip` command opens); every later call configures that namespace,
    /// whichever namespace the caller is in by then.
    pub fn open() -> io::Result<Netlink> {
        let socket = open_socket().map_err(|e| failed("open a route socket", e))?;
        let events = open_socket().map_err(|e| failed("open a route socket", e))?;
        Ok(Netlink {
            socket,
            events: Some(events),
            seq: 0,
            buf: vec![0; 32 * 1024],
        })
    }

    /// Lends the event socket to `body`, joined to `group` (an RTNLGRP_*) and emptied of
    /// anything left over from an earlier wait, so that everything `body` reads was announced
    /// after it started. The socket leaves the group afterwards. Where the platform has no
    /// multicast membership (gVisor refuses it with ENOPROTOOPT), `body` gets `None` and
    /// looks instead of listening.
    pub(super) fn with_events<T>(
        &mut self,
        group: u32,
        operation: &str,
        body: impl FnOnce(&mut Self, Option<&Socket>) -> io::Result<T>,
    ) -> io::Result<T> {
        let Some(events) = self.events.take() else {
            let why = io::Error::other("the event socket was lost by an earlier panic");
            return Err(failed(operation, why));
        };
        let result = match drain(&events).and_then(|()| events.add_membership(group)) {
            Ok(()) => {
                let result = body(self, Some(&events));
                let _ = events.drop_membership(group);
                result
            }
            Err(e) if e.raw_os_error() == Some(libc::ENOPROTOOPT) => body(self, None),
            Err(e) => Err(failed(operation, e)),
        };
        self.events = Some(events);
        result
    }

    /// Sends one request with NLM_F_REQUEST | NLM_F_ACK | `flags` and collects what comes
    /// back until the ACK (or NLMSG_DONE for a dump). A negative ACK becomes an error naming
    /// `operation`, with the kernel's errno and extended-ack text.
    pub(super) fn request(&mut self, message: RouteNetlinkMessage, flags: u16, operation: &str) -> io::Result<Replies> {
        self.seq = self.seq.wrapping_add(1).max(1);
        let seq = self.seq;
        let mut header = NetlinkHeader::default();
        header.flags = NLM_F_REQUEST | NLM_F_ACK | flags;
        header.sequence_number = seq;
        let mut packet = NetlinkMessage::new(header, NetlinkPayload::InnerMessage(message));
        packet.finalize();
        let mut bytes = vec![0; packet.buffer_len()];
        packet.serialize(&mut bytes);
        let kernel = SocketAddr::new(0, 0);
        self.socket
            .send_to(&bytes, &kernel, 0)
            .map_err(|e| failed(operation, e))?;

        let deadline = Instant::now() + REPLY_TIMEOUT;
        let mut replies = Vec::new();
        let mut interrupted = false;
        loop {
            if !readable_before(self.socket.as_raw_fd(), deadline).map_err(|e| failed(operation, e))? {
                let why = format!("no answer from the kernel within {REPLY_TIMEOUT:?}");
                return Err(failed(operation, io::Error::new(io::ErrorKind::TimedOut, why)));
            }
            let len = recv_datagram(&self.socket, &mut self.buf).map_err(|e| failed(operation, e))?;
            for Message {
                kind,
                flags: msg_flags,
                seq: msg_seq,
                payload,
            } in messages(&self.buf[..len]).map_err(|e| garbled(operation, e))?
            {
                if msg_seq != seq {
                    // Left over from an earlier request that gave up waiting.
                    continue;
                }
                interrupted |= msg_flags & NLM_F_DUMP_INTR != 0;
                match kind {
                    NLMSG_NOOP => {}
                    NLMSG_ERROR => {
                        let error = ErrorBuffer::new_checked(payload).map_err(|e| garbled(operation, e))?;
                        let Some(code) = error.code() else {
                            return Ok(replies);
                        };
                        let tlvs = error_tlvs(msg_flags, payload);
                        return Err(refused(operation, code.get(), kernel_message(msg_flags, tlvs)));
                    }
                    NLMSG_DONE => {
                        let done = DoneBuffer::new_checked(payload).map_err(|e| garbled(operation, e))?;
                        if done.code() < 0 {
                            let tlvs = payload.get(4..).unwrap_or_default();
                            return Err(refused(operation, done.code(), kernel_message(msg_flags, tlvs)));
                        }
                        if interrupted {
                            let why = "the dump raced with a change (NLM_F_DUMP_INTR)";
                            return Err(failed(operation, io::Error::new(io::ErrorKind::Interrupted, why)));
                        }
                        return Ok(replies);
                    }
                    NLMSG_OVERRUN => return Err(garbled(operation, "NLMSG_OVERRUN")),
                    _ => replies.push((kind, payload.to_vec())),
                }
            }
        }
    }
}

/// Whether the platform announces link and route changes to a socket that joins their
/// multicast group (RTNLGRP_LINK); gVisor refuses the membership with ENOPROTOOPT, and the
/// waits then ask again instead. `Err` says what joining gave.
pub fn notifications() -> Result<(), String> {
    let socket = open_socket().map_err(|e| format!("no route socket: {e}"))?;
    socket
        .add_membership(libc::RTNLGRP_LINK)
        .map_err(|e| format!("joining RTNLGRP_LINK: {e}"))
}

/// A route-netlink socket bound to a kernel-chosen port, with extended acks (the kernel's
/// reason for a refusal) and capped acks (no echo of our request) when the kernel has them.
fn open_socket() -> io::Result<Socket> {
    let mut socket = Socket::new(NETLINK_ROUTE)?;
    socket.bind_auto()?;
    // Both are refinements; an error here only means a less informative message later.
    let _ = socket.set_ext_ack(true);
    let _ = socket.set_cap_ack(true);
    Ok(socket)
}

/// An error for a request the kernel refused with `code` (a negative errno).
fn refused(operation: &str, code: i32, kernel_message: Option<String>) -> io::Error {
    NetlinkError {
        operation: operation.to_string(),
        error: io::Error::from_raw_os_error(code.saturating_abs()),
        kernel_message,
    }
    .into_io()
}

/// One netlink message inside a received datagram.
pub(super) struct Message<'a> {
    pub kind: u16,
    pub flags: u16,
    pub seq: u32,
    pub payload: &'a [u8],
}

/// Splits a datagram into its netlink messages. Fails, rather than panics, on a length that
/// does not fit.
pub(super) fn messages(datagram: &[u8]) -> Result<Vec<Message<'_>>, String> {
    let mut found = Vec::new();
    let mut offset = 0;
    while offset < datagram.len() {
        let rest = &datagram[offset..];
        let message = NetlinkBuffer::new_checked(rest).map_err(|e| e.to_string())?;
        let len = message.length() as usize;
        found.push(Message {
            kind: message.message_type(),
            flags: message.flags(),
            seq: message.sequence_number(),
            payload: message.payload(),
        });
        // Messages are 4-byte aligned; the last one may lack its padding.
        offset += len.next_multiple_of(4);
    }
    Ok(found)
}

/// The extended-ack attributes of an NLMSG_ERROR payload: after the errno and the echoed
/// request header (only the header when NLM_F_CAPPED, else the whole request).
fn error_tlvs(flags: u16, payload: &[u8]) -> &[u8] {
    let echoed = if flags & NLM_F_CAPPED != 0 {
        NLMSGHDR_LEN
    } else {
        payload
            .get(4..8)
            .and_then(|b| b.try_into().ok())
            .map_or(NLMSGHDR_LEN, |b| u32::from_ne_bytes(b) as usize)
    };
    echoed
        .checked_next_multiple_of(4)
        .and_then(|echoed| echoed.checked_add(4))
        .and_then(|start| payload.get(start..))
        .unwrap_or_default()
}

/// The kernel's explanation (NLMSGERR_ATTR_MSG), when the message carries ack attributes.
fn kernel_message(flags: u16, tlvs: &[u8]) -> Option<String> {
    if flags & NLM_F_ACK_TLVS == 0 {
        return None;
    }
    NlasIterator::new(tlvs)
        .map_while(Result::ok)
        .find(|nla| nla.kind() == NLMSGERR_ATTR_MSG)
        .map(|nla| String::from_utf8_lossy(nla.value()).trim_end_matches('\0').to_string())
        .filter(|message| !message.is_empty())
}

/// Receives one datagram whole, growing `buf` if it is larger than `buf` (MSG_PEEK |
/// MSG_TRUNC reports the real size without consuming it).
pub(super) fn recv_datagram(socket: &Socket, buf: &mut Vec<u8>) -> io::Result<usize> {
    loop {
        let size = match socket.recv(&mut &mut buf[..0], libc::MSG_PEEK | libc::MSG_TRUNC) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            other => other?,
        };
        if size > buf.len() {
            buf.resize(size, 0);
        }
        match socket.recv(&mut &mut buf[..], 0) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            other => return other,
        }
    }
}

/// Discards every datagram queued on `socket`, without blocking.
fn drain(socket: &Socket) -> io::Result<()> {
    loop {
        match socket.recv(&mut &mut [0u8; 0][..], libc::MSG_DONTWAIT | libc::MSG_TRUNC) {
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
            // An overflow or a signal: what is queued is still to be discarded.
            Err(e) if e.kind() == io::ErrorKind::Interrupted || e.raw_os_error() == Some(libc::ENOBUFS) => {}
            Err(e) => return Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::net::{IpAddr, Ipv4Addr};

    use super::super::errno;
    use super::super::fixtures::on_own_thread;
    use super::*;
    use crate::sys::NetNs;

    #[test]
    fn a_refusal_carries_the_kernels_explanation_when_it_gives_one() {
        on_own_thread(|| {
            let _ns = NetNs::create().unwrap();
            let mut nl = Netlink::open().unwrap();
            // Host bits set under the prefix: IPv4 refuses with an extended ack.
            let dst = IpAddr::from(Ipv4Addr::new(198, 18, 1, 1));
            let err = nl.add_route(dst, 24, None, Some("lo")).unwrap_err();
            assert_eq!(errno(&err), Some(libc::EINVAL), "{err}");
            let inner = err.get_ref().and_then(|e| e.downcast_ref::<NetlinkError>()).unwrap();
            assert!(inner.kernel_message.is_some(), "{err}");
            assert!(err.to_string().contains("; kernel says: "), "{err}");
        });
    }

    #[test]
    fn malformed_datagrams_are_errors_not_panics() {
        assert!(messages(&[0; 8]).is_err());
        let mut overlong = [0u8; 16];
        overlong[0] = 200; // claims 200 bytes
        assert!(messages(&overlong).is_err());
        let mut undersized = [0u8; 16];
        undersized[0] = 4; // shorter than its own header
        assert!(messages(&undersized).is_err());
        assert_eq!(kernel_message(NLM_F_ACK_TLVS, &[1, 0]), None);
        assert_eq!(error_tlvs(0, &[0xff; 6]), &[] as &[u8]);
        assert_eq!(error_tlvs(0, &[0xff; 40]), &[] as &[u8]);
    }
}

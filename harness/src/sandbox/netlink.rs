//! A small synchronous rtnetlink client: just enough to build a trial's network (links,
//! addresses, routes) inside a namespace, without an async runtime and without running `ip`.
//!
//! Every call acts on the network namespace the netlink socket was opened in, which is the
//! namespace of the thread that called [`Netlink::open`]. A `Netlink` opened in namespace B
//! keeps configuring B even after its thread has moved elsewhere, which is how one thread can
//! configure both ends of a veth pair.
//!
//! Every request asks for an acknowledgement, so a refusal comes back as an `io::Error` that
//! names the operation and carries the kernel's errno (see [`NetlinkError`] and [`errno`]).

use std::fmt;
use std::io;
use std::net::IpAddr;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};
use std::time::{Duration, Instant};

use netlink_packet_core::{
    DoneBuffer, ErrorBuffer, NLM_F_ACK, NLM_F_ACK_TLVS, NLM_F_CAPPED, NLM_F_CREATE, NLM_F_DUMP, NLM_F_DUMP_INTR,
    NLM_F_EXCL, NLM_F_REQUEST, NLMSG_DONE, NLMSG_ERROR, NLMSG_NOOP, NLMSG_OVERRUN, NetlinkBuffer, NetlinkHeader,
    NetlinkMessage, NetlinkPayload, NlasIterator, ParseableParametrized,
};
use netlink_packet_route::address::{AddressAttribute, AddressFlags, AddressHeaderFlags, AddressMessage};
use netlink_packet_route::link::{
    InfoData, InfoKind, InfoVeth, LinkAttribute, LinkFlags, LinkHeader, LinkInfo, LinkMessage, State,
};
use netlink_packet_route::route::{
    RouteAddress, RouteAttribute, RouteHeader, RouteMessage, RouteProtocol, RouteScope, RouteType,
};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};
use netlink_sys::protocols::NETLINK_ROUTE;
use netlink_sys::{Socket, SocketAddr};

/// How long one request may wait for the kernel's answer. rtnetlink answers synchronously, so
/// this only keeps a lost reply from hanging a trial forever.
const REPLY_TIMEOUT: Duration = Duration::from_secs(10);

/// Size of `struct ifinfomsg`, which precedes the attributes of a link message.
const IFINFOMSG_LEN: usize = 16;
/// Size of `struct nlmsghdr`.
const NLMSGHDR_LEN: usize = 16;
/// `IFLA_IFNAME` and `IFLA_OPERSTATE` from include/uapi/linux/if_link.h.
const IFLA_IFNAME: u16 = 3;
const IFLA_OPERSTATE: u16 = 16;
/// `NLMSGERR_ATTR_MSG` from include/uapi/linux/netlink.h: the extended ack's text.
const NLMSGERR_ATTR_MSG: u16 = 1;

/// A request the kernel refused (or a local failure while talking to it): which operation on
/// which object, and the underlying error. Wrapped in an `io::Error` whose kind follows the
/// errno, so callers can match on `ErrorKind` and still read a useful message.
#[derive(Debug)]
pub struct NetlinkError {
    /// What was being done, naming the object ("add address 198.18.0.1/24 on veth0").
    pub operation: String,
    /// The errno-carrying error (`raw_os_error()` is set when the kernel sent an errno).
    pub error: io::Error,
    /// The kernel's extended-ack text, when it explained itself.
    pub kernel_message: Option<String>,
}

impl NetlinkError {
    fn into_io(self) -> io::Error {
        io::Error::new(self.error.kind(), self)
    }
}

impl fmt::Display for NetlinkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "netlink: {}: {}", self.operation, self.error)?;
        if let Some(message) = &self.kernel_message {
            write!(f, "; kernel says: {message}")?;
        }
        Ok(())
    }
}

impl std::error::Error for NetlinkError {}

/// The errno behind an error from this module (or any `io::Error` with a raw OS error), so a
/// caller can tell EEXIST from ENODEV without parsing messages.
pub fn errno(err: &io::Error) -> Option<i32> {
    err.raw_os_error().or_else(|| {
        err.get_ref()
            .and_then(|inner| inner.downcast_ref::<NetlinkError>())
            .and_then(|e| e.error.raw_os_error())
    })
}

/// Wraps a local failure (socket, send, recv, poll) with the operation it interrupted.
fn failed(operation: &str, error: io::Error) -> io::Error {
    NetlinkError {
        operation: operation.to_string(),
        error,
        kernel_message: None,
    }
    .into_io()
}

/// A reply the kernel sent that this client cannot make sense of.
fn garbled(operation: &str, what: impl fmt::Display) -> io::Error {
    failed(
        operation,
        io::Error::new(io::ErrorKind::InvalidData, format!("malformed reply: {what}")),
    )
}

/// One link as the kernel describes it: enough to find it and to tell whether it can carry
/// packets yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkStatus {
    /// The ifindex, valid in the namespace the link lives in.
    pub index: u32,
    /// The interface name (IFLA_IFNAME).
    pub name: String,
    /// IFF_* flags: `Up` is the administrative state, `LowerUp` the carrier, `Running` the
    /// kernel's "operationally up" view.
    pub flags: LinkFlags,
    /// IFLA_OPERSTATE, the RFC 2863 state that the linkwatch worker maintains.
    pub oper_state: State,
}

impl LinkStatus {
    /// Whether the link was set administratively up (IFF_UP).
    pub fn is_admin_up(&self) -> bool {
        self.flags.contains(LinkFlags::Up)
    }

    /// Whether the link can carry packets now: operstate UP, or UNKNOWN on a device that keeps
    /// no operstate of its own (lo, dummy) but is up and running. A veth reports DOWN or
    /// LOWERLAYERDOWN until linkwatch has seen its carrier, never UNKNOWN.
    pub fn is_operational(&self) -> bool {
        match self.oper_state {
            State::Up => true,
            State::Unknown => self.flags.contains(LinkFlags::Up | LinkFlags::Running),
            _ => false,
        }
    }

    /// Reads a link from an RTM_NEWLINK payload. Only the header, the name and the operstate
    /// are decoded, so an attribute this crate version cannot parse does not lose the link.
    fn parse(payload: &[u8]) -> Result<LinkStatus, String> {
        let header = LinkHeader::parse(payload).map_err(|e| e.to_string())?;
        let mut status = LinkStatus {
            index: header.index,
            name: String::new(),
            flags: header.flags,
            oper_state: State::Unknown,
        };
        let attributes = payload.get(IFINFOMSG_LEN..).unwrap_or_default();
        for nla in NlasIterator::new(attributes) {
            let nla = nla.map_err(|e| e.to_string())?;
            if nla.kind() != IFLA_IFNAME && nla.kind() != IFLA_OPERSTATE {
                continue;
            }
            match LinkAttribute::parse_with_param(&nla, header.interface_family) {
                Ok(LinkAttribute::IfName(name)) => status.name = name,
                Ok(LinkAttribute::OperState(state)) => status.oper_state = state,
                Ok(_) => {}
                Err(e) => return Err(e.to_string()),
            }
        }
        Ok(status)
    }
}

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
type Replies = Vec<(u16, Vec<u8>)>;

impl Netlink {
    /// Opens a NETLINK_ROUTE socket in the calling thread's current network namespace; every
    /// later call configures that namespace, whichever namespace the caller is in by then.
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

    /// A link by name, with its state. Lets a trial check what it built (or that a link is
    /// absent) without knowing ifindexes.
    pub fn link(&mut self, name: &str) -> io::Result<LinkStatus> {
        self.link_for(name, &format!("look up link {name}"))
    }

    /// The ifindex of a link by name; routes and addresses refer to links by index.
    pub fn link_index(&mut self, name: &str) -> io::Result<u32> {
        Ok(self.link(name)?.index)
    }

    /// Every link in the namespace (an RTM_GETLINK dump). Useful to show what a sandbox
    /// contains when a trial fails.
    pub fn links(&mut self) -> io::Result<Vec<LinkStatus>> {
        let operation = "list links";
        // A dump that raced with a change is flagged NLM_F_DUMP_INTR; ask again.
        let mut attempts = 0;
        let replies = loop {
            attempts += 1;
            match self.request(
                RouteNetlinkMessage::GetLink(LinkMessage::default()),
                NLM_F_DUMP,
                operation,
            ) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted && attempts < 5 => continue,
                other => break other?,
            }
        };
        replies
            .iter()
            .filter(|(kind, _)| *kind == libc::RTM_NEWLINK)
            .map(|(_, payload)| LinkStatus::parse(payload).map_err(|e| garbled(operation, e)))
            .collect()
    }

    /// Sets a link administratively up (IFF_UP), e.g. "lo", which starts down in a new
    /// namespace. This does not wait for the link to carry packets: see `wait_until_up`.
    pub fn set_up(&mut self, name: &str) -> io::Result<()> {
        let mut message = LinkMessage::default();
        message.header.flags = LinkFlags::Up;
        message.header.change_mask = LinkFlags::Up;
        message.attributes.push(LinkAttribute::IfName(name.to_string()));
        self.request(RouteNetlinkMessage::SetLink(message), 0, &format!("set {name} up"))?;
        Ok(())
    }

    /// Creates a veth pair: `local` in this socket's namespace and `peer` directly inside
    /// `peer_ns` (IFLA_NET_NS_FD in the peer's message), so the peer never exists in the
    /// wrong namespace and needs no second move.
    pub fn create_veth(&mut self, local: &str, peer: &str, peer_ns: BorrowedFd<'_>) -> io::Result<()> {
        let mut peer_message = LinkMessage::default();
        peer_message.attributes.push(LinkAttribute::IfName(peer.to_string()));
        peer_message
            .attributes
            .push(LinkAttribute::NetNsFd(peer_ns.as_raw_fd()));
        let mut message = LinkMessage::default();
        message.attributes.push(LinkAttribute::IfName(local.to_string()));
        message.attributes.push(LinkAttribute::LinkInfo(vec![
            LinkInfo::Kind(InfoKind::Veth),
            LinkInfo::Data(InfoData::Veth(InfoVeth::Peer(peer_message))),
        ]));
        self.request(
            RouteNetlinkMessage::NewLink(message),
            NLM_F_CREATE | NLM_F_EXCL,
            &format!("create veth {local} with peer {peer}"),
        )?;
        Ok(())
    }

    /// Adds an IPv4 or IPv6 address with its prefix (which also adds the prefix route once
    /// the link is up) and returns once the address is usable, so a trial can bind it and be
    /// reached at it straight away.
    ///
    /// Why the wait: IPv6 addresses get IFA_F_NODAD, so they are never tentative and skip
    /// duplicate address detection, but the kernel still finishes setting them up in
    /// addrconf's workqueue after acknowledging the request: it joins the solicited-node
    /// multicast group, then installs the local route. Until then the address can be bound
    /// but neighbour solicitations for it are ignored and packets to it are not taken as
    /// local, and either costs a peer a 1 s retransmission. So this waits, event-driven, for
    /// the address's route in the local table. (IPv4 installs it before acknowledging, so
    /// there the wait ends at once.)
    pub fn add_address(&mut self, ifname: &str, addr: IpAddr, prefix_len: u8) -> io::Result<()> {
        let operation = format!("add address {addr}/{prefix_len} on {ifname}");
        let index = self.link_for(ifname, &operation)?.index;
        // Joined before the request, so the local route's announcement cannot be missed.
        let group = match addr {
            IpAddr::V4(_) => libc::RTNLGRP_IPV4_ROUTE,
            IpAddr::V6(_) => libc::RTNLGRP_IPV6_ROUTE,
        };
        let mut message = AddressMessage::default();
        message.header.family = family_of(addr);
        message.header.prefix_len = prefix_len;
        message.header.index = index;
        // Both IFA_LOCAL and IFA_ADDRESS, as iproute2 sends them for a non-peer address.
        message.attributes.push(AddressAttribute::Local(addr));
        message.attributes.push(AddressAttribute::Address(addr));
        if addr.is_ipv6() {
            message.header.flags = AddressHeaderFlags::Nodad;
            message.attributes.push(AddressAttribute::Flags(AddressFlags::Nodad));
        }
        self.with_events(group, &operation, |this, events| {
            this.request(
                RouteNetlinkMessage::NewAddress(message),
                NLM_F_CREATE | NLM_F_EXCL,
                &operation,
            )?;
            this.wait_until_local(events, addr, &operation)
        })
    }

    /// Waits until the kernel treats `addr` as local: a route lookup answers RTN_LOCAL, or
    /// `events` (subscribed to the family's route group) announces the local route. For IPv6
    /// that route is the last thing addrconf installs for a new address.
    fn wait_until_local(&mut self, events: &Socket, addr: IpAddr, operation: &str) -> io::Result<()> {
        let deadline = Instant::now() + REPLY_TIMEOUT;
        let mut buf = vec![0; 16 * 1024];
        let mut local = self.is_local(addr, operation);
        while !local {
            if !wait_readable(events.as_fd(), deadline).map_err(|e| failed(operation, e))? {
                let why = format!("{addr} was accepted but is not local after {REPLY_TIMEOUT:?}");
                return Err(failed(operation, io::Error::new(io::ErrorKind::TimedOut, why)));
            }
            match recv_datagram(events, &mut buf) {
                Ok(len) => {
                    let messages = messages(&buf[..len]).map_err(|e| garbled(operation, e))?;
                    local = messages
                        .iter()
                        .any(|m| m.kind == libc::RTM_NEWROUTE && is_local_route_to(m.payload, addr));
                }
                // The socket overflowed and announcements were lost: look again.
                Err(e) if e.raw_os_error() == Some(libc::ENOBUFS) => {
                    local = self.is_local(addr, operation);
                }
                Err(e) => return Err(failed(operation, e)),
            }
        }
        Ok(())
    }

    /// Whether a route lookup for `addr` answers RTN_LOCAL. Any refusal counts as "not yet":
    /// before its local route exists, an IPv6 address on a down link has no route at all.
    fn is_local(&mut self, addr: IpAddr, operation: &str) -> bool {
        let mut message = RouteMessage::default();
        message.header.address_family = family_of(addr);
        message.header.destination_prefix_length = if addr.is_ipv4() { 32 } else { 128 };
        message
            .attributes
            .push(RouteAttribute::Destination(RouteAddress::from(addr)));
        self.request(RouteNetlinkMessage::GetRoute(message), 0, operation)
            .is_ok_and(|replies| {
                replies.iter().any(|(kind, payload)| {
                    *kind == libc::RTM_NEWROUTE && RouteHeader::parse(payload).is_ok_and(|h| h.kind == RouteType::Local)
                })
            })
    }

    /// Adds a route to `dst/prefix_len` in the main table, via `gateway`, out of `ifname`, or
    /// both; routed topologies (a router namespace between two hosts) need more than the
    /// prefix routes that addresses bring.
    pub fn add_route(
        &mut self,
        dst: IpAddr,
        prefix_len: u8,
        gateway: Option<IpAddr>,
        ifname: Option<&str>,
    ) -> io::Result<()> {
        let mut operation = format!("add route {dst}/{prefix_len}");
        if let Some(gateway) = gateway {
            operation.push_str(&format!(" via {gateway}"));
        }
        if let Some(ifname) = ifname {
            operation.push_str(&format!(" dev {ifname}"));
        }
        let invalid = |why: &str| failed(&operation, io::Error::new(io::ErrorKind::InvalidInput, why.to_string()));
        if gateway.is_none() && ifname.is_none() {
            return Err(invalid("a route needs a gateway, a device or both"));
        }
        if gateway.is_some_and(|gw| gw.is_ipv4() != dst.is_ipv4()) {
            return Err(invalid("the gateway and the destination are of different families"));
        }
        let mut message = RouteMessage::default();
        message.header.address_family = family_of(dst);
        message.header.destination_prefix_length = prefix_len;
        message.header.table = RouteHeader::RT_TABLE_MAIN;
        message.header.protocol = RouteProtocol::Static;
        // Without a gateway the destination is on the link itself.
        message.header.scope = if gateway.is_some() {
            RouteScope::Universe
        } else {
            RouteScope::Link
        };
        message.header.kind = RouteType::Unicast;
        message
            .attributes
            .push(RouteAttribute::Destination(RouteAddress::from(dst)));
        if let Some(gateway) = gateway {
            message
                .attributes
                .push(RouteAttribute::Gateway(RouteAddress::from(gateway)));
        }
        if let Some(ifname) = ifname {
            let index = self.link_for(ifname, &operation)?.index;
            message.attributes.push(RouteAttribute::Oif(index));
        }
        self.request(
            RouteNetlinkMessage::NewRoute(message),
            NLM_F_CREATE | NLM_F_EXCL,
            &operation,
        )?;
        Ok(())
    }

    /// Waits until a link can carry packets (see [`LinkStatus::is_operational`]), or fails
    /// with `TimedOut` naming the link once `deadline` passes.
    ///
    /// Why: after `set_up` a veth only gets carrier and an active qdisc when the linkwatch
    /// worker runs; until then its transmit queue discards packets. The first packet out is
    /// usually an ARP request or reply (or IPv6 neighbour solicitation), and losing it costs
    /// the neighbour layer's 1 s retransmission, so the connect takes a second longer without
    /// any TCP retransmission to show for it.
    ///
    /// Linkwatch sets the operstate, activates the qdisc and then announces the change, all
    /// under the RTNL lock. Once UP is seen (queried or announced), a no-op request that takes
    /// the RTNL lock follows, so this returns only after that linkwatch run is over. The wait
    /// is event-driven: RTNLGRP_LINK is joined on a second socket before the state is
    /// queried, so a change between the query and the wait cannot be missed.
    pub fn wait_until_up(&mut self, name: &str, deadline: Instant) -> io::Result<()> {
        let operation = format!("wait for {name} to come up");
        self.with_events(libc::RTNLGRP_LINK, &operation, |this, events| {
            this.wait_for_link(events, name, deadline, &operation)
        })
    }

    /// The body of `wait_until_up`, with `events` joined to RTNLGRP_LINK.
    fn wait_for_link(&mut self, events: &Socket, name: &str, deadline: Instant, operation: &str) -> io::Result<()> {
        let mut status = self.link_for(name, operation)?;
        let mut buf = vec![0; 16 * 1024];
        loop {
            if status.is_operational() {
                return self.rtnl_barrier(status.index, operation);
            }
            if !wait_readable(events.as_fd(), deadline).map_err(|e| failed(operation, e))? {
                let why = format!(
                    "link {name} is not up by the deadline (operstate {}, flags {})",
                    status.oper_state, status.flags
                );
                return Err(failed(operation, io::Error::new(io::ErrorKind::TimedOut, why)));
            }
            let len = match recv_datagram(events, &mut buf) {
                Ok(len) => len,
                // The socket overflowed and events were lost: ask for the state again.
                Err(e) if e.raw_os_error() == Some(libc::ENOBUFS) => {
                    status = self.link_for(name, operation)?;
                    continue;
                }
                Err(e) => return Err(failed(operation, e)),
            };
            for Message { kind, payload, .. } in messages(&buf[..len]).map_err(|e| garbled(operation, e))? {
                if kind != libc::RTM_NEWLINK && kind != libc::RTM_DELLINK {
                    continue;
                }
                // Other links' events, or ones this crate cannot decode, are not ours.
                let Ok(event) = LinkStatus::parse(payload) else {
                    continue;
                };
                if event.index != status.index {
                    continue;
                }
                if kind == libc::RTM_DELLINK {
                    let why = format!("link {name} was deleted (or left the namespace)");
                    return Err(failed(operation, io::Error::new(io::ErrorKind::NotFound, why)));
                }
                status = event;
            }
        }
    }

    /// Returns once any linkwatch run in progress has finished with the link at `index`.
    /// Linkwatch writes the operstate before it activates the qdisc and holds the RTNL lock
    /// across both; an RTM_SETLINK that changes nothing (no flags, no change mask, no
    /// attributes) takes that lock too, so its ACK cannot come in between. This does not
    /// depend on whether RTM_GETLINK itself takes the lock on this kernel.
    fn rtnl_barrier(&mut self, index: u32, operation: &str) -> io::Result<()> {
        let mut message = LinkMessage::default();
        message.header.index = index;
        self.request(RouteNetlinkMessage::SetLink(message), 0, operation)?;
        Ok(())
    }

    /// Lends the event socket to `body`, joined to `group` (an RTNLGRP_*) and emptied of
    /// anything left over from an earlier wait, so that everything `body` reads was announced
    /// after it started. The socket leaves the group afterwards.
    fn with_events<T>(
        &mut self,
        group: u32,
        operation: &str,
        body: impl FnOnce(&mut Self, &Socket) -> io::Result<T>,
    ) -> io::Result<T> {
        let Some(events) = self.events.take() else {
            let why = io::Error::other("the event socket was lost by an earlier panic");
            return Err(failed(operation, why));
        };
        let result = drain(&events)
            .and_then(|()| events.add_membership(group))
            .map_err(|e| failed(operation, e))
            .and_then(|()| body(self, &events));
        let _ = events.drop_membership(group);
        self.events = Some(events);
        result
    }

    /// Looks a link up by name; `operation` names the caller's operation in errors, so a
    /// missing link reads "add address ... on veth9: No such device".
    fn link_for(&mut self, name: &str, operation: &str) -> io::Result<LinkStatus> {
        let mut message = LinkMessage::default();
        message.attributes.push(LinkAttribute::IfName(name.to_string()));
        let replies = self.request(RouteNetlinkMessage::GetLink(message), 0, operation)?;
        let (_, payload) = replies
            .iter()
            .find(|(kind, _)| *kind == libc::RTM_NEWLINK)
            .ok_or_else(|| garbled(operation, format!("no RTM_NEWLINK for {name}")))?;
        LinkStatus::parse(payload).map_err(|e| garbled(operation, e))
    }

    /// Sends one request with NLM_F_REQUEST | NLM_F_ACK | `flags` and collects what comes
    /// back until the ACK (or NLMSG_DONE for a dump). A negative ACK becomes an error naming
    /// `operation`, with the kernel's errno and extended-ack text.
    fn request(&mut self, message: RouteNetlinkMessage, flags: u16, operation: &str) -> io::Result<Replies> {
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
            if !wait_readable(self.socket.as_fd(), deadline).map_err(|e| failed(operation, e))? {
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

fn family_of(addr: IpAddr) -> AddressFamily {
    match addr {
        IpAddr::V4(_) => AddressFamily::Inet,
        IpAddr::V6(_) => AddressFamily::Inet6,
    }
}

/// Whether an RTM_NEWROUTE payload is the local route of `addr` (type RTN_LOCAL, destination
/// `addr`). Payloads this crate cannot decode are not it.
fn is_local_route_to(payload: &[u8], addr: IpAddr) -> bool {
    use netlink_packet_core::Parseable;
    RouteMessage::parse(payload).is_ok_and(|route| {
        route.header.kind == RouteType::Local
            && route
                .attributes
                .iter()
                .any(|a| *a == RouteAttribute::Destination(RouteAddress::from(addr)))
    })
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
struct Message<'a> {
    kind: u16,
    flags: u16,
    seq: u32,
    payload: &'a [u8],
}

/// Splits a datagram into its netlink messages. Fails, rather than panics, on a length that
/// does not fit.
fn messages(datagram: &[u8]) -> Result<Vec<Message<'_>>, String> {
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
fn recv_datagram(socket: &Socket, buf: &mut Vec<u8>) -> io::Result<usize> {
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

/// Blocks until `fd` is readable (true) or `deadline` passes (false), without sleeping in a
/// loop: one poll(2) per wake-up, with the time left rounded up to whole milliseconds.
fn wait_readable(fd: BorrowedFd<'_>, deadline: Instant) -> io::Result<bool> {
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let ms = left.as_nanos().div_ceil(1_000_000).min(i32::MAX as u128) as i32;
        let mut pfd = libc::pollfd {
            fd: fd.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd for the duration of the call.
        let rc = unsafe { libc::poll(&mut pfd, 1, ms) };
        if rc < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        if rc > 0 {
            return Ok(true);
        }
        if Instant::now() >= deadline {
            return Ok(false);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sys::NetNs;
    use std::io::{Read, Write};
    use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr as NetSocketAddr, TcpListener, TcpStream};

    // RFC 2544 (198.18.0.0/15) and RFC 5180 (2001:2::/48) benchmarking addresses only.
    const A4: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 1);
    const B4: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 2);
    const A6: Ipv6Addr = Ipv6Addr::new(0x2001, 2, 0, 0, 0, 0, 0, 1);
    const B6: Ipv6Addr = Ipv6Addr::new(0x2001, 2, 0, 0, 0, 0, 0, 2);

    /// Well under the 1 s that a lost ARP request, neighbour solicitation or SYN costs.
    const PROMPT: Duration = Duration::from_millis(300);

    /// Runs `body` on a new thread (namespaces are per thread, so the runner's thread never
    /// moves), or skips it when namespaces are unavailable here.
    fn on_own_thread(body: impl FnOnce() + Send + 'static) {
        if crate::prerequisite::unmet(crate::sys::namespaces_unavailable()) {
            return;
        }
        if let Err(panic) = std::thread::spawn(body).join() {
            std::panic::resume_unwind(panic);
        }
    }

    fn soon() -> Instant {
        Instant::now() + Duration::from_secs(5)
    }

    /// Namespaces A and B joined by veth0 (in A: 198.18.0.1/24, 2001:2::1/64) and veth1 (in
    /// B: .2), with lo up in both. The thread is left in A.
    struct Pair {
        a: NetNs,
        b: NetNs,
        nl_a: Netlink,
        nl_b: Netlink,
    }

    /// Builds the pair with both veth ends still down.
    fn pair_down() -> Pair {
        let a = NetNs::create().unwrap();
        let b = NetNs::create().unwrap();
        let mut nl_b = Netlink::open().unwrap();
        a.enter().unwrap();
        let mut nl_a = Netlink::open().unwrap();
        nl_a.create_veth("veth0", "veth1", b.as_fd()).unwrap();
        nl_a.add_address("veth0", A4.into(), 24).unwrap();
        nl_a.add_address("veth0", A6.into(), 64).unwrap();
        nl_b.add_address("veth1", B4.into(), 24).unwrap();
        nl_b.add_address("veth1", B6.into(), 64).unwrap();
        nl_a.set_up("lo").unwrap();
        nl_b.set_up("lo").unwrap();
        Pair { a, b, nl_a, nl_b }
    }

    /// Sets both veth ends up, in either order: the end set up second gets its qdisc at
    /// once, the other one only when linkwatch runs.
    fn set_both_up(pair: &mut Pair, b_first: bool) {
        if b_first {
            pair.nl_b.set_up("veth1").unwrap();
            pair.nl_a.set_up("veth0").unwrap();
        } else {
            pair.nl_a.set_up("veth0").unwrap();
            pair.nl_b.set_up("veth1").unwrap();
        }
    }

    /// The pair, up and waited for.
    fn pair() -> Pair {
        let mut pair = pair_down();
        set_both_up(&mut pair, false);
        pair.nl_a.wait_until_up("veth0", soon()).unwrap();
        pair.nl_b.wait_until_up("veth1", soon()).unwrap();
        pair
    }

    /// Binds a listener on `addr` inside `ns`, then returns the thread to `back`.
    fn listen_in(ns: &NetNs, back: &NetNs, addr: IpAddr) -> TcpListener {
        ns.enter().unwrap();
        let listener = TcpListener::bind(NetSocketAddr::new(addr, 0)).unwrap();
        back.enter().unwrap();
        listener
    }

    /// Connects to `listener`, exchanges a byte each way, and returns how long the connect
    /// took. Time is the symptom to check: a packet lost before the qdisc is active is
    /// usually an ARP or ND packet, which TCP's retransmission counters never see.
    fn connect_and_talk(listener: &TcpListener) -> Duration {
        let to = listener.local_addr().unwrap();
        let started = Instant::now();
        let mut client = TcpStream::connect_timeout(&to, Duration::from_secs(5)).unwrap();
        let took = started.elapsed();
        let (mut server, _) = listener.accept().unwrap();
        client.write_all(b"?").unwrap();
        let mut byte = [0];
        server.read_exact(&mut byte).unwrap();
        server.write_all(b"!").unwrap();
        client.read_exact(&mut byte).unwrap();
        assert_eq!(&byte, b"!");
        took
    }

    #[test]
    fn a_fresh_namespace_has_lo_down_until_set_up() {
        on_own_thread(|| {
            let _ns = NetNs::create().unwrap();
            let mut nl = Netlink::open().unwrap();
            let lo = nl.link("lo").unwrap();
            assert_eq!(lo.index, 1);
            assert!(!lo.is_admin_up(), "{lo:?}");
            assert!(!lo.is_operational(), "{lo:?}");
            assert!(TcpStream::connect((Ipv4Addr::LOCALHOST, 9)).is_err());
            nl.set_up("lo").unwrap();
            nl.wait_until_up("lo", soon()).unwrap();
            let lo = nl.link("lo").unwrap();
            assert!(lo.is_admin_up() && lo.is_operational(), "{lo:?}");
            assert_eq!(lo.oper_state, State::Unknown, "lo keeps no operstate of its own");
            let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
            assert!(connect_and_talk(&listener) < PROMPT);
        });
    }

    #[test]
    fn a_veth_pair_spans_two_namespaces_and_carries_tcp_both_families() {
        on_own_thread(|| {
            let started = Instant::now();
            let Pair {
                a,
                b,
                mut nl_a,
                mut nl_b,
            } = pair();
            eprintln!("topology built and up in {:?}", started.elapsed());
            // Each end lives only in its own namespace.
            assert_eq!(nl_a.link("veth0").unwrap().index, nl_a.link_index("veth0").unwrap());
            assert_eq!(errno(&nl_a.link("veth1").unwrap_err()), Some(libc::ENODEV));
            assert_eq!(errno(&nl_b.link("veth0").unwrap_err()), Some(libc::ENODEV));
            assert!(nl_b.link("veth1").unwrap().is_operational());
            for addr in [IpAddr::from(B4), IpAddr::from(B6)] {
                let listener = listen_in(&b, &a, addr);
                let took = connect_and_talk(&listener);
                eprintln!("connect to {addr} took {took:?}");
                assert!(took < PROMPT, "connect to {addr} took {took:?}");
            }
        });
    }

    #[test]
    fn connecting_right_after_wait_until_up_is_never_delayed() {
        // Many fresh pairs, the listeners bound before the links go up so that nothing slows
        // the client down. Without the wait, a qdisc still inactive drops a link-up packet
        // (ARP, ND) in 6 to 35 rounds in 100, and that connect takes 1 s (see the ignored
        // test below).
        on_own_thread(|| {
            for round in 0..30 {
                let mut pair = pair_down();
                let listener4 = listen_in(&pair.b, &pair.a, B4.into());
                let listener6 = listen_in(&pair.b, &pair.a, B6.into());
                set_both_up(&mut pair, round % 2 == 0);
                pair.nl_a.wait_until_up("veth0", soon()).unwrap();
                pair.nl_b.wait_until_up("veth1", soon()).unwrap();
                for listener in [&listener4, &listener6] {
                    let took = connect_and_talk(listener);
                    assert!(took < PROMPT, "round {round}: connect took {took:?}");
                }
            }
        });
    }

    #[test]
    #[ignore = "demonstrates the race wait_until_up avoids; timing-dependent by nature"]
    fn connecting_right_after_set_up_without_waiting_is_sometimes_delayed_by_a_second() {
        // Measured on Linux 6.18: a delayed round takes ~1.01 s, with one packet in one
        // veth's tx_dropped and no TCP SYN retransmission (TcpExt TCPSynRetrans stays 0).
        // 6 to 18 rounds in 100 here (about 1 in 3 with no IPv6 addresses, whose link-up
        // packets are often the ones dropped instead).
        on_own_thread(|| {
            let mut slow = 0;
            for round in 0..100 {
                let mut pair = pair_down();
                let listener = listen_in(&pair.b, &pair.a, B4.into());
                set_both_up(&mut pair, round % 2 == 0);
                if connect_and_talk(&listener) > PROMPT {
                    slow += 1;
                }
            }
            eprintln!("{slow} of 100 connects were delayed");
            assert!(slow > 0, "the race did not show up this time");
        });
    }

    #[test]
    fn waiting_returns_when_the_peer_comes_up_later() {
        on_own_thread(|| {
            let Pair {
                nl_a,
                mut nl_b,
                a: _a,
                b: _b,
            } = pair_down();
            // The thread is in A; the waiting Netlink belongs to B, so this also checks that
            // its announcements come from B and not from the thread's namespace.
            nl_b.set_up("veth1").unwrap();
            // The helper sleeps only so that the wait below is already blocked on its event
            // socket when the carrier comes; the wait itself never sleeps.
            let delay = Duration::from_millis(100);
            let helper = std::thread::spawn(move || {
                let mut nl_a = nl_a;
                std::thread::sleep(delay);
                nl_a.set_up("veth0").unwrap();
            });
            let started = Instant::now();
            nl_b.wait_until_up("veth1", soon()).unwrap();
            let waited = started.elapsed();
            helper.join().unwrap();
            assert!(waited >= delay && waited < delay + PROMPT, "{waited:?}");
            assert!(nl_b.link("veth1").unwrap().is_operational());
            // A second wait on the same Netlink starts clean and returns at once.
            nl_b.wait_until_up("veth1", soon()).unwrap();
        });
    }

    #[test]
    fn waiting_for_a_link_whose_peer_stays_down_times_out_naming_it() {
        on_own_thread(|| {
            // Keep B alive: dropping it would delete veth1 and veth0 with it.
            let Pair {
                mut nl_a,
                a: _a,
                b: _b,
                nl_b: _nl_b,
            } = pair_down();
            nl_a.set_up("veth0").unwrap();
            let started = Instant::now();
            let deadline = started + Duration::from_millis(200);
            let err = nl_a.wait_until_up("veth0", deadline).unwrap_err();
            let waited = started.elapsed();
            assert_eq!(err.kind(), io::ErrorKind::TimedOut, "{err}");
            assert!(err.to_string().contains("veth0"), "{err}");
            assert!(waited >= Duration::from_millis(200) && waited < Duration::from_secs(2));
            eprintln!("{err}");
        });
    }

    #[test]
    fn adding_the_same_address_twice_reports_eexist() {
        on_own_thread(|| {
            let ns = NetNs::create().unwrap();
            let mut nl = Netlink::open().unwrap();
            nl.create_veth("veth0", "veth1", ns.as_fd()).unwrap();
            nl.add_address("veth0", A4.into(), 24).unwrap();
            let err = nl.add_address("veth0", A4.into(), 24).unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::AlreadyExists);
            assert_eq!(errno(&err), Some(libc::EEXIST));
            let text = err.to_string();
            // Linux 6.18 adds "; kernel says: ipv4: Address already assigned".
            assert!(
                text.starts_with("netlink: add address 198.18.0.1/24 on veth0: File exists (os error 17)"),
                "{text}"
            );
            nl.add_address("veth0", A6.into(), 64).unwrap();
            let err = nl.add_address("veth0", A6.into(), 64).unwrap_err();
            assert_eq!(errno(&err), Some(libc::EEXIST), "{err}");
        });
    }

    #[test]
    fn operations_on_a_missing_link_name_it_and_report_enodev() {
        on_own_thread(|| {
            let _ns = NetNs::create().unwrap();
            let mut nl = Netlink::open().unwrap();
            let err = nl.set_up("nosuch0").unwrap_err();
            assert_eq!(errno(&err), Some(libc::ENODEV), "{err}");
            assert!(err.to_string().starts_with("netlink: set nosuch0 up: "), "{err}");
            let err = nl.add_address("nosuch0", A4.into(), 24).unwrap_err();
            assert_eq!(errno(&err), Some(libc::ENODEV), "{err}");
            assert!(
                err.to_string()
                    .starts_with("netlink: add address 198.18.0.1/24 on nosuch0: "),
                "{err}"
            );
            let err = nl.wait_until_up("nosuch0", soon()).unwrap_err();
            assert_eq!(errno(&err), Some(libc::ENODEV), "{err}");
        });
    }

    #[test]
    fn creating_an_existing_veth_reports_eexist() {
        on_own_thread(|| {
            let ns = NetNs::create().unwrap();
            let mut nl = Netlink::open().unwrap();
            nl.create_veth("veth0", "veth1", ns.as_fd()).unwrap();
            let err = nl.create_veth("veth0", "veth2", ns.as_fd()).unwrap_err();
            assert_eq!(errno(&err), Some(libc::EEXIST), "{err}");
            assert!(err.to_string().contains("create veth veth0 with peer veth2"), "{err}");
        });
    }

    #[test]
    fn a_dump_lists_every_link_in_the_namespace() {
        on_own_thread(|| {
            let ns = NetNs::create().unwrap();
            let mut nl = Netlink::open().unwrap();
            // Enough links that the dump spans several datagrams (five on Linux 6.18).
            for i in 0..40 {
                nl.create_veth(&format!("va{i}"), &format!("vb{i}"), ns.as_fd())
                    .unwrap();
            }
            let links = nl.links().unwrap();
            let mut names: Vec<&str> = links.iter().map(|l| l.name.as_str()).collect();
            names.sort_unstable();
            let mut expected = vec!["lo".to_string()];
            expected.extend((0..40).flat_map(|i| [format!("va{i}"), format!("vb{i}")]));
            expected.sort_unstable();
            assert_eq!(names, expected);
            // The socket is still in step: the next request gets its own answer.
            assert_eq!(nl.link_index("lo").unwrap(), 1);
        });
    }

    #[test]
    fn routes_reach_prefixes_beyond_the_link_via_a_gateway_or_a_device() {
        on_own_thread(|| {
            let Pair {
                a,
                b,
                mut nl_a,
                mut nl_b,
            } = pair();
            // B owns 198.18.1.1, 198.18.2.1 and 2001:2:0:1::1 on lo; A reaches them through B.
            let far4 = IpAddr::from(Ipv4Addr::new(198, 18, 1, 1));
            let far4_dev = IpAddr::from(Ipv4Addr::new(198, 18, 2, 1));
            let far6 = IpAddr::from(Ipv6Addr::new(0x2001, 2, 0, 1, 0, 0, 0, 1));
            nl_b.add_address("lo", far4, 32).unwrap();
            nl_b.add_address("lo", far4_dev, 32).unwrap();
            nl_b.add_address("lo", far6, 128).unwrap();
            let net4 = IpAddr::from(Ipv4Addr::new(198, 18, 1, 0));
            let net4_dev = IpAddr::from(Ipv4Addr::new(198, 18, 2, 0));
            let net6 = IpAddr::from(Ipv6Addr::new(0x2001, 2, 0, 1, 0, 0, 0, 0));
            nl_a.add_route(net4, 24, Some(B4.into()), None).unwrap();
            nl_a.add_route(net6, 64, Some(B6.into()), Some("veth0")).unwrap();
            // On-link: B answers ARP for any of its addresses (arp_ignore=0).
            nl_a.add_route(net4_dev, 24, None, Some("veth0")).unwrap();
            for addr in [far4, far6, far4_dev] {
                let listener = listen_in(&b, &a, addr);
                let took = connect_and_talk(&listener);
                assert!(took < PROMPT, "connect to {addr} took {took:?}");
            }
            let err = nl_a.add_route(net4, 24, Some(B4.into()), None).unwrap_err();
            assert_eq!(errno(&err), Some(libc::EEXIST), "{err}");
            assert!(
                err.to_string().contains("add route 198.18.1.0/24 via 198.18.0.2"),
                "{err}"
            );
            let err = nl_a.add_route(net4, 24, Some(B6.into()), None).unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{err}");
            let err = nl_a.add_route(net4, 24, None, None).unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{err}");
        });
    }

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
        assert!(LinkStatus::parse(&[0; 3]).is_err());
        assert_eq!(kernel_message(NLM_F_ACK_TLVS, &[1, 0]), None);
        assert_eq!(error_tlvs(0, &[0xff; 6]), &[] as &[u8]);
        assert_eq!(error_tlvs(0, &[0xff; 40]), &[] as &[u8]);
    }
}

//! Addresses (`ip address`): adding one and waiting until the kernel treats it as local.

use std::io;
use std::net::IpAddr;
use std::os::fd::AsRawFd;
use std::time::Instant;

use std::sync::OnceLock;

use netlink_packet_core::{NLM_F_CREATE, NLM_F_DUMP, NLM_F_EXCL, Parseable};
use netlink_packet_route::RouteNetlinkMessage;
use netlink_packet_route::address::{AddressAttribute, AddressHeaderFlags, AddressMessage};
use netlink_packet_route::route::{RouteAddress, RouteAttribute, RouteHeader, RouteMessage, RouteType};
use netlink_sys::Socket;

use super::socket::{messages, recv_datagram};
use super::{Netlink, REPLY_TIMEOUT, failed, family_of, garbled};
use crate::sys::{NetNs, readable_before};

impl Netlink {
    /// Adds an IPv4 or IPv6 address with its prefix (which also adds the prefix route once
    /// the link is up) and returns once the address is usable, so a trial can bind it and be
    /// reached at it straight away: `ip address add ADDR/PREFIX dev IFNAME` (`nodad` for
    /// IPv6), then `ip route get ADDR` until it says `local`.
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
        // In the header only, as iproute2 sends flags that fit in its eight bits: Linux reads
        // the header when there is no IFA_FLAGS, and gVisor refuses IFA_FLAGS (EOPNOTSUPP).
        if addr.is_ipv6() {
            message.header.flags = AddressHeaderFlags::Nodad;
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
    /// that route is the last thing addrconf installs for a new address. Without `events`
    /// (no multicast membership on this platform) the lookup is repeated, yielding between
    /// looks.
    fn wait_until_local(&mut self, events: Option<&Socket>, addr: IpAddr, operation: &str) -> io::Result<()> {
        if local_route_lookups().is_err() {
            return self.wait_until_listed(addr, operation);
        }
        let deadline = Instant::now() + REPLY_TIMEOUT;
        let mut buf = vec![0; 16 * 1024];
        let mut local = self.is_local(addr, operation);
        while !local {
            let Some(events) = events else {
                if Instant::now() >= deadline {
                    let why = format!("{addr} was accepted but is not local after {REPLY_TIMEOUT:?}");
                    return Err(failed(operation, io::Error::new(io::ErrorKind::TimedOut, why)));
                }
                std::thread::yield_now();
                local = self.is_local(addr, operation);
                continue;
            };
            if !readable_before(events.as_raw_fd(), deadline).map_err(|e| failed(operation, e))? {
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

    /// Where route lookups do not name local addresses, the evidence that the stack has
    /// taken `addr`: the address dump lists it (gVisor's netstack adds an address before it
    /// acknowledges the request, and keeps no work for later).
    fn wait_until_listed(&mut self, addr: IpAddr, operation: &str) -> io::Result<()> {
        let mut message = AddressMessage::default();
        message.header.family = family_of(addr);
        let replies = self.request(RouteNetlinkMessage::GetAddress(message), NLM_F_DUMP, operation)?;
        let listed = replies.iter().any(|(kind, payload)| {
            *kind == libc::RTM_NEWADDR
                && AddressMessage::parse(payload).is_ok_and(|m| {
                    m.attributes
                        .iter()
                        .any(|a| *a == AddressAttribute::Address(addr) || *a == AddressAttribute::Local(addr))
                })
        });
        if listed {
            return Ok(());
        }
        let why = format!("{addr} was accepted but the address dump does not list it");
        Err(failed(operation, io::Error::new(io::ErrorKind::NotFound, why)))
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
}

/// Whether this platform's route lookups name a local address as local (RTN_LOCAL), which is
/// how [`Netlink::add_address`] learns that an address is ready. Linux's do, from its local
/// table; gVisor's netstack keeps no local table, answers a lookup of its own address with
/// the link's prefix route, and refuses one of 127.0.0.1 (EOPNOTSUPP). Probed once per
/// process, on a throw-away thread in a namespace of its own: a lookup of 127.0.0.1 once lo
/// is up. `Err` says what was seen.
pub fn local_route_lookups() -> Result<(), String> {
    static PROBED: OnceLock<Result<(), String>> = OnceLock::new();
    PROBED
        .get_or_init(|| {
            std::thread::spawn(|| {
                let _ns = NetNs::create().map_err(|e| format!("no namespace to look in: {e}"))?;
                let mut nl = Netlink::open().map_err(|e| e.to_string())?;
                nl.set_up("lo").map_err(|e| e.to_string())?;
                nl.wait_until_up("lo", Instant::now() + REPLY_TIMEOUT)
                    .map_err(|e| e.to_string())?;
                let loopback = IpAddr::from(std::net::Ipv4Addr::LOCALHOST);
                match nl.is_local(loopback, "look up 127.0.0.1") {
                    true => Ok(()),
                    false => Err("a route lookup of 127.0.0.1, with lo up, does not answer RTN_LOCAL".to_string()),
                }
            })
            .join()
            .unwrap_or_else(|_| Err("the probe panicked".to_string()))
        })
        .clone()
}

/// Whether an RTM_NEWROUTE payload is the local route of `addr` (type RTN_LOCAL, destination
/// `addr`). Payloads this crate cannot decode are not it.
fn is_local_route_to(payload: &[u8], addr: IpAddr) -> bool {
    RouteMessage::parse(payload).is_ok_and(|route| {
        route.header.kind == RouteType::Local
            && route
                .attributes
                .iter()
                .any(|a| *a == RouteAttribute::Destination(RouteAddress::from(addr)))
    })
}

#[cfg(test)]
mod tests {
    use std::os::fd::AsFd;

    use super::super::errno;
    use super::super::fixtures::*;
    use super::*;
    use crate::sys::NetNs;

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
    fn an_address_is_local_as_soon_as_adding_it_returns() {
        // The wait ends on the local route's announcement (or a lookup that finds it), so a
        // route lookup right after the call already answers RTN_LOCAL, on a link that is
        // still down as on one that is up.
        on_own_thread(|| {
            let ns = NetNs::create().unwrap();
            let mut nl = Netlink::open().unwrap();
            nl.create_veth("veth0", "veth1", ns.as_fd()).unwrap();
            for (addr, prefix) in [(IpAddr::from(A4), 24), (IpAddr::from(A6), 64)] {
                nl.add_address("veth0", addr, prefix).unwrap();
                assert!(nl.is_local(addr, "look up"), "{addr} on a down link");
            }
            nl.set_up("veth0").unwrap();
            for (addr, prefix) in [(IpAddr::from(B4), 24), (IpAddr::from(B6), 64)] {
                nl.add_address("veth0", addr, prefix).unwrap();
                assert!(nl.is_local(addr, "look up"), "{addr} on an up link");
            }
        });
    }
}

//! Routes (`ip route`): adding one beyond the prefix routes that addresses bring, and giving
//! the route to one address a minimum retransmission timeout.

use std::io;
use std::net::IpAddr;
use std::time::Duration;

use netlink_packet_core::{NLM_F_CREATE, NLM_F_EXCL, NLM_F_REPLACE, Parseable};
use netlink_packet_route::RouteNetlinkMessage;
use netlink_packet_route::route::{
    RouteAddress, RouteAttribute, RouteHeader, RouteMessage, RouteMetric, RouteProtocol, RouteScope, RouteType,
};

use super::{Netlink, failed, family_of, garbled};

/// The route metric TCP reads as its floor for the retransmission timeout (linux/rtnetlink.h).
const RTAX_RTO_MIN: u32 = 13;

/// The table of local and broadcast routes (linux/rtnetlink.h).
const RT_TABLE_LOCAL: u8 = 255;

impl Netlink {
    /// Adds a route to `dst/prefix_len` in the main table, via `gateway`, out of `ifname`, or
    /// both; routed topologies (a router namespace between two hosts) need more than the
    /// prefix routes that addresses bring: `ip route add DST/PREFIX via GATEWAY dev IFNAME`.
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

    /// Gives the route to `dst` a locked minimum retransmission timeout, as `ip route replace
    /// DST/32 ... rto_min lock MS` does: a host route with the table, type, device, gateway and
    /// source (and, for IPv6, the metric that ranks it) of the route the lookup of `dst` finds,
    /// plus the rto_min metric. TCP takes it
    /// (tcp_rto_min) for every connection to `dst` as the floor of its RTO, of its tail loss
    /// probe on newer kernels and of the zero-window probe timer that ends TCP_CORK's hold.
    /// On loopback the route is the local one, which both ends of a connection use.
    pub fn set_rto_min(&mut self, dst: IpAddr, rto_min: Duration) -> io::Result<()> {
        let ms = u32::try_from(rto_min.as_millis()).unwrap_or(u32::MAX);
        let operation = format!("replace the route to {dst} with rto_min lock {ms} ms");
        let host_prefix = if dst.is_ipv4() { 32 } else { 128 };
        let mut query = RouteMessage::default();
        query.header.address_family = family_of(dst);
        query.header.destination_prefix_length = host_prefix;
        query
            .attributes
            .push(RouteAttribute::Destination(RouteAddress::from(dst)));
        let replies = self.request(RouteNetlinkMessage::GetRoute(query), 0, &operation)?;
        let found = replies
            .iter()
            .find(|(kind, _)| *kind == libc::RTM_NEWROUTE)
            .ok_or_else(|| garbled(&operation, "the lookup answered no route"))?;
        let found = RouteMessage::parse(&found.1).map_err(|e| garbled(&operation, e))?;

        let mut route = RouteMessage::default();
        route.header.address_family = family_of(dst);
        route.header.destination_prefix_length = host_prefix;
        // A lookup names the main table even for a local address, whose route lives in the
        // local table.
        let table = match found.header.kind {
            RouteType::Local => RT_TABLE_LOCAL,
            _ => found.header.table,
        };
        route.header.table = table;
        route.header.protocol = RouteProtocol::Static;
        route.header.kind = found.header.kind;
        let via_gateway = found.attributes.iter().any(|a| matches!(a, RouteAttribute::Gateway(_)));
        route.header.scope = match found.header.kind {
            RouteType::Local => RouteScope::Host,
            _ if via_gateway => RouteScope::Universe,
            _ => RouteScope::Link,
        };
        route
            .attributes
            .push(RouteAttribute::Destination(RouteAddress::from(dst)));
        route.attributes.push(RouteAttribute::Table(u32::from(table)));
        route.attributes.extend(found.attributes.into_iter().filter(|a| {
            matches!(
                a,
                RouteAttribute::Oif(_)
                    | RouteAttribute::Priority(_)
                    | RouteAttribute::Gateway(_)
                    | RouteAttribute::PrefSource(_)
            )
        }));
        route.attributes.push(RouteAttribute::Metrics(vec![
            RouteMetric::Lock(1 << RTAX_RTO_MIN),
            RouteMetric::RtoMin(ms),
        ]));
        // IPv6 gives a new route of metric 0 the user default (1024), which would rank below
        // the kernel's own route of metric 0 (the local route of ::1): that one goes first.
        if dst.is_ipv6() && route.attributes.contains(&RouteAttribute::Priority(0)) {
            let mut old = route.clone();
            old.header.protocol = RouteProtocol::Unspec;
            old.attributes.retain(|a| !matches!(a, RouteAttribute::Metrics(_)));
            self.request(RouteNetlinkMessage::DelRoute(old), 0, &operation)?;
        }
        self.request(
            RouteNetlinkMessage::NewRoute(route),
            NLM_F_CREATE | NLM_F_REPLACE,
            &operation,
        )?;
        Ok(())
    }
}

/// [`Netlink::set_rto_min`] in the calling thread's network namespace.
pub fn set_route_rto_min(dst: IpAddr, rto_min: Duration) -> io::Result<()> {
    Netlink::open()?.set_rto_min(dst, rto_min)
}

#[cfg(test)]
mod tests {
    use std::net::{Ipv4Addr, Ipv6Addr};

    use super::super::errno;
    use super::super::fixtures::*;
    use super::*;

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
                connect_and_talk(&listener);
                assert_nothing_dropped(&mut nl_a, &mut nl_b, &format!("connect to {addr}"));
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

    /// ip-route(8) `rto_min`: every connection to the address takes the floor as its RTO, on
    /// the local route of lo (both families) as on a veth's prefix route.
    #[test]
    fn a_route_s_rto_min_becomes_the_rto_of_connections_to_its_address() {
        on_own_thread(|| {
            let Pair { a, b, .. } = pair();
            let floor = Duration::from_secs(2);
            let loopback4 = IpAddr::from(Ipv4Addr::LOCALHOST);
            let loopback6 = IpAddr::from(Ipv6Addr::LOCALHOST);
            for (addr, listening) in [(loopback4, &a), (loopback6, &a), (B4.into(), &b), (B6.into(), &b)] {
                let listener = listen_in(listening, &a, addr);
                let before = rto_of_a_connection(&listener);
                assert!(before < floor, "{addr}: RTO {before:?} before the metric");
                set_route_rto_min(addr, floor).unwrap();
                let after = rto_of_a_connection(&listener);
                assert!(after >= floor, "{addr}: RTO {after:?} with rto_min {floor:?}");
            }
        });
    }

    fn rto_of_a_connection(listener: &std::net::TcpListener) -> Duration {
        let client = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let _server = listener.accept().unwrap();
        crate::sys::tcp_rto(&socket2::Socket::from(client)).unwrap()
    }
}

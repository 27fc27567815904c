//! Routes (`ip route`): adding one beyond the prefix routes that addresses bring.

use std::io;
use std::net::IpAddr;

use netlink_packet_core::{NLM_F_CREATE, NLM_F_EXCL};
use netlink_packet_route::RouteNetlinkMessage;
use netlink_packet_route::route::{
    RouteAddress, RouteAttribute, RouteHeader, RouteMessage, RouteProtocol, RouteScope, RouteType,
};

use super::{Netlink, failed, family_of};

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
}

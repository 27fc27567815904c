//! The namespaces of the `loopback`, `two_hosts` and `routed` topologies: created, their
//! sysctls written before any socket exists in them, their veth links, addresses and routes
//! set up through netlink, and a capture source prepared in each.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::{Duration, Instant};

use super::NetNs;
use super::netlink::Netlink;
use crate::capture::{Capture, CaptureSource};
use crate::sandbox::{
    CLIENT_V4, CLIENT_V6, FORWARDING, NO_DAD, ROUTED_SERVER_V4, ROUTED_SERVER_V6, ROUTER_CLIENT_SIDE_V4,
    ROUTER_CLIENT_SIDE_V6, SERVER_V4, SERVER_V6, apply_sysctls,
};
use crate::sys::Namespaces;
use crate::variant::{Family, Topology};

const CLIENT_LINK: &str = "veth-client";
const SERVER_LINK: &str = "veth-server";
const ROUTER_SERVER_SIDE_V4: Ipv4Addr = Ipv4Addr::new(198, 18, 1, 254);
const ROUTER_SERVER_SIDE_V6: Ipv6Addr = Ipv6Addr::new(0x2001, 2, 0, 1, 0, 0, 0, 0xffff);
const ROUTER_CLIENT_LINK: &str = "veth-to-client";
const ROUTER_SERVER_LINK: &str = "veth-to-server";
/// How long links may take to come up.
const LINK_UP_DEADLINE: Duration = Duration::from_secs(5);

fn in_namespace(which: &str, e: io::Error) -> io::Error {
    io::Error::new(e.kind(), format!("in {which} namespace: {e}"))
}

/// The namespaces of the `loopback`, `two_hosts` and `routed` topologies.
pub fn build_namespaces(
    topology: Topology,
    family: Family,
    sysctls: &[(String, String)],
    capture: &mut Capture,
) -> io::Result<Namespaces> {
    Ok(match topology {
        Topology::Loopback => {
            let ns = NetNs::create()?;
            apply_sysctls(sysctls).map_err(|e| in_namespace("the loopback", e))?;
            Netlink::open()?.set_up("lo")?;
            capture.add_source(CaptureSource::prepare("lo")?);
            let same = NetNs::current()?;
            Namespaces {
                client: ns,
                server: same,
                router: None,
            }
        }
        Topology::TwoHosts => {
            let server_ns = NetNs::create()?;
            apply_sysctls(sysctls).map_err(|e| in_namespace("the server's", e))?;
            Netlink::open()?.set_up("lo")?;
            capture.add_source(CaptureSource::prepare("server")?);
            let client_ns = NetNs::create()?;
            apply_sysctls(sysctls).map_err(|e| in_namespace("the client's", e))?;
            let mut client = Netlink::open()?;
            client.set_up("lo")?;
            capture.add_source(CaptureSource::prepare("client")?);
            client.create_veth(CLIENT_LINK, SERVER_LINK, std::os::fd::AsFd::as_fd(&server_ns))?;
            add_address(&mut client, family, CLIENT_LINK, CLIENT_V4, CLIENT_V6)?;
            client.set_up(CLIENT_LINK)?;
            server_ns.enter()?;
            let mut server = Netlink::open()?;
            add_address(&mut server, family, SERVER_LINK, SERVER_V4, SERVER_V6)?;
            server.set_up(SERVER_LINK)?;
            let deadline = Instant::now() + LINK_UP_DEADLINE;
            server.wait_until_up(SERVER_LINK, deadline)?;
            client_ns.enter()?;
            client.wait_until_up(CLIENT_LINK, deadline)?;
            Namespaces {
                client: client_ns,
                server: server_ns,
                router: None,
            }
        }
        Topology::Routed => build_routed(family, sysctls, capture)?,
        Topology::Host => unreachable!("the host topology has no namespaces"),
    })
}

/// Client, router and server: a veth pair on each side of the router, which forwards
/// between the two subnets; client and server route the benchmarking ranges through it.
/// It needs the sysctls of [`ROUTER_SYSCTLS`] ([`Topology::needs`]).
fn build_routed(family: Family, sysctls: &[(String, String)], capture: &mut Capture) -> io::Result<Namespaces> {
    let no_dad: Vec<(String, String)> = NO_DAD.iter().map(|&(k, v)| (k.into(), v.into())).collect();
    let server_ns = NetNs::create()?;
    apply_sysctls(&no_dad)?;
    apply_sysctls(sysctls).map_err(|e| in_namespace("the server's", e))?;
    let mut server = Netlink::open()?;
    server.set_up("lo")?;
    capture.add_source(CaptureSource::prepare("server")?);

    let router_ns = NetNs::create()?;
    apply_sysctls(&no_dad)?;
    apply_sysctls(sysctls).map_err(|e| in_namespace("the router's", e))?;
    let forwarding: Vec<(String, String)> = FORWARDING.iter().map(|&(k, v)| (k.into(), v.into())).collect();
    apply_sysctls(&forwarding).map_err(|e| in_namespace("the router's", e))?;
    let mut router = Netlink::open()?;
    router.set_up("lo")?;
    capture.add_source(CaptureSource::prepare("router")?.forwarding());
    router.create_veth(ROUTER_SERVER_LINK, SERVER_LINK, std::os::fd::AsFd::as_fd(&server_ns))?;

    let client_ns = NetNs::create()?;
    apply_sysctls(&no_dad)?;
    apply_sysctls(sysctls).map_err(|e| in_namespace("the client's", e))?;
    let mut client = Netlink::open()?;
    client.set_up("lo")?;
    capture.add_source(CaptureSource::prepare("client")?);
    client.create_veth(CLIENT_LINK, ROUTER_CLIENT_LINK, std::os::fd::AsFd::as_fd(&router_ns))?;

    let address = |netlink: &mut Netlink, link: &str, v4: Ipv4Addr, v6: Ipv6Addr| -> io::Result<()> {
        add_address(netlink, family, link, v4, v6)?;
        netlink.set_up(link)
    };
    address(&mut client, CLIENT_LINK, CLIENT_V4, CLIENT_V6)?;
    address(
        &mut router,
        ROUTER_CLIENT_LINK,
        ROUTER_CLIENT_SIDE_V4,
        ROUTER_CLIENT_SIDE_V6,
    )?;
    address(
        &mut router,
        ROUTER_SERVER_LINK,
        ROUTER_SERVER_SIDE_V4,
        ROUTER_SERVER_SIDE_V6,
    )?;
    address(&mut server, SERVER_LINK, ROUTED_SERVER_V4, ROUTED_SERVER_V6)?;
    let deadline = Instant::now() + LINK_UP_DEADLINE;
    client.wait_until_up(CLIENT_LINK, deadline)?;
    router.wait_until_up(ROUTER_CLIENT_LINK, deadline)?;
    router.wait_until_up(ROUTER_SERVER_LINK, deadline)?;
    server.wait_until_up(SERVER_LINK, deadline)?;
    let benchmarking_v4: IpAddr = Ipv4Addr::new(198, 18, 0, 0).into();
    let benchmarking_v6: IpAddr = Ipv6Addr::new(0x2001, 2, 0, 0, 0, 0, 0, 0).into();
    for (netlink, gw4, gw6) in [
        (&mut client, ROUTER_CLIENT_SIDE_V4, ROUTER_CLIENT_SIDE_V6),
        (&mut server, ROUTER_SERVER_SIDE_V4, ROUTER_SERVER_SIDE_V6),
    ] {
        if family == Family::V6 {
            netlink.add_route(benchmarking_v6, 48, Some(gw6.into()), None)?;
        } else {
            netlink.add_route(benchmarking_v4, 15, Some(gw4.into()), None)?;
        }
    }
    client_ns.enter()?;
    Ok(Namespaces {
        client: client_ns,
        server: server_ns,
        router: Some(router_ns),
    })
}

/// Gives `link` the address of the trial's family only: the other family's address (and, for
/// IPv6, its address and route set-up) would cost every build and serve no trial.
fn add_address(netlink: &mut Netlink, family: Family, link: &str, v4: Ipv4Addr, v6: Ipv6Addr) -> io::Result<()> {
    match family {
        Family::V6 => netlink.add_address(link, v6.into(), 64),
        _ => netlink.add_address(link, v4.into(), 24),
    }
}

//! A sandbox: the fresh, anonymous network namespaces of one trial, configured for its
//! topology, with a capture running in each before the first packet.
//!
//! The namespaces are held only by this value and by the sockets created in them, so they
//! vanish when the trial's thread ends: there is no name to clean up and nothing on the host
//! is touched. Links and addresses are set up through netlink, not by running `ip`.
//!
//! The `host` topology is the exception: no namespace at all, the host's own loopback, ports
//! the kernel picks (see [`HostPorts`]); it changes nothing on the host and runs only when
//! asked for, and on every platform.

mod host;
#[cfg(target_os = "linux")]
pub mod netlink;

pub use host::HostPorts;

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Instant;

use crate::capture::Capture;
#[cfg(target_os = "linux")]
use crate::capture::CaptureSource;
use crate::sys::{self, NetNs};
use crate::variant::{Family, Topology};
#[cfg(target_os = "linux")]
use netlink::Netlink;

/// Addresses of the `two_hosts` veth pair: the benchmarking ranges (RFC 2544 198.18.0.0/15,
/// RFC 5180 2001:2::/48), reserved for test networks and never routed.
const CLIENT_V4: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 1);
const SERVER_V4: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 2);
const CLIENT_V6: Ipv6Addr = Ipv6Addr::new(0x2001, 2, 0, 0, 0, 0, 0, 1);
const SERVER_V6: Ipv6Addr = Ipv6Addr::new(0x2001, 2, 0, 0, 0, 0, 0, 2);
#[cfg(target_os = "linux")]
const CLIENT_LINK: &str = "veth-client";
#[cfg(target_os = "linux")]
const SERVER_LINK: &str = "veth-server";

/// The `routed` topology: the client keeps its subnet (198.18.0.0/24, 2001:2::/64), the
/// server sits on a second one (198.18.1.0/24, 2001:2:0:1::/64), and the router has the
/// `.254` / `::ffff` address on each side.
const ROUTED_SERVER_V4: Ipv4Addr = Ipv4Addr::new(198, 18, 1, 2);
const ROUTED_SERVER_V6: Ipv6Addr = Ipv6Addr::new(0x2001, 2, 0, 1, 0, 0, 0, 2);
const ROUTER_CLIENT_SIDE_V4: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 254);
const ROUTER_CLIENT_SIDE_V6: Ipv6Addr = Ipv6Addr::new(0x2001, 2, 0, 0, 0, 0, 0, 0xffff);
#[cfg(target_os = "linux")]
const ROUTER_SERVER_SIDE_V4: Ipv4Addr = Ipv4Addr::new(198, 18, 1, 254);
#[cfg(target_os = "linux")]
const ROUTER_SERVER_SIDE_V6: Ipv6Addr = Ipv6Addr::new(0x2001, 2, 0, 1, 0, 0, 0, 0xffff);
#[cfg(target_os = "linux")]
const ROUTER_CLIENT_LINK: &str = "veth-to-client";
#[cfg(target_os = "linux")]
const ROUTER_SERVER_LINK: &str = "veth-to-server";

/// Addresses of the benchmarking ranges no host of any topology has: a destination the
/// client has no route to, and one the router has no route to (in the `routed` topology the
/// client sends everything of 198.18.0.0/15 and 2001:2::/48 to the router).
pub const UNROUTED_V4: Ipv4Addr = Ipv4Addr::new(198, 19, 255, 1);
pub const UNROUTED_V6: Ipv6Addr = Ipv6Addr::new(0x2001, 2, 0, 0xff, 0, 0, 0, 1);

/// Sysctls of every namespace of the `routed` topology, written before its links exist: no
/// duplicate address detection, so that link-local addresses are usable at once. (A router
/// sends its neighbour solicitations from its link-local address, and would hold forwarded
/// packets for a second or two while that address is still tentative.)
const NO_DAD: [(&str, &str); 2] = [
    ("net.ipv6.conf.all.accept_dad", "0"),
    ("net.ipv6.conf.default.accept_dad", "0"),
];

/// Every sysctl the `routed` topology writes, which it needs settable in a namespace.
pub const ROUTER_SYSCTLS: [&str; 5] = [
    NO_DAD[0].0,
    NO_DAD[1].0,
    FORWARDING[0].0,
    FORWARDING[1].0,
    FORWARDING[2].0,
];

/// Sysctls that make the router namespace forward (ip-sysctl.rst: `ip_forward`,
/// `conf/all/forwarding`).
const FORWARDING: [(&str, &str); 3] = [
    ("net.ipv4.ip_forward", "1"),
    ("net.ipv6.conf.all.forwarding", "1"),
    ("net.ipv6.conf.default.forwarding", "1"),
];

/// How long links may take to come up before the sandbox gives up.
#[cfg(target_os = "linux")]
const LINK_UP_DEADLINE: std::time::Duration = std::time::Duration::from_secs(5);

/// The namespaces and captures of one trial.
pub struct Sandbox {
    topology: Topology,
    family: Family,
    /// `None` in the `host` topology, which stays in the process's own namespace.
    client_ns: Option<NetNs>,
    server_ns: Option<NetNs>,
    /// The router's namespace, in the `routed` topology only.
    router_ns: Option<NetNs>,
    /// The ports of the `host` topology.
    host_ports: Option<HostPorts>,
}

/// Writes each sysctl (`net.ipv4.tcp_rfc1337`, `1`) in the calling thread's network
/// namespace, in order. Call it only on a thread inside a namespace of its own: the host's
/// sysctls must never change. The error names the key, the value and the kernel's answer
/// (a key the kernel does not have in a network namespace gives `NotFound`).
pub fn apply_sysctls(sysctls: &[(String, String)]) -> io::Result<()> {
    for (key, value) in sysctls {
        sys::write_sysctl(key, value).map_err(|e| {
            let why = match e.kind() {
                io::ErrorKind::NotFound => format!("no such sysctl in a network namespace ({e})"),
                _ => format!("the kernel refused the value ({e})"),
            };
            io::Error::new(e.kind(), format!("sysctl {key}={value}: {why}"))
        })?;
    }
    Ok(())
}

#[cfg(target_os = "linux")]
fn in_namespace(which: &str, e: io::Error) -> io::Error {
    io::Error::new(e.kind(), format!("in {which} namespace: {e}"))
}

impl Sandbox {
    /// Builds the topology on the calling thread, which must exist for this trial alone: it
    /// is moved into the new namespaces (and left in the client's). `sysctls` are written in
    /// each namespace right after it is created, before any socket exists in it (see
    /// [`apply_sysctls`]). Returns the sandbox and a capture already running in every
    /// namespace.
    pub fn build(
        topology: Topology,
        family: Family,
        sysctls: &[(String, String)],
        start: Instant,
    ) -> io::Result<(Sandbox, Capture)> {
        let mut capture = Capture::new(start);
        let sandbox = match topology {
            Topology::Host => {
                if let Some((key, _)) = sysctls.first() {
                    return Err(io::Error::new(
                        io::ErrorKind::Unsupported,
                        format!("the host topology never changes a sysctl of the host (asked for {key})"),
                    ));
                }
                let ports = HostPorts::reserve(family)?;
                host::add_capture(&mut capture);
                Sandbox {
                    topology,
                    family,
                    client_ns: None,
                    server_ns: None,
                    router_ns: None,
                    host_ports: Some(ports),
                }
            }
            _ => Sandbox::build_namespaces(topology, family, sysctls, &mut capture)?,
        };
        capture.start_sources()?;
        Ok((sandbox, capture))
    }

    #[cfg(not(target_os = "linux"))]
    fn build_namespaces(
        _topology: Topology,
        _family: Family,
        _sysctls: &[(String, String)],
        _capture: &mut Capture,
    ) -> io::Result<Sandbox> {
        NetNs::create().map(|ns| match ns {})
    }

    /// The namespaces of the `loopback`, `two_hosts` and `routed` topologies.
    #[cfg(target_os = "linux")]
    fn build_namespaces(
        topology: Topology,
        family: Family,
        sysctls: &[(String, String)],
        capture: &mut Capture,
    ) -> io::Result<Sandbox> {
        Ok(match topology {
            Topology::Loopback => {
                let ns = NetNs::create()?;
                apply_sysctls(sysctls).map_err(|e| in_namespace("the loopback", e))?;
                Netlink::open()?.set_up("lo")?;
                capture.add_source(CaptureSource::prepare("lo")?);
                let same = NetNs::current()?;
                Sandbox {
                    topology,
                    family,
                    client_ns: Some(ns),
                    server_ns: Some(same),
                    router_ns: None,
                    host_ports: None,
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
                Sandbox {
                    topology,
                    family,
                    client_ns: Some(client_ns),
                    server_ns: Some(server_ns),
                    router_ns: None,
                    host_ports: None,
                }
            }
            Topology::Routed => Sandbox::build_routed(family, sysctls, capture)?,
            Topology::Host => unreachable!("the host topology has no namespaces"),
        })
    }

    /// Client, router and server: a veth pair on each side of the router, which forwards
    /// between the two subnets; client and server route the benchmarking ranges through it.
    /// It needs the sysctls of [`ROUTER_SYSCTLS`] ([`Topology::needs`]).
    #[cfg(target_os = "linux")]
    fn build_routed(family: Family, sysctls: &[(String, String)], capture: &mut Capture) -> io::Result<Sandbox> {
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
        Ok(Sandbox {
            topology: Topology::Routed,
            family,
            client_ns: Some(client_ns),
            server_ns: Some(server_ns),
            router_ns: Some(router_ns),
            host_ports: None,
        })
    }

    pub fn topology(&self) -> Topology {
        self.topology
    }

    pub fn family(&self) -> Family {
        self.family
    }

    /// The client's address in this trial's family.
    pub fn client_ip(&self) -> IpAddr {
        match (self.topology, self.family) {
            (Topology::Loopback | Topology::Host, Family::V6) => Ipv6Addr::LOCALHOST.into(),
            (Topology::Loopback | Topology::Host, Family::V4 | Family::Unix) => Ipv4Addr::LOCALHOST.into(),
            (_, Family::V6) => CLIENT_V6.into(),
            (_, _) => CLIENT_V4.into(),
        }
    }

    /// The server's address in this trial's family.
    pub fn server_ip(&self) -> IpAddr {
        match (self.topology, self.family) {
            (Topology::Loopback | Topology::Host, _) => self.client_ip(),
            (Topology::TwoHosts, Family::V6) => SERVER_V6.into(),
            (Topology::TwoHosts, _) => SERVER_V4.into(),
            (Topology::Routed, Family::V6) => ROUTED_SERVER_V6.into(),
            (Topology::Routed, _) => ROUTED_SERVER_V4.into(),
        }
    }

    /// The router's address on the client's side, in the `routed` topology.
    pub fn router_ip(&self) -> Option<IpAddr> {
        self.router_ns.as_ref()?;
        Some(match self.family {
            Family::V6 => ROUTER_CLIENT_SIDE_V6.into(),
            _ => ROUTER_CLIENT_SIDE_V4.into(),
        })
    }

    /// The port a scenario's `port` stands for: itself in a namespace of the trial, one the
    /// kernel picked in the `host` topology.
    pub fn port(&self, port: u16) -> u16 {
        self.host_ports.as_ref().map_or(port, |ports| ports.port(port))
    }

    /// Moves the calling thread into the client's namespace: sockets and processes it
    /// creates next belong to the client host. In the `host` topology it stays where it is.
    pub fn enter_client(&self) -> io::Result<()> {
        self.client_ns.as_ref().map_or(Ok(()), NetNs::enter)
    }

    /// Moves the calling thread into the server's namespace.
    pub fn enter_server(&self) -> io::Result<()> {
        self.server_ns.as_ref().map_or(Ok(()), NetNs::enter)
    }

    /// Moves the calling thread into the router's namespace; fails outside the `routed`
    /// topology.
    pub fn enter_router(&self) -> io::Result<()> {
        match &self.router_ns {
            Some(ns) => ns.enter(),
            None => Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!("the {} topology has no router", self.topology),
            )),
        }
    }
}

/// Gives `link` the address of the trial's family only: the other family's address (and, for
/// IPv6, its address and route set-up) would cost every build and serve no trial.
#[cfg(target_os = "linux")]
fn add_address(netlink: &mut Netlink, family: Family, link: &str, v4: Ipv4Addr, v6: Ipv6Addr) -> io::Result<()> {
    match family {
        Family::V6 => netlink.add_address(link, v6.into(), 64),
        _ => netlink.add_address(link, v4.into(), 24),
    }
}

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

pub use host::HostPorts;

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Instant;

use crate::capture::Capture;
use crate::sys::{self, NetNs};
use crate::variant::{Family, Topology};

/// Addresses of the `two_hosts` veth pair: the benchmarking ranges (RFC 2544 198.18.0.0/15,
/// RFC 5180 2001:2::/48), reserved for test networks and never routed.
pub(crate) const CLIENT_V4: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 1);
pub(crate) const SERVER_V4: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 2);
pub(crate) const CLIENT_V6: Ipv6Addr = Ipv6Addr::new(0x2001, 2, 0, 0, 0, 0, 0, 1);
pub(crate) const SERVER_V6: Ipv6Addr = Ipv6Addr::new(0x2001, 2, 0, 0, 0, 0, 0, 2);

/// The `routed` topology: the client keeps its subnet (198.18.0.0/24, 2001:2::/64), the
/// server sits on a second one (198.18.1.0/24, 2001:2:0:1::/64), and the router has the
/// `.254` / `::ffff` address on each side.
pub(crate) const ROUTED_SERVER_V4: Ipv4Addr = Ipv4Addr::new(198, 18, 1, 2);
pub(crate) const ROUTED_SERVER_V6: Ipv6Addr = Ipv6Addr::new(0x2001, 2, 0, 1, 0, 0, 0, 2);
pub(crate) const ROUTER_CLIENT_SIDE_V4: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 254);
pub(crate) const ROUTER_CLIENT_SIDE_V6: Ipv6Addr = Ipv6Addr::new(0x2001, 2, 0, 0, 0, 0, 0, 0xffff);

/// Addresses of the benchmarking ranges no host of any topology has: a destination the
/// client has no route to, and one the router has no route to (in the `routed` topology the
/// client sends everything of 198.18.0.0/15 and 2001:2::/48 to the router).
pub const UNROUTED_V4: Ipv4Addr = Ipv4Addr::new(198, 19, 255, 1);
pub const UNROUTED_V6: Ipv6Addr = Ipv6Addr::new(0x2001, 2, 0, 0xff, 0, 0, 0, 1);

/// Sysctls of every namespace of the `routed` topology, written before its links exist: no
/// duplicate address detection, so that link-local addresses are usable at once. (A router
/// sends its neighbour solicitations from its link-local address, and would hold forwarded
/// packets for a second or two while that address is still tentative.)
pub(crate) const NO_DAD: [(&str, &str); 2] = [
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
pub(crate) const FORWARDING: [(&str, &str); 3] = [
    ("net.ipv4.ip_forward", "1"),
    ("net.ipv6.conf.all.forwarding", "1"),
    ("net.ipv6.conf.default.forwarding", "1"),
];

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
            _ => {
                let namespaces = sys::build_namespaces(topology, family, sysctls, &mut capture)?;
                Sandbox {
                    topology,
                    family,
                    client_ns: Some(namespaces.client),
                    server_ns: Some(namespaces.server),
                    router_ns: namespaces.router,
                    host_ports: None,
                }
            }
        };
        capture.start_sources()?;
        Ok((sandbox, capture))
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

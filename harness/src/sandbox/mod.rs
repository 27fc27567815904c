//! A sandbox: the fresh, anonymous network namespaces of one trial, configured for its
//! topology, with a capture running in each before the first packet.
//!
//! The namespaces are held only by this value and by the sockets created in them, so they
//! vanish when the trial's thread ends: there is no name to clean up and nothing on the host
//! is touched. Links and addresses are set up through netlink, not by running `ip`.

pub mod netlink;

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::{Duration, Instant};

use crate::capture::{Capture, CaptureSource};
use crate::sys::{self, NetNs};
use crate::variant::{Family, Topology};
use netlink::Netlink;

/// Addresses of the `two_hosts` veth pair: the benchmarking ranges (RFC 2544 198.18.0.0/15,
/// RFC 5180 2001:2::/48), reserved for test networks and never routed.
const CLIENT_V4: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 1);
const SERVER_V4: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 2);
const CLIENT_V6: Ipv6Addr = Ipv6Addr::new(0x2001, 2, 0, 0, 0, 0, 0, 1);
const SERVER_V6: Ipv6Addr = Ipv6Addr::new(0x2001, 2, 0, 0, 0, 0, 0, 2);
const CLIENT_LINK: &str = "veth-client";
const SERVER_LINK: &str = "veth-server";

/// How long links may take to come up before the sandbox gives up.
const LINK_UP_DEADLINE: Duration = Duration::from_secs(5);

/// The namespaces and captures of one trial.
pub struct Sandbox {
    topology: Topology,
    family: Family,
    client_ns: NetNs,
    server_ns: NetNs,
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
            Topology::Loopback => {
                let ns = NetNs::create()?;
                apply_sysctls(sysctls).map_err(|e| in_namespace("the loopback", e))?;
                Netlink::open()?.set_up("lo")?;
                capture.add_source(CaptureSource::open("lo")?);
                let same = NetNs::current()?;
                Sandbox {
                    topology,
                    family,
                    client_ns: ns,
                    server_ns: same,
                }
            }
            Topology::TwoHosts => {
                let server_ns = NetNs::create()?;
                apply_sysctls(sysctls).map_err(|e| in_namespace("the server's", e))?;
                Netlink::open()?.set_up("lo")?;
                capture.add_source(CaptureSource::open("server")?);
                let client_ns = NetNs::create()?;
                apply_sysctls(sysctls).map_err(|e| in_namespace("the client's", e))?;
                let mut client = Netlink::open()?;
                client.set_up("lo")?;
                capture.add_source(CaptureSource::open("client")?);
                client.create_veth(CLIENT_LINK, SERVER_LINK, std::os::fd::AsFd::as_fd(&server_ns))?;
                client.add_address(CLIENT_LINK, CLIENT_V4.into(), 24)?;
                client.add_address(CLIENT_LINK, CLIENT_V6.into(), 64)?;
                client.set_up(CLIENT_LINK)?;
                server_ns.enter()?;
                let mut server = Netlink::open()?;
                server.add_address(SERVER_LINK, SERVER_V4.into(), 24)?;
                server.add_address(SERVER_LINK, SERVER_V6.into(), 64)?;
                server.set_up(SERVER_LINK)?;
                let deadline = Instant::now() + LINK_UP_DEADLINE;
                server.wait_until_up(SERVER_LINK, deadline)?;
                client_ns.enter()?;
                client.wait_until_up(CLIENT_LINK, deadline)?;
                Sandbox {
                    topology,
                    family,
                    client_ns,
                    server_ns,
                }
            }
        };
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
            (Topology::Loopback, Family::V4) => Ipv4Addr::LOCALHOST.into(),
            (Topology::Loopback, Family::V6) => Ipv6Addr::LOCALHOST.into(),
            (Topology::TwoHosts, Family::V4) => CLIENT_V4.into(),
            (Topology::TwoHosts, Family::V6) => CLIENT_V6.into(),
        }
    }

    /// The server's address in this trial's family.
    pub fn server_ip(&self) -> IpAddr {
        match (self.topology, self.family) {
            (Topology::Loopback, _) => self.client_ip(),
            (Topology::TwoHosts, Family::V4) => SERVER_V4.into(),
            (Topology::TwoHosts, Family::V6) => SERVER_V6.into(),
        }
    }

    /// Moves the calling thread into the client's namespace: sockets and processes it
    /// creates next belong to the client host.
    pub fn enter_client(&self) -> io::Result<()> {
        self.client_ns.enter()
    }

    /// Moves the calling thread into the server's namespace.
    pub fn enter_server(&self) -> io::Result<()> {
        self.server_ns.enter()
    }
}

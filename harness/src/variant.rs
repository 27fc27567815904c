//! The two axes a scenario varies over: address family and topology.

use serde::{Deserialize, Serialize};

use crate::capabilities::Need;

/// Address family of a trial.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Family {
    V4,
    V6,
    /// Unix domain sockets (AF_UNIX): no address family of IP, kept for comparison.
    Unix,
}

impl Family {
    /// The IP families, which every TCP and UDP scenario runs over.
    pub const ALL: [Family; 2] = [Family::V4, Family::V6];

    pub fn as_str(self) -> &'static str {
        match self {
            Family::V4 => "v4",
            Family::V6 => "v6",
            Family::Unix => "unix",
        }
    }
}

/// Where the client and the server live.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Topology {
    /// One fresh namespace with only `lo`: client and server share the stack.
    Loopback,
    /// A client namespace and a server namespace joined by a veth pair: two stacks.
    TwoHosts,
    /// Client, router and server namespaces, each pair joined by a veth pair, the router
    /// forwarding between two subnets: ICMP errors come from a real router on the path.
    Routed,
    /// The machine's own loopback (127.0.0.1, ::1) with ports the kernel picks: no namespace,
    /// no sysctl, no firewall. The one topology of platforms without network namespaces; on
    /// Linux it runs only when asked for (`--topology host`), as it shares the host's stack.
    Host,
}

impl Topology {
    /// The topologies every scenario runs in unless it needs a router.
    pub const ALL: [Topology; 2] = [Topology::Loopback, Topology::TwoHosts];

    /// What every trial in this topology needs, whatever its scenario: namespaces, and for the
    /// router the sysctls that make it forward without duplicate address detection
    /// (`crate::sandbox::ROUTER_SYSCTLS`; gVisor lets a namespace set none of them).
    pub fn needs(self) -> &'static [Need] {
        const ROUTED: [Need; 6] = [
            Need::Namespaces,
            Need::Sysctl(crate::sandbox::ROUTER_SYSCTLS[0]),
            Need::Sysctl(crate::sandbox::ROUTER_SYSCTLS[1]),
            Need::Sysctl(crate::sandbox::ROUTER_SYSCTLS[2]),
            Need::Sysctl(crate::sandbox::ROUTER_SYSCTLS[3]),
            Need::Sysctl(crate::sandbox::ROUTER_SYSCTLS[4]),
        ];
        match self {
            Topology::Loopback | Topology::TwoHosts => &[Need::Namespaces],
            Topology::Routed => &ROUTED,
            Topology::Host => &[],
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Topology::Loopback => "loopback",
            Topology::TwoHosts => "two_hosts",
            Topology::Routed => "routed",
            Topology::Host => "host",
        }
    }
}

impl std::fmt::Display for Family {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::fmt::Display for Topology {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

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
}

impl Topology {
    /// The topologies every scenario runs in unless it needs a router.
    pub const ALL: [Topology; 2] = [Topology::Loopback, Topology::TwoHosts];

    /// What every trial in this topology needs, whatever its scenario.
    pub fn needs(self) -> &'static [Need] {
        match self {
            Topology::Loopback | Topology::TwoHosts | Topology::Routed => &[Need::Namespaces],
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Topology::Loopback => "loopback",
            Topology::TwoHosts => "two_hosts",
            Topology::Routed => "routed",
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

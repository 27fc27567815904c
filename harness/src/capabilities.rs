//! What a trial needs from the platform beyond plain sockets, and what this platform offers,
//! probed once per run. A scenario declares its needs; the runner skips a trial whose need is
//! missing, with one line saying what is missing and how to get it, before the trial starts.
//! A trial that uses something it did not declare is caught by the trial, which marks each use.
//!
//! Beside the needs, [`Offered`] holds what the harness adapts to by itself where a platform
//! lacks it (a Linux kernel offers all of it; gVisor's netstack, a stack of its own behind
//! Linux's system calls, offers some): capture with recvmsg(2) where there is no packet ring,
//! asking again where there are no netlink notifications, the address dump where route
//! lookups do not name local addresses, a thread's state where /proc does not name its
//! system call, iptables where there is no nf_tables, POLLIN asked beside POLLRDHUP where a
//! FIN does not wake a poll for POLLRDHUP alone, and waits that could never be met not
//! attempted. Reports list both (`platform.capabilities`).

use std::collections::BTreeMap;
use std::fmt;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use crate::capture::Receiving;
use crate::sys;

/// One thing a trial may need.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Need {
    /// Fresh network namespaces (every topology but `host`).
    Namespaces,
    /// Firewall rules inside a namespace: the `nft` program and nf_tables in the kernel, or,
    /// where the kernel has no nf_tables, `iptables-legacy` (the rules are written in nft's
    /// syntax and translated; one with no translation skips the trial when it is set).
    Nftables,
    /// A per-namespace sysctl the trial writes (`net.ipv4.tcp_rfc1337`).
    Sysctl(&'static str),
    /// A capture of the trial's packets: the trial waits on the wire.
    PacketCapture,
    /// Whether a thread is blocked, and in which system call (`/proc/<pid>/task/<tid>/stat`
    /// and `.../syscall`): the trial waits until a thread is blocked in a call. Where /proc
    /// names no call (gVisor), the thread's state alone is the evidence.
    ProcTaskState,
    /// TCP_INFO `tcpi_bytes_acked`: the trial waits until acknowledgements are processed.
    TcpInfoBytesAcked,
    /// The namespace's table of TCP sockets (`/proc/net/tcp`): the trial waits on sockets no
    /// descriptor reaches (TIME_WAIT, orphans).
    TcpTable,
    /// The namespace's protocol counters (`/proc/net/snmp`).
    ProtocolCounters,
    /// epoll(7).
    Epoll,
    /// Child processes made with fork(2) (a peer process, a writer with SIGPIPE at default).
    Fork,
    /// ICMP errors of UDP sockets on their error queue (IP_RECVERR, MSG_ERRQUEUE).
    ErrorQueue,
    /// A language runtime whose client makes the client's steps (a runtime trial).
    Runtime(crate::runtime::Runtime),
}

impl fmt::Display for Need {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Need::Namespaces => f.write_str("network namespaces"),
            Need::Nftables => f.write_str("nftables"),
            Need::Sysctl(key) => write!(f, "sysctl {key}"),
            Need::PacketCapture => f.write_str("packet capture"),
            Need::ProcTaskState => f.write_str("/proc task state"),
            Need::TcpInfoBytesAcked => f.write_str("TCP_INFO tcpi_bytes_acked"),
            Need::TcpTable => f.write_str("/proc/net/tcp"),
            Need::ProtocolCounters => f.write_str("/proc/net/snmp"),
            Need::Epoll => f.write_str("epoll"),
            Need::Fork => f.write_str("fork"),
            Need::ErrorQueue => f.write_str("the socket error queue"),
            Need::Runtime(runtime) => write!(f, "the {} runtime", runtime.name()),
        }
    }
}

/// Why a need cannot be met here, and how to meet it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Missing {
    /// What is missing, in a few words: `the nft program`.
    pub what: String,
    /// What to do about it: `apt-get install nftables`, or why nothing can be done.
    pub remedy: String,
}

impl fmt::Display for Missing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.what, self.remedy)
    }
}

/// Whether `need` can be met here: what [`Offered`] found, the platform's probe, or the
/// runtime's own check.
fn probe(need: Need) -> Result<(), Missing> {
    let offered = Offered::get();
    let missing = |what: &str, remedy: &str| Missing {
        what: what.to_string(),
        remedy: remedy.to_string(),
    };
    match need {
        Need::Runtime(runtime) => match runtime.missing() {
            None => Ok(()),
            Some(why) => Err(Missing {
                what: format!("the {} runtime", runtime.name()),
                remedy: why,
            }),
        },
        Need::Nftables if offered.iptables.is_ok() => Ok(()),
        Need::PacketCapture => offered
            .packet_capture
            .as_ref()
            .map_err(|why| missing("a packet socket", why))
            .copied(),
        Need::ProcTaskState => offered
            .task_state
            .as_ref()
            .map_err(|why| missing("a thread's state in /proc", why))
            .copied(),
        Need::TcpInfoBytesAcked => offered
            .tcp_info_bytes_acked
            .as_ref()
            .map_err(|why| missing("TCP_INFO tcpi_bytes_acked", why))
            .copied(),
        Need::ErrorQueue => offered
            .udp_error_queue
            .as_ref()
            .map_err(|why| missing("the error queue of an unconnected UDP socket", why))
            .copied(),
        _ => sys::probe(need),
    }
}

/// The needs probed for this run and the ones found missing.
#[derive(Debug, Clone, Default)]
pub struct Capabilities {
    probed: BTreeMap<Need, Option<Missing>>,
}

impl Capabilities {
    /// Probes each distinct need once (on throw-away threads where a namespace is involved).
    pub fn probe(needs: impl IntoIterator<Item = Need>) -> Capabilities {
        let mut probed = BTreeMap::new();
        for need in needs {
            probed.entry(need).or_insert_with(|| probe(need).err());
        }
        Capabilities { probed }
    }

    /// Capabilities that report `missing` for the needs given, and everything else present:
    /// for tests, and for runs that know better than a probe (a platform the run refuses).
    pub fn with_missing(missing: impl IntoIterator<Item = (Need, Missing)>) -> Capabilities {
        Capabilities {
            probed: missing.into_iter().map(|(n, m)| (n, Some(m))).collect(),
        }
    }

    /// Why `need` cannot be met, or `None` when it can or was never probed.
    pub fn missing(&self, need: Need) -> Option<&Missing> {
        self.probed.get(&need).and_then(Option::as_ref)
    }

    /// The first of `needs` that cannot be met, with why.
    pub fn first_missing(&self, needs: impl IntoIterator<Item = Need>) -> Option<(Need, &Missing)> {
        needs.into_iter().find_map(|n| self.missing(n).map(|m| (n, m)))
    }

    /// Every need found missing.
    pub fn all_missing(&self) -> impl Iterator<Item = (Need, &Missing)> {
        self.probed.iter().filter_map(|(n, m)| m.as_ref().map(|m| (*n, m)))
    }

    /// Every need probed, with why it is missing where it is.
    pub fn probed(&self) -> impl Iterator<Item = (Need, Option<&Missing>)> {
        self.probed.iter().map(|(n, m)| (*n, m.as_ref()))
    }

    /// What the platform offered ([`Offered`]) and every need probed, as a report lists them.
    pub fn records(&self) -> Vec<CapabilityRecord> {
        let mut records = Offered::get().records();
        records.extend(self.probed().map(|(need, missing)| CapabilityRecord {
            name: format!("need: {need}"),
            available: missing.is_none(),
            detail: missing.map(ToString::to_string).unwrap_or_default(),
        }));
        records
    }
}

/// A probe's answer: available, or what was seen instead (one line).
pub type Probe = Result<(), String>;

/// What the platform offers that the harness adapts to by itself, probed once per process on
/// a throw-away thread in a network namespace of its own (nothing of the host is touched).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Offered {
    /// An AF_PACKET socket: without one no trial sees its wire.
    pub packet_capture: Probe,
    /// PACKET_RX_RING, whose frames are stamped when tapped. Fallback: recvmsg(2) with receive
    /// timestamps.
    pub packet_ring: Probe,
    /// PACKET_STATISTICS, the count of frames a capture dropped. Without it a wire's drop
    /// count stays 0 whatever was lost.
    pub packet_drop_count: Probe,
    /// rtnetlink multicast membership. Fallback: asking for the state again.
    pub netlink_notifications: Probe,
    /// Route lookups that answer RTN_LOCAL for a local address. Fallback: the address dump.
    pub local_route_lookups: Probe,
    /// `nft` and nf_tables.
    pub nftables: Probe,
    /// `iptables-legacy` and `ip6tables-legacy`: the firewall's fallback.
    pub iptables: Probe,
    /// `/proc/<pid>/task/<tid>/syscall`. Fallback: the thread's state.
    pub task_syscall: Probe,
    /// `/proc/<pid>/task/<tid>/stat`: whether a thread is asleep.
    pub task_state: Probe,
    /// TCP_INFO `tcpi_bytes_acked` counts the bytes the peer acknowledged (gVisor leaves it 0).
    pub tcp_info_bytes_acked: Probe,
    /// /proc/net/tcp lists the connections no descriptor holds (TIME_WAIT); gVisor lists only
    /// sockets with a descriptor, and the waits on that table are not attempted there.
    pub tcp_table_time_wait: Probe,
    /// An unconnected UDP socket with IP_RECVERR is told of a port unreachable (gVisor accepts
    /// the option and queues nothing).
    pub udp_error_queue: Probe,
    /// A peer's FIN wakes a poll(2) for POLLRDHUP alone (gVisor wakes it only when POLLIN is
    /// asked too). Fallback: POLLIN asked as well.
    pub poll_rdhup_wakeup: Probe,
    /// Bytes of TCP_INFO the platform fills (fewer on older kernels), 0 where it has none.
    pub tcp_info_len: usize,
    /// How a capture receives here, when it can.
    pub capture_method: Option<Receiving>,
}

/// One capability as a report lists it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct CapabilityRecord {
    /// What was probed (`packet_ring`, `need: sysctl net.ipv4.tcp_rfc1337`).
    pub name: String,
    pub available: bool,
    /// What was seen when it is not available, or how it is used when it is.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub detail: String,
}

impl Offered {
    /// What this platform offers, probed on first use and kept for the rest of the process.
    pub fn get() -> &'static Offered {
        static PROBED: OnceLock<Offered> = OnceLock::new();
        PROBED.get_or_init(|| match sys::in_fresh_namespace(Offered::probe_here) {
            Ok(offered) => offered,
            Err(e) => Offered::none(&format!("no network namespace to probe in ({e})")),
        })
    }

    /// Nothing available, for the reason given.
    pub(crate) fn none(why: &str) -> Offered {
        let no = || Err(why.to_string());
        Offered {
            packet_capture: no(),
            packet_ring: no(),
            packet_drop_count: no(),
            netlink_notifications: no(),
            local_route_lookups: no(),
            nftables: no(),
            iptables: no(),
            task_syscall: no(),
            task_state: no(),
            tcp_info_bytes_acked: no(),
            tcp_table_time_wait: no(),
            udp_error_queue: no(),
            poll_rdhup_wakeup: no(),
            tcp_info_len: 0,
            capture_method: None,
        }
    }

    /// Runs every probe in the calling thread's namespace, a fresh one (where the platform
    /// has none, every capability is missing with the reason).
    fn probe_here() -> Offered {
        sys::probe_offered()
    }

    /// Every capability as a report lists it.
    pub fn records(&self) -> Vec<CapabilityRecord> {
        let record = |name: &str, probe: &Probe, used: String| CapabilityRecord {
            name: name.to_string(),
            available: probe.is_ok(),
            detail: match probe {
                Ok(()) => used,
                Err(why) => why.clone(),
            },
        };
        let method = self
            .capture_method
            .map(|m| m.describe().to_string())
            .unwrap_or_default();
        vec![
            record("packet_capture", &self.packet_capture, method),
            record("packet_ring", &self.packet_ring, String::new()),
            record("packet_drop_count", &self.packet_drop_count, String::new()),
            record("netlink_notifications", &self.netlink_notifications, String::new()),
            record("local_route_lookups", &self.local_route_lookups, String::new()),
            record("nftables", &self.nftables, String::new()),
            record("iptables", &self.iptables, String::new()),
            record("task_syscall", &self.task_syscall, String::new()),
            record("task_state", &self.task_state, String::new()),
            record(
                "tcp_info_bytes_acked",
                &self.tcp_info_bytes_acked,
                format!("TCP_INFO is {} bytes", self.tcp_info_len),
            ),
            record("tcp_table_time_wait", &self.tcp_table_time_wait, String::new()),
            record("udp_error_queue", &self.udp_error_queue, String::new()),
            record("poll_rdhup_wakeup", &self.poll_rdhup_wakeup, String::new()),
        ]
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    /// On the Linux kernels the suite runs on, everything is there (iptables-legacy aside,
    /// which a machine may lack) and a run needs no fallback.
    #[test]
    fn a_linux_kernel_offers_everything_the_harness_adapts_to() {
        if crate::prerequisite::unmet(sys::namespaces_unavailable()) {
            return;
        }
        let found = Offered::get();
        assert_eq!(found.packet_capture, Ok(()));
        assert_eq!(found.packet_ring, Ok(()));
        assert_eq!(found.capture_method, Some(Receiving::Ring));
        assert_eq!(found.packet_drop_count, Ok(()));
        assert_eq!(found.netlink_notifications, Ok(()));
        assert_eq!(found.local_route_lookups, Ok(()));
        assert_eq!(found.task_syscall, Ok(()));
        assert_eq!(found.task_state, Ok(()));
        assert_eq!(found.tcp_info_bytes_acked, Ok(()));
        assert_eq!(found.tcp_table_time_wait, Ok(()));
        assert_eq!(found.udp_error_queue, Ok(()));
        assert_eq!(found.poll_rdhup_wakeup, Ok(()));
        assert!(found.tcp_info_len >= 120, "{}", found.tcp_info_len);
        let names: Vec<String> = found.records().into_iter().map(|r| r.name).collect();
        assert!(names.contains(&"nftables".to_string()), "{names:?}");
    }

    /// proc_sys(5): a per-namespace sysctl takes its own value back; one the kernel does not
    /// have is no file. The records list each need probed, with why it is missing.
    #[test]
    fn the_records_list_each_need_probed_with_why_it_is_missing() {
        if crate::prerequisite::unmet(sys::namespaces_unavailable()) {
            return;
        }
        let capabilities = Capabilities::probe([
            Need::Sysctl("net.ipv4.tcp_rfc1337"),
            Need::Sysctl("net.ipv4.no_such_knob"),
        ]);
        let records = capabilities.records();
        let found = |name: &str| records.iter().find(|r| r.name == name).cloned().unwrap();
        assert!(found("need: sysctl net.ipv4.tcp_rfc1337").available);
        let missing = found("need: sysctl net.ipv4.no_such_knob");
        assert!(!missing.available);
        assert!(missing.detail.contains("net.ipv4.no_such_knob"), "{}", missing.detail);
    }
}

//! What a trial needs from the platform beyond plain sockets, and what this platform offers,
//! probed once per run. A scenario declares its needs; the runner skips a trial whose need is
//! missing, with one line saying what is missing and how to get it, before the trial starts.
//! A trial that uses something it did not declare is caught by [`crate::Trial::uses`].

use std::collections::BTreeMap;
use std::fmt;

/// One thing a trial may need.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Need {
    /// Fresh network namespaces (every topology but `host`).
    Namespaces,
    /// Firewall rules inside a namespace: the `nft` program and nf_tables in the kernel.
    Nftables,
    /// A per-namespace sysctl the trial writes (`net.ipv4.tcp_rfc1337`).
    Sysctl(&'static str),
    /// A capture of the trial's packets: the trial waits on the wire.
    PacketCapture,
    /// Which system call a thread sleeps in (`/proc/<pid>/task/<tid>/syscall`): the trial
    /// waits until a thread is blocked in a call.
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

/// Whether `need` can be met here: the platform's probe, or the runtime's own check.
fn probe(need: Need) -> Result<(), Missing> {
    match need {
        Need::Runtime(runtime) => match runtime.missing() {
            None => Ok(()),
            Some(why) => Err(Missing {
                what: format!("the {} runtime", runtime.name()),
                remedy: why,
            }),
        },
        _ => crate::sys::probe(need),
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
}

//! What a trial observed: its steps and its wire. Plain, serialisable data; the report model
//! (crate `sockerr-reports`) embeds these types unchanged, so the JSON names here are part of
//! the report contract.

use serde::{Deserialize, Serialize};

pub mod runtime;

pub use runtime::{Answer, RuntimeStep};

/// The return of one system call as the program saw it: a value, or an errno.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct CallResult {
    /// The call's return value when it succeeded (bytes, fd, ready count); `None` on error or
    /// when the calling process was killed before the call returned.
    pub ret: Option<i64>,
    /// errno name (`"ECONNRESET"`): names, not numbers, because numbers differ between systems.
    pub errno: Option<String>,
    /// errno number on the platform that ran the trial.
    pub errno_code: Option<i32>,
}

impl CallResult {
    /// The outcome in the notation expectation files use: the errno name (`ECONNRESET`),
    /// `ok=N` for a return value, or `killed` when the caller died before the call returned.
    pub fn outcome(&self) -> String {
        match (&self.errno, self.ret) {
            (Some(errno), _) => errno.clone(),
            (None, Some(ret)) => format!("ok={ret}"),
            (None, None) => "killed".to_string(),
        }
    }
}

impl Step {
    /// The outcome in the notation expectation files use: the call's (`ECONNRESET`, `ok=1`),
    /// or, for a step a runtime client made, what the runtime reported
    /// (`java.net.SocketException: Connection reset`, `ok=5`, `unsupported`).
    pub fn outcome(&self) -> String {
        match &self.runtime {
            Some(answer) => answer.summary(),
            None => self.result.outcome(),
        }
    }

    /// Whether the call succeeded: it returned a value, or the runtime that made it reported
    /// success. A script waits for what a call sends only when it succeeded: a runtime may
    /// refuse a call without making it (Node.js refuses writes once the peer ended).
    pub fn succeeded(&self) -> bool {
        match &self.runtime {
            Some(answer) => answer.outcome == "ok",
            None => self.result.errno.is_none() && self.result.ret.is_some(),
        }
    }

    /// The outcome, with the signals the step raised: `EPIPE +SIGPIPE`.
    pub fn outcome_with_signals(&self) -> String {
        let mut text = self.outcome();
        for s in &self.signals {
            text.push_str(" +");
            text.push_str(s);
        }
        text
    }
}

/// One labelled operation of a trial and everything seen around it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Step {
    /// `actor.verb#n`, e.g. `client.read#1`: the n-th `verb` of that actor in this trial.
    pub label: String,
    /// `client`, `server`, or another actor the scenario names.
    pub actor: String,
    /// The call as made, e.g. `send(1 byte, MSG_NOSIGNAL)`.
    pub op: String,
    pub result: CallResult,
    /// poll(2) revents after the step (or of the step itself, for a poll step), by name.
    pub revents: Vec<String>,
    /// TCP state from TCP_INFO after the step; `None` when the socket is gone or not TCP.
    pub tcp_state: Option<String>,
    /// Signals delivered to the caller during the step (e.g. `SIGPIPE`).
    pub signals: Vec<String>,
    /// Microseconds from the start of the trial to the start of the call.
    pub t_us: u64,
    /// How long the call took, in microseconds.
    pub elapsed_us: u64,
    /// Anything else the call returned worth reading: bytes read, a peer address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// For a step a runtime client made (Java, Python, Go, Node.js, Rust): what the runtime
    /// reported, exception type and message exactly; `result` then holds the errno the
    /// runtime exposes, if it exposes one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runtime: Option<Answer>,
}

/// Which way a segment went, seen from the trial's client and server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
pub enum Direction {
    #[serde(rename = "client>server")]
    ClientToServer,
    #[serde(rename = "server>client")]
    ServerToClient,
    /// An ICMP error a router on the path sent back towards the client (`routed` topology).
    #[serde(rename = "router>client")]
    RouterToClient,
    /// An ICMP error a router on the path sent back towards the server.
    #[serde(rename = "router>server")]
    RouterToServer,
}

impl Direction {
    /// The other way between client and server (a router's direction has no reverse: itself).
    pub fn reverse(self) -> Direction {
        match self {
            Direction::ClientToServer => Direction::ServerToClient,
            Direction::ServerToClient => Direction::ClientToServer,
            other => other,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Direction::ClientToServer => "client>server",
            Direction::ServerToClient => "server>client",
            Direction::RouterToClient => "router>client",
            Direction::RouterToServer => "router>server",
        }
    }
}

impl std::fmt::Display for Direction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The protocol of a captured packet.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Proto {
    #[default]
    Tcp,
    Udp,
    /// ICMP or ICMPv6.
    Icmp,
}

/// One captured packet of the trial's conversation: a TCP segment, a UDP datagram, or an
/// ICMP error about either. (Named after the common case: most are TCP segments.)
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Segment {
    pub dir: Direction,
    /// Absent in reports written before UDP and ICMP were captured: those hold TCP only.
    #[serde(default)]
    pub proto: Proto,
    /// TCP: tcpdump's flag notation, `S`, `S.`, `.`, `P.`, `F.`, `R`, `R.`, `FP.` ... UDP:
    /// `UDP`. ICMP: `ICMP` and the error's name as nft spells it (`ICMP port-unreachable`,
    /// `ICMP6 admin-prohibited`; `ICMP type 3 code 7` when it has no name).
    pub flags: String,
    /// Sequence number relative to the first one seen in this segment's direction of its
    /// connection (as tcpdump prints them).
    pub seq: u32,
    /// Acknowledgement number relative to the first sequence number seen in the opposite
    /// direction (a reset answering a lone SYN shows `ack 1`); absolute when that direction
    /// was never seen; 0 when the segment carries no ACK flag.
    pub ack: u32,
    /// TCP payload length in bytes.
    pub len: u32,
    /// Microseconds since the start of the trial.
    pub t_us: u64,
    /// Source and destination as `addr:port` (`[v6]:port` for IPv6).
    pub src: String,
    pub dst: String,
    /// Advertised window (unscaled, as on the wire).
    pub win: u16,
    /// Forged by the trial and injected from the namespace of the host it impersonates (see
    /// `Trial::inject`), not sent by that host's TCP.
    #[serde(default, skip_serializing_if = "is_false")]
    pub injected: bool,
}

fn is_false(b: &bool) -> bool {
    !*b
}

impl std::fmt::Display for Segment {
    /// A tcpdump-like line: `   0.123ms client>server [S.] seq 0 ack 1 win 65495 len 0`.
    /// UDP and ICMP: `   0.123ms router>client [ICMP host-unreachable] len 0`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let injected = if self.injected { " (injected)" } else { "" };
        if self.proto != Proto::Tcp {
            return write!(
                f,
                "{:>10.3}ms {} [{}] len {}{injected}",
                self.t_us as f64 / 1000.0,
                self.dir,
                self.flags,
                self.len
            );
        }
        write!(
            f,
            "{:>10.3}ms {} [{}] seq {} ack {} win {} len {}{injected}",
            self.t_us as f64 / 1000.0,
            self.dir,
            self.flags,
            self.seq,
            self.ack,
            self.win,
            self.len
        )
    }
}

/// The packets of one trial.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Wire {
    /// Whether a capture ran for the whole trial.
    pub captured: bool,
    pub segments: Vec<Segment>,
    /// Frames the kernel dropped from the capture (buffer full): when non-zero the segments
    /// are incomplete.
    #[serde(default)]
    pub drops: u64,
    /// The pcapng file of this trial, relative to the report, when one was written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pcap: Option<String>,
    /// Why no capture ran, when none did (the `host` topology without packet capture).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_captured: Option<String>,
}

/// One event-driven wait of a trial (for a packet, for readiness) and whether it was met
/// before its deadline. A wait that was not met does not stop the trial: the steps after it
/// show what the program then saw.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Wait {
    /// What was awaited, e.g. `the server's reset on the wire`.
    pub what: String,
    pub met: bool,
    /// Microseconds from the start of the trial to the start of the wait.
    pub t_us: u64,
    /// How long the wait took, in microseconds.
    pub waited_us: u64,
}

/// A setting a trial changed from the system's default, so that a reader knows a timer was
/// shortened (a retry count, a keepalive interval) and the outcome is not the default's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Knob {
    /// `sysctl net.ipv4.tcp_syn_retries` or `setsockopt TCP_USER_TIMEOUT`.
    pub name: String,
    /// Where it applies: the host (`server`, `client`, `router`) for a sysctl, the actor for
    /// a socket option.
    pub scope: String,
    pub value: String,
    /// The value it had before the trial changed it, when it could be read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
}

impl std::fmt::Display for Knob {
    /// `sysctl net.ipv4.tcp_retries2 = 1 (server; default 15)`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} = {} ({}", self.name, self.value, self.scope)?;
        if let Some(default) = &self.default {
            write!(f, "; default {default}")?;
        }
        f.write_str(")")
    }
}

/// The runtime client that made a trial's client steps: its API and the runtime's version as
/// the client reported it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ClientInfo {
    /// `java.net.Socket`, `python.asyncio`, `go.net`, `node.net`, `rust.tokio` ...
    pub api: String,
    /// `OpenJDK 17.0.15`, `Python 3.11.7`, `go1.19.8`, `Node.js v20.20.2` ...
    pub runtime: String,
}

/// What answered the segments a trial injected: the segments sent the other way (by the host
/// that received them), not injected, from the first injected segment until the first step
/// that followed the last `inject` step. `Trial::inject` waits until the receiving host has
/// taken the injected segments before the script goes on, so an answer the kernel sends while
/// processing them falls in this span. `None` when nothing was injected.
pub fn answer_to_injection<'a>(steps: &[Step], segments: &'a [Segment]) -> Option<Vec<&'a Segment>> {
    let first = segments.iter().find(|s| s.injected)?;
    let last_inject = steps.iter().rposition(|s| s.label.contains(".inject#"));
    let until = last_inject
        .and_then(|i| steps.get(i + 1))
        .map_or(u64::MAX, |next| next.t_us);
    let answering = first.dir.reverse();
    Some(
        segments
            .iter()
            .filter(|s| !s.injected && s.dir == answering && s.t_us >= first.t_us && s.t_us < until)
            .collect(),
    )
}

/// Everything one trial observed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Observation {
    pub steps: Vec<Step>,
    pub waits: Vec<Wait>,
    pub wire: Wire,
    /// Settings the trial changed from the defaults, in the order it changed them.
    pub knobs: Vec<Knob>,
    /// The runtime client that made the client's steps, for a runtime trial.
    pub client: Option<ClientInfo>,
    /// Why the trial could not run to its end (sandbox or set-up failure), if it could not.
    pub error: Option<String>,
    /// Why the scenario could not run on this machine (no `nft`, no IPv6 route ...), with the
    /// remedy: a skip, not a failure.
    pub skipped: Option<String>,
    /// Microseconds the whole trial took, sandbox set-up and tear-down included.
    pub elapsed_us: u64,
    /// Microseconds spent building the sandbox (namespaces, links, captures).
    pub setup_us: u64,
    /// Microseconds the scenario's script ran (its calls and waits); the rest of
    /// `elapsed_us` is the harness's overhead.
    pub script_us: u64,
}

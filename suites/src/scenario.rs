//! A scenario: one documented situation, as one declared value. Its script drives endpoints
//! and labels each step; it never decides what the right answer is.
//!
//! Most fields have a default in [`Scenario::BASE`], which each scenario updates:
//!
//! ```ignore
//! Scenario {
//!     id: "abort.linger0.read_first",
//!     claim: "...",
//!     sources: &["socket(7): SO_LINGER with a zero timeout"],
//!     situations: &[7, 8],
//!     guidance: "...",
//!     script: linger0_read_first,
//!     ..Scenario::BASE
//! }
//! ```

use sockerr_harness::runtime::Api;
use sockerr_harness::{Family, Need, ScriptResult, Topology, Trial};

#[derive(Clone)]
pub struct Scenario {
    /// `area.situation.twist`, stable once published: expectation files and reports key on
    /// it. The area names the catalogue file that holds it (`suites/src/catalogue/<area>.rs`).
    pub id: &'static str,
    /// One sentence: what the scenario's trials show.
    pub claim: &'static str,
    /// Where the claim comes from: RFC sections, man pages.
    pub sources: &'static [&'static str],
    /// The source article's situations (1 to 8, see [`crate::article::SITUATIONS`]) it answers.
    pub situations: &'static [u8],
    /// What a client should do when it meets this situation (the source article's question
    /// "the server sent RST: how should the client respond?"): interpretation, kept apart from
    /// the observations; short and specific.
    pub guidance: &'static str,
    /// The protocol timer the trial has to wait out, if any, and the floor it is shortened to
    /// inside the trial's namespaces (e.g. "the initial SYN retransmission timeout: 1 s, fixed
    /// by the kernel"); `None` when the trial waits only for packets and readiness.
    pub timer: Option<&'static str>,
    /// What the trial needs from the platform beyond its topology (nftables, a sysctl it
    /// writes, a wait on the capture or on /proc ...). A trial whose need is missing is
    /// skipped with the reason; a trial that uses something it did not declare fails.
    pub needs: &'static [Need],
    pub families: &'static [Family],
    pub topologies: &'static [Topology],
    /// Whether runtime clients (Java, Python, Go, Node.js, Rust) make the client's steps in
    /// trials of their own beside the native one: one per API and family, in the first
    /// topology. For scenarios whose client only connects, reads, writes, shuts down, asks
    /// SO_ERROR or its peer's name, sets TCP_NODELAY or SO_KEEPALIVE, and closes.
    pub runtimes: bool,
    pub script: fn(&mut Trial) -> ScriptResult,
}

/// The script of [`Scenario::BASE`]: a scenario that forgets its own fails with this.
fn unscripted(_: &mut Trial) -> ScriptResult {
    Err("this scenario has no script".into())
}

impl Scenario {
    /// The defaults most scenarios share: both IP families, loopback and two hosts, no timer,
    /// no needs beyond the topology, no article situation.
    pub const BASE: Scenario = Scenario {
        id: "",
        claim: "",
        sources: &[],
        situations: &[],
        guidance: "",
        timer: None,
        needs: &[],
        families: &Family::ALL,
        topologies: &Topology::ALL,
        runtimes: false,
        script: unscripted,
    };

    /// The first part of the id: `abort` for `abort.linger0.read_first`.
    pub fn area(&self) -> &'static str {
        self.id.split('.').next().unwrap_or(self.id)
    }

    /// Every (family, topology) this scenario runs in.
    pub fn variants(&self) -> impl Iterator<Item = (Family, Topology)> + '_ {
        self.families
            .iter()
            .flat_map(|&f| self.topologies.iter().map(move |&t| (f, t)))
    }

    /// The runtime trials: every API, in each family, in the first topology (see
    /// [`Scenario::runtimes`]).
    pub fn runtime_variants(&self) -> Vec<(Family, Topology, Api)> {
        match (self.runtimes, self.topologies.first()) {
            (true, Some(&topology)) => self
                .families
                .iter()
                .flat_map(|&f| Api::ALL.into_iter().map(move |api| (f, topology, api)))
                .collect(),
            _ => Vec::new(),
        }
    }

    /// The trial's id: `<scenario id>.<family>.<topology>`, e.g.
    /// `abort.linger0.read_first.v4.loopback`, and for a runtime trial the API after it
    /// (`abort.linger0.read_first.v4.loopback.java.net.Socket`). The scenario id is its
    /// prefix, so a filter by scenario id matches every trial of the scenario.
    pub fn trial_name(&self, family: Family, topology: Topology) -> String {
        format!("{}.{}.{}", self.id, family, topology)
    }

    /// Whether the scenario can run in the `host` topology: it runs on a loopback (its
    /// topologies include `loopback`) and needs nothing the host topology never does or
    /// cannot scope to one trial: no firewall, no sysctl, no protocol counters (other
    /// programs' packets count there too). The TCP table is read only, and every look at it
    /// picks the trial's own addresses and ports.
    pub fn runs_on_host(&self) -> bool {
        self.topologies.contains(&Topology::Loopback)
            && self
                .needs
                .iter()
                .all(|need| !matches!(need, Need::Nftables | Need::Sysctl(_) | Need::ProtocolCounters))
    }

    /// Everything a trial of this scenario in `topology` needs: the topology's own needs,
    /// then the declared ones.
    pub fn needs_in(&self, topology: Topology) -> impl Iterator<Item = Need> + '_ {
        topology.needs().iter().chain(self.needs).copied()
    }
}

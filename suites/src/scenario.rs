//! A scenario: one documented situation, as a value. Its script drives endpoints and labels
//! each step; it never decides what the right answer is.

use sockerr_harness::{Family, ScriptResult, Topology, Trial};

pub struct Scenario {
    /// `area.situation.twist`, stable once published: expectation files and reports key on it.
    pub id: &'static str,
    /// One sentence: what the scenario shows.
    pub claim: &'static str,
    /// Where the claim comes from: the source article's situation, RFC sections, man pages.
    pub sources: &'static [&'static str],
    /// What a client should do when it meets this situation (the source article's question
    /// "the server sent RST: how should the client respond?"): interpretation, kept apart from
    /// the observations; short and specific.
    pub guidance: &'static str,
    /// The protocol timer the trial has to wait out, if any, and the floor it is shortened to
    /// inside the trial's namespaces (e.g. "the initial SYN retransmission timeout: 1 s, fixed
    /// by the kernel"); `None` when the trial waits only for packets and readiness.
    pub timer: Option<&'static str>,
    pub families: &'static [Family],
    pub topologies: &'static [Topology],
    pub script: fn(&mut Trial) -> ScriptResult,
}

impl Scenario {
    /// The first part of the id: `abort` for `abort.linger0.read_first`.
    pub fn area(&self) -> &'static str {
        self.id.split('.').next().unwrap_or(self.id)
    }

    /// The id without its area: `linger0.read_first`.
    pub fn name(&self) -> &'static str {
        self.id.split_once('.').map_or(self.id, |(_, rest)| rest)
    }

    /// Every (family, topology) this scenario runs in.
    pub fn variants(&self) -> impl Iterator<Item = (Family, Topology)> + '_ {
        self.families
            .iter()
            .flat_map(|&f| self.topologies.iter().map(move |&t| (f, t)))
    }

    /// The trial's test name: `area::scenario::family::topology`.
    pub fn trial_name(&self, family: Family, topology: Topology) -> String {
        format!("{}::{}::{}::{}", self.area(), self.name(), family, topology)
    }
}

/// Both families.
pub const BOTH_FAMILIES: &[Family] = &Family::ALL;
/// Loopback and two hosts.
pub const BOTH_TOPOLOGIES: &[Topology] = &Topology::ALL;

//! Expectation files (`suites/expectations/<platform>.toml`): per scenario, per step label, the
//! set of accepted outcomes, facts about the wire, and what runtime clients are told. They are
//! only ever compared with observations; nothing else in the suite knows an expected answer.
//!
//! ```toml
//! ["abort.linger0.read_first"]
//! wire = { has = ["server>client R."] }               # a segment with exactly these flags
//! "client.read#1" = "ECONNRESET"                      # one outcome
//! "client.read#2" = ["ok=0"]                          # a set: any member is accepted
//! "client.write#1" = { result = "EPIPE", signals = ["SIGPIPE"] }
//! ```
//!
//! A wire item is a direction (`client>server`, `server>client`, `router>client`,
//! `router>server`) and the segment's flags: TCP flags, `UDP`, or an ICMP error as captured
//! (`ICMP host-unreachable`, `ICMP6 addr-unreachable`); `|` (spaces around it optional) joins
//! alternatives, for a packet that differs by family only.
//!
//! Outcomes: an errno name (any letter case: `econnreset` is `ECONNRESET`), `ok` (any
//! success), `ok=N` (that return value), or `killed` (the caller died before the call
//! returned). `signals` is the exact list the step raised (`[]` for none); `revents` the exact
//! set of poll bits after the step; `tcp_state` a set of states.
//!
//! ## Runtime clients: `runtimes."<api>"`
//!
//! A trial whose client steps ran in a runtime client is judged, step by step, by the
//! scenario's table for that client's API (as the runtime protocol names it:
//! `java.net.Socket`, `python.asyncio`, `go.net`, `node.net.allowHalfOpen`, `rust.tokio`),
//! with what the runtime told the program:
//!
//! ```toml
//! ["abort.linger0.read_first".runtimes."java.net.Socket"]
//! "client.read#1" = { type = "java.net.SocketException", message = "Connection reset" }
//! "client.write#1" = { type = "java.net.SocketException", message = "~Broken pipe", survived = true }
//! "client.read#2" = "ok=-1"
//! ```
//!
//! The keys are those of the recorded answer. `outcome` is a set of `ok` (any return),
//! `ok=V` (that return value, as recorded: `ok=-1`, `ok="198.18.0.2:4000"`), `error`,
//! `unsupported` (the API cannot express the step) and `lost` (no answer: the client hung or
//! died); the short forms `"ok=-1"` and `["ok", "lost"]` state the outcome only. `type` is a
//! set of error types or exception classes (a table with one implies `outcome = "error"`);
//! `message` is the exact message, or with a leading `~` a text the message contains; `code`
//! a set of the codes the runtime exposes (`ECONNRESET`); `survived` whether the client's
//! process lived on after the step. A runtime trial is judged by its runtime's table alone:
//! the native steps and wire facts of the scenario are left out, since what the rest of the
//! trial does depends on what the runtime did.
//!
//! ## Layers
//!
//! A run judges with the platform's built-in file, and a user's file (`--expect FILE`,
//! `SOCKERR_EXPECT`) layered over it: the user's file decides for the scenarios, steps, wire
//! facts and runtime steps it names (an entry replaces the built-in entry of the same step
//! whole), the built-in file for everything else. Each trial says which files judged it.
//!
//! ## Documented platforms: `[_platform]`, `evidence`, `source`
//!
//! Files for platforms this suite has not measured (`macos.toml`, `freebsd.toml`,
//! `openbsd.toml`, `windows.toml`) hold *documented* values. Such a file describes itself in
//! the reserved top-level table `[_platform]`. Top-level keys are otherwise scenario ids,
//! which are `area.situation[.twist]` and never start with `_`, so the key cannot collide with
//! one (and a scenario id `_platform` could never pass the catalogue's id test):
//!
//! ```toml
//! [_platform]
//! documented = true                        # values come from documentation, not from runs
//! name = "macOS 15 (xnu-11417.101.15)"
//! sources = ["docs/platforms.md", "https://github.com/apple-oss-distributions/xnu"]
//!
//! ["abort.linger0.write_first"]
//! "client.write#1" = { result = "EPIPE", evidence = "S", source = "XNU bsd/kern/uipc_socket.c sosendcheck" }
//! ```
//!
//! `evidence` is one tag of docs/platforms.md#evidence-tags: `L` observed on Linux with quick probes,
//! `S` read in kernel or runtime source, `D` vendor documentation, `M` a maintainer's statement,
//! `U` a user's report with a reproducer, `H` hearsay or inference (measure first). `source`
//! says where. Both keys are allowed in any step table and in `wire`. In a documented file every
//! step and `wire` entry must carry both (so only the table form is accepted there), and errno
//! names are checked by their form only: `E` or `WSAE` followed by capitals and digits
//! (`EPROTOTYPE`, `WSAECONNRESET`), because they name another platform's errnos. In every other
//! file an errno name must be one of this platform's.

mod judge;
mod load;
mod parse;
mod vocabulary;

use std::collections::BTreeMap;

pub use judge::Judgement;
pub use load::{built_in, documented_files};

/// The reserved top-level table that describes the file itself (see the module docs).
pub const PLATFORM_KEY: &str = "_platform";

/// Evidence tags of docs/platforms.md (#evidence-tags), strongest first.
pub const EVIDENCE_TAGS: &[&str] = &["L", "S", "D", "M", "U", "H"];

/// What a run judges trials with: expectation files in layers, the platform's built-in file
/// first; a later layer decides for every entry it names (see the module docs).
#[derive(Debug, Clone, Default)]
pub struct Expectations {
    layers: Vec<ExpectationFile>,
}

/// One expectation file.
#[derive(Debug, Clone, Default)]
pub struct ExpectationFile {
    /// Where it came from, for messages and the report.
    pub origin: String,
    /// What the file says about itself (`[_platform]`); default: measured, unnamed.
    pub platform: PlatformInfo,
    pub scenarios: BTreeMap<String, ScenarioExpectation>,
}

/// The `[_platform]` table of an expectation file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PlatformInfo {
    /// The values are documented (from documentation and source), not measured by this suite.
    pub documented: bool,
    /// The platform and version the values describe, e.g. `macOS 15 (xnu-11417.101.15)`.
    pub name: Option<String>,
    /// Where the file's values come from, as a whole.
    pub sources: Vec<String>,
}

/// What one scenario is expected to show.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScenarioExpectation {
    /// Facts about the captured segments, when the file states any (`wire = {...}`).
    pub wire: Option<WireExpectation>,
    /// Step label to what that step must show.
    pub steps: BTreeMap<String, StepExpectation>,
    /// Runtime API (`java.net.Socket`) to step label to what its client must report there.
    pub runtimes: BTreeMap<String, BTreeMap<String, RuntimeStepExpectation>>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WireExpectation {
    /// `dir flags` items that must each match at least one segment: `server>client R.`.
    pub has: Vec<String>,
    /// `dir flags` items that no segment may match.
    pub lacks: Vec<String>,
    /// What answered the injected segments, in order, item by item (`[]`: nothing did): see
    /// `sockerr_harness::record::answer_to_injection`.
    pub answer: Option<Vec<String>>,
    /// Evidence tag of these wire facts (docs/platforms.md#evidence-tags), if given.
    pub evidence: Option<String>,
    /// Where these wire facts are documented, if given.
    pub source: Option<String>,
}

/// What one step must show; `None` leaves that aspect unchecked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StepExpectation {
    /// Accepted outcomes; any member matches. Errno names in capitals.
    pub result: Option<Vec<String>>,
    /// The exact signals the step raised.
    pub signals: Option<Vec<String>>,
    /// The exact set of poll bits after the step.
    pub revents: Option<Vec<String>>,
    /// Accepted TCP states.
    pub tcp_state: Option<Vec<String>>,
    /// Evidence tag of this expectation (docs/platforms.md#evidence-tags: L, S, D, M, U, H).
    pub evidence: Option<String>,
    /// Where this expectation is documented.
    pub source: Option<String>,
}

/// What a runtime client must report for one step; `None` leaves that aspect unchecked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RuntimeStepExpectation {
    /// Accepted outcomes: `ok`, `ok=V`, `error`, `unsupported`, `lost`.
    pub outcome: Option<Vec<String>>,
    /// Accepted error types or exception classes (`type`).
    pub error_type: Option<Vec<String>>,
    /// The message, exactly or by a text it contains.
    pub message: Option<MessagePattern>,
    /// Accepted codes the runtime exposes (`ECONNRESET`).
    pub code: Option<Vec<String>>,
    /// Whether the client's process survived the step.
    pub survived: Option<bool>,
    /// Evidence tag, as for native steps.
    pub evidence: Option<String>,
    /// Where this expectation is documented.
    pub source: Option<String>,
}

/// How an error message is matched: `"Connection reset"` exactly, `"~Broken pipe"` by
/// containing the text after the `~`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MessagePattern {
    Exact(String),
    Contains(String),
}

impl MessagePattern {
    pub fn matches(&self, message: &str) -> bool {
        match self {
            MessagePattern::Exact(text) => message == text,
            MessagePattern::Contains(text) => message.contains(text.as_str()),
        }
    }
}

impl std::fmt::Display for MessagePattern {
    /// As written in the file: `"Connection reset"` or `~"Broken pipe"`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MessagePattern::Exact(text) => write!(f, "{text:?}"),
            MessagePattern::Contains(text) => write!(f, "~{text:?}"),
        }
    }
}

/// Why an expectation file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ExpectationError {
    #[error("{origin}: {error}")]
    Io { origin: String, error: std::io::Error },
    #[error("{origin}: {message}")]
    Syntax { origin: String, message: String },
    #[error("{origin}:{line}:{column}: {message}")]
    Invalid {
        origin: String,
        line: usize,
        column: usize,
        message: String,
    },
}

impl ExpectationFile {
    pub fn for_scenario(&self, id: &str) -> Option<&ScenarioExpectation> {
        self.scenarios.get(id)
    }
}

impl Expectations {
    /// Expectations of one file, parsed from `text` (see [`ExpectationFile::parse`]).
    pub fn parse(origin: &str, text: &str, known: &[&str]) -> Result<Expectations, ExpectationError> {
        Ok(ExpectationFile::parse(origin, text, known)?.into())
    }

    /// `file` layered over these expectations: it decides for every entry it names.
    pub fn layered(mut self, file: ExpectationFile) -> Expectations {
        self.layers.push(file);
        self
    }

    /// The files, the lowest layer (the built-in file) first.
    pub fn layers(&self) -> &[ExpectationFile] {
        &self.layers
    }

    /// Whether no file holds any expectation: every trial would be `observed`.
    pub fn is_empty(&self) -> bool {
        self.layers.iter().all(|l| l.scenarios.is_empty())
    }

    /// The files, for the report: `my.toml over suites/expectations/linux.toml`, or
    /// `(no expectations for this platform)`.
    pub fn origin(&self) -> String {
        if self.layers.is_empty() {
            return "(no expectations for this platform)".to_string();
        }
        let names: Vec<&str> = self.layers.iter().rev().map(|l| l.origin.as_str()).collect();
        names.join(" over ")
    }
}

impl From<ExpectationFile> for Expectations {
    fn from(file: ExpectationFile) -> Expectations {
        Expectations { layers: vec![file] }
    }
}

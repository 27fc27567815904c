//! The report model (`report.json`).

use std::path::Path;

use serde::{Deserialize, Serialize};
use sockerr_harness::platform::Platform;
use sockerr_harness::record::{ClientInfo, Knob, Step, Wait, Wire};
use sockerr_harness::variant::{Family, Topology};

pub use crate::mismatch::{Aspect, Mismatch};

/// The schema name and version written into every report.
pub const SCHEMA: &str = "sockerr-report/2";

/// The earlier schema [`Report::read`] still reads, upgrading it (see [`upgrade`]).
pub const SCHEMA_V1: &str = "sockerr-report/1";

/// Observations of one run on one platform.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Report {
    pub schema: String,
    pub platform: Platform,
    /// The expectation files the trials were compared with, if any: the platform's built-in
    /// file, and a user's file layered over it (`my.toml over suites/expectations/linux.toml`).
    /// Each trial's `judged_by` names the files that judged it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expectations: Option<String>,
    pub trials: Vec<TrialReport>,
    /// What each errno the trials returned means and how programs see it: derived from the
    /// observations (the errno names) and from this platform's std and C library, not
    /// measured on the wire. Runtimes other than Rust are documented, each with its source.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errnos: Vec<ErrnoNote>,
    /// The eight situations of the source article ("the server sent RST: how should the
    /// client respond?") and the scenarios of this run that answer each.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub article: Vec<ArticleSituation>,
}

/// One situation of the source article and the scenarios that reproduce it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ArticleSituation {
    /// 1 to 8, as the article numbers them.
    pub number: u8,
    /// The situation in one line.
    pub situation: String,
    /// Scenario ids, in catalogue order.
    pub scenarios: Vec<String>,
}

/// One errno the run observed, interpreted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ErrnoNote {
    /// `ECONNRESET`.
    pub name: String,
    /// Its number on the platform that ran the trials.
    pub code: i32,
    /// The C library's text (strerror) on that platform.
    pub strerror: String,
    /// What it means for a TCP socket, and its source.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meaning: Option<String>,
    /// `std::io::ErrorKind` as Rust's std maps this number on that platform (asked of std at
    /// run time).
    pub rust_error_kind: String,
    /// What other runtimes are documented to show.
    #[serde(default)]
    pub runtimes: Vec<RuntimeNote>,
}

/// What one runtime is documented to show for an errno.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RuntimeNote {
    pub runtime: String,
    /// The kind of call it applies to: `read`, `write`, `connect`, `any call`.
    pub when: String,
    pub shows: String,
    pub source: String,
}

/// How a trial compared with its expectation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Every expected fact was observed.
    Pass,
    /// At least one expected fact was not observed.
    Fail,
    /// The trial could not run here (the reason says why and what to do).
    Skip,
    /// The trial ran, and no expectation exists for it.
    Observed,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Fail => "fail",
            Status::Skip => "skip",
            Status::Observed => "observed",
        }
    }
}

/// One scenario in one variant, run once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct TrialReport {
    /// The test name: `<scenario id>.<family>.<topology>` (`abort.linger0.read_first.v4.loopback`).
    pub id: String,
    /// The scenario id, e.g. `abort.linger0.read_first`.
    pub scenario: String,
    pub family: Family,
    pub topology: Topology,
    /// For a runtime trial: the runtime client that made the client's steps (its API and
    /// version). Its steps then carry what the runtime reported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client: Option<ClientInfo>,
    pub status: Status,
    pub skip_reason: Option<String>,
    pub elapsed_ms: f64,
    /// Of `elapsed_ms`, the time the scenario's script ran (its calls and waits); the rest is
    /// the harness's overhead: sandbox set-up and tear-down, capture, pcapng writing.
    #[serde(default)]
    pub script_ms: f64,
    /// Of the overhead, the time spent building the sandbox.
    #[serde(default)]
    pub setup_ms: f64,
    /// The scenario's one-sentence claim.
    #[serde(default)]
    pub claim: String,
    /// Where the claim comes from: the source article's situation, RFC sections, man pages.
    #[serde(default)]
    pub sources: Vec<String>,
    /// What a client should do in this situation (interpretation, from the catalogue; not an
    /// observation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guidance: Option<String>,
    pub steps: Vec<Step>,
    #[serde(default)]
    pub waits: Vec<Wait>,
    pub wire: Wire,
    /// Settings the trial changed from the system's defaults (shortened timers, retry
    /// limits): the outcome holds for these values, not necessarily for the defaults.
    #[serde(default)]
    pub knobs: Vec<Knob>,
    /// The protocol timer the trial waits out and the floor it is shortened to, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timer: Option<String>,
    /// The expectation files that judged this trial, the platform's built-in file first and a
    /// layered user file after it; empty when none did (status `observed`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub judged_by: Vec<String>,
    /// How the trial differed from its expectation, one value per difference.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mismatches: Vec<Mismatch>,
    /// Why the trial could not run to its end, when it could not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Why a report could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("{path}: {error}")]
    Io { path: String, error: std::io::Error },
    #[error("{path}: not a sockerr report: {error}")]
    Json { path: String, error: serde_json::Error },
    #[error("{path}: schema {found:?} is not supported (this version reads {SCHEMA:?} and {SCHEMA_V1:?})")]
    Schema { path: String, found: String },
}

impl Report {
    pub fn new(platform: Platform, expectations: Option<String>, trials: Vec<TrialReport>) -> Report {
        Report {
            schema: SCHEMA.to_string(),
            platform,
            expectations,
            trials,
            errnos: Vec::new(),
            article: Vec::new(),
        }
    }

    /// Reads a report of this schema or of [`SCHEMA_V1`] (upgraded on the way, see
    /// [`upgrade`]), refusing other schema versions.
    pub fn read(path: &Path) -> Result<Report, ReadError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|error| ReadError::Io {
            path: shown.clone(),
            error,
        })?;
        let mut value: serde_json::Value = serde_json::from_str(&text).map_err(|error| ReadError::Json {
            path: shown.clone(),
            error,
        })?;
        let found = value
            .get("schema")
            .and_then(|s| s.as_str())
            .unwrap_or("(none)")
            .to_string();
        match found.as_str() {
            SCHEMA => {}
            SCHEMA_V1 => upgrade(&mut value),
            _ => return Err(ReadError::Schema { path: shown, found }),
        }
        serde_json::from_value(value).map_err(|error| ReadError::Json { path: shown, error })
    }

    /// Writes the report as pretty JSON through a temporary file and a rename, so a reader
    /// never sees half a report.
    pub fn write(&self, path: &Path) -> std::io::Result<()> {
        let json = serde_json::to_string_pretty(self).map_err(std::io::Error::other)?;
        write_atomically(path, json.as_bytes())
    }
}

/// Turns a `sockerr-report/1` report into a `sockerr-report/2` one, in place: a trial id
/// `abort::linger0.read_first::v4::loopback` becomes the dotted
/// `abort.linger0.read_first.v4.loopback`, and a mismatch, then a line of text, becomes a
/// [`Mismatch`] of aspect [`Aspect::Text`] holding that text. Everything else `/2` added has
/// a default.
pub fn upgrade(report: &mut serde_json::Value) {
    report["schema"] = SCHEMA.into();
    let trials = report.get_mut("trials").and_then(|t| t.as_array_mut());
    for trial in trials.into_iter().flatten() {
        if let Some(id) = trial.get("id").and_then(|i| i.as_str()) {
            trial["id"] = id.replace("::", ".").into();
        }
        let mismatches = trial.get_mut("mismatches").and_then(|m| m.as_array_mut());
        for mismatch in mismatches.into_iter().flatten() {
            if let Some(text) = mismatch.as_str() {
                *mismatch = serde_json::to_value(Mismatch::text(text)).expect("a mismatch serialises");
            }
        }
    }
}

/// Writes `bytes` to a temporary file beside `path`, then renames it over `path` (see
/// [`sockerr_harness::atomic_file`]: an interrupted run leaves no temporary behind).
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    sockerr_harness::atomic_file::write_bytes(path, bytes)
}

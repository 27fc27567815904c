//! A suite: the scenarios that runs, the gate and the command line work on, and the
//! expectation files that judge them. By default the built-in catalogue and this platform's
//! built-in file; a crate of its own adds its scenarios (or runs them alone) and its files,
//! then hands the suite to [`crate::gate::main`] or [`crate::cli::main_with`]:
//!
//! ```no_run
//! use sockerr::harness::{ScriptResult, Trial};
//! use sockerr::scenario::Scenario;
//! use sockerr::suite::Suite;
//!
//! fn my_script(trial: &mut Trial) -> ScriptResult {
//!     let (mut client, _server, _listener) = trial.connected_pair()?;
//!     client.write(b"x"); // recorded as the step client.write#1
//!     Ok(())
//! }
//!
//! fn main() -> std::process::ExitCode {
//!     let mine = Scenario {
//!         id: "mine.first_write",
//!         claim: "A first write on a fresh connection succeeds.",
//!         sources: &["send(2)"],
//!         script: my_script,
//!         ..Scenario::BASE
//!     };
//!     let suite = Suite::own().with_scenarios([mine]).with_expectations("expectations/linux.toml");
//!     sockerr::cli::main_with(suite)
//! }
//! ```
//!
//! One suite per process: the catalogue, the expectation files, `explain` and the selection
//! of trials all read it, so it is installed once, before anything else runs.

use std::path::PathBuf;
use std::sync::OnceLock;

use crate::expectations::{ExpectationError, ExpectationFile};
use crate::scenario::Scenario;

/// The scenarios and expectation files of a run (see the module's documentation).
#[derive(Clone)]
pub struct Suite {
    built_in: bool,
    scenarios: Vec<Scenario>,
    expectations: Vec<Layer>,
}

/// An expectation file of the suite's own, layered over the platform's built-in file.
#[derive(Clone)]
enum Layer {
    /// Read when the run starts; a path relative to the working directory (for `cargo test`,
    /// the crate's directory).
    File(PathBuf),
    /// Compiled in (`include_str!`): `origin` names it in reports.
    Text { origin: &'static str, text: &'static str },
}

impl Default for Suite {
    fn default() -> Suite {
        Suite::built_in()
    }
}

impl Suite {
    /// The built-in catalogue, judged by this platform's built-in expectation file.
    pub fn built_in() -> Suite {
        Suite {
            built_in: true,
            scenarios: Vec::new(),
            expectations: Vec::new(),
        }
    }

    /// No scenario yet: only those added with [`Suite::with_scenarios`] run, judged by the
    /// suite's own expectation files alone (the platform's built-in file is about the built-in
    /// catalogue).
    pub fn own() -> Suite {
        Suite {
            built_in: false,
            ..Suite::built_in()
        }
    }

    /// These scenarios too, after the ones the suite has. Their ids must differ from every
    /// other scenario's (checked when the suite is installed).
    pub fn with_scenarios(mut self, scenarios: impl IntoIterator<Item = Scenario>) -> Suite {
        self.scenarios.extend(scenarios);
        self
    }

    /// An expectation file read from `path` when the suite is installed, layered over the
    /// built-in file and the suite's earlier files: it decides for the scenarios and steps it
    /// names. A user's `--expect FILE` (or `SOCKERR_EXPECT`) still lies over it.
    pub fn with_expectations(mut self, path: impl Into<PathBuf>) -> Suite {
        self.expectations.push(Layer::File(path.into()));
        self
    }

    /// Like [`Suite::with_expectations`], for a file compiled into the program
    /// (`include_str!("../expectations/linux.toml")`), named `origin` in reports.
    pub fn with_expectations_text(mut self, origin: &'static str, text: &'static str) -> Suite {
        self.expectations.push(Layer::Text { origin, text });
        self
    }

    /// Whether the built-in catalogue, and with it the platform's built-in expectation file,
    /// is part of the suite.
    pub fn has_built_in(&self) -> bool {
        self.built_in
    }

    /// Every scenario, in order: the built-in catalogue's (if it has them), then its own.
    pub fn scenarios(&self) -> Vec<Scenario> {
        let built_in = if self.built_in {
            crate::catalogue::built_in()
        } else {
            Vec::new()
        };
        built_in.into_iter().chain(self.scenarios.iter().cloned()).collect()
    }

    /// The suite's own expectation files, parsed, lowest first; `known` are the scenario ids
    /// they may name.
    pub fn expectation_files(&self, known: &[&str]) -> Result<Vec<ExpectationFile>, ExpectationError> {
        self.expectations
            .iter()
            .map(|layer| match layer {
                Layer::File(path) => ExpectationFile::load(path, known),
                Layer::Text { origin, text } => ExpectationFile::parse(origin, text, known),
            })
            .collect()
    }

    /// Makes this the suite of the process. Refused when a suite is installed already, when
    /// a scenario id is empty or taken twice, or when an expectation file cannot be used.
    pub fn install(self) -> Result<(), SuiteError> {
        let scenarios = self.scenarios();
        let mut seen = std::collections::BTreeSet::new();
        for s in &scenarios {
            if s.id.is_empty() || s.id.split('.').any(str::is_empty) {
                return Err(SuiteError::Id(format!(
                    "{:?} is no scenario id: words joined by dots",
                    s.id
                )));
            }
            if !seen.insert(s.id) {
                return Err(SuiteError::Id(format!("two scenarios have the id {}", s.id)));
            }
        }
        let ids: Vec<&str> = seen.into_iter().collect();
        self.expectation_files(&ids)?;
        INSTALLED.set(self).map_err(|_| SuiteError::Twice)
    }
}

/// Why a suite could not be installed.
#[derive(Debug, thiserror::Error)]
pub enum SuiteError {
    #[error("{0}")]
    Id(String),
    #[error(transparent)]
    Expectations(#[from] ExpectationError),
    #[error("a suite is installed already: one per process, before anything else runs")]
    Twice,
}

static INSTALLED: OnceLock<Suite> = OnceLock::new();

/// The suite of this process: the one installed, else the built-in catalogue.
pub fn current() -> &'static Suite {
    INSTALLED.get_or_init(Suite::built_in)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mine(id: &'static str) -> Scenario {
        Scenario {
            id,
            claim: "A claim.",
            sources: &["a source"],
            ..Scenario::BASE
        }
    }

    #[test]
    fn an_own_suite_holds_only_its_scenarios_and_the_built_in_one_adds_them_after_the_catalogue() {
        let own = Suite::own().with_scenarios([mine("mine.a"), mine("mine.b")]);
        let ids: Vec<_> = own.scenarios().iter().map(|s| s.id).collect();
        assert_eq!(ids, ["mine.a", "mine.b"]);
        let both = Suite::built_in().with_scenarios([mine("mine.a")]);
        let ids: Vec<_> = both.scenarios().iter().map(|s| s.id).collect();
        assert_eq!(ids.len(), crate::catalogue::built_in().len() + 1);
        assert_eq!(ids.last(), Some(&"mine.a"));
    }

    #[test]
    fn a_suite_whose_scenario_takes_a_built_in_id_is_refused_naming_it() {
        let err = Suite::built_in()
            .with_scenarios([mine("abort.linger0.read_first")])
            .install()
            .unwrap_err();
        assert_eq!(err.to_string(), "two scenarios have the id abort.linger0.read_first");
    }

    #[test]
    fn a_suite_with_an_empty_word_in_an_id_is_refused() {
        let err = Suite::own().with_scenarios([mine("mine..a")]).install().unwrap_err();
        assert!(err.to_string().contains("\"mine..a\" is no scenario id"), "{err}");
    }

    #[test]
    fn a_suite_file_naming_an_unknown_scenario_is_refused_with_the_closest_id() {
        let suite = Suite::own()
            .with_scenarios([mine("mine.first_write")])
            .with_expectations_text("mine.toml", "[\"mine.first_writ\"]\n\"client.write#1\" = \"ok=1\"\n");
        let err = suite.install().unwrap_err().to_string();
        assert!(err.starts_with("mine.toml:1:"), "{err}");
        assert!(err.contains("mine.first_write"), "{err}");
    }
}

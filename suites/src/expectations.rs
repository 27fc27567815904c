//! Expectation files (`suites/expectations/<platform>.toml`): per scenario, per step label, the
//! set of accepted outcomes, plus facts about the wire. They are only ever compared with
//! observations; nothing else in the suite knows an expected answer.
//!
//! ```toml
//! ["abort.linger0.read_first"]
//! wire = { has = ["server>client R"] }               # a segment with exactly these flags
//! "client.read#1" = "ECONNRESET"                      # one outcome
//! "client.read#2" = ["ok=0"]                          # a set: any member is accepted
//! "client.write#1" = { result = "EPIPE", signals = ["SIGPIPE"] }
//! ```
//!
//! Outcomes: an errno name, `ok` (any success), `ok=N` (that return value), or `killed` (the
//! caller died before the call returned). `signals` is the exact list the step raised (`[]`
//! for none); `revents` the exact set of poll bits after the step; `tcp_state` a set of states.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;
use sockerr_harness::{Observation, Step};

/// The built-in expectations of the platform this binary was built for.
pub fn built_in() -> Option<(&'static str, &'static str)> {
    if cfg!(target_os = "linux") {
        Some(("suites/expectations/linux.toml", include_str!("../expectations/linux.toml")))
    } else {
        None
    }
}

/// A whole expectation file.
#[derive(Debug, Clone, Default)]
pub struct Expectations {
    /// Where it came from, for messages and the report.
    pub origin: String,
    pub scenarios: BTreeMap<String, ScenarioExpectation>,
}

/// What one scenario is expected to show.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ScenarioExpectation {
    #[serde(default)]
    pub wire: WireExpectation,
    #[serde(flatten)]
    pub steps: BTreeMap<String, StepExpectation>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WireExpectation {
    /// `dir flags` items that must each match at least one segment: `server>client R.`.
    #[serde(default)]
    pub has: Vec<String>,
    /// `dir flags` items that no segment may match.
    #[serde(default)]
    pub lacks: Vec<String>,
}

/// One outcome or a set of them.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    fn items(&self) -> Vec<String> {
        match self {
            OneOrMany::One(s) => vec![s.clone()],
            OneOrMany::Many(v) => v.clone(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum StepExpectation {
    Outcomes(OneOrMany),
    Detailed(DetailedStep),
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DetailedStep {
    pub result: Option<OneOrMany>,
    pub signals: Option<Vec<String>>,
    pub revents: Option<Vec<String>>,
    pub tcp_state: Option<OneOrMany>,
}

impl StepExpectation {
    fn detailed(&self) -> DetailedStep {
        match self {
            StepExpectation::Outcomes(o) => DetailedStep { result: Some(o.clone()), ..DetailedStep::default() },
            StepExpectation::Detailed(d) => d.clone(),
        }
    }
}

/// Why an expectation file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ExpectationError {
    #[error("{origin}: {source}")]
    Io { origin: String, source: std::io::Error },
    #[error("{origin}: {message}")]
    Syntax { origin: String, message: String },
    #[error("{origin}: unknown scenario id {id:?} (see `sockerr list`)")]
    UnknownScenario { origin: String, id: String },
}

impl Expectations {
    /// Parses expectation text; `known` lists the scenario ids of the catalogue, and any
    /// other id is an error (a typo would otherwise silently disable a gate).
    pub fn parse(origin: &str, text: &str, known: &[&str]) -> Result<Expectations, ExpectationError> {
        let scenarios: BTreeMap<String, ScenarioExpectation> =
            toml::from_str(text).map_err(|e| ExpectationError::Syntax { origin: origin.to_string(), message: e.to_string() })?;
        if let Some(id) = scenarios.keys().find(|id| !known.contains(&id.as_str())) {
            return Err(ExpectationError::UnknownScenario { origin: origin.to_string(), id: id.clone() });
        }
        Ok(Expectations { origin: origin.to_string(), scenarios })
    }

    /// Reads and parses an expectation file.
    pub fn load(path: &Path, known: &[&str]) -> Result<Expectations, ExpectationError> {
        let origin = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| ExpectationError::Io { origin: origin.clone(), source })?;
        Self::parse(&origin, &text, known)
    }

    /// The expectations a run uses: `path` if given, else the file named by the
    /// `SOCKERR_EXPECT` environment variable, else the built-in file of this platform (none on
    /// a platform without one: every trial is then `observed`).
    pub fn for_run(path: Option<&Path>, known: &[&str]) -> Result<Expectations, ExpectationError> {
        let from_env = std::env::var_os("SOCKERR_EXPECT").filter(|v| !v.is_empty()).map(std::path::PathBuf::from);
        match path.map(Path::to_path_buf).or(from_env) {
            Some(file) => Self::load(&file, known),
            None => match built_in() {
                Some((origin, text)) => Self::parse(origin, text, known),
                None => Ok(Expectations { origin: "(no expectations for this platform)".into(), ..Expectations::default() }),
            },
        }
    }

    pub fn for_scenario(&self, id: &str) -> Option<&ScenarioExpectation> {
        self.scenarios.get(id)
    }
}

/// Whether an observed outcome is one of the expected ones.
fn outcome_matches(expected: &str, observed: &Step) -> bool {
    let outcome = observed.result.outcome();
    expected == outcome || (expected == "ok" && observed.result.ret.is_some() && observed.result.errno.is_none())
}

fn set_text(items: &[String]) -> String {
    if items.len() == 1 { items[0].clone() } else { format!("one of {{{}}}", items.join(", ")) }
}

fn step_context(step: &Step) -> String {
    let revents = if step.revents.is_empty() { "none".to_string() } else { step.revents.join("|") };
    let state = step.tcp_state.as_deref().unwrap_or("-");
    let signals = if step.signals.is_empty() { "none".to_string() } else { step.signals.join(",") };
    format!("revents {revents}; state {state}; signals {signals}")
}

impl ScenarioExpectation {
    /// Every way the observation differs from this expectation, one readable block each.
    pub fn compare(&self, observation: &Observation) -> Vec<String> {
        let mut differences = Vec::new();
        if let Some(error) = &observation.error {
            differences.push(format!("the trial did not run to its end: {error}"));
        }
        for (label, expectation) in &self.steps {
            let expected = expectation.detailed();
            let Some(step) = observation.steps.iter().find(|s| &s.label == label) else {
                differences.push(format!("step {label}: expected, but the trial has no such step"));
                continue;
            };
            let mut lines = Vec::new();
            if let Some(result) = &expected.result {
                let items = result.items();
                if !items.iter().any(|e| outcome_matches(e, step)) {
                    lines.push(format!("    expected  {}\n    observed  {}", set_text(&items), step.result.outcome()));
                }
            }
            if let Some(signals) = &expected.signals {
                if signals != &step.signals {
                    lines.push(format!("    expected  signals [{}]\n    observed  signals [{}]", signals.join(", "), step.signals.join(", ")));
                }
            }
            if let Some(revents) = &expected.revents {
                let mut want = revents.clone();
                let mut got = step.revents.clone();
                want.sort();
                got.sort();
                if want != got {
                    lines.push(format!("    expected  revents {}\n    observed  revents {}", revents.join("|"), step.revents.join("|")));
                }
            }
            if let Some(states) = &expected.tcp_state {
                let items = states.items();
                let state = step.tcp_state.clone().unwrap_or_else(|| "-".into());
                if !items.contains(&state) {
                    lines.push(format!("    expected  state {}\n    observed  state {state}", set_text(&items)));
                }
            }
            if !lines.is_empty() {
                differences.push(format!("step {label}  {}\n{}\n    context   {}", step.op, lines.join("\n"), step_context(step)));
            }
        }
        for item in &self.wire.has {
            if !observation.wire.segments.iter().any(|s| segment_matches(item, s)) {
                differences.push(format!("wire: expected a segment {item}, none was captured"));
            }
        }
        for item in &self.wire.lacks {
            if let Some(s) = observation.wire.segments.iter().find(|s| segment_matches(item, s)) {
                differences.push(format!("wire: expected no segment {item}, but captured {s}"));
            }
        }
        differences
    }
}

/// `server>client R.` matches a segment with that direction and exactly those flags.
fn segment_matches(item: &str, segment: &sockerr_harness::Segment) -> bool {
    match item.split_once(' ') {
        Some((dir, flags)) => segment.dir.as_str() == dir && segment.flags == flags.trim(),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;
    use sockerr_harness::{CallResult, Direction, Segment, Wire};

    fn step(label: &str, errno: Option<&str>, ret: Option<i64>, signals: &[&str]) -> Step {
        Step {
            label: label.into(),
            actor: "client".into(),
            op: "read(64)".into(),
            result: CallResult { ret, errno: errno.map(Into::into), errno_code: errno.map(|_| 104) },
            revents: vec!["POLLIN".into(), "POLLERR".into()],
            tcp_state: Some("CLOSE".into()),
            signals: signals.iter().map(|s| s.to_string()).collect(),
            t_us: 0,
            elapsed_us: 1,
            detail: None,
        }
    }

    fn observation() -> Observation {
        Observation {
            steps: vec![step("client.read#1", Some("ECONNRESET"), None, &[]), step("client.write#1", Some("EPIPE"), None, &["SIGPIPE"]), step("client.read#2", None, Some(0), &[])],
            wire: Wire {
                captured: true,
                segments: vec![Segment { dir: Direction::ServerToClient, flags: "R.".into(), seq: 1, ack: 1, len: 0, t_us: 5, src: "a".into(), dst: "b".into(), win: 0 }],
                drops: 0,
                pcap: None,
            },
            ..Observation::default()
        }
    }

    fn parse(text: &str) -> ScenarioExpectation {
        let e = Expectations::parse("test.toml", text, &["s.x"]).unwrap();
        e.scenarios["s.x"].clone()
    }

    #[rstest]
    #[case::exact_errno(r#""client.read#1" = "ECONNRESET""#)]
    #[case::member_of_a_set(r#""client.read#1" = ["EPIPE", "ECONNRESET"]"#)]
    #[case::any_success(r#""client.read#2" = "ok""#)]
    #[case::exact_return(r#""client.read#2" = "ok=0""#)]
    #[case::signals_too(r#""client.write#1" = { result = "EPIPE", signals = ["SIGPIPE"] }"#)]
    #[case::wire_fact("wire = { has = [\"server>client R.\"], lacks = [\"client>server R\"] }")]
    fn an_expectation_that_holds_gives_no_difference(#[case] entry: &str) {
        let e = parse(&format!("[\"s.x\"]\n{entry}\n"));
        assert_eq!(e.compare(&observation()), Vec::<String>::new());
    }

    #[test]
    fn a_wrong_errno_gives_a_diff_naming_step_expected_and_observed() {
        // The gate must fail when behaviour changes (DESIGN.md principle 5).
        let e = parse("[\"s.x\"]\n\"client.read#1\" = \"EPIPE\"\n");
        let diff = e.compare(&observation());
        assert_eq!(diff.len(), 1);
        assert!(diff[0].contains("step client.read#1  read(64)"), "{}", diff[0]);
        assert!(diff[0].contains("expected  EPIPE"), "{}", diff[0]);
        assert!(diff[0].contains("observed  ECONNRESET"), "{}", diff[0]);
    }

    #[test]
    fn a_missing_signal_and_a_missing_segment_are_both_reported() {
        let e = parse("[\"s.x\"]\n\"client.write#1\" = { signals = [] }\nwire = { has = [\"server>client F.\"] }\n");
        let diff = e.compare(&observation());
        assert_eq!(diff.len(), 2, "{diff:#?}");
        assert!(diff[1].contains("server>client F."));
    }

    #[test]
    fn an_expected_step_the_trial_never_took_is_a_difference() {
        let e = parse("[\"s.x\"]\n\"client.read#9\" = \"ok=0\"\n");
        assert!(e.compare(&observation())[0].contains("no such step"));
    }

    #[test]
    fn an_unknown_scenario_id_is_refused() {
        let err = Expectations::parse("f.toml", "[\"s.typo\"]\n\"client.read#1\" = \"EPIPE\"\n", &["s.x"]).unwrap_err();
        assert!(err.to_string().contains("unknown scenario id \"s.typo\""), "{err}");
    }

    #[test]
    fn a_syntax_error_names_the_file_and_line() {
        let err = Expectations::parse("f.toml", "[\"s.x\"]\n\"client.read#1\" = \n", &["s.x"]).unwrap_err();
        let text = err.to_string();
        assert!(text.starts_with("f.toml: "), "{text}");
        assert!(text.contains("line 2"), "{text}");
    }
}

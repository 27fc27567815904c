//! `sockerr compare`: several reports side by side, step by step (the *matrix*).
//!
//! Rows are (trial id, step label), plus one `wire` row per trial holding the direction and
//! flags of its segments; columns are the reports, named by their label (`sockerr run
//! --label`) or else by `os kernel`, with the sysctl overrides they ran with. A cell is the
//! step's outcome as the summary prints it (`ECONNRESET`, `ok=0`, `EPIPE +SIGPIPE`), or `—`
//! where that report has no such trial or step. A row *differs* when the reports that hold its
//! trial do not all show the same cell (a step one of them lacks included); such rows come
//! first. A trial that only some reports hold is a *gap*: listed by name, its rows compared
//! among the reports that hold it and shown apart from the rows that are the same everywhere.
//!
//! Expectation files may be added as columns too: they are documented, not measured. Their
//! cell is the accepted outcome set of the scenario's step (the same for every variant of the
//! scenario) and their wire cell the segments the file requires or forbids; they are shown
//! for reference and never make a row differ.
//!
//! Runtime trials (client steps made by a Java, Python, Go, Node.js or Rust client) are rows of
//! their own, after their scenario's native trials, each naming its API and with a `runtime`
//! row holding the runtime's version; their cells are what the runtime reported, ephemeral
//! ports written `:*` so that two runs compare. A documented column shows the file's runtime
//! table for them.
//!
//! This module reads the inputs and builds the matrix; the model and its renderers (console,
//! Markdown, HTML) live in `sockerr_reports::matrix`.
//!
//! One concept in one file, longer than 600 lines only by the tests that follow the code.

use std::collections::HashMap;
use std::fmt::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use sockerr_reports::matrix::{Column, Gap, Row, wire_cell};
use sockerr_reports::{Report, TrialReport, runtimes};

pub use sockerr_reports::matrix::{GAP, Matrix, RUNTIME, WIRE};

use crate::catalogue;
use crate::expectations::{ExpectationFile, RuntimeStepExpectation, StepExpectation, WireExpectation};

/// Where a column's cells come from.
#[derive(Debug, Clone)]
pub enum Source {
    /// A report: outcomes measured by a run.
    Measured(Box<Report>),
    /// An expectation file: outcome sets documented, not measured.
    Documented(ExpectationFile),
}

/// One input file of a comparison.
#[derive(Debug, Clone)]
pub struct Input {
    /// The path as given.
    pub file: String,
    pub source: Source,
}

impl Input {
    /// Reads a report, or an expectation file when the name ends in `.toml`. The error names
    /// the file (and for an expectation file the line and column).
    pub fn load(path: &Path) -> anyhow::Result<Input> {
        let file = path.display().to_string();
        let source = if path.extension().is_some_and(|e| e == "toml") {
            Source::Documented(ExpectationFile::load(path, &catalogue::ids())?)
        } else {
            Source::Measured(Box::new(Report::read(path)?))
        };
        Ok(Input { file, source })
    }

    /// This input's column.
    fn column(&self) -> Column {
        match &self.source {
            Source::Measured(report) => Column::measured(&self.file, report),
            Source::Documented(_) => Column::documented(&self.file),
        }
    }
}

/// Builds the matrix of `inputs`, one column each, in the order given. At least one input
/// must be a report.
pub fn build(inputs: &[Input]) -> anyhow::Result<Matrix> {
    if !inputs.iter().any(|i| matches!(i.source, Source::Measured(_))) {
        anyhow::bail!("compare needs at least one report (report.json); expectation files only add documented columns");
    }
    let mut columns: Vec<Column> = inputs.iter().map(Input::column).collect();
    Column::tell_apart(&mut columns);
    // Trials in order of first appearance, each with its scenario, its runtime API and its step
    // labels.
    let mut order: Vec<(&str, &str, Option<&str>, Vec<&str>)> = Vec::new();
    let mut index: Vec<HashMap<&str, &TrialReport>> = Vec::new();
    for input in inputs {
        let mut trials = HashMap::new();
        if let Source::Measured(report) = &input.source {
            for trial in &report.trials {
                trials.entry(trial.id.as_str()).or_insert(trial);
                let at = match order.iter().position(|(id, ..)| *id == trial.id) {
                    Some(at) => at,
                    None => {
                        order.push((&trial.id, &trial.scenario, runtimes::api_of(trial), Vec::new()));
                        order.len() - 1
                    }
                };
                for step in &trial.steps {
                    if !order[at].3.contains(&step.label.as_str()) {
                        order[at].3.push(&step.label);
                    }
                }
            }
        }
        index.push(trials);
    }
    // Grouped by scenario (in order of first appearance), its runtime trials after its native
    // ones: a report without runtime trials and one with them still read scenario by scenario.
    let scenarios: Vec<&str> = order.iter().fold(Vec::new(), |mut seen, (_, scenario, ..)| {
        if !seen.contains(scenario) {
            seen.push(scenario);
        }
        seen
    });
    order.sort_by_key(|(_, scenario, api, _)| (scenarios.iter().position(|s| s == scenario), api.is_some()));
    let measured: Vec<usize> = (0..inputs.len())
        .filter(|&c| matches!(inputs[c].source, Source::Measured(_)))
        .collect();
    let mut rows = Vec::new();
    let mut gaps: Vec<Gap> = Vec::new();
    for (id, scenario, api, labels) in &order {
        let cell = |c: usize, row: RowKind| -> Option<String> {
            match (&inputs[c].source, row) {
                (Source::Measured(_), RowKind::Step(label)) => {
                    let trial = index[c].get(id)?;
                    trial
                        .steps
                        .iter()
                        .find(|s| s.label == label)
                        .map(|s| sockerr_reports::signature::without_ephemeral_ports(&s.outcome_with_signals()))
                }
                (Source::Measured(_), RowKind::Wire) => index[c].get(id).map(|t| wire_cell(t)),
                (Source::Measured(_), RowKind::Runtime) => index[c]
                    .get(id)?
                    .client
                    .as_ref()
                    .map(|c| c.runtime.clone())
                    .filter(|v| !v.is_empty()),
                (Source::Documented(e), RowKind::Step(label)) => {
                    let expected = e.for_scenario(scenario)?;
                    match api {
                        None => expected.steps.get(label).map(expected_cell),
                        Some(api) => expected.runtimes.get(*api)?.get(label).map(expected_runtime_cell),
                    }
                }
                (Source::Documented(e), RowKind::Wire) if api.is_none() => {
                    expected_wire_cell(e.for_scenario(scenario)?.wire.as_ref()?)
                }
                // A runtime trial is judged by its runtime's table alone (no wire facts), and
                // a file states no runtime version.
                (Source::Documented(_), RowKind::Wire | RowKind::Runtime) => None,
            }
        };
        let holding: Vec<usize> = measured
            .iter()
            .copied()
            .filter(|&c| index[c].contains_key(id))
            .collect();
        let kinds = api
            .map(|_| RowKind::Runtime)
            .into_iter()
            .chain(labels.iter().map(|l| RowKind::Step(l)))
            .chain([RowKind::Wire]);
        for kind in kinds {
            let cells: Vec<Option<String>> = (0..inputs.len()).map(|c| cell(c, kind)).collect();
            let differs = holding.windows(2).any(|w| cells[w[0]] != cells[w[1]]);
            rows.push(Row {
                trial: id.to_string(),
                scenario: scenario.to_string(),
                client: api.map(str::to_string),
                step: match kind {
                    RowKind::Step(label) => label.to_string(),
                    RowKind::Wire => WIRE.to_string(),
                    RowKind::Runtime => RUNTIME.to_string(),
                },
                cells,
                differs,
                everywhere: holding.len() == measured.len(),
            });
        }
        let holders: Vec<String> = holding.iter().map(|&c| columns[c].header()).collect();
        if holders.len() < measured.len() {
            match gaps.iter_mut().find(|g| g.only_in == holders) {
                Some(gap) => gap.trials.push(id.to_string()),
                None => gaps.push(Gap {
                    only_in: holders,
                    trials: vec![id.to_string()],
                }),
            }
        }
    }
    let forged = sockerr_reports::forged::side_by_side(
        &measured
            .iter()
            .filter_map(|&c| match &inputs[c].source {
                Source::Measured(report) => {
                    Some((columns[c].header(), sockerr_reports::forged::state_event_matrix(report)))
                }
                Source::Documented(_) => None,
            })
            .collect::<Vec<_>>(),
    );
    Ok(Matrix {
        columns,
        rows,
        gaps,
        forged,
    })
}

/// What a row of a trial holds.
#[derive(Clone, Copy)]
enum RowKind<'a> {
    /// The runtime and its version, for a runtime trial.
    Runtime,
    Step(&'a str),
    Wire,
}

/// Writes `matrix.md` and `matrix.html` into `dir` (created if missing). Returns the paths
/// written.
pub fn write(matrix: &Matrix, dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    sockerr_reports::write_matrix(matrix, dir)
        .with_context(|| format!("cannot write the matrix into {}", dir.display()))
}

/// An expected step as a cell: `ECONNRESET`, `{EPIPE, ECONNRESET}`, `EPIPE +SIGPIPE`, or
/// `any` when the file constrains something other than the outcome.
fn expected_cell(step: &StepExpectation) -> String {
    let mut text = match step.result.as_deref() {
        None | Some([]) => "any".to_string(),
        Some([one]) => one.clone(),
        Some(many) => format!("{{{}}}", many.join(", ")),
    };
    for signal in step.signals.iter().flatten() {
        let _ = write!(text, " +{signal}");
    }
    text
}

/// A runtime step's expectation as a cell, its aspects in the file's words:
/// `error java.net.SocketException "Connection reset"`, `ok=-1`, `{ok, lost}`,
/// `code {ECONNRESET}`, `survived`.
fn expected_runtime_cell(step: &RuntimeStepExpectation) -> String {
    let set = |items: &[String]| match items {
        [one] => one.clone(),
        many => format!("{{{}}}", many.join(", ")),
    };
    let mut parts: Vec<String> = Vec::new();
    match (&step.outcome, &step.error_type) {
        // A type implies an error: the outcome says nothing more.
        (Some(outcome), Some(_)) if outcome == &["error"] => {}
        (Some(outcome), _) => parts.push(set(outcome)),
        (None, _) => {}
    }
    if let Some(types) = &step.error_type {
        parts.push(set(types));
    }
    if let Some(message) = &step.message {
        parts.push(message.to_string());
    }
    if let Some(code) = &step.code {
        parts.push(format!("[{}]", set(code)));
    }
    match step.survived {
        Some(true) => parts.push("survived".into()),
        Some(false) => parts.push("died".into()),
        None => {}
    }
    if parts.is_empty() {
        "any".into()
    } else {
        parts.join(" ")
    }
}

/// The wire facts of an expectation: `has server>client R.; lacks client>server R`.
fn expected_wire_cell(wire: &WireExpectation) -> Option<String> {
    let facts: Vec<String> = [("has", &wire.has), ("lacks", &wire.lacks)]
        .into_iter()
        .filter(|(_, items)| !items.is_empty())
        .map(|(what, items)| format!("{what} {}", items.join(", ")))
        .collect();
    (!facts.is_empty()).then(|| facts.join("; "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use sockerr_harness::platform::Platform;
    use sockerr_harness::record::{CallResult, Direction, Segment, Step, Wire};
    use sockerr_harness::variant::{Family, Topology};
    use sockerr_reports::{Status, render_matrix_html, render_matrix_markdown};

    fn html(matrix: &Matrix) -> String {
        render_matrix_html(matrix).expect("the matrix renders")
    }

    fn step(label: &str, outcome: &str) -> Step {
        let (ret, errno) = match outcome.strip_prefix("ok=") {
            Some(n) => (n.parse().ok(), None),
            None => (None, Some(outcome.to_string())),
        };
        Step {
            label: label.into(),
            actor: label.split('.').next().unwrap_or_default().into(),
            op: "read(64)".into(),
            result: CallResult {
                ret,
                errno,
                errno_code: None,
            },
            revents: Vec::new(),
            tcp_state: None,
            signals: Vec::new(),
            t_us: 0,
            elapsed_us: 0,
            detail: None,
            runtime: None,
        }
    }

    fn segment(dir: Direction, flags: &str) -> Segment {
        Segment {
            dir,
            proto: Default::default(),
            flags: flags.into(),
            seq: 0,
            ack: 0,
            len: 0,
            t_us: 0,
            src: String::new(),
            dst: String::new(),
            win: 0,
            injected: false,
        }
    }

    /// A trial built through serde, so that fields added to the model later take their
    /// defaults here.
    fn trial(id: &str, steps: &[(&str, &str)]) -> TrialReport {
        let steps: Vec<Step> = steps.iter().map(|(l, o)| step(l, o)).collect();
        let wire = Wire {
            captured: true,
            segments: vec![
                segment(Direction::ClientToServer, "S"),
                segment(Direction::ServerToClient, "R."),
            ],
            drops: 0,
            pcap: None,
            not_captured: None,
        };
        serde_json::from_value(serde_json::json!({
            "id": id,
            "scenario": "abort.linger0.read_first",
            "family": Family::V4,
            "topology": Topology::Loopback,
            "status": Status::Pass,
            "skip_reason": null,
            "elapsed_ms": 1.0,
            "steps": steps,
            "wire": wire,
        }))
        .expect("a trial report")
    }

    fn report(label: &str, trials: Vec<TrialReport>) -> Input {
        let platform = Platform {
            os: "linux".into(),
            kernel: "6.18.0".into(),
            arch: "x86_64".into(),
            label: label.into(),
            ..Platform::default()
        };
        Input {
            file: format!("{label}/report.json"),
            source: Source::Measured(Box::new(Report::new(platform, None, trials))),
        }
    }

    const READ_FIRST: &str = "abort::linger0.read_first::v4::loopback";

    fn steps() -> Vec<(&'static str, &'static str)> {
        vec![
            ("client.read#1", "ECONNRESET"),
            ("client.read#2", "ok=0"),
            ("client.write#1", "EPIPE"),
        ]
    }

    /// docs/design.md vocabulary: a matrix compares reports step by step; a row differs when its
    /// cells do, and only then.
    #[test]
    fn two_reports_that_differ_in_one_step_give_exactly_one_differing_row() {
        let mut b_steps = steps();
        b_steps[1].1 = "ECONNRESET";
        let inputs = [
            report("A", vec![trial(READ_FIRST, &steps())]),
            report("B", vec![trial(READ_FIRST, &b_steps)]),
        ];
        let matrix = build(&inputs).unwrap();
        let differing: Vec<_> = matrix.differing().collect();
        assert_eq!(differing.len(), 1, "{}", matrix.summary());
        assert_eq!(differing[0].step, "client.read#2");
        assert_eq!(
            differing[0].cells,
            [Some("ok=0".to_string()), Some("ECONNRESET".to_string())]
        );
        assert_eq!(matrix.same().count(), 3, "two steps and the wire are the same");
        assert!(matrix.gaps.is_empty());
        let markdown = render_matrix_markdown(&matrix);
        assert!(markdown.contains("## Differences (1)"), "{markdown}");
        assert!(markdown.contains("## Same everywhere (3)"), "{markdown}");
        assert!(
            markdown.contains(&format!("| {READ_FIRST} | client.read#2 | **ok=0** | **ECONNRESET** |")),
            "{markdown}"
        );
        assert!(markdown.contains("| wire | client>server S, server>client R. | client>server S, server>client R. |"));
        assert!(markdown.find("## Differences").unwrap() < markdown.find("## Same everywhere").unwrap());
    }

    /// docs/design.md vocabulary: a report is one run; a trial one of them lacks is a gap, shown
    /// as — and listed by name.
    #[test]
    fn a_trial_present_in_one_report_only_is_a_gap_shown_and_listed() {
        let only_a = "abort::linger0.read_first::v6::loopback";
        let inputs = [
            report("A", vec![trial(READ_FIRST, &steps()), trial(only_a, &steps())]),
            report("B", vec![trial(READ_FIRST, &steps())]),
        ];
        let matrix = build(&inputs).unwrap();
        assert_eq!(
            matrix.gaps,
            [Gap {
                only_in: vec!["A".into()],
                trials: vec![only_a.into()]
            }]
        );
        assert!(
            matrix.summary().contains(&format!("trials only in A: {only_a}")),
            "{}",
            matrix.summary()
        );
        let gap_rows: Vec<_> = matrix.rows.iter().filter(|r| r.trial == only_a).collect();
        assert_eq!(gap_rows.len(), 4, "three steps and the wire");
        assert!(
            gap_rows
                .iter()
                .all(|r| !r.differs && !r.everywhere && r.cells[1].is_none())
        );
        assert_eq!(matrix.differing().count(), 0, "a gap alone is not a difference");
        assert_eq!((matrix.same().count(), matrix.partial().count()), (4, 4));
        let markdown = render_matrix_markdown(&matrix);
        assert!(
            markdown.contains(&format!("- trials only in A: {only_a}")),
            "{markdown}"
        );
        assert!(
            markdown.contains("## Same where present, missing from some reports (4)"),
            "{markdown}"
        );
        assert!(html(&matrix).contains("<td class=\"gap\">—</td>"));
    }

    /// docs/design.md vocabulary: a step is one labelled call; a trial that took a step in one
    /// report and not in another behaved differently there.
    #[test]
    fn a_step_missing_from_a_trial_both_reports_hold_is_a_difference() {
        let mut fewer = steps();
        fewer.pop();
        let inputs = [
            report("A", vec![trial(READ_FIRST, &steps())]),
            report("B", vec![trial(READ_FIRST, &fewer)]),
        ];
        let matrix = build(&inputs).unwrap();
        let differing: Vec<_> = matrix.differing().map(|r| (r.step.as_str(), r.cells.clone())).collect();
        assert_eq!(differing, [("client.write#1", vec![Some("EPIPE".to_string()), None])]);
        assert!(matrix.gaps.is_empty());
    }

    /// docs/design.md principle 5 and suites/expectations/linux.toml: an expectation file is a set
    /// per step; as a column it is documented, not measured, and never makes a row differ.
    #[test]
    fn an_expectation_file_is_a_documented_column_that_shows_the_set_and_never_differs() {
        let expectations = ExpectationFile::parse(
            "macos.toml",
            "[\"abort.linger0.read_first\"]\nwire = { has = [\"server>client R.\"] }\n\
             \"client.read#1\" = [\"ECONNRESET\", \"EPIPE\"]\n\"client.write#1\" = { result = \"EPIPE\", signals = [\"SIGPIPE\"] }\n",
            &catalogue::ids(),
        )
        .unwrap();
        let documented = Input {
            file: "doc/macos.toml".into(),
            source: Source::Documented(expectations),
        };
        let inputs = [report("A", vec![trial(READ_FIRST, &steps())]), documented];
        let matrix = build(&inputs).unwrap();
        assert_eq!(matrix.columns[1].header(), "macos (documented, not measured)");
        let cell = |step: &str| matrix.rows.iter().find(|r| r.step == step).unwrap().cells[1].clone();
        assert_eq!(cell("client.read#1").as_deref(), Some("{ECONNRESET, EPIPE}"));
        assert_eq!(cell("client.read#2"), None);
        assert_eq!(cell("client.write#1").as_deref(), Some("EPIPE +SIGPIPE"));
        assert_eq!(cell(WIRE).as_deref(), Some("has server>client R."));
        assert_eq!(matrix.differing().count(), 0);
        assert!(html(&matrix).contains("<th class=\"documented\">macos (documented, not measured)</th>"));
    }

    /// README "What you get": platform.label names a run; without one the column is
    /// `os kernel`, and overrides are part of the header.
    #[test]
    fn a_column_is_named_by_label_else_os_and_kernel_with_its_overrides() {
        let mut unlabelled = report("", vec![trial(READ_FIRST, &steps())]);
        if let Source::Measured(r) = &mut unlabelled.source {
            r.platform
                .sysctl_overrides
                .insert("net.ipv4.tcp_rfc1337".into(), "1".into());
        }
        let inputs = [unlabelled, report("rfc1337", vec![trial(READ_FIRST, &steps())])];
        let matrix = build(&inputs).unwrap();
        assert_eq!(matrix.columns[0].header(), "linux 6.18.0 (net.ipv4.tcp_rfc1337=1)");
        assert_eq!(matrix.columns[1].header(), "rfc1337");
        let mut other_file = report("x", vec![]);
        other_file.file = "y/report.json".into();
        let twins = build(&[report("x", vec![]), other_file]).unwrap();
        assert_eq!(twins.columns[0].header(), "x [x/report.json]");
        assert_eq!(twins.columns[1].header(), "x [y/report.json]");
        let same_file = build(&[report("x", vec![]), report("x", vec![])]).unwrap();
        assert_eq!(same_file.columns[0].header(), "x [#1]");
        assert_eq!(same_file.columns[1].header(), "x [#2]");
        let mut deep_a = report("x", vec![]);
        deep_a.file = "/runs/1/out/report.json".into();
        let mut deep_b = report("x", vec![]);
        deep_b.file = "/runs/2/out/report.json".into();
        let deep = build(&[deep_a, deep_b]).unwrap();
        assert_eq!(deep.columns[0].header(), "x [/runs/1/out/report.json]");
    }

    /// suites/expectations/*.toml (docs/design.md): files for other platforms hold documented
    /// values tagged with their evidence and source; each loads as a documented column.
    #[test]
    fn every_expectation_file_of_the_repository_loads_as_a_documented_column() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("expectations");
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "toml"))
            .collect();
        files.sort();
        assert!(!files.is_empty());
        let mut inputs = vec![report("A", vec![trial(READ_FIRST, &steps())])];
        for file in &files {
            let input = Input::load(file).unwrap_or_else(|e| panic!("{e:#}"));
            assert!(matches!(input.source, Source::Documented(_)), "{}", file.display());
            inputs.push(input);
        }
        let matrix = build(&inputs).unwrap();
        assert!(
            matrix.columns[1..]
                .iter()
                .all(|c| c.documented && c.header().ends_with("(documented, not measured)"))
        );
        assert_eq!(matrix.differing().count(), 0);
    }

    /// A runtime trial of READ_FIRST: Go's client, its read reset with its message naming the
    /// client's ephemeral `port`.
    fn go_trial(scenario_trial: &str, port: u16, version: &str) -> TrialReport {
        let mut trial = trial(&format!("{scenario_trial}.go.net"), &[]);
        trial.client = Some(sockerr_harness::record::ClientInfo {
            api: "go.net".into(),
            runtime: version.into(),
        });
        let mut read = step("client.read#1", "ok=0");
        read.runtime = Some(sockerr_harness::record::Answer {
            outcome: "error".into(),
            error_type: Some("*net.OpError".into()),
            message: Some(format!(
                "read tcp 127.0.0.1:{port}->127.0.0.1:4000: read: connection reset by peer"
            )),
            code: Some("ECONNRESET".into()),
            ..Default::default()
        });
        trial.steps = vec![read];
        trial
    }

    const DOTTED: &str = "abort.linger0.read_first.v4.loopback";

    /// docs/design.md "Runtime clients": the errno row and the runtime rows are read side by
    /// side; two runs of the same runtime compare equal although the client's ephemeral port
    /// (in Go's message) differs.
    #[test]
    fn runtime_trials_are_rows_of_their_scenario_naming_their_api_and_compare_across_runs() {
        let other_scenario = "abort.linger0.write_first.v4.loopback";
        let other = || {
            let mut t = trial(other_scenario, &steps());
            t.scenario = "abort.linger0.write_first".into();
            t
        };
        let inputs = [
            // A run without runtime trials, and one with them after every native trial.
            report("A", vec![trial(DOTTED, &steps()), other()]),
            report(
                "B",
                vec![trial(DOTTED, &steps()), other(), go_trial(DOTTED, 41234, "go1.19.8")],
            ),
            report("C", vec![trial(DOTTED, &steps()), go_trial(DOTTED, 52345, "go1.19.8")]),
        ];
        let matrix = build(&inputs).unwrap();
        let trials: Vec<(&str, Option<&str>)> = matrix
            .rows
            .iter()
            .map(|r| (r.trial.as_str(), r.client.as_deref()))
            .fold(Vec::new(), |mut seen, t| {
                if !seen.contains(&t) {
                    seen.push(t);
                }
                seen
            });
        let go = format!("{DOTTED}.go.net");
        assert_eq!(
            trials,
            [(DOTTED, None), (go.as_str(), Some("go.net")), (other_scenario, None)],
            "the runtime trial follows its scenario's native trial"
        );
        let go_rows: Vec<&Row> = matrix.rows.iter().filter(|r| r.trial == go).collect();
        assert_eq!(
            go_rows.iter().map(|r| r.step.as_str()).collect::<Vec<_>>(),
            [RUNTIME, "client.read#1", WIRE]
        );
        assert_eq!(go_rows[0].cells[1].as_deref(), Some("go1.19.8"));
        let read = go_rows[1];
        assert_eq!(
            read.cells[1].as_deref(),
            Some("*net.OpError: read tcp 127.0.0.1:*->127.0.0.1:4000: read: connection reset by peer [ECONNRESET]")
        );
        assert_eq!(read.cells[1], read.cells[2], "the ephemeral ports are left out");
        assert_eq!(read.native_trial(), DOTTED);
        assert_eq!(matrix.differing().count(), 0, "{}", matrix.summary());
        assert_eq!(matrix.gaps.len(), 2, "A lacks the runtime trial, C the other scenario");

        let markdown = render_matrix_markdown(&matrix);
        assert!(markdown.contains("| trial | client | step | A | B | C |"), "{markdown}");
        assert!(
            markdown.contains(&format!("| {DOTTED} | go.net | runtime | — | go1.19.8 | go1.19.8 |")),
            "{markdown}"
        );
        assert!(
            markdown.contains(&format!("| {DOTTED} | native | client.read#1 |")),
            "{markdown}"
        );
        let page = html(&matrix);
        assert!(page.contains("<th>client</th>"));
        assert!(page.contains(&format!(
            "<td class=\"trial\">{DOTTED}</td><td class=\"client\">go.net</td>"
        )));
        assert!(page.contains("<tr class=\"scenario\"><th colspan=\"6\">abort.linger0.read_first</th></tr>"));

        // A newer runtime that words the message otherwise is a difference, its version too.
        let mut newer = go_trial(DOTTED, 41234, "go1.22.2");
        newer.steps[0].runtime.as_mut().unwrap().message = Some("read: connection reset".into());
        let inputs = [
            report("B", vec![trial(DOTTED, &steps()), go_trial(DOTTED, 41234, "go1.19.8")]),
            report("D", vec![trial(DOTTED, &steps()), newer]),
        ];
        let differing: Vec<String> = build(&inputs).unwrap().differing().map(|r| r.step.clone()).collect();
        assert_eq!(differing, [RUNTIME, "client.read#1"]);
    }

    /// suites/expectations/mod.rs "Runtime clients": a documented column shows the file's
    /// runtime table for a runtime trial's steps, not the native expectation.
    #[test]
    fn a_documented_column_shows_the_runtime_table_for_a_runtime_trial() {
        let expectations = ExpectationFile::parse(
            "mine.toml",
            "[\"abort.linger0.read_first\"]\n\"client.read#1\" = \"ECONNRESET\"\n\
             [\"abort.linger0.read_first\".runtimes.\"go.net\"]\n\
             \"client.read#1\" = { type = \"*net.OpError\", message = \"~connection reset by peer\", code = \"ECONNRESET\" }\n",
            &catalogue::ids(),
        )
        .unwrap();
        let inputs = [
            report("A", vec![trial(DOTTED, &steps()), go_trial(DOTTED, 41234, "go1.19.8")]),
            Input {
                file: "mine.toml".into(),
                source: Source::Documented(expectations),
            },
        ];
        let matrix = build(&inputs).unwrap();
        let cell = |trial: &str, step: &str| {
            matrix
                .rows
                .iter()
                .find(|r| r.trial == trial && r.step == step)
                .unwrap()
                .cells[1]
                .clone()
        };
        let go = format!("{DOTTED}.go.net");
        assert_eq!(cell(DOTTED, "client.read#1").as_deref(), Some("ECONNRESET"));
        assert_eq!(
            cell(&go, "client.read#1").as_deref(),
            Some("*net.OpError ~\"connection reset by peer\" [ECONNRESET]")
        );
        assert_eq!(cell(&go, WIRE), None);
        assert_eq!(cell(&go, RUNTIME), None);
    }

    #[test]
    fn a_comparison_without_a_report_is_refused() {
        let documented = Input {
            file: "linux.toml".into(),
            source: Source::Documented(ExpectationFile::default()),
        };
        let error = build(&[documented]).unwrap_err().to_string();
        assert!(error.contains("at least one report"), "{error}");
    }

    #[test]
    fn html_is_self_contained_and_escapes_what_it_shows() {
        let inputs = [
            report("<A&B>", vec![trial(READ_FIRST, &steps())]),
            report("C", vec![trial(READ_FIRST, &[("client.read#1", "EPIPE")])]),
        ];
        let page = html(&build(&inputs).unwrap());
        assert!(page.contains("&lt;A&amp;B&gt;") && !page.contains("<A&B>"));
        for external in ["<link", "<script", "src=", "href=", "@import", "url("] {
            assert!(
                !page.contains(external),
                "the page refers to an external resource: {external}"
            );
        }
        assert!(page.contains("<tr class=\"differs\">"));
    }
}

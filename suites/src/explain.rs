//! `sockerr explain <ERRNO | scenario-id>`: one errno or one scenario, with the evidence.
//!
//! For an errno: what it means (live `strerror`, documented TCP meaning), which scenarios
//! produce it at which step on this platform, with the variants, the client guidance of each
//! and the wire of one such trial; what other platforms are documented to return there; and
//! how runtimes show it (Rust's `io::ErrorKind` live, the others documented). For a scenario:
//! its claim and sources, every step's outcome per variant (with the documented values of other
//! platforms), its wire with the steps in between, and the client guidance.
//!
//! Observations come only from a report: the one named by `--report`, or, when that file does
//! not exist, a run of the catalogue in this process (which writes nothing and says so).

use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use sockerr_harness::{Segment, Step};
use sockerr_reports::{Report, TrialReport};

use crate::catalogue;
use crate::expectations::{self, Expectations};
use crate::knowledge::{errno, runtimes};
use crate::runner::{self, RunConfig};
use crate::scenario::Scenario;
use crate::suggest::edit_distance;

/// Explain an errno or a scenario: meaning, where this platform produces it, the wire, what a
/// client should do, and how runtimes show it.
///
/// Exit status: 0 when explained, 2 when the subject is unknown (the closest names are
/// suggested) or the report cannot be read.
#[derive(clap::Args, Debug)]
pub struct ExplainArgs {
    /// An errno name (ECONNRESET; any case) or number of this platform, a scenario id
    /// (abort.linger0.read_first), or trials as `--filter` names them: a trial id
    /// (abort.linger0.read_first.v4.loopback, or with `::`), a part of one, or a glob
    /// (abort.linger0.*); every scenario they belong to is explained. See `sockerr list`.
    #[arg(value_name = "ERRNO|SCENARIO|TRIAL")]
    pub subject: String,
    /// The report whose observations to show. When the file does not exist, the catalogue is
    /// run in this process first (nothing is written), and the output says so.
    #[arg(long, default_value = "reports/local/report.json", value_name = "FILE")]
    pub report: PathBuf,
}

/// What `explain` was asked about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subject {
    Errno { name: String, code: i32 },
    Scenario(String),
}

/// Runs `sockerr explain`: prints the explanation, or fails (exit status 2 in `main`) naming
/// the closest known subjects.
pub fn run(args: ExplainArgs, run_as: String, skip_reason: Option<String>) -> anyhow::Result<ExitCode> {
    let scenarios = catalogue::all();
    let existing = if args.report.exists() {
        Some(Report::read(&args.report)?)
    } else {
        None
    };
    let mut ids: Vec<String> = scenarios.iter().map(|s| s.id.to_string()).collect();
    for t in existing.iter().flat_map(|r| &r.trials) {
        if !ids.contains(&t.scenario) {
            ids.push(t.scenario.clone());
        }
    }
    let subjects = match resolve(&args.subject, &ids) {
        Ok(subject) => vec![subject],
        // Not an errno nor a scenario id: trials, named as `--filter` names them.
        Err(unknown) => {
            match crate::selection::select(&runner::plan(&scenarios), std::slice::from_ref(&args.subject)) {
                Ok(selection) => {
                    let mut ids: Vec<&str> = selection.trials.iter().map(|p| p.scenario.id).collect();
                    ids.dedup();
                    ids.into_iter().map(|id| Subject::Scenario(id.to_string())).collect()
                }
                Err(_) => anyhow::bail!(unknown),
            }
        }
    };
    let (report, origin) = match existing {
        Some(report) => (report, args.report.display().to_string()),
        None => {
            eprintln!(
                "sockerr: {} does not exist; running the catalogue in this process (nothing is written; \
                 `sockerr run` writes a report)",
                args.report.display()
            );
            let report = run_catalogue(&scenarios, run_as, skip_reason)?;
            (
                report,
                format!(
                    "a run of the catalogue just now, in this process ({} not found)",
                    args.report.display()
                ),
            )
        }
    };
    let documented = documented_platforms();
    for subject in &subjects {
        let text = match subject {
            Subject::Errno { name, code } => explain_errno(name, *code, &report, &origin, &scenarios, &documented),
            Subject::Scenario(id) => {
                explain_scenario(id, scenarios.iter().find(|s| s.id == id), &report, &origin, &documented)
            }
        };
        print!("{text}");
    }
    Ok(ExitCode::SUCCESS)
}

/// Runs every trial of the catalogue against the built-in expectations, writing nothing.
fn run_catalogue(scenarios: &[Scenario], run_as: String, skip_reason: Option<String>) -> anyhow::Result<Report> {
    let ids = catalogue::ids();
    let expectations = match expectations::built_in() {
        Some((origin, text)) => Expectations::parse(origin, text, &ids)?,
        None => Expectations::default(),
    };
    let planned = runner::plan(scenarios);
    let config = RunConfig {
        expectations,
        capabilities: runner::probe(&planned, skip_reason),
        ..RunConfig::default()
    };
    let jobs = runner::default_jobs();
    let trials = runner::run_all(&planned, &config, jobs);
    let mut platform = sockerr_harness::platform::Platform::probe();
    platform.run_as = run_as;
    let origin = (!config.expectations.origin.is_empty()).then(|| config.expectations.origin.clone());
    Ok(Report::new(platform, origin, trials))
}

/// Reads the subject: a scenario id (exact), an errno name of this platform (any case), or an
/// errno number. Unknown: a message naming the closest errno names and scenario ids.
pub fn resolve(text: &str, scenario_ids: &[String]) -> Result<Subject, String> {
    let text = text.trim();
    if scenario_ids.iter().any(|id| id == text) {
        return Ok(Subject::Scenario(text.to_string()));
    }
    let upper = text.to_ascii_uppercase();
    if let Some(code) = errno::code(&upper) {
        return Ok(Subject::Errno { name: upper, code });
    }
    if let Ok(code) = text.parse::<i32>() {
        let name = errno::name(code);
        if errno::code(&name) == Some(code) {
            return Ok(Subject::Errno { name, code });
        }
    }
    let mut candidates: Vec<(usize, String)> = errno::names()
        .into_iter()
        .map(|n| (edit_distance(&upper, &n), n))
        .chain(
            scenario_ids
                .iter()
                .map(|id| (edit_distance(&text.to_ascii_lowercase(), id), id.clone())),
        )
        .collect();
    candidates.sort();
    let closest: Vec<String> = candidates.into_iter().take(3).map(|(_, n)| n).collect();
    Err(format!(
        "{text:?} is neither an errno name of this platform nor a scenario id; closest: {} (scenario ids: `sockerr list`)",
        closest.join(", ")
    ))
}

/// One documented platform file, parsed.
pub struct DocumentedPlatform {
    /// Short name: `macOS 15`, `FreeBSD`, ...
    pub name: String,
    pub origin: &'static str,
    pub expectations: Expectations,
}

/// The built-in documented expectation files (macOS, FreeBSD, OpenBSD, Windows).
pub fn documented_platforms() -> Vec<DocumentedPlatform> {
    let ids = catalogue::ids();
    expectations::documented_files()
        .into_iter()
        .filter_map(|(origin, text)| {
            let expectations = Expectations::parse(origin, text, &ids).ok()?;
            let full = expectations.platform.name.clone().unwrap_or_else(|| origin.to_string());
            let name = full.split(" (").next().unwrap_or(&full).to_string();
            Some(DocumentedPlatform {
                name,
                origin,
                expectations,
            })
        })
        .collect()
}

fn variant(t: &TrialReport) -> String {
    format!("{}/{}", t.family, t.topology)
}

/// `all 4 variants` or the list.
fn variants_text(matching: &[String], total: usize) -> String {
    if matching.len() == total && total > 1 {
        format!("all {total} variants")
    } else {
        matching.join(", ")
    }
}

fn report_line(report: &Report, origin: &str) -> String {
    let p = &report.platform;
    let counts = sockerr_reports::summary::Counts::of(&report.trials);
    format!(
        "{origin} ({} {} {}; {} trials: {counts})",
        p.os,
        p.kernel,
        p.arch,
        report.trials.len()
    )
}

/// Output width that [`wrap`] fills.
const WIDTH: usize = 100;

/// Wraps `text` to [`WIDTH`] columns for a place that starts at column `indent.len()` (after a
/// prefix of that width); every line after the first starts with `indent`.
fn wrap(text: &str, indent: &str) -> String {
    let mut out = String::new();
    let mut column = indent.len();
    let mut first = true;
    for word in text.split_whitespace() {
        let width = word.chars().count();
        if !first && column + 1 + width > WIDTH {
            out.push('\n');
            out.push_str(indent);
            column = indent.len();
        } else if !first {
            out.push(' ');
            column += 1;
        }
        out.push_str(word);
        column += width;
        first = false;
    }
    out
}

/// The wire of a trial, tcpdump-like, with the given steps placed where they ran in time
/// (`->` lines); `marks` names the steps to point at.
fn ladder(trial: &TrialReport, steps: &[&Step], marks: &[&str], indent: &str) -> String {
    let mut out = String::new();
    let wire = &trial.wire;
    if wire.segments.is_empty() {
        let why = if wire.captured {
            "no segments captured"
        } else {
            "no capture in this trial"
        };
        let _ = writeln!(out, "{indent}({why})");
        return out;
    }
    let mut pending = steps.iter().peekable();
    let step_line = |s: &Step| {
        let marker = if marks.contains(&s.label.as_str()) {
            "   <- this step"
        } else {
            ""
        };
        format!(
            "{indent}{:>10.3}ms  -> {} {} = {}{marker}",
            s.t_us as f64 / 1000.0,
            s.label,
            s.op,
            s.outcome_with_signals()
        )
    };
    let segment_line = |seg: &Segment| format!("{indent}{seg}");
    for seg in &wire.segments {
        while let Some(s) = pending.next_if(|s| s.t_us <= seg.t_us) {
            let _ = writeln!(out, "{}", step_line(s));
        }
        let _ = writeln!(out, "{}", segment_line(seg));
    }
    for s in pending {
        let _ = writeln!(out, "{}", step_line(s));
    }
    if wire.drops > 0 {
        let _ = writeln!(
            out,
            "{indent}({} frames dropped from the capture: incomplete)",
            wire.drops
        );
    }
    out
}

/// The outcome with its signals, and for a poll step the revents it returned.
fn shown_outcome(step: &Step) -> String {
    let mut text = step.outcome_with_signals();
    if step.label.contains(".poll#") {
        text.push_str(&format!(
            " revents {}",
            if step.revents.is_empty() {
                "none".into()
            } else {
                step.revents.join("|")
            }
        ));
    }
    text
}

fn guidance_of<'a>(trial: &'a TrialReport, scenario: Option<&'a Scenario>) -> Option<&'a str> {
    trial
        .guidance
        .as_deref()
        .or(scenario.map(|s| s.guidance))
        .filter(|g| !g.is_empty())
}

fn skipped_note(report: &Report) -> Option<String> {
    if !report.trials.is_empty() && report.trials.iter().all(|t| t.steps.is_empty()) {
        let reason = report
            .trials
            .iter()
            .find_map(|t| t.skip_reason.clone())
            .unwrap_or_else(|| "no steps recorded".into());
        Some(format!(
            "every trial of this report was skipped, so it observed nothing: {reason}"
        ))
    } else {
        None
    }
}

/// A documented value of another platform, as `explain` lists it.
#[derive(PartialEq, Eq)]
struct Fact<'a> {
    platform: &'a str,
    scenario: &'a str,
    result: String,
    evidence: &'a str,
    source: &'a str,
}

/// The explanation of one errno.
pub fn explain_errno(
    name: &str,
    code: i32,
    report: &Report,
    origin: &str,
    scenarios: &[Scenario],
    documented: &[DocumentedPlatform],
) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{name}  (errno {code} on this platform) \"{}\"",
        errno::strerror(code)
    );
    match errno::meaning(name) {
        Some(m) => {
            let _ = writeln!(out, "  meaning   {}", wrap(m.tcp, "            "));
            let _ = writeln!(out, "            (documented: {})", wrap(m.source, "             "));
        }
        None => {
            let _ = writeln!(
                out,
                "  meaning   (no TCP meaning documented by sockerr for {name}; see errno(3))"
            );
        }
    }

    let _ = writeln!(out, "\nwhere this platform returns it: {}", report_line(report, origin));
    if let Some(note) = skipped_note(report) {
        let _ = writeln!(out, "  {note}");
    }
    // Scenarios, and their step labels that returned the errno, in report order.
    let mut order: Vec<(&str, Vec<&str>)> = Vec::new();
    let mut by_scenario: BTreeMap<&str, Vec<&TrialReport>> = BTreeMap::new();
    for t in &report.trials {
        by_scenario.entry(t.scenario.as_str()).or_default().push(t);
        for s in t.steps.iter().filter(|s| s.result.errno.as_deref() == Some(name)) {
            let index = match order.iter().position(|(id, _)| *id == t.scenario) {
                Some(i) => i,
                None => {
                    order.push((t.scenario.as_str(), Vec::new()));
                    order.len() - 1
                }
            };
            if !order[index].1.contains(&s.label.as_str()) {
                order[index].1.push(&s.label);
            }
        }
    }
    if order.is_empty() {
        let _ = writeln!(out, "  no step of any trial in this report returned {name}");
    }
    for (scenario_id, labels) in &order {
        let trials = &by_scenario[scenario_id];
        let scenario = scenarios.iter().find(|s| s.id == *scenario_id);
        let _ = writeln!(out, "\n  {scenario_id}");
        let mut example: Option<&TrialReport> = None;
        for label in labels {
            let mut matching = Vec::new();
            let mut elsewhere: BTreeMap<String, Vec<String>> = BTreeMap::new();
            let mut first: Option<&Step> = None;
            for t in trials {
                match t.steps.iter().find(|s| s.label == *label) {
                    Some(s) if s.result.errno.as_deref() == Some(name) => {
                        matching.push(variant(t));
                        first.get_or_insert(s);
                        example.get_or_insert(t);
                    }
                    Some(s) => elsewhere.entry(s.outcome_with_signals()).or_default().push(variant(t)),
                    None => elsewhere.entry("(no such step)".into()).or_default().push(variant(t)),
                }
            }
            let Some(step) = first else { continue };
            let _ = writeln!(
                out,
                "    step      {label}  {}  = {}  in {}",
                step.op,
                step.outcome_with_signals(),
                variants_text(&matching, trials.len())
            );
            for (outcome, variants) in &elsewhere {
                let _ = writeln!(out, "              elsewhere {outcome} in {}", variants.join(", "));
            }
        }
        let Some(trial) = example else { continue };
        if let Some(g) = guidance_of(trial, scenario) {
            let _ = writeln!(out, "    guidance  {}", wrap(g, "              "));
        }
        let steps: Vec<&Step> = trial.steps.iter().collect();
        let _ = writeln!(
            out,
            "    wire      {} (steps in between, at the time they started):",
            trial.id
        );
        out.push_str(&ladder(trial, &steps, labels, "      "));
    }

    let _ = writeln!(
        out,
        "\ndocumented on other platforms (not measured here; [evidence] tags of platform-differences.md §0; \
         files suites/expectations/<platform>.toml):"
    );
    // (platform, scenario, result, evidence, source) -> labels: one entry per documented fact.
    // One line per documented fact; the labels of one scenario that share it are joined.
    let mut facts: Vec<(Fact, Vec<&str>)> = Vec::new();
    for platform in documented {
        for (id, scenario) in &platform.expectations.scenarios {
            for (label, expected) in &scenario.steps {
                let Some(result) = &expected.result else { continue };
                if !result.iter().any(|r| r == name) {
                    continue;
                }
                let fact = Fact {
                    platform: &platform.name,
                    scenario: id,
                    result: result.join(" | "),
                    evidence: expected.evidence.as_deref().unwrap_or("?"),
                    source: expected.source.as_deref().unwrap_or(""),
                };
                match facts.iter_mut().find(|(f, _)| *f == fact) {
                    Some((_, labels)) => labels.push(label),
                    None => facts.push((fact, vec![label])),
                }
            }
        }
    }
    if facts.is_empty() {
        let _ = writeln!(out, "  (no documented step returns {name})");
    }
    for (f, labels) in &facts {
        let _ = writeln!(
            out,
            "  {:<10} {}  {}  {}  [{}]",
            f.platform,
            f.scenario,
            labels.join(", "),
            f.result,
            f.evidence
        );
        if !f.source.is_empty() {
            let _ = writeln!(out, "  {:<10} source: {}", "", wrap(f.source, "                     "));
        }
    }

    out.push_str(&runtime_section(name, code));
    out
}

/// How runtimes show an errno: Rust live, the others documented with their sources.
fn runtime_section(name: &str, code: i32) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "\nhow runtimes show {name}:");
    let rust = runtimes::rust(code);
    let _ = writeln!(
        out,
        "  {:<15} live        io::ErrorKind::{:?}; Display \"{}\" (std::io::Error::from_raw_os_error({code}))",
        "Rust std", rust.kind, rust.display
    );
    for shown in runtimes::documented(name) {
        let what = format!("{}: {}", shown.when, shown.shows);
        let _ = writeln!(
            out,
            "  {:<15} documented  {}",
            shown.runtime,
            wrap(&what, "                              ")
        );
        let _ = writeln!(
            out,
            "  {:<15}             source: {}",
            "",
            wrap(shown.source, "                                  ")
        );
    }
    out
}

/// The explanation of one scenario.
pub fn explain_scenario(
    id: &str,
    scenario: Option<&Scenario>,
    report: &Report,
    origin: &str,
    documented: &[DocumentedPlatform],
) -> String {
    let mut out = String::new();
    let trials: Vec<&TrialReport> = report.trials.iter().filter(|t| t.scenario == id).collect();
    let first = trials.first();
    let claim = scenario
        .map(|s| s.claim.to_string())
        .or_else(|| first.map(|t| t.claim.clone()))
        .unwrap_or_default();
    let sources: Vec<String> = scenario
        .map(|s| s.sources.iter().map(|x| x.to_string()).collect())
        .or_else(|| first.map(|t| t.sources.clone()))
        .unwrap_or_default();
    let _ = writeln!(out, "{id}");
    let _ = writeln!(out, "  claim     {}", wrap(&claim, "            "));
    for (i, source) in sources.iter().enumerate() {
        let _ = writeln!(out, "  {:<9} - {source}", if i == 0 { "sources" } else { "" });
    }

    let _ = writeln!(out, "\nobserved: {}", report_line(report, origin));
    if trials.is_empty() {
        let _ = writeln!(out, "  this report has no trial of {id}");
    }
    if let Some(note) = skipped_note(report) {
        let _ = writeln!(out, "  {note}");
    }
    for t in &trials {
        let _ = writeln!(out, "  {:<8} {}", t.status.as_str(), t.id);
        for m in &t.mismatches {
            let _ = writeln!(out, "           {}", m.replace('\n', "\n           "));
        }
    }

    // label -> outcome -> variants, labels in first-seen order
    let mut order: Vec<(&str, &str)> = Vec::new();
    let mut outcomes: BTreeMap<&str, BTreeMap<String, Vec<String>>> = BTreeMap::new();
    for t in &trials {
        for s in &t.steps {
            if !order.iter().any(|(l, _)| *l == s.label) {
                order.push((&s.label, &s.op));
            }
            outcomes
                .entry(&s.label)
                .or_default()
                .entry(shown_outcome(s))
                .or_default()
                .push(variant(t));
        }
    }
    if !order.is_empty() {
        let _ = writeln!(
            out,
            "\nsteps (outcome per variant; documented values of other platforms below each):"
        );
    }
    for (label, op) in &order {
        let seen = &outcomes[label];
        let text = if let [(outcome, variants)] = seen.iter().collect::<Vec<_>>().as_slice() {
            format!("{outcome}  (in {})", variants_text(variants, trials.len()))
        } else {
            seen.iter()
                .map(|(o, v)| format!("{o} in {}", v.join(", ")))
                .collect::<Vec<_>>()
                .join("; ")
        };
        let _ = writeln!(out, "  {label:<20} {op:<32} {text}");
        let docs: Vec<String> = documented
            .iter()
            .filter_map(|p| {
                let e = p.expectations.scenarios.get(id)?.steps.get(*label)?;
                let mut what = e.result.as_ref().map(|r| r.join(" | ")).unwrap_or_default();
                if let Some(signals) = &e.signals {
                    what.push_str(&format!(" signals [{}]", signals.join(", ")));
                }
                if let Some(revents) = &e.revents {
                    what.push_str(&format!(" revents {}", revents.join("|")));
                }
                Some(format!(
                    "{} {} [{}]",
                    p.name,
                    what.trim(),
                    e.evidence.as_deref().unwrap_or("?")
                ))
            })
            .collect();
        if !docs.is_empty() {
            let _ = writeln!(
                out,
                "  {:<20} documented: {}",
                "",
                wrap(&docs.join("; "), "                                   ")
            );
        }
    }

    if let Some(trial) = trials.iter().find(|t| !t.wire.segments.is_empty()).or(first) {
        let steps: Vec<&Step> = trial.steps.iter().collect();
        let _ = writeln!(out, "\nwire of {} (steps in between):", trial.id);
        out.push_str(&ladder(trial, &steps, &[], "  "));
    }
    let wire_docs: Vec<String> = documented
        .iter()
        .filter_map(|p| {
            let w = &p.expectations.scenarios.get(id)?.wire;
            if w.has.is_empty() && w.lacks.is_empty() {
                return None;
            }
            let mut facts: Vec<String> = w.has.iter().map(|h| format!("has {h}")).collect();
            facts.extend(w.lacks.iter().map(|l| format!("lacks {l}")));
            Some(format!(
                "{}: {} [{}]",
                p.name,
                facts.join(", "),
                w.evidence.as_deref().unwrap_or("?")
            ))
        })
        .collect();
    if !wire_docs.is_empty() {
        let _ = writeln!(out, "  documented: {}", wrap(&wire_docs.join("; "), "              "));
    }

    let guidance = first
        .and_then(|t| guidance_of(t, scenario))
        .or(scenario.map(|s| s.guidance));
    if let Some(g) = guidance {
        let _ = writeln!(out, "\nguidance  {}", wrap(g, "          "));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids() -> Vec<String> {
        catalogue::ids().into_iter().map(String::from).collect()
    }

    #[test]
    fn subjects_resolve_by_name_any_case_number_or_scenario_id() {
        let ids = ids();
        let reset = Subject::Errno {
            name: "ECONNRESET".into(),
            code: libc::ECONNRESET,
        };
        assert_eq!(resolve("ECONNRESET", &ids), Ok(reset.clone()));
        assert_eq!(resolve("econnreset", &ids), Ok(reset.clone()));
        assert_eq!(resolve(&libc::ECONNRESET.to_string(), &ids), Ok(reset));
        assert_eq!(
            resolve("abort.linger0.read_first", &ids),
            Ok(Subject::Scenario("abort.linger0.read_first".into()))
        );
    }

    #[test]
    fn an_unknown_subject_names_the_closest() {
        let ids = ids();
        let err = resolve("ECONNRESTE", &ids).unwrap_err();
        assert!(err.contains("closest: ECONNRESET"), "{err}");
        let err = resolve("abort.linger0.read_frist", &ids).unwrap_err();
        assert!(err.contains("closest: abort.linger0.read_first"), "{err}");
        assert!(resolve("ENOSUCH", &ids).is_err());
    }

    #[test]
    fn every_documented_platform_file_loads() {
        let names: Vec<String> = documented_platforms().into_iter().map(|p| p.name).collect();
        assert_eq!(names.len(), expectations::documented_files().len(), "{names:?}");
    }

    #[test]
    fn wrap_keeps_words_and_indents() {
        let text = "word ".repeat(30);
        let wrapped = wrap(&text, "    ");
        assert!(wrapped.lines().all(|l| l.len() + 4 <= WIDTH), "{wrapped}");
        assert_eq!(wrapped.split_whitespace().count(), 30);
        assert!(wrapped.lines().skip(1).all(|l| l.starts_with("    word")), "{wrapped}");
    }
}

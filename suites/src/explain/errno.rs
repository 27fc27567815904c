//! `explain ERRNO`: what the errno means, which steps of which scenarios returned it in the
//! report (with the variants, the guidance and the wire of one such trial), what the
//! documented platforms return there, and how runtimes show it (measured by the report's
//! runtime trials, documented where nothing was measured: [`super::runtimes`]).

use std::collections::BTreeMap;
use std::fmt::Write;

use sockerr_harness::Step;
use sockerr_reports::runtimes::is_runtime;
use sockerr_reports::{Report, TrialReport};

use super::documented::{self, DocumentedPlatform};
use super::layout::{guidance_of, ladder, report_line, skipped_note, variant, variants_text, wrap};
use super::runtimes;
use crate::knowledge::errno;
use crate::scenario::Scenario;

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
    // Native trials: what the runtimes made of the errno is the runtime section's.
    for t in report.trials.iter().filter(|t| !is_runtime(t)) {
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
        "\ndocumented on other platforms (not measured here; the [evidence] tags are explained below and in {}; \
         files suites/expectations/<platform>.toml):",
        documented::EVIDENCE_DOC
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
    if let Some(legend) = documented::evidence_legend(facts.iter().map(|(f, _)| f.evidence)) {
        let _ = writeln!(out, "  evidence   {}", wrap(&legend, "             "));
    }

    out.push_str(&runtimes::errno_section(name, code, report));
    out
}

//! `explain SCENARIO` (or a trial id, or a glob): the scenario's claim and sources, every
//! step's outcome per variant with the documented platforms' values beside it, what each
//! runtime saw at the client's steps, the wire with the steps in between, and the client
//! guidance.

use std::collections::BTreeMap;
use std::fmt::Write;

use sockerr_harness::Step;
use sockerr_reports::runtimes::is_runtime;
use sockerr_reports::{Report, Status, TrialReport};

use super::documented::{self, DocumentedPlatform};
use super::layout::{guidance_of, ladder, report_line, shown_outcome, skipped_note, variant, variants_text, wrap};
use super::runtimes;
use super::subject::canonical;
use crate::scenario::Scenario;

/// The explanation of one scenario, from the report's trials of it; `only` narrows those to
/// the trial ids given (any spelling [`canonical`] accepts).
pub fn explain_scenario(
    id: &str,
    scenario: Option<&Scenario>,
    only: Option<&[String]>,
    report: &Report,
    origin: &str,
    documented: &[DocumentedPlatform],
) -> String {
    let mut out = String::new();
    let chosen = |t: &TrialReport| only.is_none_or(|ids| ids.iter().any(|i| canonical(i) == canonical(&t.id)));
    let trials: Vec<&TrialReport> = report.trials.iter().filter(|t| t.scenario == id && chosen(t)).collect();
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
    match (trials.is_empty(), only) {
        (true, Some(ids)) => {
            let _ = writeln!(out, "  this report has no trial {}", ids.join(", "));
        }
        (true, None) => {
            let _ = writeln!(out, "  this report has no trial of {id}");
        }
        (false, _) => {}
    }
    if let Some(note) = skipped_note(report) {
        let _ = writeln!(out, "  {note}");
    }
    // Every native trial by name; runtime trials by count, naming those that did not pass.
    let (natives, runtime_trials): (Vec<&TrialReport>, Vec<&TrialReport>) =
        trials.iter().copied().partition(|t| !is_runtime(t));
    let named = natives
        .iter()
        .chain(runtime_trials.iter().filter(|t| t.status != Status::Pass));
    for t in named {
        let _ = writeln!(out, "  {:<8} {}", t.status.as_str(), t.id);
        for m in &t.mismatches {
            let _ = writeln!(out, "           {}", m.to_string().replace('\n', "\n           "));
        }
    }
    if !runtime_trials.is_empty() {
        let passed = runtime_trials.iter().filter(|t| t.status == Status::Pass).count();
        let _ = writeln!(
            out,
            "  runtime trials: {} ({passed} passed; what each runtime saw is below)",
            runtime_trials.len()
        );
    }

    // label -> outcome -> variants, labels in first-seen order
    let mut order: Vec<(&str, &str)> = Vec::new();
    let mut outcomes: BTreeMap<&str, BTreeMap<String, Vec<String>>> = BTreeMap::new();
    for t in &natives {
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
    // The evidence tags shown, explained once at the end.
    let mut tags: Vec<&str> = Vec::new();
    for (label, op) in &order {
        let seen = &outcomes[label];
        let text = if let [(outcome, variants)] = seen.iter().collect::<Vec<_>>().as_slice() {
            format!("{outcome}  (in {})", variants_text(variants, natives.len()))
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
                tags.extend(e.evidence.as_deref());
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

    out.push_str(&runtimes::scenario_section(&trials));

    if let Some(trial) = natives
        .iter()
        .find(|t| !t.wire.segments.is_empty())
        .or(natives.first())
        .or(first)
    {
        let steps: Vec<&Step> = trial.steps.iter().collect();
        let _ = writeln!(out, "\nwire of {} (steps in between):", trial.id);
        out.push_str(&ladder(trial, &steps, &[], "  "));
    }
    let wire_docs: Vec<String> = documented
        .iter()
        .filter_map(|p| {
            let w = p.expectations.scenarios.get(id)?.wire.as_ref()?;
            if w.has.is_empty() && w.lacks.is_empty() {
                return None;
            }
            tags.extend(w.evidence.as_deref());
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
    if let Some(legend) = documented::evidence_legend(tags) {
        let text = format!("{legend} ({})", documented::EVIDENCE_DOC);
        let _ = writeln!(out, "\nevidence  {}", wrap(&text, "          "));
    }

    let guidance = first
        .and_then(|t| guidance_of(t, scenario))
        .or(scenario.map(|s| s.guidance));
    if let Some(g) = guidance {
        let _ = writeln!(out, "\nguidance  {}", wrap(g, "          "));
    }
    out
}

//! What the console shows of a report: one line per scenario, or per scenario the observed
//! outcome of each step (the native trials', with a line counting the runtime trials: the
//! report shows what each runtime saw); the skipped trials grouped by reason; the counts.
//! Scenarios come in the order the report holds them, which is catalogue order.

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::model::{Report, Status, TrialReport};

/// Counts of trials per status.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    pub pass: usize,
    pub fail: usize,
    pub skip: usize,
    pub observed: usize,
}

impl Counts {
    pub fn of(trials: &[TrialReport]) -> Counts {
        Counts::of_refs(&trials.iter().collect::<Vec<_>>())
    }

    pub fn of_refs(trials: &[&TrialReport]) -> Counts {
        let mut c = Counts::default();
        for t in trials {
            match t.status {
                Status::Pass => c.pass += 1,
                Status::Fail => c.fail += 1,
                Status::Skip => c.skip += 1,
                Status::Observed => c.observed += 1,
            }
        }
        c
    }
}

impl std::fmt::Display for Counts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} passed, {} failed, {} skipped", self.pass, self.fail, self.skip)?;
        if self.observed > 0 {
            write!(f, ", {} observed without expectation", self.observed)?;
        }
        Ok(())
    }
}

/// The trials of a report grouped by scenario, in the order the report holds them (catalogue
/// order, as `sockerr list` prints it).
pub fn by_scenario(trials: &[TrialReport]) -> Vec<(&str, Vec<&TrialReport>)> {
    let mut groups: Vec<(&str, Vec<&TrialReport>)> = Vec::new();
    for t in trials {
        match groups.iter_mut().find(|(scenario, _)| *scenario == t.scenario) {
            Some((_, group)) => group.push(t),
            None => groups.push((&t.scenario, vec![t])),
        }
    }
    groups
}

/// A trial's variant as the summaries name it: `v6/two_hosts`, and for a trial whose client
/// steps a runtime made, its API after it: `v4/loopback/python.socket`.
pub fn variant(trial: &TrialReport) -> String {
    match &trial.client {
        Some(client) => format!("{}/{}/{}", trial.family, trial.topology, client.api),
        None => format!("{}/{}", trial.family, trial.topology),
    }
}

/// One scenario in one line: its trials' statuses and the variants whose steps turned out
/// otherwise than in most of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScenarioLine {
    pub scenario: String,
    pub counts: Counts,
    /// Native variants whose outcomes differ from the most common ones, in report order.
    pub differing: Vec<Difference>,
}

/// Where one variant's outcomes part from the most common ones of its scenario.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    /// `v6/routed`.
    pub variant: String,
    /// The first step whose outcome differs: `client.connect#1`.
    pub step: String,
    /// Its outcome in this variant, and in most variants (`-` where the step is absent).
    pub outcome: String,
    pub usual: String,
}

impl std::fmt::Display for Difference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {} {} (others {})",
            self.variant, self.step, self.outcome, self.usual
        )
    }
}

/// One line per scenario, in report order.
pub fn scenario_lines(report: &Report) -> Vec<ScenarioLine> {
    by_scenario(&report.trials)
        .into_iter()
        .map(|(scenario, trials)| ScenarioLine {
            scenario: scenario.to_string(),
            counts: Counts::of_refs(&trials),
            differing: differences(&trials),
        })
        .collect()
}

/// The variants of one scenario whose step outcomes are not the most common ones. Trials that
/// ran no step (skipped) take no part, nor do runtime trials: their outcomes are each
/// runtime's own words for the call's result, which differ from the errno by design.
fn differences(trials: &[&TrialReport]) -> Vec<Difference> {
    let outcomes = |t: &TrialReport| -> Vec<(String, String)> {
        t.steps
            .iter()
            .map(|s| (s.label.clone(), s.outcome_with_signals()))
            .collect()
    };
    let ran: Vec<(&TrialReport, Vec<(String, String)>)> = trials
        .iter()
        .filter(|t| !t.steps.is_empty() && t.client.is_none())
        .map(|t| (*t, outcomes(t)))
        .collect();
    // The most common outcomes; on a tie, the first seen.
    let mut usual: Option<(&Vec<(String, String)>, usize)> = None;
    for (_, seen) in &ran {
        let n = ran.iter().filter(|(_, other)| other == seen).count();
        if usual.is_none_or(|(_, m)| n > m) {
            usual = Some((seen, n));
        }
    }
    let Some((usual, _)) = usual else { return Vec::new() };
    let outcome_of = |steps: &[(String, String)], label: &str| {
        steps
            .iter()
            .find(|(l, _)| l == label)
            .map_or_else(|| "-".to_string(), |(_, o)| o.clone())
    };
    ran.iter()
        .filter(|(_, seen)| seen != usual)
        .filter_map(|(t, seen)| {
            let labels = seen.iter().chain(usual.iter()).map(|(l, _)| l.as_str());
            let step = labels
                .into_iter()
                .find(|l| outcome_of(seen, l) != outcome_of(usual, l))?;
            Some(Difference {
                variant: variant(t),
                step: step.to_string(),
                outcome: outcome_of(seen, step),
                usual: outcome_of(usual, step),
            })
        })
        .collect()
}

/// Trials skipped for one reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkipGroup {
    /// Why, and what to do about it.
    pub reason: String,
    /// Trial ids, in report order.
    pub trials: Vec<String>,
}

/// The skipped trials grouped by reason, reasons in the order first met.
pub fn skip_groups(trials: &[TrialReport]) -> Vec<SkipGroup> {
    let mut groups: Vec<SkipGroup> = Vec::new();
    for t in trials.iter().filter(|t| t.status == Status::Skip) {
        let reason = t.skip_reason.clone().unwrap_or_else(|| "no reason given".into());
        match groups.iter_mut().find(|g| g.reason == reason) {
            Some(group) => group.trials.push(t.id.clone()),
            None => groups.push(SkipGroup {
                reason,
                trials: vec![t.id.clone()],
            }),
        }
    }
    groups
}

/// The trials `ids` named by scenario, one item per scenario in report order: a whole
/// scenario by its id and its count (`abort.linger0.read_first (4)`), part of one by its id
/// and the variants (`connect.closed_port.blocking v4/loopback v6/loopback`).
pub fn trials_by_scenario(report: &Report, ids: &[String]) -> Vec<String> {
    by_scenario(&report.trials)
        .into_iter()
        .filter_map(|(scenario, trials)| {
            let named: Vec<&&TrialReport> = trials.iter().filter(|t| ids.contains(&t.id)).collect();
            match named.len() {
                0 => None,
                n if n == trials.len() && n > 1 => Some(format!("{scenario} ({n})")),
                _ => Some(format!(
                    "{scenario} {}",
                    named.iter().map(|t| variant(t)).collect::<Vec<_>>().join(" ")
                )),
            }
        })
        .collect()
}

/// Per scenario, the observed outcome of each step, with the variants named where they
/// disagree: what `sockerr run --verbose` shows. Scenarios in report order.
pub fn steps(report: &Report) -> String {
    let mut out = String::new();
    let p = &report.platform;
    let _ = writeln!(out, "sockerr on {} {} ({})", p.os, p.kernel, p.arch);
    for (scenario, trials) in by_scenario(&report.trials) {
        let counts = Counts::of_refs(&trials);
        let _ = writeln!(out, "\n{scenario}  [{counts}]");
        // The native trials' outcomes; the runtime trials' are a line of counts (the report
        // shows what each runtime saw).
        let (natives, runtimes) = crate::markdown::split_runtimes(&trials);
        // label -> outcome -> variants that showed it; labels in first-seen order
        let mut order: Vec<&str> = Vec::new();
        let mut outcomes: BTreeMap<&str, BTreeMap<String, Vec<String>>> = BTreeMap::new();
        for t in &natives {
            for s in &t.steps {
                if !order.contains(&s.label.as_str()) {
                    order.push(&s.label);
                }
                outcomes
                    .entry(&s.label)
                    .or_default()
                    .entry(s.outcome_with_signals())
                    .or_default()
                    .push(variant(t));
            }
        }
        for label in order {
            let seen = &outcomes[label];
            let text = if seen.len() == 1 {
                seen.keys().next().cloned().unwrap_or_default()
            } else {
                seen.iter()
                    .map(|(o, v)| format!("{o} ({})", v.join(", ")))
                    .collect::<Vec<_>>()
                    .join("; ")
            };
            let _ = writeln!(out, "  {label:<22} {text}");
        }
        if !runtimes.is_empty() {
            let _ = writeln!(
                out,
                "  {:<22} {}: {}",
                "runtime clients",
                crate::markdown::runtime_apis_text(&runtimes),
                crate::markdown::status_counts(&runtimes)
            );
        }
    }
    out
}

/// Every step of a trial, its unmet waits and its wire as tcpdump-like lines: what a reader
/// of a failure (the conformance diff, a JUnit failure) needs to see what happened.
pub fn transcript(trial: &TrialReport) -> String {
    let mut out = String::new();
    if !trial.knobs.is_empty() {
        out.push_str("knobs (changed from the defaults):\n");
        for knob in &trial.knobs {
            let _ = writeln!(out, "  {knob}");
        }
    }
    out.push_str("steps:\n");
    for s in &trial.steps {
        let revents = if s.revents.is_empty() {
            "none".into()
        } else {
            s.revents.join("|")
        };
        let state = s.tcp_state.as_deref().unwrap_or("-");
        let _ = writeln!(
            out,
            "  {:<20} {:<40} {:<14} revents {revents}; state {state}",
            s.label,
            s.op,
            s.outcome_with_signals()
        );
    }
    for w in trial.waits.iter().filter(|w| !w.met) {
        let _ = writeln!(out, "  (waited {} ms for {}: not seen)", w.waited_us / 1000, w.what);
    }
    out.push_str("wire:\n");
    if trial.wire.segments.is_empty() {
        let _ = writeln!(
            out,
            "  ({})",
            if trial.wire.captured {
                "no segments"
            } else {
                "not captured"
            }
        );
    }
    for segment in &trial.wire.segments {
        let _ = writeln!(out, "  {segment}");
    }
    out
}

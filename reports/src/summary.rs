//! The short summary printed after a run: counts, then per scenario the observed outcome of
//! each step, with the variants named where they disagree, and the count of its runtime trials
//! by status (what each runtime saw is in the report).

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

/// The summary as text.
pub fn render(report: &Report) -> String {
    let mut out = String::new();
    let p = &report.platform;
    let _ = writeln!(out, "sockerr on {} {} ({})", p.os, p.kernel, p.arch);
    let mut scenarios: BTreeMap<&str, Vec<&TrialReport>> = BTreeMap::new();
    for t in &report.trials {
        scenarios.entry(&t.scenario).or_default().push(t);
    }
    for (scenario, trials) in &scenarios {
        let counts = Counts::of(&trials.iter().map(|t| (*t).clone()).collect::<Vec<_>>());
        let _ = writeln!(out, "\n{scenario}  [{counts}]");
        // The native trials' outcomes; the runtime trials' are a line of counts (the report
        // shows what each runtime saw).
        let (natives, runtimes) = crate::markdown::split_runtimes(trials);
        // label -> outcome -> variants that showed it; labels in first-seen order
        let mut order: Vec<&str> = Vec::new();
        let mut outcomes: BTreeMap<&str, BTreeMap<String, Vec<String>>> = BTreeMap::new();
        for t in &natives {
            for s in &t.steps {
                if !order.contains(&s.label.as_str()) {
                    order.push(&s.label);
                }
                let variant = format!("{}/{}", t.family, t.topology);
                outcomes
                    .entry(&s.label)
                    .or_default()
                    .entry(s.outcome_with_signals())
                    .or_default()
                    .push(variant);
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
        for t in trials.iter().filter(|t| t.status == Status::Fail) {
            let _ = writeln!(out, "  FAILED {}:", t.id);
            for m in &t.mismatches {
                let _ = writeln!(out, "    {}", m.to_string().replace('\n', "\n    "));
            }
        }
        for t in trials.iter().filter(|t| t.status == Status::Skip) {
            let _ = writeln!(out, "  skipped {}: {}", t.id, t.skip_reason.as_deref().unwrap_or(""));
        }
    }
    let _ = writeln!(out, "\n{}", Counts::of(&report.trials));
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

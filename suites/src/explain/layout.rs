//! Text layout shared by the errno and the scenario explanations: wrapping to the terminal's
//! usual width, the variant and report lines, and the wire as a text ladder with the calls
//! placed where they ran.

use std::fmt::Write;

use sockerr_harness::{Segment, Step};
use sockerr_reports::{Report, TrialReport};

use crate::scenario::Scenario;

/// Output width that [`wrap`] fills.
pub const WIDTH: usize = 100;

/// Wraps `text` to [`WIDTH`] columns for a place that starts at column `indent.len()` (after a
/// prefix of that width); every line after the first starts with `indent`.
pub fn wrap(text: &str, indent: &str) -> String {
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

/// `v4/loopback`: a trial's variant.
pub fn variant(t: &TrialReport) -> String {
    format!("{}/{}", t.family, t.topology)
}

/// `all 4 variants` or the list.
pub fn variants_text(matching: &[String], total: usize) -> String {
    if matching.len() == total && total > 1 {
        format!("all {total} variants")
    } else {
        matching.join(", ")
    }
}

/// Where the observations come from: the report's origin, platform and counts.
pub fn report_line(report: &Report, origin: &str) -> String {
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

/// The wire of a trial, tcpdump-like, with the given steps placed where they ran in time
/// (`->` lines); `marks` names the steps to point at.
pub fn ladder(trial: &TrialReport, steps: &[&Step], marks: &[&str], indent: &str) -> String {
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
pub fn shown_outcome(step: &Step) -> String {
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

/// The client guidance the trial recorded, else the scenario's; blank counts as none.
pub fn guidance_of<'a>(trial: &'a TrialReport, scenario: Option<&'a Scenario>) -> Option<&'a str> {
    trial
        .guidance
        .as_deref()
        .or(scenario.map(|s| s.guidance))
        .filter(|g| !g.is_empty())
}

/// A note when every trial of the report was skipped, so that an empty answer is not taken
/// for "this platform never returns it".
pub fn skipped_note(report: &Report) -> Option<String> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrap_keeps_every_word_and_indents_the_lines_after_the_first() {
        let text = "word ".repeat(30);
        let wrapped = wrap(&text, "    ");
        assert!(wrapped.lines().all(|l| l.len() + 4 <= WIDTH), "{wrapped}");
        assert_eq!(wrapped.split_whitespace().count(), 30);
        assert!(wrapped.lines().skip(1).all(|l| l.starts_with("    word")), "{wrapped}");
    }

    #[test]
    fn variants_text_says_all_only_when_every_variant_of_several_matches() {
        let two = ["v4/loopback".to_string(), "v6/loopback".to_string()];
        assert_eq!(variants_text(&two, 2), "all 2 variants");
        assert_eq!(variants_text(&two, 4), "v4/loopback, v6/loopback");
        assert_eq!(variants_text(&two[..1], 1), "v4/loopback");
    }
}

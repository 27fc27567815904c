//! What the console shows of a report once its trials have run: one line per scenario (its
//! statuses, the variants that turned out otherwise), or with `--verbose` every step's
//! outcome; then a recap of every failure and skip; then the counts and the files written.
//! `--quiet` shows only the recap and the counts; `--format json` one JSON object per trial
//! as it finishes and a summary object, for programs. Scenarios come in catalogue order.

use std::fmt::Write as _;
use std::path::PathBuf;

use sockerr_reports::summary::{self, Counts, ScenarioLine};
use sockerr_reports::{Report, Status, TrialReport};

use super::paint::Paint;
use super::progress::Style;

/// How much the console shows, and in which form.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct ConsoleArgs {
    /// Show every step's outcome per scenario (naming the variants where they differ) instead
    /// of one line per scenario, and one line per trial as it finishes.
    #[arg(long, short, conflicts_with = "quiet")]
    pub verbose: bool,
    /// Show only the recap of failures and skips, and the counts.
    #[arg(long, short)]
    pub quiet: bool,
    /// `text` for people; `json` for programs: one JSON object per line on standard output,
    /// each trial's report (`"type": "trial"`, the fields of report.json's trials) as it
    /// finishes, then `{"type": "summary", "counts": ..., "failed": [ids], "skipped":
    /// [{"reason", "trials"}], "written": [paths]}`. Messages for people stay on standard
    /// error.
    #[arg(long, value_enum, default_value_t = Format::Text, value_name = "FORMAT")]
    pub format: Format,
}

/// The form of what goes to standard output.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    #[default]
    Text,
    Json,
}

/// The console of one command.
pub struct Console {
    args: ConsoleArgs,
    paint: Paint,
}

impl Console {
    pub fn new(args: ConsoleArgs) -> Console {
        Console {
            args,
            paint: Paint::stdout(),
        }
    }

    /// How progress is shown while trials run: nothing for `--quiet` and `--format json`, a
    /// line per trial for `--verbose`, else a bar on a terminal and lines elsewhere.
    pub fn progress_style(&self) -> Style {
        if self.args.quiet || self.args.format == Format::Json {
            Style::Silent
        } else if self.args.verbose {
            Style::Lines
        } else {
            Style::auto()
        }
    }

    /// A message for the person running the command, before any trial runs: on standard
    /// error in every form and at every level of detail.
    pub fn note(&self, line: &str) {
        eprintln!("sockerr: {line}");
    }

    /// Shows one trial as it finishes: its JSON object in `--format json`, nothing otherwise
    /// (progress is the [`super::progress::Progress`]'s business).
    pub fn trial_done(&self, trial: &TrialReport) {
        if self.args.format == Format::Json {
            super::out(&format!("{}\n", trial_json(trial)));
        }
    }

    /// Shows the end of a command: the scenarios (or steps), the recap, the counts, and the
    /// files written; in `--format json` the summary object.
    pub fn finish(&self, report: &Report, written: &[PathBuf]) {
        if self.args.format == Format::Json {
            super::out(&format!("{}\n", summary_json(report, written)));
            return;
        }
        let mut out = String::new();
        if !self.args.quiet {
            if self.args.verbose {
                out.push_str(&summary::steps(report));
            } else {
                out.push_str(&scenario_lines(report, self.paint));
            }
        }
        let recap = recap(report, self.paint);
        if !recap.is_empty() {
            if !out.is_empty() {
                out.push('\n');
            }
            out.push_str(&recap);
        }
        if !out.is_empty() {
            out.push('\n');
        }
        out.push_str(&counts_line(&Counts::of(&report.trials), self.paint));
        out.push('\n');
        if !self.args.quiet && !written.is_empty() {
            let _ = writeln!(out, "{}", written_line(written));
        }
        super::out(&out);
    }
}

/// A trial as one JSON object: `"type": "trial"` and the fields of its report.
fn trial_json(trial: &TrialReport) -> serde_json::Value {
    let mut value = serde_json::to_value(trial).unwrap_or(serde_json::Value::Null);
    if let Some(object) = value.as_object_mut() {
        object.insert("type".into(), "trial".into());
    }
    value
}

/// The closing JSON object of a run.
fn summary_json(report: &Report, written: &[PathBuf]) -> serde_json::Value {
    let counts = Counts::of(&report.trials);
    serde_json::json!({
        "type": "summary",
        "counts": {
            "pass": counts.pass,
            "fail": counts.fail,
            "skip": counts.skip,
            "observed": counts.observed,
        },
        "failed": report.trials.iter().filter(|t| t.status == Status::Fail).map(|t| &t.id).collect::<Vec<_>>(),
        "skipped": summary::skip_groups(&report.trials).iter().map(|g| serde_json::json!({
            "reason": g.reason,
            "trials": g.trials,
        })).collect::<Vec<_>>(),
        "written": written.iter().map(|p| p.display().to_string()).collect::<Vec<_>>(),
    })
}

/// `4 passed, 1 failed`: the statuses a scenario's trials had, the empty ones left out.
fn counts_text(counts: &Counts, paint: Paint) -> String {
    [
        (counts.pass, "passed", Status::Pass),
        (counts.fail, "failed", Status::Fail),
        (counts.skip, "skipped", Status::Skip),
        (counts.observed, "observed", Status::Observed),
    ]
    .into_iter()
    .filter(|(n, ..)| *n > 0)
    .map(|(n, word, status)| paint.status(status, &format!("{n} {word}")))
    .collect::<Vec<_>>()
    .join(", ")
}

/// The closing count of every status: `185 passed, 0 failed, 0 skipped` (the words scripts
/// look for), coloured where a status has trials.
fn counts_line(counts: &Counts, paint: Paint) -> String {
    let part = |n: usize, word: &str, status: Status| {
        let text = format!("{n} {word}");
        if n > 0 { paint.status(status, &text) } else { text }
    };
    let mut line = format!(
        "{}, {}, {}",
        part(counts.pass, "passed", Status::Pass),
        part(counts.fail, "failed", Status::Fail),
        part(counts.skip, "skipped", Status::Skip)
    );
    if counts.observed > 0 {
        line.push_str(&format!(
            ", {}",
            paint.status(
                Status::Observed,
                &format!("{} observed without expectation", counts.observed)
            )
        ));
    }
    line
}

/// One line per scenario: its id, its statuses, and the variants whose outcome differs.
pub fn scenario_lines(report: &Report, paint: Paint) -> String {
    let lines = summary::scenario_lines(report);
    let width = lines.iter().map(|l| l.scenario.len()).max().unwrap_or(0);
    let mut out = String::new();
    for ScenarioLine {
        scenario,
        counts,
        differing,
    } in &lines
    {
        let mut line = format!("{scenario:<width$}  {}", counts_text(counts, paint));
        if !differing.is_empty() {
            let each: Vec<String> = differing.iter().map(ToString::to_string).collect();
            line.push_str(&paint.dim(&format!("   differs: {}", each.join("; "))));
        }
        let _ = writeln!(out, "{}", line.trim_end());
    }
    out
}

/// Every failure with what differed, then every skip grouped by reason with the trials it
/// cost; a strict run's skips (failed, with their skip reason) grouped likewise. Empty when
/// every trial passed or was observed.
pub fn recap(report: &Report, paint: Paint) -> String {
    let mut out = String::new();
    let failed: Vec<&TrialReport> = report.trials.iter().filter(|t| t.status == Status::Fail).collect();
    let (strict, judged): (Vec<&TrialReport>, Vec<&TrialReport>) = failed.iter().partition(|t| t.skip_reason.is_some());
    if !failed.is_empty() {
        let _ = writeln!(
            out,
            "{}",
            paint.status(Status::Fail, &format!("{} failed:", failed.len()))
        );
    }
    for t in &judged {
        let _ = writeln!(out, "  {}", paint.bold(&t.id));
        for m in &t.mismatches {
            let _ = writeln!(out, "    {}", m.to_string().replace('\n', "\n    "));
        }
        if let Some(error) = t.error.as_ref().filter(|_| t.mismatches.is_empty()) {
            let _ = writeln!(out, "    {error}");
        }
    }
    let strict: Vec<TrialReport> = strict.into_iter().map(|t| (*t).clone()).collect();
    for group in skip_groups_of(&strict) {
        let _ = writeln!(
            out,
            "  {} trials skipped, which --strict counts as failures: {}",
            group.trials.len(),
            group.reason
        );
        let _ = writeln!(out, "{}", trials_text(report, &group.trials));
    }
    let skipped = summary::skip_groups(&report.trials);
    let total: usize = skipped.iter().map(|g| g.trials.len()).sum();
    if total > 0 {
        let _ = writeln!(out, "{}", paint.status(Status::Skip, &format!("{total} skipped:")));
    }
    for group in skipped {
        let _ = writeln!(out, "  {} trials: {}", group.trials.len(), group.reason);
        let _ = writeln!(out, "{}", trials_text(report, &group.trials));
    }
    out
}

/// The trials `ids`, named by scenario, as lines of the recap: indented, at most
/// [`WIDTH`] columns, broken between scenarios only.
fn trials_text(report: &Report, ids: &[String]) -> String {
    let mut out = String::new();
    let mut line = String::new();
    for item in summary::trials_by_scenario(report, ids) {
        if !line.is_empty() && INDENT.len() + line.len() + 2 + item.len() > WIDTH {
            let _ = writeln!(out, "{INDENT}{line},");
            line.clear();
        }
        if !line.is_empty() {
            line.push_str(", ");
        }
        line.push_str(&item);
    }
    let _ = write!(out, "{INDENT}{line}");
    out
}

/// Width of the recap's lines of trials.
const WIDTH: usize = 100;
/// Indentation of the recap's lines of trials.
const INDENT: &str = "    ";

/// [`summary::skip_groups`] of trials that failed under `--strict` (they keep their skip
/// reason).
fn skip_groups_of(trials: &[TrialReport]) -> Vec<summary::SkipGroup> {
    let as_skips: Vec<TrialReport> = trials
        .iter()
        .map(|t| TrialReport {
            status: Status::Skip,
            ..t.clone()
        })
        .collect();
    summary::skip_groups(&as_skips)
}

/// `wrote reports/local/report.json, report.md, ...`: the files written, the first with its
/// directory, the others relative to that directory when they are inside it.
fn written_line(written: &[PathBuf]) -> String {
    let Some((first, rest)) = written.split_first() else {
        return String::new();
    };
    let dir = first.parent();
    let rest: Vec<String> = rest
        .iter()
        .map(|p| match dir.and_then(|d| p.strip_prefix(d).ok()) {
            Some(inside) => inside.display().to_string(),
            None => p.display().to_string(),
        })
        .collect();
    let mut line = format!("wrote {}", first.display());
    if !rest.is_empty() {
        line.push_str(", ");
        line.push_str(&rest.join(", "));
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_files_written_beside_the_first_are_named_by_their_name() {
        let written = [
            PathBuf::from("reports/local/report.json"),
            PathBuf::from("reports/local/report.md"),
            PathBuf::from("reports/local/pcap/*.pcapng"),
            PathBuf::from("elsewhere/junit.xml"),
        ];
        assert_eq!(
            written_line(&written),
            "wrote reports/local/report.json, report.md, pcap/*.pcapng, elsewhere/junit.xml"
        );
        assert_eq!(written_line(&[]), "");
    }

    #[test]
    fn the_counts_line_names_every_status_so_that_scripts_find_it() {
        let counts = Counts {
            pass: 3,
            fail: 0,
            skip: 1,
            observed: 0,
        };
        assert_eq!(counts_line(&counts, Paint::plain()), "3 passed, 0 failed, 1 skipped");
        assert_eq!(counts_text(&counts, Paint::plain()), "3 passed, 1 skipped");
    }
}

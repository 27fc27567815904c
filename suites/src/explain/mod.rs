//! `sockerr explain <ERRNO | SCENARIO | TRIAL | GLOB>`: one errno, or scenarios and trials,
//! with the evidence.
//!
//! For an errno ([`errno`]): what it means (live `strerror`, documented TCP meaning), which
//! scenarios produce it at which step on this platform, with the variants, the client guidance
//! of each and the wire of one such trial; what other platforms are documented to return
//! there; and how runtimes show it (Rust's `io::ErrorKind` live, the others documented). For a
//! scenario ([`scenario`]), or some of its trials: its claim and sources, every step's outcome
//! per variant (with the documented values of other platforms), its wire with the steps in
//! between, and the client guidance. [`subject`] reads what was asked, [`layout`] lays the text
//! out, [`documented`] holds the documented platforms.
//!
//! Observations come only from a report: the one named by `--report`, or, when that file does
//! not exist, a run of the trials asked about in this process (which writes nothing and says
//! so).

pub mod documented;
pub mod errno;
pub mod layout;
pub mod runtimes;
pub mod scenario;
pub mod subject;

use std::path::PathBuf;
use std::process::ExitCode;

use sockerr_reports::Report;

use crate::catalogue;
use crate::expectations::Expectations;
use crate::runner::{self, Planned, RunConfig};

pub use documented::{DocumentedPlatform, documented_platforms};
pub use errno::explain_errno;
pub use scenario::explain_scenario;
pub use subject::{Chosen, Known, Subject, resolve};

/// Explain an errno, a scenario or some trials: meaning, where this platform produces it, the
/// wire, what a client should do, and how runtimes show it.
///
/// Exit status: 0 when explained, 2 when the subject is unknown (the closest names are
/// suggested) or the report cannot be read.
#[derive(clap::Args, Debug)]
pub struct ExplainArgs {
    /// An errno name (ECONNRESET; any case) or number of this platform, a scenario id
    /// (abort.linger0.read_first; see `sockerr list`), a trial id
    /// (abort.linger0.read_first.v4.loopback; the form abort::linger0.read_first::v4::loopback
    /// too), or a glob over scenario and trial ids (`abort.linger0.*`, `*.v6.two_hosts`).
    #[arg(value_name = "ERRNO|SCENARIO|TRIAL")]
    pub subject: String,
    /// The report whose observations to show. When the file does not exist, the trials asked
    /// about (every trial, for an errno) are run in this process first (nothing is written),
    /// and the output says so.
    #[arg(long, default_value = "reports/local/report.json", value_name = "FILE")]
    pub report: PathBuf,
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
    let planned = runner::plan(&scenarios);
    let mut known = Known::default();
    for p in &planned {
        known.add_trial(&p.id(), p.scenario.id);
    }
    for t in existing.iter().flat_map(|r| &r.trials) {
        known.add_trial(&t.id, &t.scenario);
    }
    let subject = resolve(&args.subject, &known).map_err(anyhow::Error::msg)?;
    let (report, origin) = match existing {
        Some(report) => (report, args.report.display().to_string()),
        None => {
            let chosen: Vec<&Planned> = planned.iter().filter(|p| asked_about(&subject, p)).collect();
            eprintln!(
                "sockerr: {} does not exist; running the catalogue in this process ({} trials asked about; \
                 nothing is written; `sockerr run` writes a report)",
                args.report.display(),
                chosen.len()
            );
            let report = run_trials(&chosen, run_as, skip_reason)?;
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
    let text = match &subject {
        Subject::Errno { name, code } => explain_errno(name, *code, &report, &origin, &scenarios, &documented),
        Subject::Scenarios(chosen) => chosen
            .iter()
            .map(|c| {
                explain_scenario(
                    &c.scenario,
                    scenarios.iter().find(|s| s.id == c.scenario),
                    c.trials.as_deref(),
                    &report,
                    &origin,
                    &documented,
                )
            })
            .collect::<Vec<_>>()
            .join("\n"),
    };
    print!("{text}");
    Ok(ExitCode::SUCCESS)
}

/// Whether a planned trial is one the subject needs observed: every trial for an errno, else
/// the chosen scenarios' (or trials').
fn asked_about(subject: &Subject, planned: &Planned) -> bool {
    match subject {
        Subject::Errno { .. } => true,
        Subject::Scenarios(chosen) => chosen.iter().any(|c| {
            c.scenario == planned.scenario.id
                && c.trials.as_ref().is_none_or(|trials| {
                    trials
                        .iter()
                        .any(|t| subject::canonical(t) == subject::canonical(&planned.id()))
                })
        }),
    }
}

/// Runs the given trials against the built-in expectations, writing nothing.
fn run_trials(planned: &[&Planned], run_as: String, skip_reason: Option<String>) -> anyhow::Result<Report> {
    let ids = catalogue::ids();
    let expectations = Expectations::built_in(&ids)?;
    let planned: Vec<Planned> = planned.iter().map(|p| **p).collect();
    let config = RunConfig {
        expectations,
        capabilities: runner::probe(&planned, skip_reason),
        ..RunConfig::default()
    };
    let jobs = runner::default_jobs();
    let trials = runner::run_all(&planned, &config, jobs);
    let mut platform = sockerr_harness::platform::Platform::probe();
    platform.run_as = run_as;
    let origin = (!config.expectations.is_empty()).then(|| config.expectations.origin());
    Ok(Report::new(platform, origin, trials))
}

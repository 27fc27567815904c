//! `sockerr show`: the summary of a saved report.

use std::path::PathBuf;
use std::process::ExitCode;

use sockerr_reports::Report;

use super::console::{Console, ConsoleArgs};

/// Print the summary of a saved report, as `run` prints it at its end: one line per scenario
/// (or every step with --verbose), the recap of failures and skips, and the counts.
///
/// Exit status: 0, or 2 when the report cannot be read.
#[derive(clap::Args)]
pub struct ShowArgs {
    /// A report.json written by `sockerr run`.
    report: PathBuf,
    #[command(flatten)]
    console: ConsoleArgs,
}

pub fn show(args: ShowArgs) -> anyhow::Result<ExitCode> {
    let report = Report::read(&args.report)?;
    let console = Console::new(args.console);
    for trial in &report.trials {
        console.trial_done(trial);
    }
    console.finish(&report, &[]);
    Ok(ExitCode::SUCCESS)
}

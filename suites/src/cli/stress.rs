//! `sockerr stress`: the selected trials many times under CPU load.

use std::process::ExitCode;

use super::common::TrialArgs;
use super::progress::{Progress, Style};
use super::write_result;
use crate::catalogue;

/// Run the catalogue many times under CPU load; list trials whose outcome changed.
///
/// Starts K CPU-burning processes (`sh -c 'while :; do :; done'`, killed when the run ends),
/// runs the selected trials N times one run after another, and compares each trial's outcome
/// between runs: status, errno or return value, signals, poll revents and TCP state of every
/// step, unmet waits, and the segments in relative seq/ack numbers. Timings, ports,
/// descriptors and absolute sequence numbers are left out. Shows a progress bar on a terminal
/// and a line per run; prints every trial that failed its expectation, every trial whose
/// outcome differed with a diff of its first two outcomes, and `N differing trials`; writes
/// the same to DIR/stress.json. No pcapng files are written.
///
/// Exit status: 0 when every trial had one outcome and passed in every run, 1 when any trial
/// differed between runs or failed in any run, 2 when the run could not start.
#[derive(clap::Args)]
pub struct StressArgs {
    /// How many times to run the selected trials.
    #[arg(long, default_value_t = 20, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    runs: u64,
    /// CPU-burning processes loading the machine during the runs.
    #[arg(long, default_value_t = 2, value_name = "K")]
    burners: usize,
    #[command(flatten)]
    trials: TrialArgs,
}

pub fn stress(args: StressArgs, run_as: String, skip_reason: Option<String>) -> anyhow::Result<ExitCode> {
    let scenarios = catalogue::all();
    let prepared = args.trials.prepare(&scenarios, skip_reason, None)?;
    let selected = &prepared.selection.trials;
    let runs = args.runs as usize;
    eprintln!(
        "sockerr stress as {run_as}: {runs} runs of {} trials, {} at once, {} CPU burners",
        selected.len(),
        prepared.jobs,
        args.burners
    );
    let told = prepared.tell_missing();
    let progress = Progress::new(runs * selected.len(), bar_or_silent(), told);
    progress.set_label(format!("run 1/{runs}"));
    let result = progress.while_running(|| {
        crate::stress::stress_reporting(
            selected,
            &prepared.config,
            runs,
            args.burners,
            prepared.jobs,
            |t| progress.trial_done(t),
            |run, wall, trials| {
                let failed = trials
                    .iter()
                    .filter(|t| t.status == sockerr_reports::Status::Fail)
                    .count();
                progress.set_label(format!("run {}/{runs}", (run + 1).min(runs)));
                progress.say(&format!(
                    "run {run:>3}/{runs}: {:.2} s, {failed} failed",
                    wall.as_secs_f64()
                ));
            },
        )
    })?;
    write_result(&result, &prepared.out.join("stress.json"), result.clean())
}

/// A bar on a terminal; elsewhere nothing per trial (a line per run is printed instead).
pub fn bar_or_silent() -> Style {
    match Style::auto() {
        Style::Bar => Style::Bar,
        _ => Style::Silent,
    }
}

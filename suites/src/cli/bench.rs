//! `sockerr bench`: how fast the catalogue runs.

use std::process::ExitCode;

use super::common::TrialArgs;
use super::progress::Progress;
use super::stress::bar_or_silent;
use super::write_result;
use crate::catalogue;

/// Measure how fast the catalogue runs: write DIR/bench.json and print a short table.
///
/// Runs the selected trials K times on an unloaded machine (no burners, no pcapng) and
/// reports, as medians over the runs: the wall time of a whole run, the longest trial (which
/// one, and the protocol timer it waits out), their ratio, the harness's overhead per trial
/// (the time not spent in the scenario's own script: sandbox set-up and tear-down, capture,
/// judging), per-trial medians, the peak memory, and the cost of a trial per runtime beside
/// the native one (wall, script, time over the native trial of its variant, the client
/// processes' CPU per trial). Also checks that no trial's outcome differed between the runs
/// (a runtime trial's runtime answers included). Shows a progress bar on a terminal and a
/// line per run.
///
/// Exit status: 0 when every trial passed and kept one outcome, 1 otherwise, 2 when the run
/// could not start (a machine where namespace trials cannot run included).
#[derive(clap::Args)]
pub struct BenchArgs {
    /// How many times to run the selected trials.
    #[arg(long, default_value_t = 5, value_name = "K", value_parser = clap::value_parser!(u64).range(1..))]
    runs: u64,
    #[command(flatten)]
    trials: TrialArgs,
}

pub fn bench(args: BenchArgs, skip_reason: Option<String>) -> anyhow::Result<ExitCode> {
    if let Some(reason) = skip_reason {
        anyhow::bail!("cannot measure: {reason}");
    }
    let scenarios = catalogue::all();
    let prepared = args.trials.prepare(&scenarios, None, None)?;
    let selected = &prepared.selection.trials;
    let runs = args.runs as usize;
    eprintln!(
        "sockerr bench: {runs} runs of {} trials, {} at once",
        selected.len(),
        prepared.jobs
    );
    let told = prepared.tell_missing();
    let progress = Progress::new(runs * selected.len(), bar_or_silent(), told);
    progress.set_label(format!("run 1/{runs}"));
    let result = progress.while_running(|| {
        crate::bench::bench_reporting(
            selected,
            &prepared.config,
            runs,
            prepared.jobs,
            |t| progress.trial_done(t),
            |run, wall| {
                progress.set_label(format!("run {}/{runs}", (run + 1).min(runs)));
                progress.say(&format!("run {run:>3}/{runs}: {:.2} s", wall.as_secs_f64()));
            },
        )
    })?;
    write_result(&result, &prepared.out.join("bench.json"), result.clean())
}

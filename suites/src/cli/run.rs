//! `sockerr run`: runs the selected trials and writes the report.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use sockerr_harness::platform::Origin;
use sockerr_reports::{Report, Status};

use super::common::{FILTERED_OUT, TrialArgs};
use super::console::{Console, ConsoleArgs};
use super::progress::Progress;
use crate::{catalogue, runner};

/// Run the catalogue: write report.json, report.md, report.html, junit.xml,
/// report.schema.json and one pcapng per trial into DIR, and print a summary.
///
/// While trials run: a progress bar on a terminal, one line per trial otherwise. Then one
/// line per scenario (its statuses, and the variants that turned out otherwise), a recap of
/// every failure and skip, and the counts. A missing prerequisite (nftables, namespaces) is
/// told once at the start, with the trials it costs and how to install it.
///
/// Exit status: 0 when no trial failed, 1 when one did (or, with --strict, was skipped), 2
/// when the run could not start (bad arguments, an expectation file with errors, an output
/// directory that cannot be written).
#[derive(clap::Args)]
pub struct RunArgs {
    #[command(flatten)]
    trials: TrialArgs,
    #[command(flatten)]
    console: ConsoleArgs,
    /// Do not write pcapng files.
    #[arg(long)]
    no_pcap: bool,
    /// A name for this run, recorded as platform.label and shown as its column by `sockerr
    /// compare` [default: none; the column is then `os kernel`].
    #[arg(long, value_name = "NAME", default_value = "", hide_default_value = true)]
    label: String,
    /// How this run is obtained, recorded as platform.origin and shown by the reports and
    /// `sockerr compare`: `host`; for a run inside a virtual machine (what `make matrix`
    /// passes) `guest,KEY=VALUE,...` with the keys kernel_package and accelerator (kvm or
    /// tcg), and optionally kernel_package_version and vmm; for a run inside a sandbox runtime
    /// `sandbox,KEY=VALUE,...` with the keys runtime and runtime_platform, and optionally
    /// runtime_version and host_kernel; values hold no commas [default: host, or
    /// $SOCKERR_ORIGIN when set].
    #[arg(long, value_name = "ORIGIN")]
    origin: Option<Origin>,
}

pub fn run(args: RunArgs, run_as: String, skip_reason: Option<String>) -> anyhow::Result<ExitCode> {
    let scenarios = catalogue::all();
    let origin = origin(args.origin.clone())?;
    let pcap = (!args.no_pcap).then_some("pcap");
    let prepared = args.trials.prepare(&scenarios, skip_reason, pcap)?;
    let console = Console::new(args.console.clone());
    let selected = &prepared.selection.trials;
    if prepared.out_is_filtered_default {
        console.note(&format!(
            "{} of {} trials selected: writing into {FILTERED_OUT}/, so that the full report stays as it is \
             (--out DIR to choose)",
            selected.len(),
            prepared.selection.of
        ));
    }
    let told = prepared.tell_missing();
    let pcap_dir = pcap.map(|sub| prepared.out.join(sub));
    // Temporary files an earlier run left (one killed outright), and its captures.
    for dir in std::iter::once(&prepared.out).chain(&pcap_dir) {
        sockerr_harness::atomic_file::remove_stale(dir);
    }
    if let Some(dir) = &pcap_dir {
        remove_old_captures(dir)?;
    }
    let config = runner::RunConfig {
        pcap_dir,
        ..prepared.config
    };
    let progress = Progress::new(selected.len(), console.progress_style(), told);
    let trials = progress.while_running(|| {
        runner::run_all_reporting(selected, &config, prepared.jobs, |t| {
            progress.trial_done(t);
            console.trial_done(t);
        })
    });
    let mut platform = prepared.platform;
    platform.label = args.label;
    platform.origin = origin;
    platform.run_as = run_as;
    platform.capabilities = config.capabilities.records();
    let mut report = Report::new(platform, Some(config.expectations.origin()), trials);
    report.errnos = crate::knowledge::errno_notes(&report);
    report.article = crate::article::mapping(&scenarios);
    let written = sockerr_reports::outputs::write_outputs(&report, &prepared.out)
        .with_context(|| format!("cannot write the report into {}", prepared.out.display()))?;
    let mut shown: Vec<PathBuf> = written;
    if let Some(dir) = &config.pcap_dir {
        shown.push(dir.join("*.pcapng"));
    }
    console.finish(&report, &shown);
    let failed = report.trials.iter().any(|t| t.status == Status::Fail);
    Ok(if failed { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

/// `--origin`, else `$SOCKERR_ORIGIN`, else the host.
fn origin(given: Option<Origin>) -> anyhow::Result<Origin> {
    Ok(match given {
        Some(origin) => origin,
        None => match std::env::var("SOCKERR_ORIGIN") {
            Ok(text) if !text.trim().is_empty() => text.parse().map_err(|e| anyhow::anyhow!("SOCKERR_ORIGIN: {e}"))?,
            _ => Origin::default(),
        },
    })
}

/// Removes the pcapng files of an earlier run, so that the directory holds this run's only.
fn remove_old_captures(dir: &std::path::Path) -> anyhow::Result<()> {
    let entries = std::fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))?;
    for old in entries.flatten() {
        if old.path().extension().is_some_and(|e| e == "pcapng") {
            let _ = std::fs::remove_file(old.path());
        }
    }
    Ok(())
}

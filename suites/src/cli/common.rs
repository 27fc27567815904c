//! The arguments `run`, `stress` and `bench` share, and what those commands do with them
//! before any trial runs: read the expectations, select the trials, try the sysctl overrides,
//! make sure the output directory can be written. Anything wrong stops the command there
//! (exit status 2), with nothing written.

use sockerr_harness::Topology;
use std::path::{Path, PathBuf};

use anyhow::Context;
use sockerr_harness::platform::Platform;

use crate::expectations::Expectations;
use crate::runner::{self, RunConfig};
use crate::scenario::Scenario;
use crate::selection::{self, Selection};
use crate::{catalogue, prerequisites};

/// Where results go when `--out` is not given, for a run of the whole catalogue.
pub const DEFAULT_OUT: &str = "reports/local";
/// Where results go when `--out` is not given, for a run of some trials only (`--filter`): a
/// directory of its own, so that such a run never replaces the full report (which `explain`
/// and `show` read by default).
pub const FILTERED_OUT: &str = "reports/local/filtered";

/// Which trials a command works on.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct FilterArgs {
    /// Only the trials this names: a trial id (abort.linger0.read_first.v4.loopback; a
    /// runtime trial's ends in its API, ...v4.loopback.python.socket; the older spelling
    /// abort::linger0.read_first::v4::loopback too) names that trial alone; a scenario id or
    /// a part of an id (abort.linger0.read_first, linger0, v6.routed, python) every trial
    /// whose id contains it; a glob with * and ? is matched against whole ids
    /// (abort.linger0.*, '*.v6.*', '*.loopback' for native loopback trials only). Repeat for
    /// several; each must name at least one trial, else nothing runs and the closest ids are
    /// named (exit status 2).
    #[arg(long, value_name = "PATTERN")]
    pub filter: Vec<String>,
    /// Only the trials of this topology: loopback, two_hosts, routed, or host (the machine's
    /// own loopback, no namespace: every scenario that can run there; on Linux only when
    /// asked for) [default: every namespace topology on Linux, host elsewhere].
    #[arg(long, value_name = "NAME", value_parser = parse_topology)]
    pub topology: Option<Topology>,
}

fn parse_topology(name: &str) -> Result<Topology, String> {
    [Topology::Loopback, Topology::TwoHosts, Topology::Routed, Topology::Host]
        .into_iter()
        .find(|t| t.as_str() == name)
        .ok_or_else(|| format!("no topology {name}: loopback, two_hosts, routed or host"))
}

impl FilterArgs {
    /// The trials of `scenarios` this names, in catalogue order.
    pub fn select<'a>(&self, scenarios: &'a [Scenario]) -> anyhow::Result<Selection<'a>> {
        let topology = self.topology.or_else(runner::default_topology);
        Ok(selection::select(&runner::plan_in(scenarios, topology), &self.filter)?)
    }
}

/// What `run`, `stress` and `bench` share.
#[derive(clap::Args, Debug, Clone)]
pub struct TrialArgs {
    #[command(flatten)]
    pub filter: FilterArgs,
    /// Trials run at once, 1 or more [default: the number of CPUs].
    #[arg(long, value_name = "N", value_parser = parse_jobs)]
    pub jobs: Option<usize>,
    /// Your expectation file, layered over the built-in suites/expectations/linux.toml: it
    /// decides for the scenarios and steps it names, the built-in file for the rest
    /// [default: $SOCKERR_EXPECT; none: the built-in file alone].
    #[arg(long, value_name = "FILE")]
    pub expect: Option<PathBuf>,
    /// Set a per-namespace sysctl (net.ipv4.*, net.ipv6.*, net.core.*) in every namespace of
    /// every trial before any socket exists (repeat for several); the host's sysctls are never
    /// changed. Tried first in a throw-away namespace: a key or value the kernel refuses stops
    /// the command. Recorded in the report's platform.sysctl_overrides.
    #[arg(long, value_name = "KEY=VALUE", value_parser = runner::parse_sysctl)]
    pub sysctl: Vec<(String, String)>,
    /// Judge every trial, and count a skip as a failure: a trial no expectation judged fails
    /// instead of being `observed`, and a trial whose prerequisite is missing here
    /// (nftables, namespaces, a sysctl of the kernel, a runtime) fails naming it; the exit
    /// status is then 1. Without it such a trial is skipped, and the command says at its
    /// start what is missing, how many trials it costs and how to install it.
    #[arg(long)]
    pub strict: bool,
    /// Directory for the results, created if missing; one that cannot be written is refused
    /// before any trial runs [default: reports/local for the whole catalogue;
    /// reports/local/filtered when --filter leaves some trials out, so that the full report
    /// is never replaced by part of it].
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Stop a trial that runs longer than this and report it as failed with what it did so
    /// far. For platforms that do not shorten the protocol timers a scenario shortens (gVisor
    /// keeps retransmitting SYNs past TCP_SYNCNT, and SO_SNDTIMEO does not bound its
    /// connect) [default: 60].
    #[arg(long, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..))]
    pub trial_deadline: Option<u64>,
    /// Leave out the trials whose client steps a runtime's client makes (Java, Python, Go,
    /// Node.js, Rust): only the trials whose steps the harness makes itself run.
    #[arg(long)]
    pub no_runtime_clients: bool,
}

/// `--jobs N`: a number of trials at once, at least one.
fn parse_jobs(text: &str) -> Result<usize, String> {
    match text.trim().parse::<usize>() {
        Ok(0) => Err(format!(
            "0 trials at once would run nothing: give 1 or more (the default is the number of CPUs, {})",
            runner::default_jobs()
        )),
        Ok(n) => Ok(n),
        Err(e) => Err(format!("{text:?} is not a number of trials: {e}")),
    }
}

/// A command's arguments, checked: everything it needs to run its trials.
pub struct Prepared<'a> {
    pub selection: Selection<'a>,
    pub config: RunConfig,
    /// The platform with the sysctl overrides in force (probed in a throw-away namespace).
    pub platform: Platform,
    /// The output directory, created and found writable.
    pub out: PathBuf,
    /// Whether `out` is the default for a run of some trials only ([`FILTERED_OUT`]).
    pub out_is_filtered_default: bool,
    pub jobs: usize,
}

impl TrialArgs {
    /// Checks everything that can be checked before a trial runs, in this order: the
    /// expectation file, the selection, the sysctl overrides, the output directory (created,
    /// then written to and cleaned up); then probes what the selected trials need of the
    /// platform. `subdirectory` is one more directory to create under the output directory
    /// and check likewise (`pcap`). `namespaces_problem` is why this process cannot create
    /// namespaces, if it cannot ([`runner::prepare_process`]).
    pub fn prepare<'a>(
        &self,
        scenarios: &'a [Scenario],
        namespaces_problem: Option<String>,
        subdirectory: Option<&str>,
    ) -> anyhow::Result<Prepared<'a>> {
        let expectations = Expectations::for_run(self.expect.as_deref(), &catalogue::ids())?;
        let mut selection = self.filter.select(scenarios)?;
        // The overrides are tried in a throw-away namespace, so that a refused one stops the
        // command here; the platform then shows the values in force.
        let platform = Platform::probe_with(&self.sysctl).context("a --sysctl override was refused")?;
        // Leaving the runtime clients out still makes a report of the whole catalogue.
        let out_is_filtered_default = self.out.is_none() && !selection.is_whole();
        if self.no_runtime_clients {
            selection.trials.retain(|p| p.client.is_none());
        }
        let out = match &self.out {
            Some(dir) => dir.clone(),
            None if out_is_filtered_default => PathBuf::from(FILTERED_OUT),
            None => PathBuf::from(DEFAULT_OUT),
        };
        let deepest = subdirectory.map_or_else(|| out.clone(), |sub| out.join(sub));
        std::fs::create_dir_all(&deepest).with_context(|| format!("cannot create {}", deepest.display()))?;
        check_writable(&out)?;
        if deepest != out {
            check_writable(&deepest)?;
        }
        let config = RunConfig {
            expectations,
            capabilities: runner::probe(&selection.trials, namespaces_problem),
            sysctls: self.sysctl.clone(),
            strict: self.strict,
            skips_fail: self.strict,
            trial_deadline: self
                .trial_deadline
                .map_or(sockerr_harness::trial::TRIAL_DEADLINE, std::time::Duration::from_secs),
            ..RunConfig::default()
        };
        Ok(Prepared {
            selection,
            config,
            platform,
            out,
            out_is_filtered_default,
            jobs: self.jobs.unwrap_or_else(runner::default_jobs),
        })
    }
}

impl Prepared<'_> {
    /// Tells each prerequisite the selected trials miss, once, on standard error, with the
    /// trials it costs; returns the skip reasons told, which need not be told again.
    pub fn tell_missing(&self) -> Vec<String> {
        let fate = if self.config.strict {
            "fail (--strict)"
        } else {
            "be skipped"
        };
        let selected = &self.selection.trials;
        let missing = prerequisites::before_run(selected, &self.config);
        for m in &missing {
            eprintln!("sockerr: {}", prerequisites::line(m, selected.len(), fate));
        }
        missing.into_iter().map(|m| m.reason).collect()
    }
}

/// Creates and removes a file in `dir`: the one sure test that results can be written there
/// (permissions, a read-only file system, an ordinary user in a directory of root's), made
/// before any trial runs rather than after all of them.
pub fn check_writable(dir: &Path) -> anyhow::Result<()> {
    let probe = dir.join(format!(".sockerr-write-test.{}", std::process::id()));
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&probe)
        .with_context(|| {
            format!(
                "cannot write into {}: choose a directory you can write with --out DIR",
                dir.display()
            )
        })?;
    std::fs::remove_file(&probe).with_context(|| format!("cannot remove {}", probe.display()))
}

//! Runs trials and judges them against expectations. The CLI and the conformance test
//! target both go through here, so a report and a `cargo test` run judge alike.

use std::fmt::Write;
use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use sockerr_harness::runtime::Api;
use sockerr_harness::{Capabilities, ClientInfo, Family, Missing, Need, Observation, Topology, TrialSpec, trial};
use sockerr_reports::{Aspect, Mismatch, Status, TrialReport};

use crate::expectations::Expectations;
use crate::scenario::Scenario;

/// Gets the process the privileges namespace trials need (a user namespace when not root)
/// and says why namespace trials must be skipped, if they must. Call it first thing in
/// `main`, before any thread exists. Returns (how the process runs, skip reason).
pub fn prepare_process() -> (String, Option<String>) {
    use sockerr_harness::sys::{Privilege, acquire_namespace_privilege, namespaces_unavailable};
    match acquire_namespace_privilege() {
        Privilege::Root => ("root".into(), namespaces_unavailable()),
        Privilege::UserNamespace { uid, .. } => (format!("uid {uid} in a user namespace"), namespaces_unavailable()),
        Privilege::Unavailable(reason) => ("unprivileged".into(), Some(reason)),
    }
}

/// What every trial of a run shares.
pub struct RunConfig {
    pub expectations: Expectations,
    /// Where to write one pcapng per trial; `None` writes none.
    pub pcap_dir: Option<PathBuf>,
    /// What this platform offers the trials' needs; a trial whose need is missing is
    /// skipped with the reason (see [`probe`]).
    pub capabilities: Capabilities,
    /// How long one trial may take before it is stopped and reported as failed.
    pub trial_deadline: std::time::Duration,
    /// Sysctls written in every namespace of every trial before any socket exists
    /// (`sockerr run --sysctl KEY=VALUE`; see [`parse_sysctl`]).
    pub sysctls: Vec<(String, String)>,
    /// A trial that no expectation judged fails instead of being `observed` (`--strict`;
    /// the conformance target always judges so).
    pub strict: bool,
    /// A trial that would be skipped (a prerequisite missing here) fails instead, naming what
    /// is missing (`--strict`; `SOCKERR_REQUIRE_ALL=1` for the conformance target).
    pub skips_fail: bool,
}

impl Default for RunConfig {
    /// The built-in expectations aside: no expectations, no pcapng, every need taken as met,
    /// the standard trial deadline.
    fn default() -> RunConfig {
        RunConfig {
            expectations: Expectations::default(),
            pcap_dir: None,
            capabilities: Capabilities::default(),
            trial_deadline: sockerr_harness::trial::TRIAL_DEADLINE,
            sysctls: Vec::new(),
            strict: false,
            skips_fail: false,
        }
    }
}

/// Parses a `--sysctl KEY=VALUE` override. The key must name a sysctl of a network namespace:
/// `net.ipv4.*`, `net.ipv6.*` or `net.core.*` (network_namespaces(7): each namespace has its
/// own /proc/sys/net), in dotted form with letters, digits, `_` and `-`; the value must not be
/// empty. Whether the kernel knows the key and takes the value is only known by trying it in
/// a namespace ([`sockerr_harness::platform::Platform::probe_with`]).
pub fn parse_sysctl(text: &str) -> Result<(String, String), String> {
    let (key, value) = text
        .split_once('=')
        .ok_or_else(|| format!("{text:?} is not KEY=VALUE"))?;
    let (key, value) = (key.trim(), value.trim());
    let parts: Vec<&str> = key.split('.').collect();
    let per_namespace = matches!(parts.as_slice(), ["net", "ipv4" | "ipv6" | "core", _, ..]);
    let well_formed = parts
        .iter()
        .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-'));
    if !per_namespace || !well_formed {
        return Err(format!(
            "{key:?} is not a per-namespace sysctl: only net.ipv4.*, net.ipv6.* and net.core.* keys are set, \
             inside the trials' namespaces (e.g. net.ipv4.tcp_rfc1337=1)"
        ));
    }
    if value.is_empty() {
        return Err(format!("{key}: the value is empty"));
    }
    Ok((key.to_string(), value.to_string()))
}

/// Probes, once, every need of the planned trials. `namespaces_problem` is why the process
/// could not get the privileges namespaces need ([`prepare_process`]), which no probe could
/// find out better.
pub fn probe(planned: &[Planned<'_>], namespaces_problem: Option<String>) -> Capabilities {
    let mut needs: Vec<Need> = planned.iter().flat_map(Planned::needs).collect();
    needs.sort();
    needs.dedup();
    match namespaces_problem {
        Some(reason) => {
            let missing = Missing {
                what: "network namespaces".into(),
                remedy: reason,
            };
            Capabilities::with_missing(
                needs
                    .into_iter()
                    .filter(|&n| n == Need::Namespaces)
                    .map(|n| (n, missing.clone())),
            )
        }
        None => Capabilities::probe(needs),
    }
}

/// Why a planned trial cannot run here: the first of its needs this platform lacks.
pub fn unmet_need(planned: Planned<'_>, config: &RunConfig) -> Option<String> {
    config
        .capabilities
        .first_missing(planned.needs())
        .map(|(need, missing)| format!("needs {need}: {missing}"))
}

/// One trial to run.
#[derive(Clone, Copy)]
pub struct Planned<'a> {
    pub scenario: &'a Scenario,
    pub family: Family,
    pub topology: Topology,
    /// The runtime API whose client makes the client's steps; `None`: a native trial.
    pub client: Option<Api>,
}

impl Planned<'_> {
    pub fn id(&self) -> String {
        let native = self.scenario.trial_name(self.family, self.topology);
        match self.client {
            None => native,
            Some(api) => format!("{native}.{api}"),
        }
    }

    /// Everything the trial needs: its topology's, its scenario's, and its runtime.
    pub fn needs(&self) -> Vec<Need> {
        let mut needs: Vec<Need> = self.scenario.needs_in(self.topology).collect();
        needs.extend(self.client.map(|api| Need::Runtime(api.runtime())));
        needs
    }
}

/// Every trial of the catalogue, in catalogue order: each scenario's native trials, then its
/// runtime trials.
pub fn plan(scenarios: &[Scenario]) -> Vec<Planned<'_>> {
    scenarios
        .iter()
        .flat_map(|scenario| {
            let native = scenario.variants().map(move |(family, topology)| Planned {
                scenario,
                family,
                topology,
                client: None,
            });
            let runtimes = scenario
                .runtime_variants()
                .into_iter()
                .map(move |(family, topology, api)| Planned {
                    scenario,
                    family,
                    topology,
                    client: Some(api),
                });
            native.chain(runtimes)
        })
        .collect()
}

/// The trials of [`plan`] in one topology: for the `host` topology, every scenario that can
/// run there ([`Scenario::runs_on_host`]) in each of its families, natively (runtime clients
/// run in the namespace topologies); `None`: [`plan`] itself.
pub fn plan_in(scenarios: &[Scenario], topology: Option<Topology>) -> Vec<Planned<'_>> {
    match topology {
        None => plan(scenarios),
        Some(Topology::Host) => scenarios
            .iter()
            .filter(|scenario| scenario.runs_on_host())
            .flat_map(|scenario| {
                scenario.families.iter().map(move |&family| Planned {
                    scenario,
                    family,
                    topology: Topology::Host,
                    client: None,
                })
            })
            .collect(),
        Some(topology) => plan(scenarios)
            .into_iter()
            .filter(|planned| planned.topology == topology)
            .collect(),
    }
}

/// The topology a run takes when none is asked for: all of the catalogue's where there are
/// network namespaces (Linux), else the `host` topology, the only one there is.
pub fn default_topology() -> Option<Topology> {
    (!cfg!(target_os = "linux")).then_some(Topology::Host)
}

/// The pcapng file name of a trial: its id.
pub fn pcap_file_name(id: &str) -> String {
    format!("{id}.pcapng")
}

/// What the harness needs to run a planned trial.
fn spec_for(planned: Planned<'_>, config: &RunConfig) -> TrialSpec {
    TrialSpec {
        topology: planned.topology,
        family: planned.family,
        pcap: config.pcap_dir.as_ref().map(|d| d.join(pcap_file_name(&planned.id()))),
        deadline: config.trial_deadline,
        sysctls: config.sysctls.clone(),
        declared: Some(planned.needs()),
        client: planned.client,
    }
}

/// Starts building a planned trial's sandbox ahead of it (see [`trial::prepare`]); `None`
/// when the trial will be skipped or no thread could be started.
fn prepare(planned: Planned<'_>, config: &RunConfig) -> Option<trial::Prepared> {
    match unmet_need(planned, config) {
        Some(_) => None,
        None => trial::prepare(&spec_for(planned, config)),
    }
}

/// How long a run waits at its end for the capture sockets of its trials to be closed.
const RELEASE_LIMIT: std::time::Duration = std::time::Duration::from_secs(10);

/// Runs one trial and judges it. Returns once its capture sockets are closed, so that it
/// leaves nothing open behind.
pub fn run_trial(planned: Planned<'_>, config: &RunConfig) -> TrialReport {
    let report = run_trial_prepared(planned, config, None);
    sockerr_harness::capture::settle_releases(RELEASE_LIMIT);
    report
}

/// [`run_trial`] in a sandbox built ahead by [`prepare`].
fn run_trial_prepared(planned: Planned<'_>, config: &RunConfig, prepared: Option<trial::Prepared>) -> TrialReport {
    let id = planned.id();
    let scenario = planned.scenario;
    let mut report = TrialReport {
        id: id.clone(),
        scenario: scenario.id.to_string(),
        family: planned.family,
        topology: planned.topology,
        client: planned.client.map(|api| ClientInfo {
            api: api.id().to_string(),
            runtime: String::new(),
        }),
        status: Status::Skip,
        skip_reason: unmet_need(planned, config),
        elapsed_ms: 0.0,
        script_ms: 0.0,
        setup_ms: 0.0,
        claim: scenario.claim.to_string(),
        sources: scenario.sources.iter().map(|s| s.to_string()).collect(),
        guidance: (!scenario.guidance.is_empty()).then(|| scenario.guidance.to_string()),
        steps: Vec::new(),
        waits: Vec::new(),
        wire: Default::default(),
        knobs: Vec::new(),
        timer: scenario.timer.map(str::to_string),
        judged_by: Vec::new(),
        mismatches: Vec::new(),
        error: None,
    };
    if report.skip_reason.is_some() {
        fail_if_skipped(&mut report, config);
        return report;
    }
    let file_name = pcap_file_name(&id);
    let spec = spec_for(planned, config);
    let observation = trial::run_prepared(&spec, prepared, scenario.script);
    judge(&mut report, &observation, config);
    let Observation {
        steps,
        waits,
        mut wire,
        knobs,
        client,
        error,
        skipped,
        elapsed_us,
        setup_us,
        script_us,
    } = observation;
    if client.is_some() {
        report.client = client;
    }
    if wire.pcap.is_some() {
        wire.pcap = Some(format!("pcap/{file_name}"));
    }
    report.elapsed_ms = elapsed_us as f64 / 1000.0;
    report.script_ms = script_us as f64 / 1000.0;
    report.setup_ms = setup_us as f64 / 1000.0;
    report.steps = steps;
    report.waits = waits;
    report.wire = wire;
    report.knobs = knobs;
    report.error = error;
    if let Some(reason) = skipped {
        report.status = Status::Skip;
        report.skip_reason = Some(reason);
        report.mismatches.clear();
    }
    fail_if_skipped(&mut report, config);
    report
}

/// Under [`RunConfig::skips_fail`], a skipped trial fails: the skip reason stays, the error
/// says why the trial failed, and a mismatch of the trial as a whole shows it wherever
/// mismatches are shown.
fn fail_if_skipped(report: &mut TrialReport, config: &RunConfig) {
    if config.skips_fail && report.status == Status::Skip {
        let reason = report.skip_reason.clone().unwrap_or_else(|| "no reason given".into());
        report.status = Status::Fail;
        report.error = Some(format!("skipped, which a strict run counts as a failure: {reason}"));
        report.mismatches.push(Mismatch {
            step: "trial".into(),
            runtime: None,
            aspect: Aspect::TrialError,
            expected: "the trial runs (a strict run fails a skipped trial)".into(),
            observed: format!("skipped: {reason}"),
            context: None,
            origin: None,
        });
    }
}

/// Judges a trial with the run's expectations: `pass` when every stated fact was observed,
/// `fail` when one was not (or the trial could not run to its end), `observed` when nothing
/// judged it, which `strict` turns into a failure.
fn judge(report: &mut TrialReport, observation: &Observation, config: &RunConfig) {
    report.skip_reason = None;
    let judgement = config.expectations.judge(&report.scenario, observation);
    report.judged_by = judgement.judged_by;
    report.mismatches = judgement.mismatches;
    if let (Some(why), true) = (&judgement.unjudged, config.strict) {
        report.mismatches.push(Mismatch {
            step: "trial".into(),
            runtime: None,
            aspect: Aspect::Unjudged,
            expected: "an expectation that judges the trial".into(),
            observed: why.clone(),
            context: Some(format!("judged strictly with {}", config.expectations.origin())),
            origin: None,
        });
    }
    report.status = if !report.mismatches.is_empty() {
        Status::Fail
    } else if judgement.unjudged.is_some() {
        Status::Observed
    } else {
        Status::Pass
    };
}

/// Trials run at once unless told otherwise: one worker per CPU.
pub fn default_jobs() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
}

/// How many sandboxes each worker has built or building ahead, the current trial's
/// included. Building one mostly sleeps (an RCU grace period per capture ring, links coming
/// up), and a trial that waits on no timer takes a millisecond or two, so one sandbox ahead
/// is not enough to keep a worker from waiting; each costs a few MiB of capture rings.
const BUILT_AHEAD: usize = 3;

/// Runs the planned trials on `jobs` workers (each trial still gets a fresh thread of its
/// own) and returns their reports in plan order. Trials that wait out a protocol timer
/// (`Scenario::timer`) all start at once, besides the workers, so that the run ends soon after
/// its longest trial. Their sandboxes are built first, all together, and the workers start
/// once that burst of set-up is over, so that it does not slow their trials down; each worker
/// builds the sandboxes of its next trials while it runs the current one.
pub fn run_all(planned: &[Planned<'_>], config: &RunConfig, jobs: usize) -> Vec<TrialReport> {
    run_all_reporting(planned, config, jobs, |_| {})
}

/// [`run_all`], calling `done` with each trial's report as soon as it is judged.
pub fn run_all_reporting(
    planned: &[Planned<'_>],
    config: &RunConfig,
    jobs: usize,
    done: impl Fn(&TrialReport) + Sync,
) -> Vec<TrialReport> {
    let (timed, quick): (Vec<usize>, Vec<usize>) =
        (0..planned.len()).partition(|&i| planned[i].scenario.timer.is_some());
    let next = AtomicUsize::new(0);
    let take = || quick.get(next.fetch_add(1, Ordering::Relaxed)).copied();
    let results: Mutex<Vec<Option<TrialReport>>> = Mutex::new(vec![None; planned.len()]);
    let finish = |i: usize, report: TrialReport| {
        done(&report);
        results.lock().unwrap_or_else(std::sync::PoisonError::into_inner)[i] = Some(report);
    };
    std::thread::scope(|scope| {
        // Runtime clients that live for the whole run (a JVM, a Python interpreter) start
        // now, beside the rest, so that the first trial of each does not wait for them.
        for runtime in runtimes_of(planned, config) {
            scope.spawn(move || {
                let _ = runtime.prepare();
            });
        }
        // A trial that waits out a protocol timer sleeps for nearly all of it: they all start
        // at once, each on a worker of its own, so the run lasts about as long as the
        // longest of them.
        // Every build starts before any is waited for, so that they run side by side.
        let building: Vec<_> = timed.iter().map(|&i| (i, prepare(planned[i], config))).collect();
        let built: Vec<_> = building
            .into_iter()
            .map(|(i, prepared)| (i, prepared.map(trial::Prepared::built)))
            .collect();
        for (i, prepared) in built {
            let finish = &finish;
            scope.spawn(move || finish(i, run_trial_prepared(planned[i], config, prepared)));
        }
        for _ in 0..jobs.clamp(1, quick.len().max(1)) {
            scope.spawn(|| {
                let mut ahead = std::collections::VecDeque::new();
                loop {
                    while ahead.len() < BUILT_AHEAD {
                        let Some(j) = take() else { break };
                        ahead.push_back((j, prepare(planned[j], config)));
                    }
                    let Some((i, prepared)) = ahead.pop_front() else { break };
                    finish(i, run_trial_prepared(planned[i], config, prepared));
                }
            });
        }
    });
    sockerr_harness::capture::settle_releases(RELEASE_LIMIT);
    sockerr_harness::runtime::stop_all();
    results
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .into_iter()
        .flatten()
        .collect()
}

/// The runtimes the planned trials use and this machine has.
fn runtimes_of(planned: &[Planned<'_>], config: &RunConfig) -> Vec<sockerr_harness::runtime::Runtime> {
    let mut runtimes: Vec<_> = planned
        .iter()
        .filter_map(|p| p.client.map(Api::runtime))
        .filter(|&r| config.capabilities.missing(Need::Runtime(r)).is_none())
        .collect();
    runtimes.sort();
    runtimes.dedup();
    runtimes
}

/// The text a failed trial shows: what differed, then every step and the wire.
pub fn failure_text(report: &TrialReport, origin: &str) -> String {
    let mut out = String::new();
    match &report.skip_reason {
        Some(_) => {
            let _ = writeln!(out, "{} could not run here:", report.id);
        }
        None => {
            let _ = writeln!(out, "{} differs from {origin}:", report.id);
        }
    }
    for m in &report.mismatches {
        let _ = writeln!(out, "  {}", m.to_string().replace('\n', "\n  "));
    }
    out.push_str(&sockerr_reports::summary::transcript(report));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// network_namespaces(7): /proc/sys/net is per namespace; other sysctls (vm.*, kernel.*)
    /// are the host's, so an override of one is refused before anything runs.
    #[test]
    fn an_override_is_accepted_only_for_a_per_namespace_key_with_a_value() {
        assert_eq!(
            parse_sysctl("net.ipv4.tcp_rfc1337=1"),
            Ok(("net.ipv4.tcp_rfc1337".into(), "1".into()))
        );
        assert_eq!(
            parse_sysctl("net.ipv4.ip_local_port_range=40000 40100"),
            Ok(("net.ipv4.ip_local_port_range".into(), "40000 40100".into()))
        );
        assert_eq!(
            parse_sysctl("net.core.somaxconn=8"),
            Ok(("net.core.somaxconn".into(), "8".into()))
        );
        assert!(parse_sysctl("net.ipv6.conf.all.disable_ipv6=0").is_ok());
        for bad in [
            "vm.swappiness=1",
            "net.ipv4=1",
            "net.unix.max_dgram_qlen=5",
            "net.ipv4..x=1",
            "net.ipv4.a/b=1",
        ] {
            let error = parse_sysctl(bad).unwrap_err();
            assert!(error.contains("is not a per-namespace sysctl"), "{bad}: {error}");
            assert!(error.contains(bad.split('=').next().unwrap()), "{bad}: {error}");
        }
        assert_eq!(
            parse_sysctl("net.ipv4.tcp_rfc1337="),
            Err("net.ipv4.tcp_rfc1337: the value is empty".into())
        );
        assert!(
            parse_sysctl("net.ipv4.tcp_rfc1337")
                .unwrap_err()
                .contains("is not KEY=VALUE")
        );
    }
}

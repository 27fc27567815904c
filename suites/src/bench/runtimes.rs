//! What runtime trials cost, for `sockerr bench`: per runtime (and for the native trials
//! beside them) the median wall time of a trial, of its script, and what a runtime trial takes
//! more than the native trial of its variant in the same run; and the CPU time per trial.
//!
//! CPU time: the long-lived client processes (a JVM, a Python interpreter, Go's client,
//! Node.js) are children of this process, read from /proc while the runs go
//! ([`CpuSampler`]); a runtime's CPU per trial is its processes' CPU over a run divided by
//! its trials in that run. Rust's clients are threads of this process: their CPU is in the
//! harness process's figure, shown on the native row (the whole process, per trial of a run).

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use sockerr_harness::runtime::Runtime;
use sockerr_reports::TrialReport;
use sockerr_reports::runtimes::native_id;

use super::median;
use crate::runner::Planned;

/// What one kind of trial cost: the native trials, or the runtime trials of one runtime.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuntimeCost {
    /// `native`, or the runtime (`Java`, `Python`, `Go`, `Node.js`, `Rust`).
    pub runtime: String,
    /// The runtime's APIs with trials in the plan (`java.net.Socket`, ...); empty for native.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub apis: Vec<String>,
    /// Its trials in one run.
    pub trials_per_run: usize,
    /// Median wall time of one of its trials, over every trial of every run.
    pub median_ms: f64,
    /// Median time of the trial's script (its calls and waits; the client's start included).
    pub median_script_ms: f64,
    /// Median, over its trials and the runs, of a trial's wall time minus that of the native
    /// trial of its variant in the same run; `None` for the native row.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub median_over_native_ms: Option<f64>,
    /// Median over the runs of the CPU time its client processes used in a run, per trial of
    /// it; for the native row the harness process's CPU time per trial of the run. `None`
    /// where no process of its own ran (Rust's clients are threads of the harness).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_ms_per_trial: Option<f64>,
}

/// The runtime whose client process has this command name, as the kernel keeps it.
pub fn runtime_of_command(command: &str) -> Option<Runtime> {
    match command {
        "java" => Some(Runtime::Java),
        "python3" | "python" => Some(Runtime::Python),
        "sockerr-client" => Some(Runtime::Go),
        "node" => Some(Runtime::Node),
        _ => None,
    }
}

/// Reads the CPU time of this process's children every [`CpuSampler::PERIOD`] while runs
/// go, keeping the last figure of each process: the client processes end with their run, so
/// their total is the last figure read (a period's worth of CPU at most is missed).
pub struct CpuSampler {
    stop: Arc<AtomicBool>,
    seen: Arc<Mutex<HashMap<u32, (String, Duration)>>>,
    counted: Vec<u32>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl CpuSampler {
    /// How often the children's CPU time is read: a measurement's sampling period, not a wait.
    pub const PERIOD: Duration = Duration::from_millis(20);

    pub fn start() -> CpuSampler {
        let stop = Arc::new(AtomicBool::new(false));
        let seen: Arc<Mutex<HashMap<u32, (String, Duration)>>> = Arc::default();
        let thread = {
            let (stop, seen) = (stop.clone(), seen.clone());
            std::thread::Builder::new()
                .name("bench-cpu".into())
                .spawn(move || {
                    while !stop.load(Ordering::Relaxed) {
                        sample(&seen);
                        std::thread::sleep(Self::PERIOD);
                    }
                })
                .ok()
        };
        CpuSampler {
            stop,
            seen,
            counted: Vec::new(),
            thread,
        }
    }

    /// The CPU time per runtime of the client processes seen since the last call (a run's).
    pub fn take_run(&mut self) -> BTreeMap<Runtime, Duration> {
        sample(&self.seen);
        let seen = self.seen.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut per_runtime = BTreeMap::new();
        for (pid, (command, cpu)) in seen.iter() {
            if self.counted.contains(pid) {
                continue;
            }
            if let Some(runtime) = runtime_of_command(command) {
                *per_runtime.entry(runtime).or_default() += *cpu;
                self.counted.push(*pid);
            }
        }
        per_runtime
    }
}

fn sample(seen: &Mutex<HashMap<u32, (String, Duration)>>) {
    let children = sockerr_harness::sys::children_cpu();
    let mut seen = seen.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    for child in children {
        // The latest name: a child may be read between its fork and its exec (`bash` before
        // it became `python3`).
        let entry = seen.entry(child.pid).or_insert((String::new(), Duration::ZERO));
        entry.0 = child.command;
        entry.1 = entry.1.max(child.cpu);
    }
}

impl Drop for CpuSampler {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// What the runs measured, gathered run by run ([`Costs::record`]) and summed up at the end
/// ([`Costs::summary`]).
#[derive(Default)]
pub struct Costs {
    /// Per kind (`None`: native), wall and script times of every trial of every run.
    wall: BTreeMap<Option<Runtime>, Vec<f64>>,
    script: BTreeMap<Option<Runtime>, Vec<f64>>,
    over_native: BTreeMap<Runtime, Vec<f64>>,
    /// Per kind, the CPU milliseconds per trial of each run.
    cpu: BTreeMap<Option<Runtime>, Vec<f64>>,
}

/// The runtime of a planned trial, `None` for a native one.
fn kind_of(planned: &Planned<'_>) -> Option<Runtime> {
    planned.client.map(|api| api.runtime())
}

impl Costs {
    /// One run's reports, the CPU time its runtimes' processes used, and the harness process's
    /// CPU time over the run.
    pub fn record(
        &mut self,
        planned: &[Planned<'_>],
        reports: &[TrialReport],
        runtime_cpu: &BTreeMap<Runtime, Duration>,
        process_cpu: Duration,
    ) {
        let kinds: HashMap<String, Option<Runtime>> = planned.iter().map(|p| (p.id(), kind_of(p))).collect();
        let elapsed: HashMap<&str, f64> = reports.iter().map(|r| (r.id.as_str(), r.elapsed_ms)).collect();
        let mut ran: BTreeMap<Option<Runtime>, usize> = BTreeMap::new();
        for report in reports.iter().filter(|r| !r.steps.is_empty()) {
            let Some(&kind) = kinds.get(&report.id) else {
                continue;
            };
            *ran.entry(kind).or_default() += 1;
            self.wall.entry(kind).or_default().push(report.elapsed_ms);
            self.script.entry(kind).or_default().push(report.script_ms);
            if let (Some(runtime), Some(native)) = (kind, elapsed.get(native_id(report))) {
                self.over_native
                    .entry(runtime)
                    .or_default()
                    .push(report.elapsed_ms - native);
            }
        }
        let all: usize = ran.values().sum();
        if all > 0 {
            let per_trial = process_cpu.as_secs_f64() * 1000.0 / all as f64;
            self.cpu.entry(None).or_default().push(per_trial);
        }
        for (runtime, cpu) in runtime_cpu {
            if let Some(&n) = ran.get(&Some(*runtime)).filter(|&&n| n > 0) {
                self.cpu
                    .entry(Some(*runtime))
                    .or_default()
                    .push(cpu.as_secs_f64() * 1000.0 / n as f64);
            }
        }
    }

    /// The native row, then a row per runtime with trials in the plan, in [`Runtime::ALL`]
    /// order.
    pub fn summary(&self, planned: &[Planned<'_>]) -> Vec<RuntimeCost> {
        let mut kinds: Vec<Option<Runtime>> = vec![None];
        kinds.extend(Runtime::ALL.iter().map(|r| Some(*r)));
        kinds
            .into_iter()
            .filter_map(|kind| {
                let of_kind: Vec<&Planned<'_>> = planned.iter().filter(|p| kind_of(p) == kind).collect();
                if of_kind.is_empty() {
                    return None;
                }
                let mut apis: Vec<String> = Vec::new();
                for api in of_kind.iter().filter_map(|p| p.client.map(|a| a.id().to_string())) {
                    if !apis.contains(&api) {
                        apis.push(api);
                    }
                }
                let values = |map: &BTreeMap<Option<Runtime>, Vec<f64>>| map.get(&kind).cloned().unwrap_or_default();
                Some(RuntimeCost {
                    runtime: kind.map_or("native", Runtime::name).to_string(),
                    apis,
                    trials_per_run: of_kind.len(),
                    median_ms: median(&values(&self.wall)),
                    median_script_ms: median(&values(&self.script)),
                    median_over_native_ms: kind
                        .and_then(|r| self.over_native.get(&r))
                        .filter(|v| !v.is_empty())
                        .map(|v| median(v)),
                    cpu_ms_per_trial: self.cpu.get(&kind).filter(|v| !v.is_empty()).map(|v| median(v)),
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue;
    use crate::runner::plan;

    /// A report of `id` that took `elapsed_ms`, with one step (a trial that ran).
    fn report(id: &str, elapsed_ms: f64, api: Option<&str>) -> TrialReport {
        serde_json::from_value(serde_json::json!({
            "id": id,
            "scenario": "abort.linger0.write_first",
            "family": "v4",
            "topology": "loopback",
            "client": api.map(|a| serde_json::json!({"api": a, "runtime": "x"})),
            "status": "pass",
            "skip_reason": null,
            "elapsed_ms": elapsed_ms,
            "script_ms": elapsed_ms / 2.0,
            "steps": [{"label": "client.write#1", "actor": "client", "op": "write", "result": {"ret": 1, "errno": null, "errno_code": null}, "revents": [], "tcp_state": null, "signals": [], "t_us": 0, "elapsed_us": 0}],
            "wire": {"captured": false, "segments": []},
        }))
        .expect("a trial report")
    }

    #[test]
    fn a_runtime_costs_its_trials_wall_time_the_time_over_its_native_trial_and_its_processes_cpu() {
        let scenarios = catalogue::all();
        let planned: Vec<Planned<'_>> = plan(&scenarios)
            .into_iter()
            .filter(|p| p.scenario.id == "abort.linger0.write_first" && p.family == sockerr_harness::Family::V4)
            .filter(|p| p.client.is_none_or(|a| a.runtime() == Runtime::Java))
            .collect();
        let ids: Vec<String> = planned.iter().map(|p| p.id()).collect();
        let native = "abort.linger0.write_first.v4.loopback";
        assert!(ids.contains(&native.to_string()));
        let java: Vec<&String> = ids
            .iter()
            .filter(|id| id.starts_with(&format!("{native}.java")))
            .collect();
        assert_eq!(java.len(), 2, "{ids:?}");
        let mut costs = Costs::default();
        for run in 0..2 {
            let extra = run as f64;
            let reports = vec![
                report(native, 10.0 + extra, None),
                report(java[0], 30.0 + extra, Some("java.net.Socket")),
                report(java[1], 40.0 + extra, Some("java.nio.channels.SocketChannel")),
            ];
            let cpu = BTreeMap::from([
                (Runtime::Java, Duration::from_millis(8)),
                (Runtime::Python, Duration::from_millis(5)),
            ]);
            costs.record(&planned, &reports, &cpu, Duration::from_millis(30));
        }
        let summary = costs.summary(&planned);
        let java_cost = summary.iter().find(|c| c.runtime == "Java").expect("a Java row");
        assert_eq!(java_cost.apis, ["java.net.Socket", "java.nio.channels.SocketChannel"]);
        assert_eq!(java_cost.trials_per_run, 2);
        assert_eq!(java_cost.median_ms, 35.5, "over both trials of both runs");
        assert_eq!(java_cost.median_over_native_ms, Some(25.0));
        assert_eq!(java_cost.cpu_ms_per_trial, Some(4.0), "8 ms over its 2 trials");
        let native_cost = &summary[0];
        assert_eq!(native_cost.runtime, "native");
        assert_eq!(native_cost.median_over_native_ms, None);
        assert_eq!(
            native_cost.cpu_ms_per_trial,
            Some(10.0),
            "the process's 30 ms over the run's 3 trials"
        );
        assert!(
            summary.iter().all(|c| c.runtime != "Python"),
            "a runtime without trials in the plan has no row, whatever its processes used"
        );
    }

    #[test]
    fn the_client_processes_are_known_by_their_command_names() {
        assert_eq!(runtime_of_command("java"), Some(Runtime::Java));
        assert_eq!(runtime_of_command("python3"), Some(Runtime::Python));
        assert_eq!(runtime_of_command("sockerr-client"), Some(Runtime::Go));
        assert_eq!(runtime_of_command("node"), Some(Runtime::Node));
        assert_eq!(
            runtime_of_command("sh"),
            None,
            "a burner or a peer process is no runtime"
        );
    }
}

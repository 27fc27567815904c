//! `sockerr bench`: how fast the catalogue runs. Runs the planned trials K times on an
//! unloaded machine and measures the whole run's wall time against its longest trial, the
//! harness's overhead per trial (everything but the scenario's own script: sandbox set-up
//! and tear-down, capture, judging), per-trial medians and the peak memory; and checks that
//! no trial's outcome differed between the runs (the same signatures `sockerr stress`
//! compares: a runtime trial's signature holds what its runtime reported, so a message that
//! changed between runs counts). [`runtimes`] measures what runtime trials cost beside the
//! native ones.

pub mod runtimes;

use std::fmt;
use std::io;
use std::time::Duration;

use sockerr_reports::TrialReport;

use serde::{Deserialize, Serialize};

use crate::runner::{Planned, RunConfig};
pub use runtimes::RuntimeCost;

/// The schema name and version written into `bench.json` (`/2` added `costs` and
/// `differing_runtime_trials`).
pub const SCHEMA: &str = "sockerr-bench/2";

/// What `sockerr bench` measured. Times in milliseconds; each figure is the median over the
/// runs unless it says otherwise.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BenchResult {
    pub schema: String,
    pub runs: usize,
    pub trials_per_run: usize,
    /// Trials run at once (workers).
    pub jobs: usize,
    /// Median wall time of a whole run.
    pub wall_ms: f64,
    /// Wall time of each run, in run order.
    pub wall_ms_runs: Vec<f64>,
    /// Median over the runs of the longest trial of each run.
    pub longest_trial_ms: f64,
    /// The trial that was longest in most runs, and the timer it waits out.
    pub longest_trial: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub longest_trial_timer: Option<String>,
    /// `wall_ms / longest_trial_ms`: 1.0 would be a run that takes no longer than its
    /// longest trial.
    pub wall_over_longest: f64,
    /// Median, over every trial of every run, of the time not spent in the scenario's script.
    pub median_overhead_ms: f64,
    /// Median, over every trial of every run, of the time its sandbox was waited for (built
    /// ahead while the trial before ran, so usually nothing).
    pub median_setup_wait_ms: f64,
    /// Peak resident memory of the process, in KiB (getrusage(2) `ru_maxrss`).
    pub peak_rss_kib: u64,
    /// The cost of a trial: native trials, then runtime trials per runtime.
    #[serde(default)]
    pub costs: Vec<RuntimeCost>,
    /// Trials whose outcome was not the same in every run (for a runtime trial, what its
    /// runtime reported included).
    pub differing: Vec<String>,
    /// How many of `differing` are runtime trials.
    #[serde(default)]
    pub differing_runtime_trials: usize,
    /// Trials that failed their expectation in some run.
    pub failed: Vec<String>,
    /// Per trial, in plan order.
    pub trials: Vec<TrialBench>,
}

/// One trial's medians over the runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrialBench {
    pub id: String,
    pub median_ms: f64,
    pub median_overhead_ms: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timer: Option<String>,
}

/// The median of `values` (the mean of the middle two for an even count); 0 for none.
pub fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    match sorted.len() {
        0 => 0.0,
        n if n % 2 == 1 => sorted[n / 2],
        n => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
    }
}

/// Runs `planned` `runs` times on `jobs` workers, with no CPU burners, and measures.
pub fn bench(planned: &[Planned<'_>], config: &RunConfig, runs: usize, jobs: usize) -> io::Result<BenchResult> {
    bench_reporting(planned, config, runs, jobs, |_| {}, |_, _| {})
}

/// [`bench()`], calling `trial_done(report)` as each trial of a run is judged (from the
/// workers), and `run_done(run, wall time)` after each run (runs numbered from 1).
pub fn bench_reporting(
    planned: &[Planned<'_>],
    config: &RunConfig,
    runs: usize,
    jobs: usize,
    trial_done: impl Fn(&TrialReport) + Sync,
    mut run_done: impl FnMut(usize, Duration),
) -> io::Result<BenchResult> {
    let mut elapsed: Vec<Vec<f64>> = vec![Vec::new(); planned.len()];
    let mut overhead: Vec<Vec<f64>> = vec![Vec::new(); planned.len()];
    let mut setup_waits = Vec::new();
    let mut overheads = Vec::new();
    let mut longest_per_run = Vec::new();
    let mut longest_ids: Vec<String> = Vec::new();
    let ids: Vec<String> = planned.iter().map(|p| p.id()).collect();
    let mut costs = runtimes::Costs::default();
    let mut sampler = runtimes::CpuSampler::start();
    let mut process_cpu = sockerr_harness::sys::process_cpu();
    let stress = crate::stress::stress_reporting(planned, config, runs, 0, jobs, trial_done, |run, wall, reports| {
        let now = sockerr_harness::sys::process_cpu();
        costs.record(planned, reports, &sampler.take_run(), now.saturating_sub(process_cpu));
        process_cpu = now;
        let mut longest: Option<(&str, f64)> = None;
        for report in reports {
            let Some(i) = ids.iter().position(|id| *id == report.id) else {
                continue;
            };
            let spent = (report.elapsed_ms - report.script_ms).max(0.0);
            elapsed[i].push(report.elapsed_ms);
            overhead[i].push(spent);
            overheads.push(spent);
            setup_waits.push(report.setup_ms);
            if longest.is_none_or(|(_, ms)| report.elapsed_ms > ms) {
                longest = Some((&report.id, report.elapsed_ms));
            }
        }
        if let Some((id, ms)) = longest {
            longest_per_run.push(ms);
            longest_ids.push(id.to_string());
        }
        run_done(run, wall);
    })?;
    let longest_trial = most_frequent(&longest_ids).unwrap_or_default();
    let longest_trial_timer = planned
        .iter()
        .find(|p| p.id() == longest_trial)
        .and_then(|p| p.scenario.timer.map(str::to_string));
    drop(sampler);
    let wall_ms = median(&stress.wall_ms);
    let runtime_ids: Vec<String> = planned.iter().filter(|p| p.client.is_some()).map(|p| p.id()).collect();
    let differing: Vec<String> = stress.differing().map(|t| t.id.clone()).collect();
    let longest_trial_ms = median(&longest_per_run);
    Ok(BenchResult {
        schema: SCHEMA.to_string(),
        runs,
        trials_per_run: planned.len(),
        jobs,
        wall_ms,
        wall_ms_runs: stress.wall_ms.clone(),
        longest_trial_ms,
        longest_trial,
        longest_trial_timer,
        wall_over_longest: if longest_trial_ms > 0.0 {
            wall_ms / longest_trial_ms
        } else {
            0.0
        },
        median_overhead_ms: median(&overheads),
        median_setup_wait_ms: median(&setup_waits),
        peak_rss_kib: sockerr_harness::sys::peak_rss_kib(),
        costs: costs.summary(planned),
        differing_runtime_trials: differing.iter().filter(|id| runtime_ids.contains(id)).count(),
        differing,
        failed: stress.failing().map(|t| t.id.clone()).collect(),
        trials: planned
            .iter()
            .enumerate()
            .map(|(i, p)| TrialBench {
                id: ids[i].clone(),
                median_ms: median(&elapsed[i]),
                median_overhead_ms: median(&overhead[i]),
                timer: p.scenario.timer.map(str::to_string),
            })
            .collect(),
    })
}

fn most_frequent(ids: &[String]) -> Option<String> {
    let mut best: Option<(&String, usize)> = None;
    for id in ids {
        let n = ids.iter().filter(|other| *other == id).count();
        if best.is_none_or(|(_, m)| n > m) {
            best = Some((id, n));
        }
    }
    best.map(|(id, _)| id.clone())
}

impl BenchResult {
    /// Whether every trial passed and kept one outcome in every run.
    pub fn clean(&self) -> bool {
        self.differing.is_empty() && self.failed.is_empty()
    }
}

impl fmt::Display for BenchResult {
    /// The short table `make bench` prints, then the five slowest trials.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} runs of {} trials, {} at once (medians over the runs)",
            self.runs, self.trials_per_run, self.jobs
        )?;
        writeln!(f, "  whole catalogue (wall)      {:>9.1} ms", self.wall_ms)?;
        writeln!(
            f,
            "  longest trial               {:>9.1} ms  {}",
            self.longest_trial_ms, self.longest_trial
        )?;
        if let Some(timer) = &self.longest_trial_timer {
            writeln!(f, "    its timer: {timer}")?;
        }
        writeln!(f, "  wall / longest trial        {:>9.2}", self.wall_over_longest)?;
        writeln!(f, "  harness overhead per trial  {:>9.2} ms", self.median_overhead_ms)?;
        writeln!(f, "  sandbox waited for          {:>9.2} ms", self.median_setup_wait_ms)?;
        writeln!(
            f,
            "  peak memory                 {:>9.1} MiB",
            self.peak_rss_kib as f64 / 1024.0
        )?;
        if self.costs.iter().any(|c| c.runtime != "native") {
            writeln!(
                f,
                "cost of a trial (medians over the trials and runs; CPU: the client processes' per trial, \
                 the native row the harness process's per trial of the run):"
            )?;
            writeln!(
                f,
                "  {:<8} {:>6} {:>9} {:>10} {:>11} {:>9}",
                "", "trials", "wall ms", "script ms", "+native ms", "CPU ms"
            )?;
            for c in &self.costs {
                let or_dash = |v: Option<f64>, precision: usize| {
                    v.map_or_else(|| "-".to_string(), |v| format!("{v:.precision$}"))
                };
                writeln!(
                    f,
                    "  {:<8} {:>6} {:>9.2} {:>10.2} {:>11} {:>9}",
                    c.runtime,
                    c.trials_per_run,
                    c.median_ms,
                    c.median_script_ms,
                    or_dash(c.median_over_native_ms, 2),
                    or_dash(c.cpu_ms_per_trial, 2)
                )?;
            }
        }
        writeln!(
            f,
            "  trials differing between runs: {} ({} of them runtime trials, whose runtime answers are compared too)",
            self.differing.len(),
            self.differing_runtime_trials
        )?;
        for id in &self.differing {
            writeln!(f, "    {id}")?;
        }
        writeln!(f, "  trials failing in some run: {}", self.failed.len())?;
        for id in &self.failed {
            writeln!(f, "    {id}")?;
        }
        let mut slowest: Vec<&TrialBench> = self.trials.iter().collect();
        slowest.sort_by(|a, b| b.median_ms.total_cmp(&a.median_ms));
        writeln!(f, "slowest trials (median ms, overhead ms, timer):")?;
        for t in slowest.iter().take(5) {
            writeln!(
                f,
                "  {:>9.1} {:>7.2}  {}  {}",
                t.median_ms,
                t.median_overhead_ms,
                t.id,
                t.timer.as_deref().unwrap_or("-")
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_median_of_an_even_count_is_the_mean_of_the_middle_two() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), 2.5);
        assert_eq!(median(&[]), 0.0);
    }

    #[test]
    fn the_longest_trial_is_the_one_longest_in_most_runs() {
        let ids: Vec<String> = ["a", "b", "a"].iter().map(|s| s.to_string()).collect();
        assert_eq!(most_frequent(&ids).as_deref(), Some("a"));
        assert_eq!(most_frequent(&[]), None);
    }
}

//! `sockerr stress`: runs the planned trials many times while CPU-burning processes load the
//! machine, and finds the trials whose outcome was not the same in every run.
//!
//! A trial's outcome is its [`TrialSignature`]: statuses, errnos, signals, revents, TCP
//! states and the wire in relative numbers, without timings, ports or descriptors. A trial
//! that shows two signatures over the runs depends on timing (a race in the scenario, a wait
//! that is too short under load, or the kernel itself), and its expectation cannot be relied
//! on until that is understood.

use std::fmt;
use std::io;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use sockerr_reports::signature::{self, TrialSignature};
use sockerr_reports::{Status, TrialReport};

use crate::runner::{self, Planned, RunConfig};

/// The schema name and version written into `stress.json`. Version 2: the first mismatches of
/// a failing trial are structured values (`sockerr_reports::Mismatch`), no longer text.
pub const SCHEMA: &str = "sockerr-stress/2";

/// What a stress run found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StressResult {
    pub schema: String,
    /// How many times the planned trials ran.
    pub runs: usize,
    pub trials_per_run: usize,
    /// Trials run at once within a run.
    pub jobs: usize,
    /// Process ids of the CPU burners that loaded the machine (all killed and reaped when
    /// [`stress`] returned).
    pub burner_pids: Vec<u32>,
    /// Why every trial was skipped, when namespace trials cannot run here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skip_reason: Option<String>,
    /// Wall time of each run in milliseconds, in run order.
    pub wall_ms: Vec<f64>,
    /// Every planned trial, in plan order.
    pub trials: Vec<TrialRuns>,
}

/// One trial over all runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrialRuns {
    pub id: String,
    /// The distinct signatures seen, in order of first appearance; more than one means the
    /// trial's outcome changed between runs.
    pub variants: Vec<Variant>,
    /// Runs (numbered from 1) in which the trial failed its expectation.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub failed_runs: Vec<usize>,
    /// What differed from the expectation in the first failed run.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub first_mismatches: Vec<sockerr_reports::Mismatch>,
    /// Runs that returned no report for this trial (a bug in the runner if ever non-empty).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub missing_runs: Vec<usize>,
}

/// One outcome of a trial and the runs (numbered from 1) that showed it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Variant {
    pub runs: Vec<usize>,
    pub signature: TrialSignature,
}

impl TrialRuns {
    /// Whether the trial's outcome was not the same in every run.
    pub fn differed(&self) -> bool {
        self.variants.len() > 1 || !self.missing_runs.is_empty()
    }

    /// Whether the trial failed its expectation in any run.
    pub fn failed(&self) -> bool {
        !self.failed_runs.is_empty()
    }
}

impl StressResult {
    /// The trials whose outcome was not the same in every run.
    pub fn differing(&self) -> impl Iterator<Item = &TrialRuns> {
        self.trials.iter().filter(|t| t.differed())
    }

    /// The trials that failed their expectation in at least one run.
    pub fn failing(&self) -> impl Iterator<Item = &TrialRuns> {
        self.trials.iter().filter(|t| t.failed())
    }

    /// No trial differed between runs and none failed: what `sockerr stress` exits 0 on.
    pub fn clean(&self) -> bool {
        self.differing().next().is_none() && self.failing().next().is_none()
    }
}

/// Runs `planned` `runs` times, one run after another, each with [`runner::run_all`] on
/// `jobs` workers, while `burners` CPU-burning processes load the machine; returns the
/// distinct outcomes of every trial. Fails only when a burner cannot be started.
///
/// The burners are child processes spinning in a shell loop. They are killed and reaped
/// before this returns, also when it unwinds from a panic; should the whole program be killed
/// instead, the kernel kills them (PR_SET_PDEATHSIG). That signal follows the *thread* that
/// started them, so call this from a thread that outlives the stress run (the main thread).
pub fn stress(
    planned: &[Planned<'_>],
    config: &RunConfig,
    runs: usize,
    burners: usize,
    jobs: usize,
) -> io::Result<StressResult> {
    stress_reporting(planned, config, runs, burners, jobs, |_| {}, |_, _, _| {})
}

/// [`stress`], calling `trial_done(report)` as each trial of a run is judged (from the
/// workers), and `run_done(run, wall time, reports)` after each run (runs numbered from 1).
pub fn stress_reporting(
    planned: &[Planned<'_>],
    config: &RunConfig,
    runs: usize,
    burners: usize,
    jobs: usize,
    trial_done: impl Fn(&TrialReport) + Sync,
    mut run_done: impl FnMut(usize, Duration, &[TrialReport]),
) -> io::Result<StressResult> {
    let mut burning = Burners::start(burners)?;
    let mut trials: Vec<TrialRuns> = planned
        .iter()
        .map(|p| TrialRuns {
            id: p.id(),
            variants: Vec::new(),
            failed_runs: Vec::new(),
            first_mismatches: Vec::new(),
            missing_runs: Vec::new(),
        })
        .collect();
    let mut wall_ms = Vec::with_capacity(runs);
    for run in 1..=runs {
        let started = Instant::now();
        let reports = runner::run_all_reporting(planned, config, jobs, &trial_done);
        let wall = started.elapsed();
        wall_ms.push(wall.as_secs_f64() * 1000.0);
        for trial in &mut trials {
            match reports.iter().find(|r| r.id == trial.id) {
                Some(report) => trial.record(run, report),
                None => trial.missing_runs.push(run),
            }
        }
        run_done(run, wall, &reports);
    }
    let burner_pids = burning.pids();
    burning.stop()?;
    Ok(StressResult {
        schema: SCHEMA.to_string(),
        runs,
        trials_per_run: planned.len(),
        jobs,
        burner_pids,
        skip_reason: config
            .capabilities
            .missing(sockerr_harness::Need::Namespaces)
            .map(ToString::to_string),
        wall_ms,
        trials,
    })
}

impl TrialRuns {
    fn record(&mut self, run: usize, report: &TrialReport) {
        let signature = signature::signature(report);
        match self.variants.iter_mut().find(|v| v.signature == signature) {
            Some(variant) => variant.runs.push(run),
            None => self.variants.push(Variant {
                runs: vec![run],
                signature,
            }),
        }
        if report.status == Status::Fail {
            if self.failed_runs.is_empty() {
                self.first_mismatches = report.mismatches.clone();
            }
            self.failed_runs.push(run);
        }
    }
}

/// CPU-burning child processes, killed (SIGKILL, by pid) and reaped on [`Burners::stop`] or
/// on drop.
struct Burners {
    children: Vec<Child>,
}

impl Burners {
    fn start(count: usize) -> io::Result<Burners> {
        let mut burners = Burners {
            children: Vec::with_capacity(count),
        };
        for _ in 0..count {
            // On error, dropping `burners` stops those already started.
            burners.children.push(spawn_burner()?);
        }
        Ok(burners)
    }

    fn pids(&self) -> Vec<u32> {
        self.children.iter().map(Child::id).collect()
    }

    /// Kills and reaps every burner; the first error, if any, after trying all of them.
    fn stop(&mut self) -> io::Result<()> {
        let mut first_error = None;
        for mut child in self.children.drain(..) {
            let pid = child.id();
            // Child::kill sends SIGKILL to this pid, which cannot have been reused: the child
            // is not reaped until the wait below.
            let result = child.kill().and_then(|()| child.wait().map(drop));
            if let Err(e) = result {
                first_error.get_or_insert(io::Error::new(e.kind(), format!("burner {pid}: {e}")));
            }
        }
        first_error.map_or(Ok(()), Err)
    }
}

impl Drop for Burners {
    fn drop(&mut self) {
        if let Err(e) = self.stop() {
            eprintln!("sockerr: could not stop a CPU burner: {e}");
        }
    }
}

/// One process spinning forever on a CPU: `sh -c 'while :; do :; done'`, which dies with
/// the thread that started it.
fn spawn_burner() -> io::Result<Child> {
    let mut command = Command::new("sh");
    command
        .args(["-c", "while :; do :; done"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    sockerr_harness::sys::spawn_tied_to_this_thread(&mut command)
        .map_err(|e| io::Error::new(e.kind(), format!("cannot start a CPU burner (sh): {e}")))
}

/// `1-5, 7, 9-10`: run numbers, ascending, with consecutive ones joined.
fn run_list(runs: &[usize]) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut i = 0;
    while i < runs.len() {
        let mut j = i;
        while j + 1 < runs.len() && runs[j + 1] == runs[j] + 1 {
            j += 1;
        }
        parts.push(if j == i {
            runs[i].to_string()
        } else {
            format!("{}-{}", runs[i], runs[j])
        });
        i = j + 1;
    }
    parts.join(", ")
}

/// The changed lines of a diff (see [`signature::diff`]) with `context` unchanged lines around
/// each change; `...` where unchanged lines were left out.
fn diff_excerpt(diff: &str, context: usize) -> String {
    let lines: Vec<&str> = diff.lines().collect();
    let changed: Vec<usize> = (0..lines.len()).filter(|&i| !lines[i].starts_with("  ")).collect();
    let near = |i: usize| changed.iter().any(|&c| c.abs_diff(i) <= context);
    let mut out = String::new();
    let mut skipped = false;
    for (i, line) in lines.iter().enumerate() {
        if near(i) {
            if skipped {
                out.push_str("  ...\n");
                skipped = false;
            }
            out.push_str(line);
            out.push('\n');
        } else {
            skipped = true;
        }
    }
    if skipped {
        out.push_str("  ...\n");
    }
    out
}

fn seconds(ms: f64) -> String {
    format!("{:.2} s", ms / 1000.0)
}

impl fmt::Display for StressResult {
    /// The report: runs, wall times, failed trials, differing trials with a diff of their
    /// first two outcomes, and the closing line `N differing trials`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let pids: Vec<String> = self.burner_pids.iter().map(|p| p.to_string()).collect();
        writeln!(
            f,
            "sockerr stress: {} runs of {} trials, {} at once, {} CPU burners{}",
            self.runs,
            self.trials_per_run,
            self.jobs,
            self.burner_pids.len(),
            if pids.is_empty() {
                String::new()
            } else {
                format!(" (pids {}, stopped)", pids.join(", "))
            }
        )?;
        if let Some(reason) = &self.skip_reason {
            writeln!(f, "every trial was skipped: {reason}")?;
        }
        if !self.wall_ms.is_empty() {
            let mut sorted = self.wall_ms.clone();
            sorted.sort_by(f64::total_cmp);
            let n = sorted.len();
            let median = if n % 2 == 1 {
                sorted[n / 2]
            } else {
                (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
            };
            writeln!(
                f,
                "wall time per run: min {}, median {}, max {}",
                seconds(sorted[0]),
                seconds(median),
                seconds(sorted[n - 1])
            )?;
            let each: Vec<String> = self.wall_ms.iter().map(|ms| format!("{:.2}", ms / 1000.0)).collect();
            writeln!(f, "  runs 1..{n} (s): {}", each.join(" "))?;
        }
        for t in self.failing() {
            writeln!(
                f,
                "\nFAILED {} in runs {} of {}",
                t.id,
                run_list(&t.failed_runs),
                self.runs
            )?;
            for m in &t.first_mismatches {
                writeln!(f, "  {}", m.to_string().replace('\n', "\n  "))?;
            }
        }
        let differing: Vec<&TrialRuns> = self.differing().collect();
        for t in &differing {
            writeln!(f, "\nDIFFERS {}: {} outcomes", t.id, t.variants.len())?;
            for (i, v) in t.variants.iter().enumerate() {
                writeln!(f, "  outcome {}: runs {}", i + 1, run_list(&v.runs))?;
            }
            if !t.missing_runs.is_empty() {
                writeln!(f, "  no report in runs {}", run_list(&t.missing_runs))?;
            }
            if let [first, second, ..] = t.variants.as_slice() {
                writeln!(f, "  diff outcome 1 (-) -> outcome 2 (+):")?;
                for line in diff_excerpt(&first.signature.diff(&second.signature), 3).lines() {
                    writeln!(f, "    {line}")?;
                }
            }
        }
        let failing = self.failing().count();
        if failing > 0 {
            writeln!(f, "\n{failing} trials failed in at least one run")?;
        } else {
            writeln!(f)?;
        }
        writeln!(f, "{} differing trials", differing.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_lists_join_consecutive_runs() {
        assert_eq!(run_list(&[]), "");
        assert_eq!(run_list(&[3]), "3");
        assert_eq!(run_list(&[1, 2, 3, 5, 7, 8]), "1-3, 5, 7-8");
    }

    #[test]
    fn a_diff_excerpt_keeps_changes_and_their_context() {
        let diff = "  a\n  b\n  c\n  d\n- e\n+ E\n  f\n  g\n  h\n";
        assert_eq!(diff_excerpt(diff, 1), "  ...\n  d\n- e\n+ E\n  f\n  ...\n");
        assert_eq!(diff_excerpt("  a\n", 3), "  ...\n");
    }

    use sockerr_harness::sys::is_child_of_this_process as is_our_child;

    #[test]
    fn burners_are_killed_and_reaped_on_drop() {
        let pids = {
            let burners = Burners::start(2).unwrap();
            let pids = burners.pids();
            assert_eq!(pids.len(), 2);
            assert!(pids.iter().all(|&pid| is_our_child(pid)));
            pids
        };
        // Reaped: not even a zombie is left (the pid could be reused, but not by a child of ours).
        assert!(
            pids.iter().all(|&pid| !is_our_child(pid)),
            "burners {pids:?} are still children of ours"
        );
    }

    #[test]
    fn burners_are_stopped_when_a_panic_unwinds() {
        let (sender, receiver) = std::sync::mpsc::channel();
        let unwound = std::panic::catch_unwind(move || {
            let burners = Burners::start(1).unwrap();
            sender.send(burners.pids()).unwrap();
            panic!("the stress run went wrong");
        });
        assert!(unwound.is_err());
        let pids = receiver.recv().unwrap();
        assert!(
            pids.iter().all(|&pid| !is_our_child(pid)),
            "burners {pids:?} are still children of ours"
        );
    }
}

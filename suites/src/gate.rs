//! The conformance gate: one libtest-mimic trial per trial of the suite, named by its trial id,
//! each judged against the suite's expectation files, with `SOCKERR_EXPECT=FILE` layered over
//! them (the user's file decides for what it names). A mismatch fails the trial with the step,
//! the expected set, the observed outcome and the trial's segments; so does a trial that no
//! expectation judged.
//!
//! A trial that cannot run here (a prerequisite missing: namespaces, nftables, a sysctl of the
//! kernel, a runtime) is ignored, never passed, and what it misses is told once at the start;
//! with `SOCKERR_REQUIRE_ALL=1` (set where every prerequisite is installed, as in CI) it fails
//! instead.
//!
//! Every trial runs its scenario on a fresh thread of its own (namespaces are per thread, and
//! libtest-mimic reuses its worker threads), so name filters, `--exact`, `--list`, and
//! cargo-nextest's process per test all work.
//!
//! A crate's gate is a test target with `harness = false` whose `main` is one call:
//!
//! ```no_run
//! fn main() {
//!     let suite = sockerr::suite::Suite::own()
//!         .with_scenarios(my_crate::scenarios())
//!         .with_expectations("expectations/linux.toml");
//!     sockerr::gate::main(suite)
//! }
//! # mod my_crate { pub fn scenarios() -> Vec<sockerr::scenario::Scenario> { Vec::new() } }
//! ```

use std::sync::Arc;

use libtest_mimic::{Arguments, Completion};
/// The test trials [`Gate::run`] takes, for trials of one's own beside the suite's.
pub use libtest_mimic::{Failed, Trial};
use sockerr_harness::prerequisite;
use sockerr_reports::Status;

use crate::expectations::Expectations;
use crate::runner::{self, Planned, RunConfig};
use crate::scenario::Scenario;
use crate::suite::Suite;
use crate::{catalogue, prerequisites};

/// Runs the gate of `suite` and exits: status 0 when no trial failed, 101 when one did, 2
/// when the suite or its expectation files cannot be used. Call it first thing in `main`,
/// before any thread exists (an ordinary user's process enters a user namespace, which only a
/// single-threaded process may do).
pub fn main(suite: Suite) -> ! {
    let gate = Gate::new(suite);
    let trials = gate.trials();
    gate.run(trials)
}

/// The gate, ready to run: for a test target that adds trials of its own to the suite's
/// ([`Gate::trials`], then [`Gate::run`] with them all).
pub struct Gate {
    args: Arguments,
    scenarios: &'static [Scenario],
    config: Arc<RunConfig>,
    /// `SOCKERR_REQUIRE_ALL`: a trial that would be ignored fails.
    required: bool,
    /// Why no namespace can be made here, if none can.
    namespaces_problem: Option<String>,
}

impl Gate {
    /// Installs `suite`, reads the command line and the expectation files, probes what the
    /// platform offers the trials and tells, once each, what they miss. Exits with status 2
    /// when the suite or an expectation file cannot be used.
    pub fn new(suite: Suite) -> Gate {
        let (_, namespaces_problem) = runner::prepare_process();
        let args = Arguments::from_args();
        if let Err(e) = suite.install() {
            fail_to_start(&e);
        }
        let expectations = Expectations::for_run(None, &catalogue::ids()).unwrap_or_else(|e| fail_to_start(&e));
        let required = prerequisite::required();
        let scenarios: &'static [Scenario] = Vec::leak(catalogue::all());
        let planned = runner::plan(scenarios);
        // A gate that judged nothing must not pass: a trial no expectation judges fails.
        let config = Arc::new(RunConfig {
            expectations,
            capabilities: runner::probe(&planned, namespaces_problem.clone()),
            strict: true,
            skips_fail: required,
            ..RunConfig::default()
        });
        let fate = if required {
            "fail (SOCKERR_REQUIRE_ALL is set)"
        } else {
            "be ignored"
        };
        for missing in prerequisites::before_run(&planned, &config) {
            eprintln!("conformance: {}", prerequisites::line(&missing, planned.len(), fate));
        }
        Gate {
            args,
            scenarios,
            config,
            required,
            namespaces_problem,
        }
    }

    /// One trial per trial of the suite, in order. A trial whose need this platform lacks is
    /// marked ignored (under `SOCKERR_REQUIRE_ALL` it runs, and fails naming the need).
    pub fn trials(&self) -> Vec<Trial> {
        runner::plan(self.scenarios)
            .into_iter()
            .map(|planned| {
                let config = Arc::clone(&self.config);
                let unmet = runner::unmet_need(planned, &config).is_some();
                Trial::ignorable_test(planned.id(), move || judge(planned, &config))
                    .with_ignored_flag(unmet && !self.required)
            })
            .collect()
    }

    /// The suite's scenarios, for trials of one's own that run one of them.
    pub fn scenarios(&self) -> &'static [Scenario] {
        self.scenarios
    }

    /// What every trial runs with: the expectations, the platform's capabilities.
    pub fn config(&self) -> &Arc<RunConfig> {
        &self.config
    }

    /// Whether a trial of one's own that needs namespaces is to be ignored here: none can be
    /// made, and `SOCKERR_REQUIRE_ALL` is not set.
    pub fn namespaces_missing(&self) -> bool {
        self.namespaces_problem.is_some() && !self.required
    }

    /// Runs `trials` as libtest-mimic does (filters, `--list`, `--exact` ...) and exits.
    pub fn run(self, trials: Vec<Trial>) -> ! {
        libtest_mimic::run(&self.args, trials).exit()
    }
}

fn fail_to_start(error: &dyn std::fmt::Display) -> ! {
    eprintln!("conformance: {error}");
    std::process::exit(2)
}

/// Runs one trial: a failure with its diff, an ignored trial with the reason it could not run
/// here (under `SOCKERR_REQUIRE_ALL` the runner fails it instead).
fn judge(planned: Planned<'_>, config: &RunConfig) -> Result<Completion, Failed> {
    let report = runner::run_trial(planned, config);
    match report.status {
        Status::Fail => Err(runner::failure_text(&report, &config.expectations.origin()).into()),
        Status::Skip => Ok(Completion::ignored_with(
            report.skip_reason.as_deref().unwrap_or("skipped"),
        )),
        Status::Pass | Status::Observed => Ok(Completion::Completed),
    }
}

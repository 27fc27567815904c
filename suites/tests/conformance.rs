//! The conformance target: one libtest-mimic trial per scenario x family x topology, named
//! by its trial id, each judged against the platform's expectation file (or
//! `SOCKERR_EXPECT=FILE`). A mismatch fails the trial with the step, the expected set, the
//! observed outcome and the trial's segments.
//!
//! A trial that cannot run here (a prerequisite missing: namespaces, nftables, a sysctl of the
//! kernel) is reported as ignored with the reason, never as passed; with
//! `SOCKERR_REQUIRE_ALL=1` (which CI sets, where every prerequisite is installed) it fails
//! instead.
//!
//! Every trial runs its scenario on a fresh thread of its own (namespaces are per thread, and
//! libtest-mimic reuses its worker threads), so name filters, `--exact`, `--list`, and
//! cargo-nextest's process per test all work.

use libtest_mimic::{Arguments, Completion, Failed, Trial};
use sockerr::expectations::Expectations;
use sockerr::runner::{self, Planned, RunConfig};
use sockerr::{catalogue, prerequisites};
use sockerr_harness::prerequisite;
use sockerr_reports::Status;
use std::sync::Arc;

fn main() {
    // Before any thread exists: entering a user namespace needs a single-threaded process.
    let (_, skip_reason) = runner::prepare_process();
    let args = Arguments::from_args();
    let expectations = match Expectations::for_run(None, &catalogue::ids()) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("conformance: {e}");
            std::process::exit(2);
        }
    };
    let strict = prerequisite::required();
    let scenarios: &'static [sockerr::scenario::Scenario] = Vec::leak(catalogue::all());
    let planned = runner::plan(scenarios);
    let config = Arc::new(RunConfig {
        expectations,
        capabilities: runner::probe(&planned, skip_reason.clone()),
        strict,
        ..RunConfig::default()
    });
    // What the trials miss here, once each (namespaces, nft, a sysctl of the kernel).
    let fate = if strict {
        "fail (SOCKERR_REQUIRE_ALL is set)"
    } else {
        "be ignored"
    };
    for missing in prerequisites::before_run(&planned, &config) {
        eprintln!("conformance: {}", prerequisites::line(&missing, planned.len(), fate));
    }
    let mut trials: Vec<Trial> = planned
        .into_iter()
        .map(|planned| {
            let config = Arc::clone(&config);
            // Known before it runs: a need this platform lacks (under SOCKERR_REQUIRE_ALL the
            // trial runs, and fails naming it).
            let unmet = runner::unmet_need(planned, &config).is_some();
            Trial::ignorable_test(planned.id(), move || judge(planned, &config)).with_ignored_flag(unmet && !strict)
        })
        .collect();
    trials.push(gate_self_test(scenarios, &config, skip_reason.is_some() && !strict));
    libtest_mimic::run(&args, trials).exit();
}

/// Runs one trial: a failure with its diff, an ignored trial with the reason it could not run
/// here (under `SOCKERR_REQUIRE_ALL` the runner fails it instead).
fn judge(planned: Planned<'_>, config: &RunConfig) -> Result<Completion, Failed> {
    let report = runner::run_trial(planned, config);
    match report.status {
        Status::Fail => Err(runner::failure_text(&report, &config.expectations.origin).into()),
        Status::Skip => Ok(Completion::ignored_with(
            report.skip_reason.as_deref().unwrap_or("skipped"),
        )),
        Status::Pass | Status::Observed => Ok(Completion::Completed),
    }
}

/// Proves the gate can fail: a deliberately wrong expectation (the first read after the
/// peer's linger-0 reset expected to give EPIPE; it gives ECONNRESET per RFC 9293 §3.10.7.4)
/// must fail its trial with a diff naming the step, the expected set, the observed outcome
/// and the reset on the wire.
fn gate_self_test(scenarios: &'static [sockerr::scenario::Scenario], config: &Arc<RunConfig>, ignored: bool) -> Trial {
    let config = Arc::clone(config);
    Trial::test(
        "selftest.a_wrong_expectation_fails_its_trial_with_a_readable_diff.v4.loopback",
        move || {
            let scenario = scenarios
                .iter()
                .find(|s| s.id == "abort.linger0.read_first")
                .ok_or("scenario missing")?;
            let wrong = Expectations::parse(
                "selftest-wrong.toml",
                "[\"abort.linger0.read_first\"]\n\"client.read#1\" = \"EPIPE\"\n",
                &[scenario.id],
            )?;
            let wrong_config = RunConfig {
                expectations: wrong,
                capabilities: config.capabilities.clone(),
                ..RunConfig::default()
            };
            let planned = Planned {
                scenario,
                family: sockerr_harness::Family::V4,
                topology: sockerr_harness::Topology::Loopback,
                client: None,
            };
            let report = runner::run_trial(planned, &wrong_config);
            if report.status != Status::Fail {
                return Err(format!(
                    "the wrong expectation did not fail the trial (status {:?})",
                    report.status
                )
                .into());
            }
            let text = runner::failure_text(&report, "selftest-wrong.toml");
            for needle in [
                "step client.read#1",
                "expected  EPIPE",
                "observed  ECONNRESET",
                "server>client [R",
            ] {
                if !text.contains(needle) {
                    return Err(format!("the diff lacks {needle:?}:\n{text}").into());
                }
            }
            Ok(())
        },
    )
    .with_ignored_flag(ignored)
}

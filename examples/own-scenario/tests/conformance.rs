//! This crate's gate: `cargo test -p own-scenario` runs each trial of its scenarios and fails
//! one whose outcome differs from expectations/linux.toml, with the diff. One more trial
//! proves the gate can fail: the scenario judged by a deliberately wrong expectation must fail
//! with the step, the expected and the observed outcome.

use sockerr::expectations::ExpectationFile;
use sockerr::gate::{Failed, Gate, Trial};
use sockerr::harness::{Family, Topology};
use sockerr::reports::Status;
use sockerr::runner::{self, RunConfig};

fn main() {
    let gate = Gate::new(own_scenario::suite());
    let mut trials = gate.trials();
    trials.push(a_wrong_expectation_fails_the_trial_with_its_diff(&gate));
    gate.run(trials)
}

/// recv(2): a peek of the 5 queued bytes returns 5, so an expectation of 4 must fail.
fn a_wrong_expectation_fails_the_trial_with_its_diff(gate: &Gate) -> Trial {
    let scenarios = gate.scenarios();
    let config = std::sync::Arc::clone(gate.config());
    let ignored = gate.namespaces_missing();
    Trial::test(
        "selftest.a_wrong_expectation_fails_the_trial_with_its_diff",
        move || {
            let wrong = ExpectationFile::parse(
                "wrong.toml",
                "[\"own.peek_after_fin\"]\n\"client.custom#1\" = \"ok=4\"\n",
                &["own.peek_after_fin"],
            )?;
            let config = RunConfig {
                expectations: wrong.into(),
                capabilities: config.capabilities.clone(),
                strict: true,
                ..RunConfig::default()
            };
            let planned = runner::plan(scenarios)
                .into_iter()
                .find(|p| p.family == Family::V4 && p.topology == Topology::Loopback)
                .ok_or("no v4 loopback trial")?;
            let report = runner::run_trial(planned, &config);
            if report.status != Status::Fail {
                return Err(format!("the wrong expectation did not fail the trial: {:?}", report.status).into());
            }
            let text = runner::failure_text(&report, "wrong.toml");
            for needle in ["client.custom#1", "expected  ok=4", "observed  ok=5"] {
                if !text.contains(needle) {
                    return Err(Failed::from(format!("the diff lacks {needle:?}:\n{text}")));
                }
            }
            Ok(())
        },
    )
    .with_ignored_flag(ignored)
}

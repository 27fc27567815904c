//! The conformance target: the built-in catalogue's gate ([`sockerr::gate`]), one trial per
//! trial of the catalogue, plus the self-tests that prove the gate can fail: a wrong
//! expectation fails its trial with a readable diff, and a user's file layers over the
//! built-in one.

use libtest_mimic::{Failed, Trial};
use sockerr::expectations::{ExpectationFile, Expectations};
use sockerr::gate::Gate;
use sockerr::runner::{self, Planned, RunConfig};
use sockerr::suite::Suite;
use sockerr_reports::{Aspect, Mismatch, Status, TrialReport};
use std::sync::Arc;

fn main() {
    let gate = Gate::new(Suite::built_in());
    let ignored = gate.namespaces_missing();
    let mut trials = gate.trials();
    trials.push(gate_self_test(gate.scenarios(), gate.config(), ignored));
    trials.push(layering_self_test(gate.scenarios(), gate.config(), ignored));
    gate.run(trials)
}

/// The trial of `abort.linger0.read_first` over IPv4 on loopback, judged with `expectations`.
fn read_first_trial(
    scenarios: &'static [sockerr::scenario::Scenario],
    config: &RunConfig,
    expectations: Expectations,
) -> Result<TrialReport, Failed> {
    let scenario = scenarios
        .iter()
        .find(|s| s.id == "abort.linger0.read_first")
        .ok_or("scenario missing")?;
    let config = RunConfig {
        expectations,
        capabilities: config.capabilities.clone(),
        strict: true,
        ..RunConfig::default()
    };
    let planned = Planned {
        scenario,
        family: sockerr_harness::Family::V4,
        topology: sockerr_harness::Topology::Loopback,
        client: None,
    };
    Ok(runner::run_trial(planned, &config))
}

/// The file of the self-tests: the first read after the peer's linger-0 reset expected to
/// give EPIPE; it gives ECONNRESET (RFC 9293 §3.10.7.4: "any outstanding RECEIVEs and SEND
/// should receive 'reset' responses").
fn wrong_file() -> Result<ExpectationFile, Failed> {
    Ok(ExpectationFile::parse(
        "selftest-wrong.toml",
        "[\"abort.linger0.read_first\"]\n\"client.read#1\" = \"EPIPE\"\n",
        &["abort.linger0.read_first"],
    )?)
}

/// The one mismatch a wrong `client.read#1` must give, field by field.
fn expect_the_wrong_read(report: &TrialReport) -> Result<(), Failed> {
    if report.status != Status::Fail {
        return Err(format!(
            "the wrong expectation did not fail the trial (status {:?})",
            report.status
        )
        .into());
    }
    let wanted = Mismatch {
        step: "client.read#1".into(),
        runtime: None,
        aspect: Aspect::Result,
        expected: "EPIPE".into(),
        observed: "ECONNRESET".into(),
        context: None,
        origin: Some("selftest-wrong.toml".into()),
    };
    match report.mismatches.as_slice() {
        [m] if Mismatch {
            context: None,
            ..m.clone()
        } == wanted
            && m.context.as_deref().is_some_and(|c| c.starts_with("read(")) =>
        {
            Ok(())
        }
        other => Err(format!("expected exactly {wanted:?}, got {other:#?}").into()),
    }
}

/// Proves the gate can fail: a deliberately wrong expectation must fail its trial with a
/// mismatch naming the step, the aspect, the expected set, the observed outcome and the file,
/// and the failure text shows the reset on the wire.
fn gate_self_test(scenarios: &'static [sockerr::scenario::Scenario], config: &Arc<RunConfig>, ignored: bool) -> Trial {
    let config = Arc::clone(config);
    Trial::test(
        "selftest.a_wrong_expectation_fails_its_trial_with_a_readable_diff.v4.loopback",
        move || {
            let report = read_first_trial(scenarios, &config, wrong_file()?.into())?;
            expect_the_wrong_read(&report)?;
            if report.judged_by != ["selftest-wrong.toml"] {
                return Err(format!("judged by {:?}", report.judged_by).into());
            }
            let text = runner::failure_text(&report, "selftest-wrong.toml");
            for needle in [
                "client.read#1 result",
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

/// Proves a user's file layers over the built-in one: it decides for the step it names (and
/// fails it), while the built-in file still judges the rest of the trial, and the report says
/// both files judged it.
fn layering_self_test(
    scenarios: &'static [sockerr::scenario::Scenario],
    config: &Arc<RunConfig>,
    ignored: bool,
) -> Trial {
    let config = Arc::clone(config);
    Trial::test(
        "selftest.a_users_file_decides_for_the_steps_it_names_and_the_built_in_file_for_the_rest.v4.loopback",
        move || {
            let built_in = Expectations::built_in(&sockerr::catalogue::ids())?;
            let Some(platform_file) = built_in.layers().first().map(|l| l.origin.clone()) else {
                return Err("this platform has no built-in expectation file".into());
            };
            let report = read_first_trial(scenarios, &config, built_in.layered(wrong_file()?))?;
            expect_the_wrong_read(&report)?;
            if report.judged_by != [platform_file.as_str(), "selftest-wrong.toml"] {
                return Err(format!("judged by {:?}", report.judged_by).into());
            }
            Ok(())
        },
    )
    .with_ignored_flag(ignored)
}

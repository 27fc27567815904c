//! The conformance target: one libtest-mimic trial per scenario x family x topology, named
//! `<scenario id>.<family>.<topology>`, each judged against the platform's expectation file,
//! with `SOCKERR_EXPECT=FILE` layered over it (the user's file decides for what it names).
//! A mismatch fails the trial with the step, the expected set, the observed outcome and the
//! trial's segments; so does a trial that no expectation judged.
//!
//! A trial that cannot run here (a prerequisite missing: namespaces, nftables, a sysctl of the
//! kernel, a runtime) is ignored, never passed, and what it misses is told once at the start;
//! with `SOCKERR_REQUIRE_ALL=1` (which CI sets, where every prerequisite is installed) it
//! fails instead.
//!
//! Every trial runs its scenario on a fresh thread of its own (namespaces are per thread, and
//! libtest-mimic reuses its worker threads), so name filters, `--exact`, `--list`, and
//! cargo-nextest's process per test all work.

use libtest_mimic::{Arguments, Completion, Failed, Trial};
use sockerr::expectations::{ExpectationFile, Expectations};
use sockerr::runner::{self, Planned, RunConfig};
use sockerr::{catalogue, prerequisites};
use sockerr_harness::prerequisite;
use sockerr_reports::{Aspect, Mismatch, Status, TrialReport};
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
    let required = prerequisite::required();
    let scenarios: &'static [sockerr::scenario::Scenario] = Vec::leak(catalogue::all());
    let planned = runner::plan(scenarios);
    // A gate that judged nothing must not pass: a trial no expectation judges fails.
    let config = Arc::new(RunConfig {
        expectations,
        capabilities: runner::probe(&planned, skip_reason.clone()),
        strict: true,
        skips_fail: required,
        ..RunConfig::default()
    });
    // What the trials miss here, once each (namespaces, nft, a sysctl of the kernel).
    let fate = if required {
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
            Trial::ignorable_test(planned.id(), move || judge(planned, &config)).with_ignored_flag(unmet && !required)
        })
        .collect();
    let ignored = skip_reason.is_some() && !required;
    trials.push(gate_self_test(scenarios, &config, ignored));
    trials.push(layering_self_test(scenarios, &config, ignored));
    libtest_mimic::run(&args, trials).exit();
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

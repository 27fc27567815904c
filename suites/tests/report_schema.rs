//! A report of trials run now, by this build, satisfies the schema the CLI publishes beside it
//! (`report.schema.json`): the model and the schema cannot drift apart.

use sockerr::catalogue;
use sockerr::expectations::Expectations;
use sockerr::runner::{self, RunConfig};
use sockerr_harness::platform::Platform;
mod common;

use sockerr_reports::{Report, Status, render_junit};

/// Scenarios of different shapes: a reset with reads and writes, a non-blocking connect with
/// polls and waits, and a process killed by SIGPIPE (a step without a return value).
const SCENARIOS: &[&str] = &[
    "abort.linger0.read_first",
    "connect.closed_port.nonblocking",
    "peer_close.fin.sigpipe",
];

#[test]
fn a_report_of_trials_run_now_validates_against_the_schema() {
    if sockerr_harness::prerequisite::unmet(sockerr_harness::sys::namespaces_unavailable()) {
        return;
    }
    let scenarios: Vec<_> = catalogue::all()
        .into_iter()
        .filter(|s| SCENARIOS.contains(&s.id))
        .collect();
    assert_eq!(
        scenarios.len(),
        SCENARIOS.len(),
        "every chosen scenario is in the catalogue"
    );
    let pcap = tempfile::tempdir().expect("a temporary directory");
    let config = RunConfig {
        expectations: Expectations::for_run(None, &catalogue::ids()).expect("the built-in expectations"),
        pcap_dir: Some(pcap.path().to_path_buf()),
        ..RunConfig::default()
    };
    let planned = runner::plan(&scenarios);
    let trials = runner::run_all(&planned, &config, 2);
    assert_eq!(trials.len(), planned.len());
    assert!(trials.iter().all(|t| t.status != Status::Skip), "no trial was skipped");
    let report = Report::new(Platform::probe(), Some(config.expectations.origin()), trials);

    let json: serde_json::Value =
        serde_json::from_str(&serde_json::to_string_pretty(&report).expect("a report serialises")).expect("JSON");
    let errors = common::schema_errors(&json);
    assert!(
        errors.is_empty(),
        "the report does not satisfy its schema:\n{}",
        errors.join("\n")
    );

    let junit = render_junit(&report);
    for trial in &report.trials {
        assert!(
            junit.contains(&format!("name=\"{}\"", trial.id)),
            "{} missing from junit.xml",
            trial.id
        );
    }
}

//! `report_schema()` is a valid draft 2020-12 schema that a real report satisfies and that
//! rejects reports which are not ones.

use std::path::PathBuf;

use serde_json::{Value, json};
use sockerr_reports::{Report, report_schema};

fn fixture_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/report.json")
}

/// The fixture as raw JSON, as a tool reading `report.json` would see it.
fn fixture_json() -> Value {
    let text = std::fs::read_to_string(fixture_path()).expect("the fixture report is readable");
    serde_json::from_str(&text).expect("the fixture report is JSON")
}

fn validator() -> jsonschema::Validator {
    jsonschema::draft202012::new(&report_schema()).expect("the generated schema compiles")
}

/// Every validation error, one per line, with where in the report it is.
fn errors(instance: &Value) -> Vec<String> {
    validator()
        .iter_errors(instance)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect()
}

#[test]
fn the_schema_is_a_valid_draft_2020_12_schema() {
    let schema = report_schema();
    if let Err(e) = jsonschema::draft202012::meta::validate(&schema) {
        panic!("the generated schema violates the draft 2020-12 meta-schema: {e}");
    }
}

#[test]
fn a_real_report_validates() {
    let errors = errors(&fixture_json());
    assert!(
        errors.is_empty(),
        "the fixture report does not satisfy the schema:\n{}",
        errors.join("\n")
    );
}

#[test]
fn a_report_written_by_this_version_validates() {
    // Read into the model and written back: this also covers the fields added to the model
    // after the fixture was recorded, with their default values.
    let report = Report::read(&fixture_path()).expect("the fixture is a report of this version");
    let value = serde_json::to_value(&report).expect("a report serialises");
    let errors = errors(&value);
    assert!(
        errors.is_empty(),
        "a re-written report does not satisfy the schema:\n{}",
        errors.join("\n")
    );
}

#[test]
fn an_unknown_status_is_rejected() {
    let mut report = fixture_json();
    report["trials"][0]["status"] = json!("maybe");
    let errors = errors(&report);
    assert!(
        errors.iter().any(|e| e.starts_with("/trials/0/status")),
        "\"maybe\" was accepted: {errors:?}"
    );
}

#[test]
fn a_report_without_trials_is_rejected() {
    let mut report = fixture_json();
    report.as_object_mut().expect("a report is an object").remove("trials");
    let errors = errors(&report);
    assert!(
        errors.iter().any(|e| e.contains("trials")),
        "a report without trials was accepted: {errors:?}"
    );
}

#[test]
fn another_schema_version_is_rejected() {
    // Report::read upgrades a `/1` report before it checks anything; the schema describes
    // this version only.
    for other in ["sockerr-report/1", "sockerr-report/3"] {
        let mut report = fixture_json();
        report["schema"] = json!(other);
        assert!(!validator().is_valid(&report), "{other} was accepted");
    }
}

#[test]
fn a_report_of_schema_1_reads_with_dotted_ids_and_each_mismatch_kept_as_text() {
    let mut report = fixture_json();
    report["schema"] = json!("sockerr-report/1");
    report["trials"][0]["id"] = json!("connect::closed_port.blocking::v4::loopback");
    report["trials"][0]["status"] = json!("fail");
    report["trials"][0]["mismatches"] =
        json!(["step client.read#1  read(64)\n    expected  EPIPE\n    observed  ECONNRESET"]);
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("old.json");
    std::fs::write(&path, report.to_string()).expect("written");
    let read = Report::read(&path).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(read.schema, sockerr_reports::SCHEMA);
    assert_eq!(read.trials[0].id, "connect.closed_port.blocking.v4.loopback");
    let mismatch = &read.trials[0].mismatches[0];
    assert_eq!(mismatch.aspect, sockerr_reports::Aspect::Text);
    assert_eq!(
        mismatch.to_string(),
        "step client.read#1  read(64)\n    expected  EPIPE\n    observed  ECONNRESET"
    );
    let errors = errors(&serde_json::to_value(&read).expect("serialises"));
    assert!(
        errors.is_empty(),
        "the upgraded report does not satisfy the schema: {errors:?}"
    );
}

#[test]
fn a_direction_under_its_rust_name_is_rejected() {
    let mut report = fixture_json();
    let trials = report["trials"].as_array_mut().expect("trials is an array");
    let trial = trials
        .iter_mut()
        .find(|t| t["wire"]["segments"].as_array().is_some_and(|s| !s.is_empty()))
        .expect("the fixture has a trial with segments");
    trial["wire"]["segments"][0]["dir"] = json!("ClientToServer");
    let errors = errors(&report);
    assert!(
        errors.iter().any(|e| e.contains("/wire/segments/0/dir")),
        "ClientToServer was accepted: {errors:?}"
    );
}

#[test]
fn a_trial_with_a_runtime_clients_steps_and_structured_mismatches_validates() {
    use sockerr_harness::{Answer, ClientInfo};
    let mut report = Report::read(&fixture_path()).expect("the fixture is a report of this version");
    let trial = &mut report.trials[0];
    trial.client = Some(ClientInfo {
        api: "java.net.Socket".into(),
        runtime: "OpenJDK 17.0.15".into(),
    });
    let step = trial.steps.first_mut().expect("the fixture's trial has steps");
    step.runtime = Some(Answer {
        outcome: "error".into(),
        error_type: Some("java.net.SocketException".into()),
        message: Some("Connection reset".into()),
        ..Answer::default()
    });
    trial.judged_by = vec!["suites/expectations/linux.toml".into()];
    trial.mismatches = vec![sockerr_reports::Mismatch {
        step: "client.read#1".into(),
        runtime: Some("java.net.Socket".into()),
        aspect: sockerr_reports::Aspect::RuntimeMessage,
        expected: "\"Connection reset by peer\"".into(),
        observed: "\"Connection reset\"".into(),
        context: None,
        origin: Some("suites/expectations/linux.toml".into()),
    }];
    let errors = errors(&serde_json::to_value(&report).expect("serialises"));
    assert!(errors.is_empty(), "{errors:?}");
}

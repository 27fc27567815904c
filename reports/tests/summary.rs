//! The console's view of a report: one line per scenario in catalogue order, the variants
//! that differ, the skipped trials grouped by reason (on the fixture report, a real run of
//! `linger0.read_first` and `closed_port.blocking`).

use std::path::PathBuf;

use sockerr_reports::summary::{self, Counts};
use sockerr_reports::{Report, Status};

fn fixture() -> Report {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/report.json");
    Report::read(&path).expect("the fixture is a report of this version")
}

#[test]
fn scenarios_keep_the_order_of_the_report_not_the_alphabet() {
    let mut report = fixture();
    // The fixture holds connect.* after abort.*; reversed, the lines follow the report.
    report.trials.reverse();
    let order: Vec<String> = summary::scenario_lines(&report)
        .into_iter()
        .map(|l| l.scenario)
        .collect();
    let mut first_seen: Vec<String> = Vec::new();
    for t in &report.trials {
        if !first_seen.contains(&t.scenario) {
            first_seen.push(t.scenario.clone());
        }
    }
    assert_eq!(order, first_seen);
    let steps = summary::steps(&report);
    let at = |id: &str| {
        steps
            .find(&format!("\n{id}  ["))
            .unwrap_or_else(|| panic!("{id} in\n{steps}"))
    };
    assert!(at(&first_seen[0]) < at(&first_seen[1]), "{steps}");
}

#[test]
fn a_scenario_whose_variants_agree_names_no_variant() {
    let report = fixture();
    for line in summary::scenario_lines(&report) {
        assert_eq!(line.differing, [], "{}", line.scenario);
        assert_eq!(line.counts.pass, 4, "{}", line.scenario);
    }
}

#[test]
fn a_variant_whose_step_turned_out_otherwise_is_named_with_the_step_and_both_outcomes() {
    let mut report = fixture();
    let odd = report
        .trials
        .iter_mut()
        .find(|t| t.scenario == "abort.linger0.read_first" && t.family.as_str() == "v6")
        .expect("a v6 trial");
    let step = odd
        .steps
        .iter_mut()
        .find(|s| s.label == "client.read#1")
        .expect("client.read#1");
    let usual = step.outcome_with_signals();
    step.result = serde_json::from_value(serde_json::json!({"ret": null, "errno": "EPIPE", "errno_code": 32}))
        .expect("an errno result");
    let variant = format!("{}/{}", odd.family, odd.topology);
    let line = summary::scenario_lines(&report)
        .into_iter()
        .find(|l| l.scenario == "abort.linger0.read_first")
        .unwrap();
    assert_eq!(line.differing.len(), 1, "{:?}", line.differing);
    let difference = &line.differing[0];
    assert_eq!(difference.variant, variant);
    assert_eq!(difference.step, "client.read#1");
    assert_eq!(difference.usual, usual);
    assert!(difference.outcome.starts_with("EPIPE"), "{difference}");
}

#[test]
fn skipped_trials_are_grouped_by_reason_in_the_order_first_met() {
    let mut report = fixture();
    let reasons = [
        "the nft program is missing",
        "no namespaces",
        "the nft program is missing",
    ];
    for (t, reason) in report.trials.iter_mut().zip(reasons) {
        t.status = Status::Skip;
        t.skip_reason = Some(reason.to_string());
    }
    let groups = summary::skip_groups(&report.trials);
    assert_eq!(groups.len(), 2);
    assert_eq!(groups[0].reason, "the nft program is missing");
    assert_eq!(
        groups[0].trials,
        [report.trials[0].id.clone(), report.trials[2].id.clone()]
    );
    assert_eq!(groups[1].trials, [report.trials[1].id.clone()]);
    assert_eq!(Counts::of(&report.trials).skip, 3);
}

#[test]
fn trials_are_named_by_scenario_whole_scenarios_by_their_count() {
    let report = fixture();
    let ids: Vec<String> = report.trials.iter().map(|t| t.id.clone()).collect();
    let first = &report.trials[0];
    let whole_first: Vec<String> = report
        .trials
        .iter()
        .filter(|t| t.scenario == first.scenario)
        .map(|t| t.id.clone())
        .collect();
    assert_eq!(
        summary::trials_by_scenario(&report, &whole_first),
        [format!("{} (4)", first.scenario)]
    );
    assert_eq!(
        summary::trials_by_scenario(&report, &ids[..1]),
        [format!("{} {}/{}", first.scenario, first.family, first.topology)]
    );
    assert_eq!(summary::trials_by_scenario(&report, &ids).len(), 2);
}

/// A runtime trial's outcomes are its runtime's words (`java.net.SocketException: Connection
/// reset`), not errno names: they make no variant differ.
#[test]
fn runtime_trials_make_no_variant_differ() {
    let mut report = fixture();
    let mut runtime = report
        .trials
        .iter()
        .find(|t| t.scenario == "abort.linger0.read_first")
        .cloned()
        .expect("a trial");
    runtime.id.push_str(".java.net.Socket");
    runtime.client = Some(sockerr_harness::record::ClientInfo {
        api: "java.net.Socket".into(),
        runtime: "OpenJDK 17".into(),
    });
    for step in &mut runtime.steps {
        step.result = serde_json::from_value(serde_json::json!({"ret": null, "errno": "EPIPE", "errno_code": 32}))
            .expect("an errno result");
    }
    report.trials.push(runtime);
    let line = summary::scenario_lines(&report)
        .into_iter()
        .find(|l| l.scenario == "abort.linger0.read_first")
        .unwrap();
    assert_eq!(line.differing, []);
    assert_eq!(line.counts.pass, 5);
    // The steps show the native outcomes, and the runtime trials as a count (the report shows
    // what each runtime saw, aligned with the native steps).
    let steps = summary::steps(&report);
    assert!(!steps.contains("/java.net.Socket"), "{steps}");
    assert!(
        steps.contains("\n  runtime clients        1 trial of 1 API: 1 pass\n"),
        "{steps}"
    );
}

//! `render_junit` writes well-formed JUnit XML: one test case per trial, grouped by area, with
//! failures, skips and observed trials shown as CI systems expect.

use std::path::PathBuf;

use sockerr_reports::{Aspect, Mismatch, Report, Status, render_junit};

fn fixture() -> Report {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/report.json");
    Report::read(&path).expect("the fixture is a report of this version")
}

/// The fixture with its first trial failed, its second skipped and its third observed.
fn mixed() -> Report {
    let mut report = fixture();
    assert!(report.trials.len() >= 3, "the fixture has at least three trials");
    let failed = &mut report.trials[0];
    failed.status = Status::Fail;
    failed.mismatches = vec![
        Mismatch {
            step: "client.connect#1".into(),
            runtime: None,
            aspect: Aspect::Result,
            expected: "one of {ETIMEDOUT}".into(),
            observed: "ECONNREFUSED".into(),
            context: Some("connect(); revents none; state CLOSE; signals none".into()),
            origin: Some("suites/expectations/linux.toml".into()),
        },
        Mismatch {
            step: "wire".into(),
            runtime: None,
            aspect: Aspect::WireLacks,
            expected: "no segment server>client R.".into(),
            observed: "0.1ms server>client [R.] seq 1 ack 1 win 0 len 0".into(),
            context: None,
            origin: Some("suites/expectations/linux.toml".into()),
        },
    ];
    let skipped = &mut report.trials[1];
    skipped.status = Status::Skip;
    skipped.skip_reason = Some("network namespaces are unavailable: run as root".into());
    report.trials[2].status = Status::Observed;
    report
}

fn parse(xml: &str) -> roxmltree::Document<'_> {
    roxmltree::Document::parse(xml).unwrap_or_else(|e| panic!("junit.xml is not XML: {e}\n{xml}"))
}

fn test_case<'a, 'i>(doc: &'a roxmltree::Document<'i>, name: &str) -> roxmltree::Node<'a, 'i> {
    doc.descendants()
        .find(|n| n.has_tag_name("testcase") && n.attribute("name") == Some(name))
        .unwrap_or_else(|| panic!("no testcase {name}"))
}

fn child<'a, 'i>(node: roxmltree::Node<'a, 'i>, tag: &str) -> Option<roxmltree::Node<'a, 'i>> {
    node.children().find(|c| c.has_tag_name(tag))
}

#[test]
fn one_test_case_per_trial_named_by_id_with_scenario_as_class() {
    let report = fixture();
    let xml = render_junit(&report);
    let doc = parse(&xml);
    assert!(doc.root_element().has_tag_name("testsuites"));
    let cases: Vec<_> = doc.descendants().filter(|n| n.has_tag_name("testcase")).collect();
    assert_eq!(cases.len(), report.trials.len());
    for (case, trial) in cases.iter().zip(&report.trials) {
        assert_eq!(case.attribute("name"), Some(trial.id.as_str()));
        assert_eq!(case.attribute("classname"), Some(trial.scenario.as_str()));
        let time: f64 = case
            .attribute("time")
            .expect("a time")
            .parse()
            .expect("time is a number");
        assert!(
            (time - trial.elapsed_ms / 1000.0).abs() < 0.001,
            "{}: time {time}",
            trial.id
        );
        assert!(
            child(*case, "failure").is_none() && child(*case, "skipped").is_none(),
            "{} passed",
            trial.id
        );
    }
    assert_eq!(
        doc.root_element().attribute("tests"),
        Some(report.trials.len().to_string().as_str())
    );
    assert_eq!(doc.root_element().attribute("failures"), Some("0"));
}

#[test]
fn one_suite_per_area_with_the_platform_as_properties() {
    let report = fixture();
    let xml = render_junit(&report);
    let doc = parse(&xml);
    let suites: Vec<_> = doc.descendants().filter(|n| n.has_tag_name("testsuite")).collect();
    let names: Vec<_> = suites.iter().filter_map(|s| s.attribute("name")).collect();
    assert_eq!(
        names,
        ["connect", "abort"],
        "suites in the order the report first names their areas"
    );
    for suite in &suites {
        let area = suite.attribute("name").expect("a suite name");
        for case in suite.children().filter(|c| c.has_tag_name("testcase")) {
            assert!(
                case.attribute("classname")
                    .expect("a class name")
                    .starts_with(&format!("{area}."))
            );
        }
        let property = |name: &str| {
            suite
                .descendants()
                .find(|p| p.has_tag_name("property") && p.attribute("name") == Some(name))
                .and_then(|p| p.attribute("value"))
                .map(str::to_string)
        };
        assert_eq!(property("os"), Some(report.platform.os.clone()));
        assert_eq!(property("kernel"), Some(report.platform.kernel.clone()));
        assert_eq!(property("arch"), Some(report.platform.arch.clone()));
        assert_eq!(property("run_as"), Some(report.platform.run_as.clone()));
    }
}

#[test]
fn a_failed_trial_has_a_failure_with_its_mismatches_steps_and_wire() {
    let report = mixed();
    let trial = &report.trials[0];
    let xml = render_junit(&report);
    let doc = parse(&xml);
    let failure = child(test_case(&doc, &trial.id), "failure").expect("a failure element");
    let message = failure.attribute("message").expect("a failure message");
    assert_eq!(
        message,
        "client.connect#1 result: expected one of {ETIMEDOUT}, observed ECONNREFUSED (and 1 more)"
    );
    let body = failure.text().expect("a failure body");
    for mismatch in &trial.mismatches {
        assert!(body.contains(&mismatch.to_string().replace('\n', "\n  ")), "{body}");
    }
    assert!(
        body.contains("expected  one of {ETIMEDOUT}  (suites/expectations/linux.toml)"),
        "{body}"
    );
    assert!(body.contains("observed  ECONNREFUSED"), "{body}");
    assert!(
        body.contains("  wire lacks\n      expected  no segment server>client R."),
        "{body}"
    );
    assert!(body.contains(&trial.steps[0].label), "the steps are listed: {body}");
    assert!(!trial.wire.segments.is_empty(), "the fixture trial has segments");
    for segment in &trial.wire.segments {
        assert!(
            body.contains(&segment.to_string()),
            "segment {segment} missing from {body}"
        );
    }
    assert_eq!(doc.root_element().attribute("failures"), Some("1"));
}

#[test]
fn a_skipped_trial_is_skipped_with_its_reason() {
    let report = mixed();
    let xml = render_junit(&report);
    let doc = parse(&xml);
    let skipped = child(test_case(&doc, &report.trials[1].id), "skipped").expect("a skipped element");
    assert_eq!(
        skipped.attribute("message"),
        Some("network namespaces are unavailable: run as root")
    );
    assert_eq!(doc.root_element().attribute("skipped"), Some("1"));
}

#[test]
fn an_observed_trial_passes_with_a_note() {
    let report = mixed();
    let xml = render_junit(&report);
    let doc = parse(&xml);
    let case = test_case(&doc, &report.trials[2].id);
    assert!(child(case, "failure").is_none() && child(case, "error").is_none() && child(case, "skipped").is_none());
    let out = child(case, "system-out")
        .and_then(|o| o.text())
        .expect("a system-out note");
    assert!(out.starts_with("observed: no expectation exists"), "{out}");
    assert!(out.contains(&report.trials[2].steps[0].label), "{out}");
}

#[test]
fn a_trial_that_did_not_run_to_its_end_is_an_error() {
    let mut report = fixture();
    let trial = &mut report.trials[0];
    trial.status = Status::Fail;
    trial.error = Some("the sandbox could not be built: EPERM".into());
    trial.mismatches = vec![Mismatch {
        step: "trial".into(),
        runtime: None,
        aspect: Aspect::TrialError,
        expected: "the trial runs to its end".into(),
        observed: "it did not: the sandbox could not be built: EPERM".into(),
        context: None,
        origin: None,
    }];
    let xml = render_junit(&report);
    let doc = parse(&xml);
    let error = child(test_case(&doc, &report.trials[0].id), "error").expect("an error element");
    assert!(error.attribute("message").is_some_and(|m| m.contains("EPERM")));
}

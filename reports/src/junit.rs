//! The report as JUnit XML (`junit.xml`), for CI systems that show test results.
//!
//! One `<testsuite>` per area (the scenario id up to its first dot: `abort`, `connect`, ...),
//! in the order the report first names them, each carrying the platform as properties. One
//! `<testcase>` per trial, named by the trial id, with the scenario id as class name and the
//! trial's elapsed time:
//! - `pass`: a passed test case;
//! - `fail`: a `<failure>` (an `<error>` when the trial could not run to its end) whose message
//!   is the first difference and whose body lists every difference, the steps and the
//!   segments on the wire;
//! - `skip`: `<skipped>` with the reason;
//! - `observed` (no expectation exists): a passed test case with a `<system-out>` note and
//!   the steps that were observed.

use std::fmt::Write;
use std::time::Duration;

use quick_junit::{NonSuccessKind, Property, TestCase, TestCaseStatus, TestSuite};

use crate::model::{Report, Status, TrialReport};

/// The JUnit report's name, and the type of every failure.
const NAME: &str = "sockerr";

/// Renders the report as JUnit XML.
pub fn render_junit(report: &Report) -> String {
    let mut junit = quick_junit::Report::new(NAME);
    let properties = properties(report);
    let mut suites: Vec<TestSuite> = Vec::new();
    for trial in &report.trials {
        let area = area(&trial.scenario);
        let index = match suites.iter().position(|s| s.name.as_str() == area) {
            Some(index) => index,
            None => {
                let mut suite = TestSuite::new(area);
                suite.add_properties(properties.iter().cloned());
                suites.push(suite);
                suites.len() - 1
            }
        };
        suites[index].add_test_case(test_case(trial, report.expectations.as_deref()));
    }
    for suite in &mut suites {
        let total: Duration = suite.test_cases.iter().filter_map(|c| c.time).sum();
        suite.set_time(total);
    }
    let total: Duration = suites.iter().filter_map(|s| s.time).sum();
    junit.add_test_suites(suites);
    junit.set_time(total);
    junit.to_string().expect("JUnit XML serialises into a string")
}

/// The area of a scenario: its id up to the first dot.
fn area(scenario: &str) -> &str {
    scenario.split('.').next().unwrap_or(scenario)
}

fn properties(report: &Report) -> Vec<Property> {
    let p = &report.platform;
    let mut properties = vec![
        Property::new("os", &p.os),
        Property::new("kernel", &p.kernel),
        Property::new("arch", &p.arch),
        Property::new("run_as", &p.run_as),
        Property::new("origin", p.origin.to_string()),
    ];
    if let Some(expectations) = &report.expectations {
        properties.push(Property::new("expectations", expectations));
    }
    properties
}

fn test_case(trial: &TrialReport, expectations: Option<&str>) -> TestCase {
    let status = match trial.status {
        Status::Pass | Status::Observed => TestCaseStatus::success(),
        Status::Fail => {
            let kind = if trial.error.is_some() {
                NonSuccessKind::Error
            } else {
                NonSuccessKind::Failure
            };
            let mut status = TestCaseStatus::non_success(kind);
            status
                .set_message(failure_message(trial))
                .set_type(NAME)
                .set_description(failure_body(trial, expectations));
            status
        }
        Status::Skip => {
            let mut status = TestCaseStatus::skipped();
            status.set_message(trial.skip_reason.as_deref().unwrap_or("skipped"));
            status
        }
    };
    let mut case = TestCase::new(&trial.id, status);
    case.set_classname(&trial.scenario);
    if trial.elapsed_ms.is_finite() && trial.elapsed_ms >= 0.0 {
        case.set_time(Duration::from_secs_f64(trial.elapsed_ms / 1000.0));
    }
    if trial.status == Status::Observed {
        let mut out = String::from("observed: no expectation exists for this scenario");
        if let Some(origin) = expectations {
            let _ = write!(out, " in {origin}");
        }
        out.push_str("; nothing was judged.\n");
        out.push_str(&crate::summary::transcript(trial));
        case.set_system_out(out);
    }
    case
}

/// The first difference on one line, and how many more there are.
fn failure_message(trial: &TrialReport) -> String {
    let first = match (trial.mismatches.first(), &trial.error) {
        (Some(m), _) => m.headline(),
        (None, Some(error)) => error.lines().next().unwrap_or("").trim().to_string(),
        (None, None) => "failed".to_string(),
    };
    let mut message = first;
    if trial.mismatches.len() > 1 {
        let _ = write!(message, " (and {} more)", trial.mismatches.len() - 1);
    }
    message
}

/// Every difference, then the steps, the unmet waits and the wire.
fn failure_body(trial: &TrialReport, expectations: Option<&str>) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} differs from {}:",
        trial.id,
        expectations.unwrap_or("its expectation")
    );
    for m in &trial.mismatches {
        let _ = writeln!(out, "  {}", m.to_string().replace('\n', "\n  "));
    }
    if let Some(error) = &trial.error {
        let _ = writeln!(out, "error: {error}");
    }
    if !trial.claim.is_empty() {
        let _ = writeln!(out, "claim: {}", trial.claim);
    }
    out.push_str(&crate::summary::transcript(trial));
    out
}

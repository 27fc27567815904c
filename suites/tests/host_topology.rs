//! The `host` topology (plain sockets on the machine's own loopback, ports the kernel picks)
//! tells programs what the `loopback` topology (a namespace of the trial's own) tells them:
//! every step outcome of a host trial is compared with the same step of the loopback trial of
//! its scenario and family, and a difference fails unless it is listed below with its reason.
//! Needs root (the host's capture is a packet socket); skipped otherwise, failing instead
//! where `SOCKERR_REQUIRE_ALL=1` promises it (CI).

#![cfg(target_os = "linux")]

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use common::{sockerr, texts};
use sockerr_reports::Report;

/// Differences between the two topologies that are understood: (trial id without its
/// topology, step label, why). None so far.
const EXPLAINED: &[(&str, &str, &str)] = &[];

/// The share of step outcomes that must agree (the rest explained above).
const AGREEMENT: f64 = 0.95;

fn run(out: &Path, args: &[&str]) -> Report {
    let out_arg = out.to_str().expect("a UTF-8 path");
    let mut all = vec!["run", "--no-runtime-clients", "--quiet", "--out", out_arg];
    all.extend(args);
    let output = sockerr(&all);
    let (stdout, stderr) = texts(&output);
    assert_eq!(output.status.code(), Some(0), "sockerr {all:?}:\n{stdout}\n{stderr}");
    Report::read(&out.join("report.json")).unwrap_or_else(|e| panic!("{e}"))
}

/// `scenario.family` -> the step labels and outcomes (signals included) of its trial.
fn outcomes(report: &Report, topology: &str) -> BTreeMap<String, Vec<(String, String)>> {
    report
        .trials
        .iter()
        .filter(|t| t.topology.to_string() == topology)
        .map(|t| {
            let steps = t
                .steps
                .iter()
                .map(|s| (s.label.clone(), s.outcome_with_signals()))
                .collect();
            (format!("{}.{}", t.scenario, t.family), steps)
        })
        .collect()
}

#[test]
fn the_host_topology_tells_programs_what_a_namespace_of_their_own_tells_them() {
    if !nix::unistd::geteuid().is_root() {
        let why = "the host topology's capture needs root";
        if std::env::var_os("SOCKERR_REQUIRE_ALL").is_some_and(|v| v == "1") {
            panic!("{why}; SOCKERR_REQUIRE_ALL=1 turns this skip into a failure");
        }
        println!("skipped: {why}");
        return;
    }
    let dir = tempfile::tempdir().expect("a temporary directory");
    let host = run(&dir.path().join("host"), &["--topology", "host"]);
    let loopback = run(&dir.path().join("loopback"), &["--filter", "*.loopback"]);
    let (host, loopback) = (outcomes(&host, "host"), outcomes(&loopback, "loopback"));
    assert!(host.len() >= 40, "the host topology ran {} trials", host.len());

    let (mut compared, mut differences) = (0usize, Vec::new());
    for (trial, steps) in &host {
        let Some(theirs) = loopback.get(trial) else {
            panic!("{trial}: no loopback trial to compare with");
        };
        let theirs: BTreeMap<&str, &str> = theirs.iter().map(|(l, o)| (l.as_str(), o.as_str())).collect();
        for (label, outcome) in steps {
            compared += 1;
            let other = theirs.get(label.as_str()).copied().unwrap_or("(no such step)");
            if other != outcome {
                let explained = EXPLAINED.iter().any(|(t, l, _)| t == trial && l == label);
                differences.push((explained, format!("{trial} {label}: host {outcome}, loopback {other}")));
            }
        }
    }
    let unexplained: Vec<&String> = differences.iter().filter(|(e, _)| !e).map(|(_, d)| d).collect();
    assert!(
        unexplained.is_empty(),
        "{} of {compared} step outcomes differ without an explanation:\n{}",
        unexplained.len(),
        unexplained.iter().map(|d| d.as_str()).collect::<Vec<_>>().join("\n")
    );
    let agreeing = (compared - differences.len()) as f64 / compared as f64;
    println!(
        "{} host trials, {compared} step outcomes compared, {} differ ({} explained)",
        host.len(),
        differences.len(),
        differences.len() - unexplained.len()
    );
    assert!(agreeing >= AGREEMENT, "{agreeing:.3} of the step outcomes agree");
}

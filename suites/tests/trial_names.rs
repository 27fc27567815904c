//! One name for a trial, accepted everywhere: `--filter` of list, run, stress and bench and
//! `explain`'s subject take a scenario id, a trial id (`<scenario id>.<family>.<topology>`,
//! or the older `::` spelling), a part of one, or a glob; a name that matches nothing stops
//! the command naming the closest ids. A run of some trials only never replaces the full
//! report.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::{texts, trials_unavailable};
use sockerr_harness::prerequisite;
use sockerr_reports::Report;

/// Runs the binary in `dir` (its default output directories are relative to it).
fn sockerr_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sockerr"))
        .args(args)
        .current_dir(dir)
        .env_remove("SOCKERR_EXPECT")
        .output()
        .expect("run sockerr")
}

/// The trial ids `sockerr list --filter ...` prints.
fn listed(filters: &[&str]) -> Vec<String> {
    let mut args = vec!["list"];
    for f in filters {
        args.extend(["--filter", f]);
    }
    let output = common::sockerr(&args);
    let (stdout, stderr) = texts(&output);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    stdout
        .lines()
        .filter_map(|l| l.trim().strip_prefix("- "))
        .map(str::to_string)
        .collect()
}

#[test]
fn list_filters_by_scenario_id_by_trial_id_in_either_spelling_and_by_glob() {
    let scenario = listed(&["abort.linger0.read_first"]);
    assert!(scenario.len() >= 4, "{scenario:?}");
    assert!(
        scenario.iter().all(|id| id.starts_with("abort.linger0.read_first.")),
        "{scenario:?}"
    );
    let native = listed(&[
        "abort.linger0.read_first.*.loopback",
        "abort.linger0.read_first.*.two_hosts",
    ]);
    assert_eq!(native.len(), 4, "{native:?}");

    let dotted = listed(&["abort.linger0.read_first.v6.two_hosts"]);
    assert_eq!(dotted, ["abort.linger0.read_first.v6.two_hosts"]);
    assert_eq!(listed(&["abort::linger0.read_first::v6::two_hosts"]), dotted);

    let glob = listed(&["abort.linger0.*"]);
    assert!(glob.len() > scenario.len(), "{glob:?}");
    assert!(glob.iter().all(|id| id.starts_with("abort.linger0.")), "{glob:?}");
    let v6 = listed(&["*.v6.*"]);
    assert!(!v6.is_empty() && v6.iter().all(|id| id.contains(".v6.")), "{v6:?}");
}

#[test]
fn a_name_that_matches_no_trial_stops_list_and_run_naming_the_closest_ids() {
    for command in ["list", "run"] {
        let dir = tempfile::tempdir().unwrap();
        let output = sockerr_in(dir.path(), &[command, "--filter", "abort.linger0.read_frist"]);
        let (_, stderr) = texts(&output);
        assert_eq!(output.status.code(), Some(2), "{command}: {stderr}");
        assert!(
            stderr.contains("no trial matches \"abort.linger0.read_frist\"; closest: abort.linger0.read_first"),
            "{command}: {stderr}"
        );
        assert!(
            !dir.path().join("reports").exists(),
            "{command} wrote output for a name that matched nothing"
        );
    }
}

#[test]
fn a_filtered_run_without_out_writes_beside_the_full_report_and_says_where() {
    if prerequisite::unmet(trials_unavailable()) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let full = dir.path().join("reports/local");
    std::fs::create_dir_all(&full).unwrap();
    std::fs::write(full.join("report.json"), "the full report").unwrap();

    let output = sockerr_in(
        dir.path(),
        &[
            "run",
            "--filter",
            "connect.closed_port.blocking.v?.loopback",
            "--filter",
            "connect.closed_port.blocking.v?.two_hosts",
            "--no-pcap",
        ],
    );
    let (stdout, stderr) = texts(&output);
    assert_eq!(output.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(
        stderr.contains("4 of ") && stderr.contains("writing into reports/local/filtered/"),
        "{stderr}"
    );
    assert!(stdout.contains("wrote reports/local/filtered/report.json"), "{stdout}");
    assert_eq!(
        std::fs::read_to_string(full.join("report.json")).unwrap(),
        "the full report",
        "a filtered run replaced the full report"
    );
    let filtered = Report::read(&full.join("filtered/report.json")).unwrap();
    assert_eq!(filtered.trials.len(), 4);
}

#[test]
fn bench_without_out_writes_where_run_and_stress_write() {
    if prerequisite::unmet(trials_unavailable()) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let one = "connect.closed_port.blocking.v4.loopback";
    let output = sockerr_in(dir.path(), &["bench", "--runs", "1", "--filter", one]);
    let (stdout, stderr) = texts(&output);
    assert_eq!(output.status.code(), Some(0), "{stdout}\n{stderr}");
    let written = dir.path().join("reports/local/filtered/bench.json");
    assert!(written.exists(), "no {}:\n{stdout}", written.display());
    assert!(stdout.contains("result: reports/local/filtered/bench.json"), "{stdout}");
}

/// Explains the scenario of `subject` from a report of `abort.linger0.read_first` alone.
fn explained(report: &Path, subject: &str) -> String {
    let output = common::sockerr(&["explain", subject, "--report", report.to_str().unwrap()]);
    let (stdout, stderr) = texts(&output);
    assert_eq!(output.status.code(), Some(0), "explain {subject}: {stderr}");
    stdout
}

#[test]
fn explain_takes_a_trial_id_in_either_spelling_and_a_glob_as_well_as_a_scenario_id() {
    if prerequisite::unmet(trials_unavailable()) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let run = common::sockerr(&[
        "run",
        "--filter",
        "abort.linger0.read_first.v?.loopback",
        "--filter",
        "abort.linger0.read_first.v?.two_hosts",
        "--no-pcap",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(run.status.code(), Some(0), "{}", texts(&run).1);
    let report = out.join("report.json");
    for subject in [
        "abort.linger0.read_first",
        "abort.linger0.read_first.v4.loopback",
        "abort::linger0.read_first::v4::loopback",
        "abort.linger0.read_f*",
    ] {
        let text = explained(&report, subject);
        assert!(
            text.contains("abort.linger0.read_first") && text.contains("client.read#1") && text.contains("ECONNRESET"),
            "explain {subject}:\n{text}"
        );
    }
}

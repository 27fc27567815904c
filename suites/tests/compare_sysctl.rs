//! `sockerr run --sysctl KEY=VALUE --label NAME` and `sockerr compare`: an override reaches the
//! trials' namespaces and never the host, and a comparison shows as differing exactly the
//! cells whose outcomes differ.

mod common;

use common::sockerr;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Output;

use sockerr::catalogue;
use sockerr::compare::{self, Input, WIRE};
use sockerr::expectations::Expectations;
use sockerr::runner::{self, RunConfig};
use sockerr_harness::platform::Platform;
use sockerr_reports::{Report, Status, TrialReport};

/// A sysctl as the calling thread's network namespace sees it, after checking that the thread
/// is in the process's own (the host's) namespace: the suite moves only the threads it
/// creates for trials and probes.
fn host_sysctl(key: &str) -> String {
    let ns = |path: &str| {
        std::fs::read_link(path)
            .map(|l| l.display().to_string())
            .unwrap_or_default()
    };
    assert_eq!(
        ns("/proc/thread-self/ns/net"),
        ns("/proc/self/ns/net"),
        "the test thread left the host's namespace"
    );
    std::fs::read_to_string(format!("/proc/sys/{}", key.replace('.', "/")))
        .expect("read the host's sysctl")
        .trim()
        .to_string()
}

fn overrides(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

/// (trial, step) of every cell whose outcome differs between two reports, found without the
/// The planned trials run twice, judged by the built-in expectations: as they are, then with
/// the `--sysctl` overrides written in every namespace.
fn run_plain_and_overridden(
    planned: &[runner::Planned<'_>],
    sysctls: &[(String, String)],
    jobs: usize,
) -> (Report, Report) {
    let expectations = Expectations::for_run(None, &catalogue::ids()).expect("built-in expectations");
    let run = |sysctls: Vec<(String, String)>| {
        let platform = Platform::probe_with(&sysctls).expect("the override is accepted");
        let config = RunConfig {
            expectations: expectations.clone(),
            sysctls,
            ..RunConfig::default()
        };
        Report::new(
            platform,
            Some(expectations.origin()),
            runner::run_all(planned, &config, jobs),
        )
    };
    (run(Vec::new()), run(sysctls.to_vec()))
}

/// matrix: the outcome of each step (or the `dir flags` of the wire) of each trial both hold.
fn differing_outcomes(a: &Report, b: &Report) -> BTreeSet<(String, String)> {
    let outcomes = |t: &TrialReport| {
        let mut cells: Vec<(String, String)> = t
            .steps
            .iter()
            .map(|s| (s.label.clone(), s.outcome_with_signals()))
            .collect();
        let wire: Vec<String> = t
            .wire
            .segments
            .iter()
            .map(|s| format!("{} {}", s.dir, s.flags))
            .collect();
        cells.push((WIRE.to_string(), wire.join(", ")));
        cells
    };
    let mut differing = BTreeSet::new();
    for ta in &a.trials {
        let tb = b
            .trials
            .iter()
            .find(|t| t.id == ta.id)
            .expect("both runs hold every trial");
        let (ca, cb) = (outcomes(ta), outcomes(tb));
        let labels: BTreeSet<&String> = ca.iter().chain(&cb).map(|(label, _)| label).collect();
        for label in labels {
            let of = |cells: &[(String, String)]| cells.iter().find(|(l, _)| l == label).map(|(_, o)| o.clone());
            if of(&ca) != of(&cb) {
                differing.insert((ta.id.clone(), label.clone()));
            }
        }
    }
    differing
}

/// ip-sysctl.rst: tcp_abort_on_overflow only matters when a listener's accept queue
/// overflows, which no scenario of the catalogue provokes; so running with it set changes no
/// outcome, and the matrix must show no differing row. The override is per namespace
/// (network_namespaces(7)): in force in the trials, unchanged on the host.
#[test]
fn runs_with_and_without_tcp_abort_on_overflow_differ_in_exactly_the_cells_whose_outcomes_differ() {
    if sockerr_harness::prerequisite::unmet(sockerr_harness::sys::namespaces_unavailable()) {
        return;
    }
    let key = "net.ipv4.tcp_abort_on_overflow";
    let host_before = host_sysctl(key);
    let scenarios = catalogue::all();
    let subset = [
        "connect.closed_port.blocking",
        "peer_close.fin.read_then_write",
        "abort.linger0.read_first",
        "abort.unread_data.read_first",
    ];
    let planned: Vec<_> = runner::plan(&scenarios)
        .into_iter()
        .filter(|p| subset.contains(&p.scenario.id) && p.client.is_none())
        .collect();
    assert_eq!(
        planned.len(),
        subset.len() * 4,
        "each scenario in v4 and v6, loopback and two_hosts"
    );
    let (plain, overridden) = run_plain_and_overridden(&planned, &overrides(&[(key, "1")]), 4);

    assert_eq!(
        plain.platform.sysctls.get(key).map(String::as_str),
        Some("0"),
        "a fresh namespace starts from 0"
    );
    assert_eq!(
        overridden.platform.sysctls.get(key).map(String::as_str),
        Some("1"),
        "the override was not in force"
    );
    assert_eq!(
        overridden.platform.sysctl_overrides.get(key).map(String::as_str),
        Some("1")
    );
    for report in [&plain, &overridden] {
        for t in &report.trials {
            assert_eq!(t.status, Status::Pass, "{}: {:?} {:?}", t.id, t.error, t.mismatches);
        }
    }

    let dir = tempfile::tempdir().unwrap();
    let mut inputs = Vec::new();
    for (name, report) in [("plain.json", &plain), ("abort_on_overflow.json", &overridden)] {
        let path = dir.path().join(name);
        report.write(&path).unwrap();
        inputs.push(Input::load(&path).expect("the report reads back"));
    }
    let matrix = compare::build(&inputs).unwrap();
    let shown: BTreeSet<(String, String)> = matrix.differing().map(|r| (r.trial.clone(), r.step.clone())).collect();
    let actual = differing_outcomes(&plain, &overridden);
    assert_eq!(shown, actual, "{}", matrix.summary());
    assert_eq!(
        actual,
        BTreeSet::new(),
        "tcp_abort_on_overflow changed an outcome:\n{}",
        matrix.summary()
    );
    assert!(matrix.gaps.is_empty());
    assert_eq!(
        matrix.columns[1].header(),
        format!("linux {} ({key}=1)", overridden.platform.kernel)
    );

    assert_eq!(host_sysctl(key), host_before, "the host's {key} changed");
}

/// RFC 5961 §10 and ip-sysctl.rst (tcp_invalid_ratelimit): forged.challenge_ack.burst pins
/// the per-socket limit at its default (500 ms) unless the run overrides it; with the
/// override at 0 every reset of the burst is answered, so the comparison differs in the wire
/// of those trials and nowhere else, and each trial records the override as its knob.
#[test]
fn a_burst_run_with_tcp_invalid_ratelimit_overridden_to_zero_differs_only_in_the_challenge_acks_on_the_wire() {
    if sockerr_harness::prerequisite::unmet(sockerr_harness::sys::namespaces_unavailable()) {
        return;
    }
    let key = "net.ipv4.tcp_invalid_ratelimit";
    let host_before = host_sysctl(key);
    let scenarios = catalogue::all();
    let planned: Vec<_> = runner::plan(&scenarios)
        .into_iter()
        .filter(|p| p.scenario.id == "forged.challenge_ack.burst" && p.client.is_none())
        .collect();
    assert_eq!(planned.len(), 4, "v4 and v6, loopback and two_hosts");
    let (plain, overridden) = run_plain_and_overridden(&planned, &overrides(&[(key, "0")]), 2);
    let challenge_acks = |t: &TrialReport| {
        t.wire
            .segments
            .iter()
            .filter(|s| s.dir.as_str() == "client>server" && s.flags == "." && s.seq == 1 && s.ack == 1)
            .count()
    };
    for t in &plain.trials {
        assert_eq!(t.status, Status::Pass, "{}: {:?} {:?}", t.id, t.error, t.mismatches);
        assert!(
            t.knobs
                .iter()
                .any(|k| k.name == format!("sysctl {key}") && k.value == "500"),
            "{}: {:?}",
            t.id,
            t.knobs
        );
    }
    for t in &overridden.trials {
        assert_eq!(
            t.status,
            Status::Fail,
            "{}: the expectation is the pinned limit's",
            t.id
        );
        assert!(
            t.knobs
                .iter()
                .any(|k| k.name == format!("sysctl {key}") && k.value == "0" && k.scope.ends_with("(--sysctl)")),
            "{}: {:?}",
            t.id,
            t.knobs
        );
        // The handshake's last ACK, then one challenge ACK per forged reset.
        assert_eq!(challenge_acks(t), 1 + 8, "{}", t.id);
    }

    let dir = tempfile::tempdir().unwrap();
    let mut inputs = Vec::new();
    for (name, report) in [("plain.json", &plain), ("ratelimit0.json", &overridden)] {
        let path = dir.path().join(name);
        report.write(&path).unwrap();
        inputs.push(Input::load(&path).expect("the report reads back"));
    }
    let matrix = compare::build(&inputs).unwrap();
    let shown: BTreeSet<(String, String)> = matrix.differing().map(|r| (r.trial.clone(), r.step.clone())).collect();
    let expected: BTreeSet<(String, String)> = plain.trials.iter().map(|t| (t.id.clone(), WIRE.to_string())).collect();
    assert_eq!(shown, expected, "{}", matrix.summary());
    assert_eq!(shown, differing_outcomes(&plain, &overridden));

    assert_eq!(host_sysctl(key), host_before, "the host's {key} changed");
}

fn text(output: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// README "Bad input": one message naming what is wrong, exit status 2, no panic.
fn assert_refused(output: &Output, needles: &[&str]) {
    let (_, stderr) = text(output);
    assert_eq!(output.status.code(), Some(2), "exit status; stderr:\n{stderr}");
    for needle in needles {
        assert!(stderr.contains(needle), "stderr lacks {needle:?}:\n{stderr}");
    }
    assert!(!stderr.contains("panicked"), "panicked:\n{stderr}");
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// ip-sysctl.rst: tcp_rfc1337 changes how TIME_WAIT sockets treat a reset; no linger-0
/// scenario leaves one, so the labelled run matches the plain one: `Differences (0)`.
#[test]
fn the_cli_compares_a_plain_run_with_a_labelled_rfc1337_run_and_finds_no_difference() {
    if sockerr_harness::prerequisite::unmet(sockerr_harness::sys::namespaces_unavailable()) {
        return;
    }
    let key = "net.ipv4.tcp_rfc1337";
    let host_before = host_sysctl(key);
    let dir = tempfile::tempdir().unwrap();
    let (a, b, out) = (dir.path().join("a"), dir.path().join("b"), dir.path().join("matrix"));
    // The native trials: a runtime client's messages name its ephemeral port, which differs
    // between any two runs.
    let native = [
        "--filter",
        "abort.linger0.*.loopback",
        "--filter",
        "abort.linger0.*.two_hosts",
    ];
    let plain = sockerr(&[&["run", "--no-pcap", "--out", path(&a)][..], &native].concat());
    assert_eq!(plain.status.code(), Some(0), "{:?}", text(&plain));
    let labelled = sockerr(
        &[
            &[
                "run",
                "--no-pcap",
                "--sysctl",
                "net.ipv4.tcp_rfc1337=1",
                "--label",
                "rfc1337",
                "--out",
                path(&b),
            ][..],
            &native,
        ]
        .concat(),
    );
    assert_eq!(labelled.status.code(), Some(0), "{:?}", text(&labelled));
    let report = Report::read(&b.join("report.json")).unwrap();
    assert_eq!(report.platform.label, "rfc1337");
    assert_eq!(report.platform.sysctls.get(key).map(String::as_str), Some("1"));
    assert_eq!(report.platform.sysctl_overrides.get(key).map(String::as_str), Some("1"));

    let compared = sockerr(&[
        "compare",
        path(&a.join("report.json")),
        path(&b.join("report.json")),
        "--out",
        path(&out),
    ]);
    let (stdout, stderr) = text(&compared);
    assert_eq!(compared.status.code(), Some(0), "stdout:\n{stdout}\nstderr:\n{stderr}");
    let markdown = std::fs::read_to_string(out.join("matrix.md")).expect("matrix.md written");
    let header = markdown
        .lines()
        .find(|l| l.starts_with("| trial | ") && l.contains(" step |"))
        .expect("a matrix table");
    assert!(header.contains("| rfc1337 (net.ipv4.tcp_rfc1337=1) |"), "{header}");
    assert!(markdown.contains("## Differences (0)"), "{markdown}");
    assert!(out.join("matrix.html").is_file());
    assert!(stdout.contains("Differences (0)"), "{stdout}");
    assert!(
        stdout.contains(&format!("matrix: {}", out.join("matrix.md").display())),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("matrix: {}", out.join("matrix.html").display())),
        "{stdout}"
    );

    assert_eq!(host_sysctl(key), host_before, "the host's {key} changed");
}

/// network_namespaces(7): only /proc/sys/net is per namespace; vm.swappiness is the host's.
#[test]
fn an_override_of_a_sysctl_that_is_not_per_namespace_is_refused_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let output = sockerr(&["run", "--sysctl", "vm.swappiness=1", "--out", path(&out)]);
    assert_refused(&output, &["vm.swappiness", "is not a per-namespace sysctl"]);
    assert!(!out.exists(), "the run started");
}

/// proc_sys(5): a sysctl the kernel does not have is no file under /proc/sys/net (ENOENT);
/// the probe in a throw-away namespace finds it before any trial runs.
#[test]
fn an_override_of_a_sysctl_the_kernel_does_not_have_is_refused_before_any_trial_naming_the_key() {
    if sockerr_harness::prerequisite::unmet(sockerr_harness::sys::namespaces_unavailable()) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let output = sockerr(&["run", "--sysctl", "net.ipv4.no_such_knob=1", "--out", path(&out)]);
    assert_refused(&output, &["net.ipv4.no_such_knob=1", "No such file or directory"]);
    assert!(!out.exists(), "the run started");
}

/// README "Bad input": a missing file or a file that is not a report is named.
#[test]
fn compare_of_a_missing_file_or_a_non_report_is_refused_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let missing = dir.path().join("missing.json");
    let not_report = dir.path().join("notes.json");
    std::fs::write(&not_report, "{\"hello\": 1}").unwrap();
    let output = sockerr(&["compare", path(&missing), "--out", path(&out)]);
    assert_refused(&output, &[&format!("{}: No such file or directory", missing.display())]);
    let output = sockerr(&["compare", path(&not_report), path(&not_report), "--out", path(&out)]);
    assert_refused(
        &output,
        &[
            &format!("{}: ", not_report.display()),
            "schema \"(none)\" is not supported",
        ],
    );
    assert!(!out.exists(), "output was written for bad input");
}

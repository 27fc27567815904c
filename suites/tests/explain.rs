//! `sockerr explain`: run the binary once to get a report, then ask it about errnos and
//! scenarios. The observations it names must come from that report (never from a table), and
//! an unknown subject must be refused with the closest names and exit status 2.

mod common;

use common::sockerr;

use std::path::Path;

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Whether namespace trials can run here; when not, says why (the trials would all be skipped,
/// and a report of skipped trials names no step).
fn can_run_trials() -> bool {
    !sockerr_harness::prerequisite::unmet(sockerr_harness::sys::namespaces_unavailable())
}

/// The lines of the block of `scenario` in an errno explanation: from its heading to the empty
/// line that ends every block.
fn block<'a>(out: &'a str, scenario: &str) -> Vec<&'a str> {
    let heading = format!("  {scenario}");
    out.lines()
        .skip_while(|l| *l != heading)
        .take_while(|l| !l.is_empty())
        .collect()
}

fn explain(subject: &str, report: &Path) -> String {
    let out = sockerr(&["explain", subject, "--report", report.to_str().unwrap()]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "explain {subject}: stderr:\n{}",
        text(&out.stderr)
    );
    text(&out.stdout)
}

#[test]
fn explain_names_the_scenarios_steps_and_wire_of_a_report_the_binary_wrote() {
    if !can_run_trials() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let run = sockerr(&["run", "--out", dir.path().to_str().unwrap(), "--no-pcap"]);
    assert!(
        run.status.code().is_some_and(|c| c == 0 || c == 1),
        "run: {}",
        text(&run.stderr)
    );
    let report = dir.path().join("report.json");
    assert!(report.exists(), "the run wrote no report: {}", text(&run.stderr));

    let reset = explain("ECONNRESET", &report);
    assert!(reset.starts_with("ECONNRESET  (errno "), "{reset}");
    for scenario in ["abort.linger0.read_first", "abort.unread_data.read_first"] {
        let lines = block(&reset, scenario);
        assert!(
            !lines.is_empty(),
            "explain ECONNRESET does not name {scenario}:\n{reset}"
        );
        assert!(
            lines
                .iter()
                .any(|l| l.contains("step") && l.contains("client.read#1") && l.contains("= ECONNRESET")),
            "{scenario}: no step line:\n{}",
            lines.join("\n")
        );
        assert!(
            lines.iter().any(|l| l.contains("guidance")),
            "{scenario}: no guidance:\n{}",
            lines.join("\n")
        );
        // The wire evidence: the peer's reset as a tcpdump-like segment line.
        assert!(
            lines.iter().any(|l| l.contains("server>client [R.] seq")),
            "{scenario}: no [R.] segment:\n{}",
            lines.join("\n")
        );
        assert!(
            lines
                .iter()
                .any(|l| l.contains("client.read#1") && l.contains("<- this step")),
            "{}",
            lines.join("\n")
        );
    }
    assert!(reset.contains("io::ErrorKind::ConnectionReset"), "{reset}");
    assert!(reset.contains("java.net.SocketException: Connection reset"), "{reset}");

    let pipe = explain("epipe", &report);
    let lines = block(&pipe, "peer_close.fin.read_then_write");
    assert!(
        lines
            .iter()
            .any(|l| l.contains("client.send#2") && l.contains("= EPIPE")),
        "{pipe}"
    );
    assert!(pipe.contains("io::ErrorKind::BrokenPipe"), "{pipe}");

    let scenario = explain("abort.linger0.write_first", &report);
    assert!(
        scenario.contains("claim     After the peer's abortive close"),
        "{scenario}"
    );
    assert!(
        scenario.contains("client.write#1") && scenario.contains("ECONNRESET"),
        "{scenario}"
    );
    assert!(
        scenario.contains("documented: macOS 15 EPIPE | EPROTOTYPE [M]"),
        "{scenario}"
    );
    assert!(scenario.contains("\nguidance  "), "{scenario}");
    assert!(
        scenario.contains("\nevidence  ") && scenario.contains("maintainer's statement"),
        "the evidence tags shown are explained: {scenario}"
    );

    // What the runtime clients measured, where their trials ran (a missing runtime skips
    // them; CI installs every runtime): the messages per API and version, and the table.
    let written = sockerr_reports::Report::read(&report).unwrap();
    let java_ran = written.trials.iter().any(|t| {
        t.scenario == "abort.linger0.write_first"
            && t.client.as_ref().is_some_and(|c| c.api == "java.net.Socket")
            && !t.steps.is_empty()
    });
    if java_ran {
        let measured: Vec<&str> = reset
            .lines()
            .skip_while(|l| !l.contains("measured in this report"))
            .collect();
        let java = measured
            .iter()
            .position(|l| l.trim_start().starts_with("java.net.Socket (OpenJDK "))
            .unwrap_or_else(|| panic!("no measured Java messages:\n{reset}"));
        assert!(
            measured[java..]
                .iter()
                .take_while(|l| !l.trim_start().starts_with("java.nio"))
                .any(|l| l.contains("write") && l.contains("java.net.SocketException: Connection reset by peer")),
            "{reset}"
        );
        assert!(scenario.contains("\nwhat each runtime saw "), "{scenario}");
    }

    // A trial id (decisions: dotted, the `::` form an alias) narrows the scenario to that trial.
    let trial = written
        .trials
        .iter()
        .find(|t| t.scenario == "abort.linger0.write_first" && !t.steps.is_empty())
        .expect("the run holds abort.linger0.write_first");
    let dotted = trial.id.replace("::", ".");
    let one = explain(&dotted, &report);
    assert!(one.starts_with("abort.linger0.write_first\n"), "{one}");
    let observed: Vec<&str> = one
        .lines()
        .skip_while(|l| !l.starts_with("observed: "))
        .skip(1)
        .take_while(|l| !l.is_empty())
        .collect();
    assert_eq!(observed.len(), 1, "one trial, {}: {one}", trial.id);
    assert!(observed[0].ends_with(&trial.id), "{observed:?}");

    // A glob: every scenario whose id matches, one explanation each.
    let linger = explain("abort.linger0.*", &report);
    for id in ["abort.linger0.read_first", "abort.linger0.write_first"] {
        assert!(linger.lines().any(|l| l == id), "{id} is explained:\n{linger}");
    }
}

#[test]
fn without_a_report_explain_runs_the_catalogue_and_says_so() {
    if !can_run_trials() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("none.json");
    let out = sockerr(&[
        "explain",
        "connect.closed_port.blocking",
        "--report",
        missing.to_str().unwrap(),
    ]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("does not exist; running the catalogue in this process"),
        "{stderr}"
    );
    let stdout = text(&out.stdout);
    assert!(stdout.contains("observed: a run of the catalogue just now"), "{stdout}");
    assert!(
        stdout.contains("client.connect#1") && stdout.contains("ECONNREFUSED"),
        "{stdout}"
    );
    assert!(!missing.exists(), "explain wrote a report");
}

#[test]
fn an_unknown_errno_or_scenario_exits_2_with_the_closest_names() {
    // Checked before any report is read or any trial run.
    let out = sockerr(&["explain", "ENOSUCH", "--report", "/nonexistent/report.json"]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("\"ENOSUCH\" is neither an errno name of this platform nor a scenario or trial id; closest: "),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");

    let out = sockerr(&["explain", "ECONNRESTE", "--report", "/nonexistent/report.json"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("closest: ECONNRESET"),
        "{}",
        text(&out.stderr)
    );

    let out = sockerr(&[
        "explain",
        "abort.linger0.read_frist",
        "--report",
        "/nonexistent/report.json",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("closest: abort.linger0.read_first"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn a_broken_report_is_refused_before_explaining() {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report.json");
    std::fs::write(&report, "<html>").unwrap();
    let out = sockerr(&["explain", "ECONNRESET", "--report", report.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("not a sockerr report"),
        "{}",
        text(&out.stderr)
    );
}

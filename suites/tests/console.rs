//! A console people read: one line per scenario in catalogue order, a recap of every failure
//! and skip, then the counts; `--verbose` every step, `--quiet` only recap and counts,
//! `--format json` for programs; a progress bar and colour on a terminal only (never with
//! NO_COLOR), a line per trial when standard error is a file or a pipe.

// Linux only: it opens pseudo-terminals with glibc's openpty.
#![cfg(target_os = "linux")]

mod common;

use std::io::Read;
use std::os::fd::{FromRawFd, OwnedFd};
use std::path::Path;
use std::process::{Command, Stdio};

use common::{texts, trials_unavailable};
use sockerr_harness::prerequisite;

/// The native trials of two scenarios, named in the reverse of catalogue order (connect comes
/// before abort); the globs name whole ids, so runtime trials (`<id>.<api>`) are left out.
const TWO_SCENARIOS: [&str; 8] = [
    "--filter",
    "abort.linger0.read_first.v?.loopback",
    "--filter",
    "abort.linger0.read_first.v?.two_hosts",
    "--filter",
    "connect.closed_port.blocking.v?.loopback",
    "--filter",
    "connect.closed_port.blocking.v?.two_hosts",
];

/// `sockerr run` of [`TWO_SCENARIOS`] into a temporary directory, with `extra` arguments.
fn run_two(extra: &[&str]) -> (Option<i32>, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().to_str().unwrap();
    let mut args = vec!["run", "--no-pcap", "--out", out];
    args.extend(TWO_SCENARIOS);
    args.extend(extra);
    let output = common::sockerr(&args);
    let (stdout, stderr) = texts(&output);
    (output.status.code(), stdout, stderr)
}

#[test]
fn a_run_shows_one_line_per_scenario_in_catalogue_order_then_the_counts() {
    if prerequisite::unmet(trials_unavailable()) {
        return;
    }
    let (code, stdout, stderr) = run_two(&[]);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(
        lines[0].starts_with("connect.closed_port.blocking ") && lines[0].ends_with("4 passed"),
        "{stdout}"
    );
    assert!(
        lines[1].starts_with("abort.linger0.read_first ") && lines[1].ends_with("4 passed"),
        "{stdout}"
    );
    assert_eq!(lines[2], "", "{stdout}");
    assert_eq!(lines[3], "8 passed, 0 failed, 0 skipped", "{stdout}");
    assert!(lines[4].starts_with("wrote "), "{stdout}");
    assert_eq!(lines.len(), 5, "{stdout}");
    assert!(
        !stdout.contains("client.read#1"),
        "steps shown without --verbose:\n{stdout}"
    );
}

#[test]
fn verbose_shows_every_step_of_every_scenario() {
    if prerequisite::unmet(trials_unavailable()) {
        return;
    }
    let (code, stdout, stderr) = run_two(&["--verbose"]);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("client.read#1") && stdout.contains("ECONNRESET"),
        "{stdout}"
    );
    assert!(
        stdout.contains("client.connect#1") && stdout.contains("ECONNREFUSED"),
        "{stdout}"
    );
    let connect = stdout.find("\nconnect.closed_port.blocking  [").expect("connect block");
    let abort = stdout.find("\nabort.linger0.read_first  [").expect("abort block");
    assert!(connect < abort, "not in catalogue order:\n{stdout}");
    assert_eq!(stderr.lines().filter(|l| l.starts_with('[')).count(), 8, "{stderr}");
}

#[test]
fn quiet_shows_only_the_counts_when_nothing_failed_or_was_skipped() {
    if prerequisite::unmet(trials_unavailable()) {
        return;
    }
    let (code, stdout, stderr) = run_two(&["--quiet"]);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    assert_eq!(stdout, "8 passed, 0 failed, 0 skipped\n");
    assert!(
        !stderr.lines().any(|l| l.starts_with('[')),
        "progress under --quiet:\n{stderr}"
    );
}

#[test]
fn a_failure_is_recapped_at_the_end_with_what_differed() {
    if prerequisite::unmet(trials_unavailable()) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    // RFC 9293 §3.10.7.4: the reset makes the first read fail with ECONNRESET, not EPIPE.
    let wrong = dir.path().join("wrong.toml");
    std::fs::write(
        &wrong,
        "[\"abort.linger0.read_first\"]\n\"client.read#1\" = \"EPIPE\"\n",
    )
    .unwrap();
    let (code, stdout, stderr) = run_two(&["--quiet", "--expect", wrong.to_str().unwrap()]);
    assert_eq!(code, Some(1), "{stdout}\n{stderr}");
    let recap = stdout
        .split("4 failed:")
        .nth(1)
        .unwrap_or_else(|| panic!("no recap:\n{stdout}"));
    assert!(recap.contains("abort"), "{stdout}");
    assert!(
        recap.contains("client.read#1") && recap.contains("ECONNRESET"),
        "{stdout}"
    );
    let counts = stdout.lines().last().unwrap_or_default();
    assert!(counts.contains(" passed, 4 failed, 0 skipped"), "{stdout}");
}

#[test]
fn json_gives_one_object_per_trial_as_it_finishes_then_a_summary() {
    if prerequisite::unmet(trials_unavailable()) {
        return;
    }
    let (code, stdout, stderr) = run_two(&["--format", "json"]);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    let objects: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let (summary, trials) = objects.split_last().expect("some objects");
    assert_eq!(trials.len(), 8, "{stdout}");
    for trial in trials {
        assert_eq!(trial["type"], "trial");
        assert_eq!(trial["status"], "pass", "{trial}");
        assert!(trial["steps"].as_array().is_some_and(|s| !s.is_empty()), "{trial}");
    }
    assert_eq!(summary["type"], "summary");
    assert_eq!(summary["counts"]["pass"], 8, "{summary}");
    assert_eq!(summary["failed"], serde_json::json!([]), "{summary}");
    assert!(
        summary["written"][0]
            .as_str()
            .is_some_and(|p| p.ends_with("report.json")),
        "{summary}"
    );
}

#[test]
fn output_to_a_pipe_is_plain_with_a_line_per_trial_on_standard_error() {
    if prerequisite::unmet(trials_unavailable()) {
        return;
    }
    let (code, stdout, stderr) = run_two(&[]);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    assert!(
        !stdout.contains('\x1b') && !stderr.contains('\x1b'),
        "escape codes in a pipe"
    );
    let progress: Vec<&str> = stderr.lines().filter(|l| l.starts_with('[')).collect();
    assert_eq!(progress.len(), 8, "{stderr}");
    assert!(progress.iter().all(|l| l.contains(" pass ")), "{stderr}");
}

/// Runs the binary with `args`, standard output and error on a new pseudo-terminal
/// (openpty(3)), and `env` added; returns what it wrote there.
fn on_a_terminal(args: &[&str], env: &[(&str, &str)]) -> String {
    let (mut master, mut slave) = (0, 0);
    // SAFETY: openpty writes two descriptors into the integers given; name, termios and
    // window size may be null.
    let rc = unsafe {
        libc::openpty(
            &mut master,
            &mut slave,
            std::ptr::null_mut(),
            std::ptr::null(),
            std::ptr::null(),
        )
    };
    assert_eq!(rc, 0, "openpty: {}", std::io::Error::last_os_error());
    // SAFETY: both descriptors were just opened by openpty and are owned by nobody else.
    let (master, slave) = unsafe { (OwnedFd::from_raw_fd(master), OwnedFd::from_raw_fd(slave)) };
    let mut command = Command::new(env!("CARGO_BIN_EXE_sockerr"));
    command
        .args(args)
        .env_remove("SOCKERR_EXPECT")
        .env_remove("NO_COLOR")
        .env("TERM", "xterm")
        .stdin(Stdio::null())
        .stdout(Stdio::from(slave.try_clone().unwrap()))
        .stderr(Stdio::from(slave));
    for (key, value) in env {
        command.env(key, value);
    }
    let mut child = command.spawn().expect("spawn sockerr");
    // The parent's copies of the terminal's slave side go with the command, so that reading
    // the master ends (EIO) once the child has exited.
    drop(command);
    let mut master = std::fs::File::from(master);
    let reader = std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let mut buffer = [0; 4096];
        while let Ok(n) = master.read(&mut buffer) {
            if n == 0 {
                break;
            }
            bytes.extend_from_slice(&buffer[..n]);
        }
        String::from_utf8_lossy(&bytes).into_owned()
    });
    let status = child.wait().expect("wait for sockerr");
    let text = reader.join().expect("reader");
    assert!(status.success(), "{status}:\n{text}");
    text
}

#[test]
fn a_terminal_gets_a_progress_bar_and_colour_unless_no_color_is_set() {
    if prerequisite::unmet(trials_unavailable()) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().to_str().unwrap();
    let mut args = vec!["run", "--no-pcap", "--out", out];
    args.extend(TWO_SCENARIOS);
    let shown = on_a_terminal(&args, &[]);
    // The bar is redrawn in place: carriage return, erase the line, the bar.
    assert!(shown.contains("\r\x1b[2K[#"), "no progress bar:\n{shown:?}");
    assert!(!shown.contains("[  1/8]"), "a line per trial on a terminal:\n{shown:?}");
    assert!(shown.contains("\x1b[32m4 passed\x1b[0m"), "no colour:\n{shown:?}");

    let report = Path::new(out).join("report.json");
    let show = ["show", report.to_str().unwrap()];
    assert!(on_a_terminal(&show, &[]).contains("\x1b[32m"), "show has no colour");
    let plain = on_a_terminal(&show, &[("NO_COLOR", "1")]);
    assert!(!plain.contains('\x1b'), "colour despite NO_COLOR:\n{plain:?}");
    assert!(plain.contains("4 passed"), "{plain:?}");
}

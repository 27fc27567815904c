//! Bad input gets one clear message naming the file (and line and column where they apply),
//! exit status 2, no panic, and nothing half-written: a typo in an expectation file must never
//! silently weaken a gate, and a broken report must never be mistaken for a valid one.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use rstest::rstest;

fn sockerr(args: &[&str], env: &[(&str, &Path)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_sockerr"));
    command.args(args).env_remove("SOCKERR_EXPECT");
    for (key, value) in env {
        command.env(key, value);
    }
    command.output().expect("run sockerr")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Asserts exit status 2, a message containing `needle`, and no panic.
fn assert_refused(output: &Output, needle: &str) {
    let text = stderr(output);
    assert_eq!(output.status.code(), Some(2), "exit status; stderr:\n{text}");
    assert!(text.contains(needle), "stderr lacks {needle:?}:\n{text}");
    assert!(!text.contains("panicked"), "panicked:\n{text}");
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

#[rstest]
#[case::toml_syntax(
    "[\"abort.linger0.read_first\"\n\"client.read#1\" = \"ECONNRESET\"\n",
    "bad.toml: TOML parse error at line 1"
)]
#[case::unknown_scenario_id(
    "[\"abort.linger0.read_frist\"]\n\"client.read#1\" = \"ECONNRESET\"\n",
    "bad.toml:1:2: unknown scenario id \"abort.linger0.read_frist\" (see `sockerr list`); did you mean abort.linger0.read_first?"
)]
#[case::unknown_step_label(
    "[\"abort.linger0.read_first\"]\n\"client.reed#1\" = \"ECONNRESET\"\n",
    "bad.toml:2:1: \"client.reed#1\": unknown verb \"reed\"; did you mean read?"
)]
#[case::unknown_errno_name(
    "[\"abort.linger0.read_first\"]\n\"client.read#1\" = \"ECONNRESTE\"\n",
    "bad.toml:2:1: \"client.read#1\": unknown outcome \"ECONNRESTE\"; did you mean ECONNRESET?"
)]
#[case::unknown_poll_bit(
    "[\"abort.linger0.poll\"]\n\"client.poll#1\" = { revents = [\"POLLHUB\"] }\n",
    "bad.toml:2:21: \"client.poll#1\": unknown poll bit \"POLLHUB\"; did you mean POLLHUP?"
)]
#[case::wrong_value_type(
    "[\"abort.linger0.read_first\"]\n\"client.read#1\" = true\n",
    "bad.toml:2:1: \"client.read#1\": expected an outcome"
)]
fn a_malformed_expectation_file_stops_the_run_with_its_position_and_writes_nothing(
    #[case] text: &str,
    #[case] needle: &str,
) {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "bad.toml", text);
    let out = dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    let previous = write(&out, "report.json", "previous report");
    let shown = format!("{}", file.display());
    let needle = needle.replace("bad.toml", &shown);

    let by_flag = sockerr(&["run", "--expect", &shown, "--out", out.to_str().unwrap()], &[]);
    assert_refused(&by_flag, &needle);
    let by_env = sockerr(&["run", "--out", out.to_str().unwrap()], &[("SOCKERR_EXPECT", &file)]);
    assert_refused(&by_env, &needle);
    assert_eq!(
        std::fs::read_to_string(previous).unwrap(),
        "previous report",
        "the previous report was touched"
    );
}

#[test]
fn a_missing_expectation_file_is_named() {
    let output = sockerr(&["run", "--expect", "/nonexistent/sockerr.toml"], &[]);
    assert_refused(&output, "/nonexistent/sockerr.toml: No such file or directory");
}

#[rstest]
#[case::truncated(
    "{\"schema\": \"sockerr-report/1\", \"platform\": {\"os\"",
    "not a sockerr report: EOF while parsing"
)]
#[case::not_json("<html>report</html>", "not a sockerr report: expected value at line 1 column 1")]
#[case::other_schema(
    "{\"schema\": \"sockerr-report/99\"}",
    "schema \"sockerr-report/99\" is not supported"
)]
fn a_broken_report_is_refused_with_its_name(#[case] text: &str, #[case] needle: &str) {
    let dir = tempfile::tempdir().unwrap();
    let report = write(dir.path(), "report.json", text);
    let output = sockerr(&["show", report.to_str().unwrap()], &[]);
    assert_refused(&output, &format!("{}: {needle}", report.display()));
}

#[test]
fn a_missing_report_is_named() {
    let output = sockerr(&["show", "/nonexistent/report.json"], &[]);
    assert_refused(&output, "/nonexistent/report.json: No such file or directory");
}

#[test]
fn an_unknown_flag_is_refused_with_usage() {
    let output = sockerr(&["run", "--frobnicate"], &[]);
    assert_refused(&output, "unexpected argument '--frobnicate'");
}

#[test]
fn an_output_directory_that_cannot_be_created_is_named() {
    // mkdir(2): ENOTDIR when a component of the path is not a directory.
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "a-file", "");
    let out = file.join("out");
    let output = sockerr(
        &[
            "run",
            "--out",
            out.to_str().unwrap(),
            "--filter",
            "closed_port.blocking",
        ],
        &[],
    );
    assert_refused(&output, &format!("cannot create {}", out.join("pcap").display()));
}

#[test]
fn a_filter_that_matches_nothing_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let output = sockerr(
        &["run", "--filter", "no-such-trial", "--out", out.to_str().unwrap()],
        &[],
    );
    assert_refused(&output, "no trial matches");
    assert!(
        !out.exists(),
        "the output directory was created for a run that did not start"
    );
}

#[rstest]
#[case::run("run")]
#[case::stress("stress")]
#[case::bench("bench")]
fn zero_trials_at_once_is_refused_naming_the_least_number(#[case] command: &str) {
    let output = sockerr(&[command, "--jobs", "0"], &[]);
    assert_refused(&output, "0 trials at once would run nothing: give 1 or more");
}

/// A reader that stops early (`sockerr list | head -1`) makes writes fail with EPIPE
/// (pipe(7)); the command ends quietly instead of panicking.
#[cfg(unix)]
#[test]
fn output_into_a_pipe_nobody_reads_ends_quietly() {
    let (reader, writer) = nix::unistd::pipe().expect("pipe");
    drop(reader);
    let output = Command::new(env!("CARGO_BIN_EXE_sockerr"))
        .arg("list")
        .stdout(std::process::Stdio::from(writer))
        .stderr(std::process::Stdio::piped())
        .output()
        .expect("run sockerr");
    let text = stderr(&output);
    assert_eq!(output.status.code(), Some(0), "{text}");
    assert!(!text.contains("panicked"), "{text}");
}

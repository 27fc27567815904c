//! This crate's own `sockerr` program (`src/main.rs`): every command works on its scenarios,
//! and a run judged by a wrong expectation exits 1 with the diff.

use std::process::{Command, Output};

fn own_scenario(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_own-scenario"))
        .args(args)
        .output()
        .expect("the example's program runs")
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[test]
fn list_shows_the_crates_scenario_and_its_four_trials_and_nothing_of_the_catalogue() {
    let output = own_scenario(&["list"]);
    assert!(output.status.success(), "{}", text(&output));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.starts_with("own.peek_after_fin\n"), "{stdout}");
    assert_eq!(
        stdout.lines().filter(|l| l.trim_start().starts_with("- ")).count(),
        4,
        "{stdout}"
    );
    assert!(!stdout.contains("abort."), "{stdout}");
}

/// recv(2): MSG_PEEK returns the 5 queued bytes; an expectation of 4 is wrong.
#[test]
fn a_run_passes_with_the_crates_file_and_fails_with_a_wrong_one_showing_the_diff() {
    use sockerr::harness::{prerequisite, sys};
    if prerequisite::unmet(sys::namespaces_unavailable()) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("report");
    let out = out.to_str().unwrap();
    let passed = own_scenario(&["run", "--out", out, "--no-pcap", "--quiet"]);
    assert!(passed.status.success(), "{}", text(&passed));
    let report = std::fs::read_to_string(dir.path().join("report/report.json")).unwrap();
    assert!(report.contains("own.peek_after_fin.v6.two_hosts"), "{report}");
    let wrong = dir.path().join("wrong.toml");
    std::fs::write(&wrong, "[\"own.peek_after_fin\"]\n\"client.custom#1\" = \"ok=4\"\n").unwrap();
    let failed = own_scenario(&["run", "--out", out, "--no-pcap", "--expect", wrong.to_str().unwrap()]);
    assert_eq!(failed.status.code(), Some(1), "{}", text(&failed));
    let shown = text(&failed);
    for needle in ["own.peek_after_fin.v4.loopback", "client.custom#1", "ok=4", "ok=5"] {
        assert!(shown.contains(needle), "{needle:?} missing from:\n{shown}");
    }
}

//! Prerequisites are loud: a program the trials need that this machine lacks (tried by
//! hiding `nft` from PATH) is named once, with the trials it costs and how to install it,
//! and the recap groups those trials under it; `--strict` turns each such skip into a
//! failure. An output directory that cannot be written stops a run before any trial.

// Linux only: the prerequisites are installed with apt-get.
#![cfg(target_os = "linux")]

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::{texts, trials_unavailable};
use sockerr_harness::prerequisite;
use sockerr_reports::{Report, Status};

/// The native trials of a firewall scenario (nft) and of one without a firewall (the globs
/// name whole ids, so runtime trials are left out).
const FIREWALL_AND_NOT: [&str; 8] = [
    "--filter",
    "connect.firewall.reject_tcp_reset.v?.loopback",
    "--filter",
    "connect.firewall.reject_tcp_reset.v?.two_hosts",
    "--filter",
    "connect.closed_port.blocking.v?.loopback",
    "--filter",
    "connect.closed_port.blocking.v?.two_hosts",
];

/// `sockerr run` of [`FIREWALL_AND_NOT`] into `out` with a PATH of one empty directory and no
/// system program directory searched after it, so that no `nft` program is found.
fn run_without_nft(out: &Path, extra: &[&str]) -> Output {
    let empty = tempfile::tempdir().unwrap();
    let mut args = vec!["run", "--no-pcap", "--out", out.to_str().unwrap()];
    args.extend(FIREWALL_AND_NOT);
    args.extend(extra);
    Command::new(env!("CARGO_BIN_EXE_sockerr"))
        .args(&args)
        .env("PATH", empty.path())
        .env("SOCKERR_PROGRAM_DIRS", "")
        .env_remove("SOCKERR_EXPECT")
        .output()
        .expect("run sockerr")
}

#[test]
fn a_missing_nft_is_told_once_with_the_trials_it_costs_and_how_to_install_it() {
    if prerequisite::unmet(trials_unavailable()) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let output = run_without_nft(dir.path(), &[]);
    let (stdout, stderr) = texts(&output);
    assert_eq!(output.status.code(), Some(0), "{stdout}\n{stderr}");
    let told: Vec<&str> = stderr.lines().filter(|l| l.contains("nft")).collect();
    assert_eq!(told.len(), 1, "told {} times:\n{stderr}", told.len());
    assert!(told[0].contains("apt-get install nftables"), "no remedy: {}", told[0]);
    // The recap: one group, its reason, the trials it cost.
    let recap = stdout
        .split("4 skipped:\n")
        .nth(1)
        .unwrap_or_else(|| panic!("no recap:\n{stdout}"));
    let mut lines = recap.lines();
    let reason = lines.next().unwrap_or_default();
    assert!(
        reason.starts_with("  4 trials: ") && reason.contains("nftables"),
        "{stdout}"
    );
    assert_eq!(
        lines.next(),
        Some("    connect.firewall.reject_tcp_reset (4)"),
        "{stdout}"
    );
    assert!(stdout.contains("4 passed, 0 failed, 4 skipped"), "{stdout}");
    let report = Report::read(&dir.path().join("report.json")).unwrap();
    let skipped = report.trials.iter().filter(|t| t.status == Status::Skip).count();
    assert_eq!(skipped, 4);
}

#[test]
fn strict_turns_every_skip_into_a_failure_naming_what_is_missing() {
    if prerequisite::unmet(trials_unavailable()) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let output = run_without_nft(dir.path(), &["--strict"]);
    let (stdout, stderr) = texts(&output);
    assert_eq!(output.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(stdout.contains("4 passed, 4 failed, 0 skipped"), "{stdout}");
    assert!(
        stdout.contains("4 trials skipped, which --strict counts as failures: ") && stdout.contains("nftables"),
        "{stdout}"
    );
    let report = Report::read(&dir.path().join("report.json")).unwrap();
    for t in report
        .trials
        .iter()
        .filter(|t| t.scenario == "connect.firewall.reject_tcp_reset")
    {
        assert_eq!(t.status, Status::Fail, "{}", t.id);
        let error = t.error.as_deref().unwrap_or_default();
        assert!(error.contains("strict") && error.contains("nft"), "{}: {error}", t.id);
    }
}

/// The unprivileged account the test runs the suite as.
const NOBODY: u32 = 65534;

#[test]
fn an_output_directory_an_ordinary_user_cannot_write_is_refused_before_any_trial_runs() {
    use std::os::unix::fs::PermissionsExt;
    use std::os::unix::process::CommandExt;
    if prerequisite::unmet(
        (!nix::unistd::geteuid().is_root()).then(|| "switching to an unprivileged user needs root".to_string()),
    ) {
        return;
    }
    // The binary in a directory the user can enter (the build directory may not be); the
    // output directory root's own, which the user can read but not write.
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let binary = dir.path().join("sockerr");
    std::fs::copy(env!("CARGO_BIN_EXE_sockerr"), &binary).unwrap();
    std::fs::set_permissions(&binary, std::fs::Permissions::from_mode(0o755)).unwrap();
    let out = dir.path().join("roots");
    std::fs::create_dir(&out).unwrap();
    std::fs::set_permissions(&out, std::fs::Permissions::from_mode(0o755)).unwrap();

    for (command, args) in [
        ("run", &["--no-pcap"][..]),
        ("run", &[][..]),
        ("stress", &["--runs", "1"][..]),
    ] {
        let output = Command::new(&binary)
            .arg(command)
            .args(args)
            .args([
                "--out",
                out.to_str().unwrap(),
                "--filter",
                "connect.closed_port.blocking",
            ])
            .current_dir(dir.path())
            .env_remove("SOCKERR_EXPECT")
            .uid(NOBODY)
            .gid(NOBODY)
            .output()
            .expect("run sockerr as nobody");
        let (stdout, stderr) = texts(&output);
        assert_eq!(output.status.code(), Some(2), "{command} {args:?}: {stdout}\n{stderr}");
        assert!(
            stderr.contains(&format!("cannot write into {}", out.display()))
                || stderr.contains(&format!("cannot create {}", out.join("pcap").display())),
            "{command} {args:?}: {stderr}"
        );
        assert!(!stderr.lines().any(|l| l.starts_with('[')), "trials ran:\n{stderr}");
        assert_eq!(std::fs::read_dir(&out).unwrap().count(), 0, "something was written");
    }
}

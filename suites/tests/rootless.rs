//! Run by an ordinary user, the suite enters a user namespace at start and runs every
//! namespace trial inside it (user_namespaces(7): a user namespace's root may create network
//! namespaces, veth pairs and packet sockets owned by it). Where user namespaces are not
//! allowed, every trial is skipped with the reason and the remedy instead.

// Linux only: unprivileged runs need user namespaces.
#![cfg(target_os = "linux")]

use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::process::Command;

use sockerr_reports::{Report, Status};

/// The unprivileged account the test runs the suite as.
const NOBODY: u32 = 65534;

#[test]
fn an_ordinary_user_runs_every_trial_inside_a_user_namespace() {
    if sockerr_harness::prerequisite::unmet(
        (!nix::unistd::geteuid().is_root()).then(|| "switching to an unprivileged user needs root".to_string()),
    ) {
        return;
    }
    // A directory the unprivileged user can enter and write, holding its own copy of the
    // binary (the build directory may sit under a home directory it cannot enter).
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    let binary = dir.path().join("sockerr");
    std::fs::copy(env!("CARGO_BIN_EXE_sockerr"), &binary).unwrap();
    std::fs::set_permissions(&binary, std::fs::Permissions::from_mode(0o755)).unwrap();
    let out = dir.path().join("out");

    let output = Command::new(&binary)
        .args(["run", "--out", out.to_str().unwrap(), "--no-pcap"])
        .current_dir(dir.path())
        .env_remove("SOCKERR_EXPECT")
        .uid(NOBODY)
        .gid(NOBODY)
        .output()
        .expect("run sockerr as nobody");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    let report = Report::read(&out.join("report.json")).unwrap_or_else(|e| panic!("{e}\n{stderr}"));

    if report.trials.iter().all(|t| t.status == Status::Skip) {
        let reason = report.trials[0].skip_reason.clone().unwrap_or_default();
        assert!(
            reason.contains("user namespace") && reason.contains("sysctl"),
            "the skip names no remedy: {reason}"
        );
        let missing = format!("user namespaces are not available to unprivileged users here: {reason}");
        sockerr_harness::prerequisite::unmet(Some(missing));
        return;
    }
    assert_eq!(report.platform.run_as, format!("uid {NOBODY} in a user namespace"));
    // What this test is about: every trial could run as an ordinary user (namespaces, links,
    // capture, firewall). Whether each outcome matches the expectation is the conformance
    // target's business; a trial that cannot run here is skipped or stops with an error.
    let not_run: Vec<_> = report
        .trials
        .iter()
        .filter(|t| t.status == Status::Skip || t.error.is_some())
        .map(|t| {
            format!(
                "{} ({:?}: {})",
                t.id,
                t.status,
                t.error.as_deref().or(t.skip_reason.as_deref()).unwrap_or("")
            )
        })
        .collect();
    assert!(
        not_run.is_empty(),
        "trials that could not run as an ordinary user: {not_run:?}\n{stderr}"
    );
    assert!(matches!(output.status.code(), Some(0 | 1)), "{stderr}");
}

//! A whole run leaves the host as it found it: the same links, addresses, routes and
//! firewall ruleset, no extra network namespace, no child process, no open descriptor.
//! (DESIGN.md principle 3: one sealed world per trial.)

use std::collections::BTreeSet;
use std::process::Command;

use sockerr::catalogue;
use sockerr::expectations::Expectations;
use sockerr::runner::{self, RunConfig};

/// Output of a command, or a note that it could not run (then both snapshots say so alike).
fn output_of(program: &str, args: &[&str]) -> String {
    match Command::new(program).args(args).output() {
        Ok(o) => format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        ),
        Err(e) => format!("({program} unavailable: {e})"),
    }
}

/// The network namespaces this process's threads are in, by inode. A namespace of the suite
/// stays alive only through a thread, a process or a descriptor of the suite; the other two
/// are checked below. (Other processes on the machine may create namespaces of their own.)
fn network_namespaces() -> BTreeSet<String> {
    std::fs::read_dir("/proc/self/task")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|task| std::fs::read_link(task.path().join("ns/net")).ok())
        .map(|link| link.display().to_string())
        .collect()
}

fn open_descriptors() -> usize {
    std::fs::read_dir("/proc/self/fd").map(|d| d.count()).unwrap_or(0)
}

fn children() -> String {
    std::fs::read_dir("/proc/self/task")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|t| std::fs::read_to_string(t.path().join("children")).ok())
        .collect::<Vec<_>>()
        .join(" ")
        .trim()
        .to_string()
}

fn host_snapshot() -> Vec<(String, String)> {
    vec![
        ("ip addr".into(), output_of("ip", &["addr"])),
        ("ip route".into(), output_of("ip", &["route"])),
        ("ip -6 route".into(), output_of("ip", &["-6", "route"])),
        ("nft list ruleset".into(), output_of("nft", &["list", "ruleset"])),
        ("network namespaces".into(), format!("{:?}", network_namespaces())),
    ]
}

#[test]
fn a_whole_run_leaves_links_addresses_routes_firewall_and_namespaces_unchanged() {
    if let Some(reason) = sockerr_harness::sys::namespaces_unavailable() {
        eprintln!("skipped: {reason}");
        return;
    }
    let before = host_snapshot();
    let fds_before = open_descriptors();
    let scenarios = catalogue::all();
    let config = RunConfig {
        expectations: Expectations::for_run(None, &catalogue::ids()).expect("built-in expectations"),
        pcap_dir: None,
        ..RunConfig::default()
    };
    let trials = runner::run_all(&runner::plan(&scenarios), &config, 2);
    assert_eq!(trials.len(), runner::plan(&scenarios).len());
    let after = host_snapshot();
    for ((what, was), (_, is)) in before.iter().zip(&after) {
        assert_eq!(was, is, "{what} changed during the run");
    }
    assert_eq!(children(), "", "child processes are left");
    assert_eq!(open_descriptors(), fds_before, "descriptors are left open");
}

//! A whole run leaves the host as it found it: the same links, addresses, routes and
//! firewall ruleset, no extra network namespace, no child process, no open descriptor.
//! (docs/design.md principle 3: one sealed world per trial.)

mod common;

use std::collections::BTreeSet;

use common::{differences, host_snapshot};

use sockerr::catalogue;
use sockerr::expectations::Expectations;
use sockerr::runner::{self, RunConfig};

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

#[test]
fn a_whole_run_leaves_links_addresses_routes_firewall_and_namespaces_unchanged() {
    if sockerr_harness::prerequisite::unmet(sockerr_harness::sys::namespaces_unavailable()) {
        return;
    }
    let before = host_snapshot();
    let namespaces_before = network_namespaces();
    let fds_before = open_descriptors();
    let scenarios = catalogue::all();
    let config = RunConfig {
        expectations: Expectations::for_run(None, &catalogue::ids()).expect("built-in expectations"),
        pcap_dir: None,
        ..RunConfig::default()
    };
    let trials = runner::run_all(&runner::plan(&scenarios), &config, 2);
    assert_eq!(trials.len(), runner::plan(&scenarios).len());
    let changed = differences(&before, &host_snapshot(), "during the run");
    assert!(changed.is_empty(), "{}", changed.join("\n"));
    assert_eq!(
        network_namespaces(),
        namespaces_before,
        "a trial's thread is still in a namespace"
    );
    assert_eq!(children(), "", "child processes are left");
    assert_eq!(open_descriptors(), fds_before, "descriptors are left open");
}

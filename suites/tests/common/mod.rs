//! What the suite's own tests share: a snapshot of the host's network configuration, which a
//! run must leave as it found it (docs/design.md principle 3).

#![allow(dead_code)] // each test binary uses its own part

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::{Command, Output};

/// `net.*` sysctls that change by themselves, left out of the comparison (paths under
/// /proc/sys). Found by snapshotting every readable `net.*` sysctl twice with nothing running,
/// minutes apart and around host traffic (on Linux 6.18): no key changed. The one listed is a
/// count of live entries, not a setting: it moves with any traffic of the host's own whenever
/// connection tracking is active, so it cannot be compared. Unreadable keys are skipped when
/// walking: the write-only `net/ipv{4,6}/route/flush` (mode 0200) and
/// `net/ipv6/conf/*/stable_secret` (EIO until a secret is set).
const VOLATILE_SYSCTLS: &[&str] = &["net/netfilter/nf_conntrack_count"];

/// Output of a command, or a note that it could not run (then both snapshots say so alike).
pub fn output_of(program: &str, args: &[&str]) -> String {
    match Command::new(program).args(args).output() {
        Ok(o) => format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        ),
        Err(e) => format!("({program} unavailable: {e})"),
    }
}

/// Every readable `net.*` sysctl as the calling thread's (the host's) namespace sees it.
pub fn net_sysctls(out: &mut BTreeMap<String, String>) {
    fn walk(dir: &Path, out: &mut BTreeMap<String, String>) {
        let Ok(entries) = std::fs::read_dir(dir) else { return };
        for entry in entries.flatten() {
            let path = entry.path();
            let Ok(kind) = entry.file_type() else { continue };
            if kind.is_dir() {
                walk(&path, out);
                continue;
            }
            let key = path.strip_prefix("/proc/sys").unwrap_or(&path).display().to_string();
            if VOLATILE_SYSCTLS.contains(&key.as_str()) {
                continue;
            }
            if let Ok(value) = std::fs::read_to_string(&path) {
                out.insert(format!("sysctl {key}"), value.trim().to_string());
            }
        }
    }
    walk(Path::new("/proc/sys/net"), out);
}

/// What a run must leave as it was, by name.
pub fn host_snapshot() -> BTreeMap<String, String> {
    let mut snapshot = BTreeMap::new();
    for args in [&["-d", "link"][..], &["addr"], &["route"], &["-6", "route"]] {
        snapshot.insert(format!("ip {}", args.join(" ")), output_of("ip", args));
    }
    snapshot.insert("nft list ruleset".into(), output_of("nft", &["list", "ruleset"]));
    net_sysctls(&mut snapshot);
    snapshot
}

/// One line per entry that differs between two snapshots.
pub fn differences(before: &BTreeMap<String, String>, after: &BTreeMap<String, String>, when: &str) -> Vec<String> {
    let keys: BTreeSet<&String> = before.keys().chain(after.keys()).collect();
    keys.into_iter()
        .filter(|k| before.get(*k) != after.get(*k))
        .map(|k| {
            let show = |v: Option<&String>| v.map_or("(absent)".to_string(), |v| format!("{v:?}"));
            format!(
                "{k} changed {when}: before {}, after {}",
                show(before.get(k)),
                show(after.get(k))
            )
        })
        .collect()
}

/// Runs the `sockerr` binary of this build with `args`, ignoring any `SOCKERR_EXPECT` of the
/// caller's environment.
pub fn sockerr(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sockerr"))
        .args(args)
        .env_remove("SOCKERR_EXPECT")
        .output()
        .expect("run sockerr")
}

/// What keeps `json` from satisfying the report schema generated from the current model,
/// one line per error (none when it does).
pub fn schema_errors(json: &serde_json::Value) -> Vec<String> {
    let validator =
        jsonschema::draft202012::new(&sockerr_reports::report_schema()).expect("the generated schema compiles");
    validator
        .iter_errors(json)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect()
}

/// Why trials cannot run here, if they cannot (no namespaces for this process).
pub fn trials_unavailable() -> Option<String> {
    sockerr_harness::sys::namespaces_unavailable()
}

/// The text of standard output and standard error of a finished command.
pub fn texts(output: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

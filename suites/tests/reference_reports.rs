//! The committed reference reports (`reports/reference/`, written by `make matrix`) still read
//! with the current report model and, as read, satisfy its schema, each holds trials and says how it was
//! obtained, and the matrix beside them names every column. `runtimes-<column>.json` is the
//! host's run once more with the runtime clients' trials: the column's trials and theirs.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use sockerr_harness::platform::{Origin, OriginKind, Platform};
use sockerr_reports::Report;

mod common;

fn reference_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../reports/reference")
}

/// Every `*.json` in reports/reference, sorted.
fn reference_reports() -> Vec<PathBuf> {
    let dir = reference_dir();
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .flatten()
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|e| e == "json"))
        .collect();
    paths.sort();
    assert!(!paths.is_empty(), "no reference report in {}", dir.display());
    paths
}

#[test]
fn every_reference_report_reads_and_satisfies_the_current_schema() {
    for path in reference_reports() {
        let report = Report::read(&path).unwrap_or_else(|e| panic!("{e}"));
        assert!(!report.trials.is_empty(), "{}: no trial", path.display());
        // As read: a report of an earlier schema version is upgraded on the way.
        let json = serde_json::to_value(&report).expect("a report serialises");
        let errors = common::schema_errors(&json);
        assert!(
            errors.is_empty(),
            "{} does not satisfy the schema:\n{}",
            path.display(),
            errors.join("\n")
        );
    }
}

#[test]
fn every_reference_report_says_how_it_was_obtained() {
    for path in reference_reports() {
        let shown = path.display();
        let json: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).expect("readable")).expect("JSON");
        assert!(
            json["platform"]["origin"].is_object(),
            "{shown}: platform.origin is missing (written before `make matrix` recorded it?)"
        );
        let report = Report::read(&path).unwrap_or_else(|e| panic!("{e}"));
        let p = &report.platform;
        // `gVisor 20240729.0 (systrap)` is in gvisor-20240729.0-systrap.json.
        let named = p.label.to_lowercase().replace(' ', "-").replace(['(', ')'], "");
        let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or_default();
        assert_eq!(
            stem.strip_prefix(RUNTIMES).unwrap_or(stem),
            named.as_str(),
            "{shown}: the file is named after its label"
        );
        if p.origin.kind == OriginKind::Guest {
            assert!(
                !p.origin.kernel_package.is_empty() && !p.origin.kernel_package_version.is_empty(),
                "{shown}: a guest report names its kernel package and version"
            );
            assert!(
                ["kvm", "tcg"].contains(&p.origin.accelerator.as_str()),
                "{shown}: accelerator {:?}",
                p.origin.accelerator
            );
        }
        if p.origin.kind == OriginKind::Sandbox {
            assert!(
                !p.origin.runtime_version.is_empty() && !p.origin.host_kernel.is_empty(),
                "{shown}: a sandbox report names its runtime's version and the host's kernel"
            );
            assert!(
                p.capabilities.iter().any(|c| c.name == "packet_capture"),
                "{shown}: a sandbox report lists what the platform offered"
            );
        }
        assert!(
            path.with_extension("md").is_file(),
            "{shown}: its Markdown report is missing"
        );
    }
}

/// The prefix of the host's report with the runtime clients' trials.
const RUNTIMES: &str = "runtimes-";

fn is_runtimes_report(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with(RUNTIMES))
}

/// One `make matrix` run writes them all: the same trials in each column, and a matrix naming
/// each; the runtimes report holds a column's trials and runtime trials besides.
#[test]
fn the_reference_reports_hold_the_same_trials_and_the_matrix_names_each() {
    let (runtimes, reports): (Vec<PathBuf>, Vec<PathBuf>) = reference_reports()
        .into_iter()
        .partition(|path| is_runtimes_report(path));
    let trials = |path: &Path| Report::read(path).unwrap_or_else(|e| panic!("{e}")).trials;
    let ids = |path: &Path| -> BTreeSet<String> { trials(path).into_iter().map(|t| t.id).collect() };
    let first = ids(&reports[0]);
    for path in &runtimes {
        let (with_client, native): (Vec<_>, Vec<_>) = trials(path).into_iter().partition(|t| t.client.is_some());
        let native: BTreeSet<String> = native.into_iter().map(|t| t.id).collect();
        assert_eq!(native, first, "{}: its native trials are a column's", path.display());
        assert!(!with_client.is_empty(), "{}: no runtime trial", path.display());
    }
    for path in &reports[1..] {
        let these = ids(path);
        assert_eq!(
            these.symmetric_difference(&first).collect::<Vec<_>>(),
            Vec::<&String>::new(),
            "{} and {} hold different trials",
            reports[0].display(),
            path.display()
        );
    }
    let matrix = std::fs::read_to_string(reference_dir().join("matrix.md")).expect("reports/reference/matrix.md");
    assert!(
        reference_dir().join("matrix.html").is_file(),
        "reports/reference/matrix.html"
    );
    for path in &reports {
        let name = path.file_name().and_then(|n| n.to_str()).expect("a file name");
        assert!(matrix.contains(name), "matrix.md does not name {name}");
    }
}

/// Reports written before `platform.origin` existed were host runs, and read as such.
#[test]
fn a_platform_without_an_origin_reads_as_a_host_run() {
    let platform: Platform = serde_json::from_str(r#"{"os":"linux","kernel":"6.1.0","arch":"x86_64","sysctls":{}}"#)
        .expect("an older platform");
    assert_eq!(platform.origin, Origin::default());
    assert_eq!(platform.origin.kind, OriginKind::Host);
    let written = serde_json::to_value(&platform).expect("serialises");
    assert_eq!(written["origin"], serde_json::json!({"kind": "host"}));
}

//! What each runtime saw, in report.md, report.html and the run's summary, on a real report
//! (`fixtures/runtimes.json`, written by `sockerr run --no-pcap --filter
//! abort.linger0.so_error_first.v4 --filter connect.closed_port.blocking.v4.loopback.go.net`):
//! one scenario's native trials with the runtime trials of its v4/loopback variant, and one
//! runtime trial whose native trial the run left out.

use std::path::PathBuf;

use sockerr_reports::html::anchor;
use sockerr_reports::runtimes::{RuntimeTable, native_id, pair};
use sockerr_reports::{Report, TrialReport, render_html, render_markdown, summary};

fn fixture() -> Report {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/runtimes.json");
    Report::read(&path).expect("the fixture is a report of this version")
}

const NATIVE: &str = "abort.linger0.so_error_first.v4.loopback";
const ORPHAN: &str = "connect.closed_port.blocking.v4.loopback.go.net";

fn scenario_trials<'r>(report: &'r Report, scenario: &str) -> Vec<&'r TrialReport> {
    report.trials.iter().filter(|t| t.scenario == scenario).collect()
}

/// The page with minijinja's escaped `/` (`&#x2f;`) written plainly, for matching.
fn html_of(report: &Report) -> String {
    render_html(report).expect("renders").replace("&#x2f;", "/")
}

/// The text of `markdown` from the line `from` up to the next line starting with `until`.
fn section<'m>(markdown: &'m str, from: &str, until: &str) -> &'m str {
    let start = markdown.find(from).unwrap_or_else(|| panic!("report.md has {from:?}"));
    let rest = &markdown[start..];
    let end = rest[from.len()..].find(until).map_or(rest.len(), |e| e + from.len());
    &rest[..end]
}

#[test]
fn the_runtime_trials_of_a_variant_are_paired_with_its_native_trial_by_their_id() {
    let report = fixture();
    let groups = pair(&scenario_trials(&report, "abort.linger0.so_error_first"));
    assert_eq!(groups.len(), 2, "v4/loopback and v4/two_hosts");
    assert_eq!(groups[0].native.map(|t| t.id.as_str()), Some(NATIVE));
    assert_eq!(groups[0].runtimes.len(), 9, "every API");
    assert!(groups[0].runtimes.iter().all(|t| native_id(t) == NATIVE));
    assert!(
        groups[1].runtimes.is_empty(),
        "runtime trials run in the first topology only"
    );
    let orphan = pair(&scenario_trials(&report, "connect.closed_port.blocking"));
    assert_eq!(orphan.len(), 1);
    assert_eq!(orphan[0].native, None, "the run left the native trial out");
}

#[test]
fn the_table_of_what_each_runtime_saw_is_aligned_with_the_native_client_steps() {
    let report = fixture();
    let groups = pair(&scenario_trials(&report, "abort.linger0.so_error_first"));
    let table = RuntimeTable::of(&groups[0]).expect("runtime trials ran beside the native trial");
    let native = groups[0].native.expect("a native trial");
    let client_labels: Vec<&str> = native
        .steps
        .iter()
        .filter(|s| s.actor == "client")
        .map(|s| s.label.as_str())
        .collect();
    assert_eq!(table.labels, client_labels, "the client's steps, in native order");
    let so_error = table.labels.iter().position(|l| l == "client.so_error#1").unwrap();
    assert_eq!(table.native[so_error].as_deref(), Some("ECONNRESET"));
    let java = table
        .rows
        .iter()
        .find(|r| r.api == "java.net.Socket")
        .expect("a Java row");
    assert!(java.runtime.starts_with("OpenJDK "), "{}", java.runtime);
    let cell = java.cells[so_error]
        .as_ref()
        .expect("the step was recorded, not dropped");
    assert_eq!(cell.outcome, "unsupported");
    assert!(cell.note.as_deref().is_some_and(|n| n.contains("SO_ERROR")), "{cell:?}");
    let read = table.labels.iter().position(|l| l == "client.read#1").unwrap();
    assert_eq!(
        java.cells[read].as_ref().map(|c| c.text.as_str()),
        Some("java.net.SocketException: Connection reset")
    );
}

#[test]
fn report_md_shows_the_runtime_table_after_the_native_trial_and_folds_the_runtime_trials() {
    let markdown = render_markdown(&fixture());
    let variant = section(&markdown, "#### v4/loopback: pass", "#### v4/two_hosts");
    let table = section(variant, "**What each runtime saw**", "<details>");
    let lines: Vec<&str> = table.lines().filter(|l| l.starts_with('|')).collect();
    assert!(
        lines[0].starts_with("| client | `client.connect#1` | `client.so_error#1` |"),
        "{}",
        lines[0]
    );
    assert!(
        lines[2].starts_with("| native (errno) | `ok=0` | `ECONNRESET` |"),
        "{}",
        lines[2]
    );
    assert_eq!(lines.len(), 3 + 9, "header, rule, errno row, a row per API");
    let java_link = format!("[java.net.Socket](#{})", anchor(&format!("{NATIVE}.java.net.Socket")));
    assert!(table.contains(&java_link), "{table}");
    // Why a step is unsupported is a footnote.
    assert!(
        table.contains("`unsupported` [1]") && table.contains("\n1. java.net.Socket client.so_error#1: "),
        "{table}"
    );
    // Each runtime trial follows, folded, with the anchor its row links to.
    let folded = section(variant, "<details><summary>The 9 runtime trials of ", "</details>");
    assert!(
        folded.contains(&format!("<a id=\"{NATIVE}.java.net.Socket\"></a>")),
        "{folded}"
    );
    assert!(
        folded.contains("##### v4/loopback java.net.Socket (OpenJDK "),
        "{folded}"
    );
    assert_eq!(folded.matches("\n##### ").count(), 9);
}

#[test]
fn report_md_summarises_the_native_outcomes_and_counts_the_runtime_trials_apart() {
    let markdown = render_markdown(&fixture());
    let summary = section(&markdown, "## Summary", "\n## The ");
    assert!(
        summary.contains("|  | `client.so_error#1` | `ECONNRESET` |  |"),
        "the native outcome alone, not mixed with the runtimes':\n{summary}"
    );
    assert!(!summary.contains("SocketException"), "{summary}");
    assert!(
        summary.contains("|  | runtime clients | 9 trials of 9 APIs (see the scenario) | 9 pass |"),
        "{summary}"
    );
    assert!(
        summary.contains(
            "| `connect.closed_port.blocking` | runtime clients | 1 trial of 1 API (see the scenario) | 1 pass |"
        ),
        "a scenario with runtime trials only:\n{summary}"
    );
}

#[test]
fn a_runtime_trial_whose_native_trial_is_missing_stands_on_its_own() {
    let report = fixture();
    let markdown = render_markdown(&report);
    let scenario = section(&markdown, "### connect.closed_port.blocking", "### ");
    assert!(scenario.contains("**What each runtime saw**"), "{scenario}");
    assert!(scenario.contains(&format!("<a id=\"{ORPHAN}\"></a>")), "{scenario}");
    let html = html_of(&report);
    assert!(html.contains(&format!("id=\"{ORPHAN}\"")), "its trial is on the page");
}

#[test]
fn report_html_folds_the_runtime_trials_inside_their_native_trial_and_links_each_row() {
    let html = html_of(&fixture());
    let native_at = html
        .find(&format!("<details class=\"trial\" id=\"{NATIVE}\""))
        .expect("the native trial");
    let table_at = html
        .find(&format!("<section class=\"runtimes\" id=\"{NATIVE}-runtimes\">"))
        .expect("the runtime table");
    let java_id = format!("{NATIVE}.java.net.Socket");
    let java_at = html
        .find(&format!("<details class=\"trial runtime\" id=\"{java_id}\""))
        .expect("the runtime trial");
    let two_hosts_at = html
        .find("<details class=\"trial\" id=\"abort.linger0.so_error_first.v4.two_hosts\"")
        .expect("the other native trial");
    assert!(native_at < table_at && table_at < java_at && java_at < two_hosts_at);
    assert!(html.contains(&format!("<a href=\"#{java_id}\">java.net.Socket</a>")));
    // The matrix keeps one cell per variant, with one line for its runtime trials.
    assert!(
        html.contains(&format!(
            "href=\"#{NATIVE}-runtimes\" title=\"what each runtime saw\">9 runtimes: pass</a>"
        )),
        "the matrix cell links to the table"
    );
    // An unsupported step says why on hover.
    assert!(
        html.contains(
            "<td class=\"outcome failed noted\" title=\"java.net.Socket exposes no SO_ERROR\">unsupported</td>"
        ),
        "the reason is the cell's title"
    );
    // Node.js's events are shown on hover too.
    assert!(html.contains("title=\"events: "), "Node.js events on hover");
}

#[test]
fn the_run_summary_lists_native_outcomes_and_counts_runtime_trials() {
    let text = summary::steps(&fixture());
    assert!(text.contains("\n  client.so_error#1      ECONNRESET\n"), "{text}");
    assert!(
        text.contains("\n  runtime clients        9 trials of 9 APIs: 9 pass\n"),
        "{text}"
    );
    assert!(!text.contains("SocketException"), "{text}");
}

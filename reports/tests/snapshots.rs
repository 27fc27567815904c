//! The renderers' output pinned as snapshots (the insta crate): a change to a table, a heading
//! or the page's markup shows as a diff of `tests/snapshots/*.snap` to review
//! (`cargo insta review`, or `INSTA_UPDATE=always cargo test -p sockerr-reports --test
//! snapshots` and `git diff`).

use std::collections::BTreeMap;
use std::path::PathBuf;

use sockerr_reports::matrix::{Column, Gap, Matrix, RUNTIME, Row, WIRE};
use sockerr_reports::{Report, render_markdown, render_matrix_html, render_matrix_markdown};

fn fixture() -> Report {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/report.json");
    Report::read(&path).expect("the fixture is a report of this version")
}

fn column(name: &str, file: &str, overrides: &[(&str, &str)]) -> Column {
    Column {
        name: name.into(),
        file: file.into(),
        documented: false,
        sysctl_overrides: overrides
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect::<BTreeMap<_, _>>(),
        about: format!("linux {name} x86_64, as root; host"),
    }
}

fn row(trial: &str, step: &str, cells: [Option<&str>; 3], differs: bool, everywhere: bool) -> Row {
    Row {
        trial: trial.into(),
        step: step.into(),
        cells: cells.iter().map(|c| c.map(String::from)).collect(),
        differs,
        everywhere,
        ..Row::default()
    }
}

/// Two runs (one with a sysctl override) and a documented column: one differing step, rows
/// the same everywhere, and a trial only the first run holds.
fn small_matrix() -> Matrix {
    let both = "close.time_wait.rst.rfc1337_off.v4.loopback";
    let only_a = "close.time_wait.rst.rfc1337_off.v6.loopback";
    Matrix {
        columns: vec![
            column("6.18", "a/report.json", &[]),
            column("rfc1337", "b/report.json", &[("net.ipv4.tcp_rfc1337", "1")]),
            Column::documented("suites/expectations/freebsd.toml"),
        ],
        rows: vec![
            row(
                both,
                "client.connect#1",
                [Some("ok=0"), Some("ok=0"), None],
                false,
                true,
            ),
            row(
                both,
                "server.state#1",
                [Some("ok=0"), Some("ok=0 | a"), Some("any")],
                true,
                true,
            ),
            row(
                both,
                WIRE,
                [Some("client>server S, server>client R"), Some("client>server S"), None],
                true,
                true,
            ),
            row(only_a, "client.connect#1", [Some("ok=0"), None, None], false, false),
            row(only_a, WIRE, [Some("(no segments)"), None, None], false, false),
        ],
        gaps: vec![Gap {
            only_in: vec!["6.18".into()],
            trials: vec![only_a.into()],
        }],
        forged: Default::default(),
    }
}

#[test]
fn matrix_markdown_of_two_runs_and_a_documented_column() {
    insta::assert_snapshot!(render_matrix_markdown(&small_matrix()));
}

#[test]
fn matrix_html_of_two_runs_and_a_documented_column() {
    insta::assert_snapshot!(render_matrix_html(&small_matrix()).expect("renders"));
}

#[test]
fn matrix_console_summary_of_two_runs_and_a_documented_column() {
    insta::assert_snapshot!(small_matrix().summary());
}

#[test]
fn report_markdown_of_the_fixture() {
    insta::assert_snapshot!(render_markdown(&fixture()));
}

fn runtimes_fixture() -> Report {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/runtimes.json");
    Report::read(&path).expect("the fixture is a report of this version")
}

#[test]
fn report_markdown_of_a_scenario_with_runtime_clients() {
    insta::assert_snapshot!(render_markdown(&runtimes_fixture()));
}

/// The HTML of what each runtime saw in one variant: the table, from its section's start to
/// its end.
#[test]
fn report_html_table_of_what_each_runtime_saw() {
    let page = sockerr_reports::render_html(&runtimes_fixture()).expect("renders");
    let start = page
        .find("<section class=\"runtimes\" id=\"abort.linger0.so_error_first.v4.loopback-runtimes\">")
        .expect("the table of the variant with runtime trials");
    let end = page[start..].find("</section>").expect("the section ends") + start + "</section>".len();
    insta::assert_snapshot!(&page[start..end]);
}

/// Two runs with a runtime trial: its rows follow its scenario's native trial and name the API.
fn runtime_matrix() -> Matrix {
    let native = "abort.linger0.write_first.v4.loopback";
    let java = "abort.linger0.write_first.v4.loopback.java.net.Socket";
    let runtime_row = |step: &str, cells: [Option<&str>; 2], differs: bool| Row {
        trial: java.into(),
        scenario: "abort.linger0.write_first".into(),
        client: Some("java.net.Socket".into()),
        step: step.into(),
        cells: cells.iter().map(|c| c.map(String::from)).collect(),
        differs,
        everywhere: true,
    };
    Matrix {
        columns: vec![
            column("6.18", "a/report.json", &[]),
            column("6.12", "b/report.json", &[]),
        ],
        rows: vec![
            Row {
                trial: native.into(),
                scenario: "abort.linger0.write_first".into(),
                client: None,
                step: "client.write#1".into(),
                cells: vec![Some("ECONNRESET".into()), Some("ECONNRESET".into())],
                differs: false,
                everywhere: true,
            },
            runtime_row(RUNTIME, [Some("OpenJDK 17.0.15"), Some("OpenJDK 21.0.5")], true),
            runtime_row(
                "client.write#1",
                [
                    Some("java.net.SocketException: Connection reset by peer"),
                    Some("java.net.SocketException: Connection reset by peer"),
                ],
                false,
            ),
        ],
        gaps: vec![],
        forged: Default::default(),
    }
}

#[test]
fn matrix_markdown_with_a_runtime_trial() {
    insta::assert_snapshot!(render_matrix_markdown(&runtime_matrix()));
}

#[test]
fn matrix_html_with_a_runtime_trial() {
    insta::assert_snapshot!(render_matrix_html(&runtime_matrix()).expect("renders"));
}

/// Forged trials of a real run (loopback, v4 and v6): the state x event matrix derived from
/// their ids, with what the program was told and what answered each injection.
fn forged_fixture() -> Report {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/forged.json");
    Report::read(&path).expect("the fixture is a report of this version")
}

#[test]
fn report_markdown_state_event_matrix_of_forged_trials() {
    insta::assert_snapshot!(sockerr_reports::forged::render_markdown_section(&forged_fixture()));
}

#[test]
fn report_html_state_event_matrix_of_forged_trials() {
    let page = sockerr_reports::render_html(&forged_fixture()).expect("renders");
    let start = page.find("<section id=\"forged\">").expect("the forged section");
    let end = start + page[start..].find("</section>").expect("its end") + "</section>".len();
    insta::assert_snapshot!(&page[start..end]);
}

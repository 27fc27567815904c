//! The HTML pages in a real browser: headless Chromium renders the page of the fixture report
//! to a screenshot, and its log must show no console message (no script error, no blocked
//! load); the page of a whole catalogue, and a matrix of two such runs, must open short, their
//! details folded (measured in the browser: the document's height once laid out). Skipped, with
//! the reason printed, where `/usr/bin/chromium` is missing (`apt-get install -y chromium` on
//! Debian); with `SOCKERR_REQUIRE_ALL=1` (CI) a missing Chromium fails instead.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use sockerr_harness::platform::OriginKind;
use sockerr_reports::matrix::{Column, Matrix, Row, WIRE, wire_cell};
use sockerr_reports::{Report, render_html, render_matrix_html};

const CHROMIUM: &str = "/usr/bin/chromium";
const WIDTH: u32 = 1280;
const HEIGHT: u32 = 2000;
/// A blank 1280 x 2000 screenshot compresses to about 11 KB; the report's top screen (header,
/// matrix, the first ladders) to several hundred.
const MIN_PNG_BYTES: u64 = 60_000;

/// The kernels' reports of the whole catalogue, as `make matrix` committed them: the host's
/// first, then the guests' (their names change with the versions each run measured).
fn kernel_reports() -> Vec<String> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("reference");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .flatten()
        .filter_map(|entry| entry.file_name().into_string().ok())
        .filter(|name| name.starts_with("linux-") && name.ends_with(".json"))
        .map(|name| format!("reference/{name}"))
        .collect();
    names.sort_by_key(|name| (read_report(name).platform.origin.kind != OriginKind::Host, name.clone()));
    assert!(names.len() >= 2, "two kernels' reports in {}", dir.display());
    names
}
/// The most a page may measure per trial it holds, in CSS pixels at 1280 px wide, with its
/// details folded (its matrix keeps a line per scenario on top). A catalogue of 185 trials
/// measured 250,000 px with every trial shown, about 1,350 px per trial.
const FOLDED_MAX_PX_PER_TRIAL: u64 = 70;

/// Whether Chromium is here; where it is not, says so, or fails where the environment
/// promises it (`SOCKERR_REQUIRE_ALL=1`).
fn chromium_available() -> bool {
    if Path::new(CHROMIUM).exists() {
        return true;
    }
    let why = format!("{CHROMIUM} not found (install it with `apt-get install -y chromium`)");
    if std::env::var_os("SOCKERR_REQUIRE_ALL").is_some_and(|v| v == "1") {
        panic!("{why}; SOCKERR_REQUIRE_ALL=1 turns this skip into a failure");
    }
    println!("skipped: {why}");
    false
}

fn read_report(relative: &str) -> Report {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(relative);
    Report::read(&path).unwrap_or_else(|e| panic!("{e}"))
}

fn fixture() -> Report {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/report.json");
    Report::read(&path).expect("the fixture is a report of this version")
}

/// What one headless run left behind.
struct Run {
    screenshot: PathBuf,
    log: String,
}

/// Renders `page` with headless Chromium into a screenshot, in a fresh profile.
fn screenshot(dir: &Path, name: &str, page: &str) -> Run {
    let shot = dir.join(format!("{name}.png"));
    let log = chromium(dir, name, page, &format!("--screenshot={}", shot.display()));
    Run { screenshot: shot, log }
}

/// The height of `page` laid out at the window's width, as the browser measures it
/// (`scrollHeight` of the document), after `before` (a script) ran at the end of the page. The
/// page's Content-Security-Policy is left out of the measured copy, since it may forbid the
/// measuring script (matrix.html has no script of its own).
fn page_height(dir: &Path, name: &str, page: &str, before: &str) -> u64 {
    let page: String = page
        .lines()
        .filter(|l| !l.contains("http-equiv=\"Content-Security-Policy\""))
        .map(|l| format!("{l}\n"))
        .collect();
    let measure = format!(
        "<script>{before}\ndocument.documentElement.setAttribute(\"data-height\", \
         document.documentElement.scrollHeight);</script>\n</body>"
    );
    let at = page.rfind("</body>").expect("the page ends its body");
    let page = format!("{}{measure}{}", &page[..at], &page[at + "</body>".len()..]);
    let dom = chromium(dir, name, &page, "--dump-dom");
    let value = dom
        .split("data-height=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_else(|| panic!("the page reported no height; chromium said:\n{dom}"));
    value.parse().expect("a height in pixels")
}

/// Runs headless Chromium on `page` (written to DIR/NAME.html) with one extra argument, in
/// a fresh profile; returns what it printed, stdout then stderr (its log).
fn chromium(dir: &Path, name: &str, page: &str, extra: &str) -> String {
    let html = dir.join(format!("{name}.html"));
    std::fs::write(&html, page).expect("write the page");
    let profile = tempfile::tempdir().expect("a profile directory");
    let out_path = dir.join(format!("{name}.out"));
    let log_path = dir.join(format!("{name}.log"));
    let out = std::fs::File::create(&out_path).expect("output file");
    let log = std::fs::File::create(&log_path).expect("log file");
    let mut child = Command::new(CHROMIUM)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(extra)
        .arg(format!("--window-size={WIDTH},{HEIGHT}"))
        .arg(format!("file://{}", html.display()))
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(log)
        .spawn()
        .expect("start chromium");
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        match child.try_wait().expect("wait for chromium") {
            Some(_) => break,
            None if Instant::now() > deadline => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("chromium did not finish within 120 s");
            }
            None => std::thread::sleep(Duration::from_millis(50)),
        }
    }
    let read = |p: &Path| std::fs::read_to_string(p).unwrap_or_default();
    format!("{}{}", read(&out_path), read(&log_path))
}

/// Console lines in Chromium's log: `[...:INFO:CONSOLE:12] "msg", source: ...` (older
/// versions: `CONSOLE(12)`), and uncaught exceptions however they are reported.
fn console_lines(log: &str) -> Vec<&str> {
    log.lines()
        .filter(|l| l.contains(":CONSOLE") || l.contains("CONSOLE(") || l.contains("Uncaught"))
        .collect()
}

/// Width and height from a PNG's IHDR chunk, after checking the signature.
fn png_size(bytes: &[u8]) -> Option<(u32, u32)> {
    const SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";
    if bytes.len() < 24 || &bytes[..8] != SIGNATURE || &bytes[12..16] != b"IHDR" {
        return None;
    }
    let be = |b: &[u8]| u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
    Some((be(&bytes[16..20]), be(&bytes[20..24])))
}

#[test]
fn the_html_report_renders_in_chromium_without_console_errors() {
    if !chromium_available() {
        return;
    }
    let dir = tempfile::tempdir().expect("a temporary directory");

    // First make sure the check can fail: a deliberate script error must show in the log.
    let broken = "<!DOCTYPE html><html><body><p>broken</p><script>definitelyNotDefined();</script></body></html>";
    let run = screenshot(dir.path(), "broken", broken);
    assert!(
        console_lines(&run.log)
            .iter()
            .any(|l| l.contains("definitelyNotDefined")),
        "chromium's log shows no console line for a deliberate error, so this test could not see one:\n{}",
        run.log
    );
    // ... and that the size check tells a near-empty page from a rendered report.
    let near_empty = std::fs::metadata(&run.screenshot)
        .expect("a screenshot of the broken page")
        .len();
    assert!(near_empty < MIN_PNG_BYTES, "a near-empty page gives {near_empty} bytes");

    let page = render_html(&fixture()).expect("renders");
    let run = screenshot(dir.path(), "report", &page);
    let errors = console_lines(&run.log);
    assert!(
        errors.is_empty(),
        "console messages while showing the report:\n{}",
        errors.join("\n")
    );
    let bytes = std::fs::read(&run.screenshot).expect("chromium wrote the screenshot");
    assert_eq!(png_size(&bytes), Some((WIDTH, HEIGHT)), "a PNG of the window's size");
    assert!(
        bytes.len() as u64 >= MIN_PNG_BYTES,
        "the screenshot is {} bytes, about what a blank page gives: did the page render?",
        bytes.len()
    );
    if let Ok(keep) = std::env::var("SOCKERR_KEEP_SCREENSHOT") {
        std::fs::copy(&run.screenshot, &keep).expect("copy the screenshot");
        println!("screenshot: {keep}");
    }
}

/// Issue: report.html of the whole catalogue was 250,000 px tall. With the scenarios and
/// trials folded it must open short; opened, the same page must be far taller (so the
/// measure sees what the folding hides, and the check can fail).
#[test]
fn the_report_of_the_whole_catalogue_opens_short_with_its_scenarios_and_trials_folded() {
    if !chromium_available() {
        return;
    }
    let dir = tempfile::tempdir().expect("a temporary directory");
    let report = read_report(&kernel_reports()[0]);
    assert!(report.trials.len() > 100, "a report of the whole catalogue");
    let page = render_html(&report).expect("renders");
    let folded = page_height(dir.path(), "folded", &page, "");
    let open = page_height(
        dir.path(),
        "open",
        &page,
        "document.querySelectorAll(\"details\").forEach(function (d) { d.open = true; });",
    );
    println!("report.html of the whole catalogue: {folded} px folded, {open} px opened");
    let most = FOLDED_MAX_PX_PER_TRIAL * report.trials.len() as u64;
    assert!(
        folded <= most,
        "report.html of {} trials is {folded} px tall folded (at most {most})",
        report.trials.len()
    );
    assert!(
        open > 5 * folded,
        "opened, the page is {open} px tall, folded {folded} px: the folding hides little"
    );
}

/// matrix.html of two runs of the whole catalogue: the differing rows open, the ~2,000 rows
/// that are the same folded, so the page opens on what differs.
#[test]
fn the_matrix_of_two_whole_runs_opens_short_with_the_rows_that_are_the_same_folded() {
    if !chromium_available() {
        return;
    }
    let dir = tempfile::tempdir().expect("a temporary directory");
    let kernels = kernel_reports();
    let (whole_catalogue, other_kernel) = (&kernels[0], &kernels[1]);
    let (a, b) = (read_report(whole_catalogue), read_report(other_kernel));
    let mut rows = Vec::new();
    for t in &a.trials {
        let other = b.trials.iter().find(|o| o.id == t.id);
        let cells = |step: Option<&str>| -> Vec<Option<String>> {
            [Some(t), other]
                .iter()
                .map(|trial| {
                    let trial = (*trial)?;
                    match step {
                        Some(label) => trial
                            .steps
                            .iter()
                            .find(|s| s.label == label)
                            .map(|s| s.outcome_with_signals()),
                        None => Some(wire_cell(trial)),
                    }
                })
                .collect()
        };
        for step in t.steps.iter().map(|s| Some(s.label.as_str())).chain([None]) {
            let cells = cells(step);
            rows.push(Row {
                trial: t.id.clone(),
                scenario: t.scenario.clone(),
                client: t.client.as_ref().map(|c| c.api.clone()),
                step: step.unwrap_or(WIRE).to_string(),
                differs: cells[0] != cells[1],
                everywhere: other.is_some(),
                cells,
            });
        }
    }
    let matrix = Matrix {
        columns: vec![
            Column::measured(whole_catalogue, &a),
            Column::measured(other_kernel, &b),
        ],
        rows,
        gaps: Vec::new(),
        forged: Default::default(),
    };
    assert!(matrix.same().count() > 1000, "most rows are the same");
    let page = render_matrix_html(&matrix).expect("renders");
    let folded = page_height(dir.path(), "matrix-folded", &page, "");
    let open = page_height(
        dir.path(),
        "matrix-open",
        &page,
        "document.querySelectorAll(\"details\").forEach(function (d) { d.open = true; });",
    );
    println!("matrix.html of two whole runs: {folded} px folded, {open} px opened");
    let most = FOLDED_MAX_PX_PER_TRIAL * a.trials.len() as u64;
    assert!(
        folded <= most,
        "matrix.html of {} rows is {folded} px tall folded (at most {most})",
        matrix.rows.len()
    );
    assert!(open > 5 * folded, "opened {open} px, folded {folded} px");
}

/// A report with runtime trials (`fixtures/runtimes.json`: one variant with a trial per runtime
/// API). The page must show no console message, and folded it must be about as tall as the
/// same page without its runtime trials: they fold under their native trial, adding one line
/// to its matrix cell, instead of a trial each on the page.
#[test]
fn runtime_trials_fold_under_their_native_trial_and_barely_lengthen_the_page() {
    if !chromium_available() {
        return;
    }
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/runtimes.json");
    let mut with_runtimes = Report::read(&path).expect("the fixture");
    // The scenario with native trials (the other has a runtime trial only, a scenario more).
    with_runtimes
        .trials
        .retain(|t| t.scenario == "abort.linger0.so_error_first");
    let runtime_trials = with_runtimes.trials.iter().filter(|t| t.client.is_some()).count();
    assert!(runtime_trials >= 9, "the fixture has a trial per API");
    let page = render_html(&with_runtimes).expect("renders");
    let run = screenshot(dir.path(), "runtimes", &page);
    let errors = console_lines(&run.log);
    assert!(errors.is_empty(), "console messages:\n{}", errors.join("\n"));

    let mut native_only = with_runtimes.clone();
    native_only.trials.retain(|t| t.client.is_none());
    let open_all = "document.querySelectorAll(\"details\").forEach(function (d) { d.open = true; });";
    let folded = page_height(dir.path(), "runtimes-folded", &page, "");
    let open = page_height(dir.path(), "runtimes-open", &page, open_all);
    let without = page_height(
        dir.path(),
        "natives-folded",
        &render_html(&native_only).expect("renders"),
        "",
    );
    let without_open = page_height(
        dir.path(),
        "natives-open",
        &render_html(&native_only).expect("renders"),
        open_all,
    );
    println!(
        "report.html with {runtime_trials} runtime trials: {folded} px folded ({without} px without them), \
         {open} px opened ({without_open} px without them)"
    );
    assert!(
        folded <= without + 60,
        "{runtime_trials} folded runtime trials lengthen the page from {without} to {folded} px"
    );
    assert!(
        open > without_open + 2000,
        "opened, the runtime trials show ({open} px against {without_open} px without them)"
    );
}

//! The HTML report in a real browser: headless Chromium renders the page of the fixture
//! report to a screenshot, and its log must show no console message (no script error, no
//! blocked load). Skipped, with the reason printed, where `/usr/bin/chromium` is missing
//! (`apt-get install -y chromium` on Debian).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use sockerr_reports::{Report, render_html};

const CHROMIUM: &str = "/usr/bin/chromium";
const WIDTH: u32 = 1280;
const HEIGHT: u32 = 2000;
/// A blank 1280 x 2000 screenshot compresses to about 11 KB; the report's top screen (header,
/// matrix, the first ladders) to several hundred.
const MIN_PNG_BYTES: u64 = 60_000;

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
    let html = dir.join(format!("{name}.html"));
    std::fs::write(&html, page).expect("write the page");
    let shot = dir.join(format!("{name}.png"));
    let profile = tempfile::tempdir().expect("a profile directory");
    let log_path = dir.join(format!("{name}.log"));
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
        .arg(format!("--screenshot={}", shot.display()))
        .arg(format!("--window-size={WIDTH},{HEIGHT}"))
        .arg(format!("file://{}", html.display()))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
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
    Run {
        screenshot: shot,
        log: std::fs::read_to_string(&log_path).unwrap_or_default(),
    }
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
    if !Path::new(CHROMIUM).exists() {
        println!("skipped: {CHROMIUM} not found (install it with `apt-get install -y chromium`)");
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

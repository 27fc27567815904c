//! README's table of what programs are told: the source article's Java claim ("Connection
//! reset" when reading after the reset, "Connection reset by peer" when writing, "Broken pipe"
//! the second time) and, for the scenarios that answer its situations 1, 3, 4, 5 and 7, what
//! each runtime reported at each client step where the call or a runtime failed, beside the
//! errno. Generated from one report (a committed reference report), whatever it shows; the
//! section names that report so that regenerating it (and the test) reads the same one.

use std::fmt::Write;

use sockerr_harness::Step;
use sockerr_reports::runtimes::{api_of, is_runtime, native_id};
use sockerr_reports::signature::without_ephemeral_ports;
use sockerr_reports::{Report, TrialReport};

use crate::scenario::Scenario;

/// The article's situations the table answers: the port is not open (1), early close (3),
/// the peer crashes (4), a segment of no connection (5), reset vs reset by peer vs broken
/// pipe (7).
pub const SITUATIONS: [u8; 5] = [1, 3, 4, 5, 7];

/// The API shown per runtime, one column each; the others are listed under the table where
/// they differ from it.
pub const SHOWN: [(&str, &str); 5] = [
    ("Java", "java.net.Socket"),
    ("Python", "python.socket"),
    ("Go", "go.net"),
    ("Node.js", "node.net"),
    ("Rust", "rust.std"),
];

/// The article's Java claim, step by step: what the program does, and the step of the
/// catalogue that does it.
const JAVA_CLAIM: [(&str, &str, &str, &str); 3] = [
    (
        "reads after the peer's reset",
        "Connection reset",
        "abort.linger0.read_first",
        "client.read#1",
    ),
    (
        "writes after the peer's reset",
        "Connection reset by peer",
        "abort.linger0.write_first",
        "client.write#1",
    ),
    (
        "writes a second time",
        "Broken pipe",
        "abort.linger0.write_first",
        "client.write#2",
    ),
];

/// Error types whose name adds nothing to the message (the message says what it is).
const PLAIN_TYPES: [&str; 4] = ["Error", "std::io::Error", "*net.OpError", "*errors.errorString"];

/// The path of the report a generated section names: the first `` `...json` `` in it.
pub fn report_named(section: &str) -> Option<String> {
    section
        .split('`')
        .skip(1)
        .step_by(2)
        .find(|s| s.ends_with(".json"))
        .map(str::to_string)
}

/// What the program was told at a step, as a README cell: the errno for a native step; for a
/// runtime step the error's type and message (the type left out where it is a plain error
/// type), the code the runtime exposes, or what the call returned; ephemeral ports `:*`.
fn told(step: &Step) -> String {
    let Some(answer) = &step.runtime else {
        return step.outcome_with_signals();
    };
    let text = match (answer.outcome.as_str(), &answer.error_type, &answer.message) {
        ("error", Some(t), Some(message)) if PLAIN_TYPES.contains(&t.as_str()) => match &answer.code {
            Some(code) if !message.contains(code.as_str()) => format!("{message} [{code}]"),
            _ => message.clone(),
        },
        ("error", Some(t), Some(message)) => format!("{t}: {message}"),
        _ => answer.summary(),
    };
    without_ephemeral_ports(&text)
}

/// A Markdown code span in a table cell.
fn code(text: &str) -> String {
    format!("`{}`", text.replace('|', "\\|").replace('`', "'"))
}

/// The runtime trials of the report in its first family and topology with runtime trials,
/// and the native trials they belong to.
struct Measured<'r> {
    report: &'r Report,
    /// `v4/loopback`.
    variant: Option<(String, String)>,
}

impl<'r> Measured<'r> {
    fn of(report: &'r Report) -> Measured<'r> {
        let variant = report
            .trials
            .iter()
            .find(|t| is_runtime(t) && !t.steps.is_empty())
            .map(|t| (t.family.to_string(), t.topology.to_string()));
        Measured { report, variant }
    }

    fn in_variant(&self, t: &TrialReport) -> bool {
        self.variant
            .as_ref()
            .is_some_and(|(f, topology)| t.family.to_string() == *f && t.topology.to_string() == *topology)
    }

    /// The runtime trial of `scenario` made by `api`, in the chosen variant.
    fn runtime(&self, scenario: &str, api: &str) -> Option<&'r TrialReport> {
        self.report
            .trials
            .iter()
            .find(|t| t.scenario == scenario && api_of(t) == Some(api) && self.in_variant(t) && !t.steps.is_empty())
    }

    /// The native trial of `scenario` in the chosen variant.
    fn native(&self, scenario: &str) -> Option<&'r TrialReport> {
        let any = SHOWN.iter().find_map(|(_, api)| self.runtime(scenario, api))?;
        self.report.trials.iter().find(|t| t.id == native_id(any))
    }

    /// The versions of the runtimes, as their clients reported them, in [`SHOWN`] order.
    fn versions(&self) -> Vec<String> {
        let mut versions: Vec<String> = Vec::new();
        for (_, api) in SHOWN {
            let version = self
                .report
                .trials
                .iter()
                .filter(|t| api_of(t) == Some(api))
                .find_map(|t| t.client.as_ref().map(|c| c.runtime.clone()).filter(|v| !v.is_empty()));
            if let Some(v) = version.filter(|v| !versions.contains(v)) {
                versions.push(v);
            }
        }
        versions
    }
}

/// Whether a runtime reported an error at the step, end of file aside (Go reports it as the
/// error `EOF`): a call it cannot make, or a value, is no error.
fn reported_error(step: &Step) -> bool {
    step.runtime
        .as_ref()
        .is_some_and(|a| a.outcome == "error" && a.fields.get("is_eof").and_then(|v| v.as_bool()) != Some(true))
}

fn step<'t>(trial: Option<&'t TrialReport>, label: &str) -> Option<&'t Step> {
    trial?.steps.iter().find(|s| s.label == label)
}

/// The generated section: where it was measured, the article's Java claim, the table, and
/// where the other APIs differ from the one shown.
pub fn markdown(path: &str, report: &Report, scenarios: &[Scenario]) -> String {
    let mut out = String::new();
    let measured = Measured::of(report);
    let p = &report.platform;
    let Some((family, topology)) = &measured.variant else {
        let _ = writeln!(
            out,
            "`{path}` ({} {}) holds no runtime trial: regenerate this part from a report that does \
             (`sockerr list --readme README.md --report FILE`).",
            p.os, p.kernel
        );
        return out;
    };
    let _ = writeln!(
        out,
        "Measured in `{path}` ({} {}, {}; {family}/{topology}; {}).\n",
        p.os,
        p.kernel,
        p.arch,
        measured.versions().join(", ")
    );

    let _ = writeln!(out, "The article's Java claim, against `java.net.Socket`:\n");
    for (what, claimed, scenario, label) in JAVA_CLAIM {
        let java = step(measured.runtime(scenario, "java.net.Socket"), label);
        let native = step(measured.native(scenario), label);
        let shown = java.map_or_else(|| "(not measured in this report)".to_string(), |s| code(&told(s)));
        let verdict = match java.and_then(|s| s.runtime.as_ref()).and_then(|a| a.message.as_deref()) {
            Some(message) if message == claimed => "as the article says".to_string(),
            Some(_) => format!("the article says \"{claimed}\""),
            None => "the article says \"".to_string() + claimed + "\"",
        };
        let errno = native.map_or(String::new(), |s| format!(", the call returned {}", code(&told(s))));
        let _ = writeln!(
            out,
            "- a program that {what} is told {shown} ({verdict}; `{scenario}` `{label}`{errno})"
        );
    }

    let _ = writeln!(
        out,
        "\nWhat each runtime told the program at the client's steps where the call failed or a runtime reported an \
         error (end of file aside), in the scenarios that answer the article's situations {}:\n",
        SITUATIONS.map(|n| n.to_string()).join(", ")
    );
    let headers: Vec<String> = SHOWN.iter().map(|(name, api)| format!("{name} `{api}`")).collect();
    let _ = writeln!(out, "| # | scenario | step | errno | {} |", headers.join(" | "));
    let _ = writeln!(out, "|---|---|---|---|{}", "---|".repeat(SHOWN.len()));
    // Per other API (in report order): the steps where it or its runtime's API in the table
    // reported an error and the two told the program different things, and the first of them.
    let mut others: Vec<(String, usize, String)> = Vec::new();
    for scenario in scenarios
        .iter()
        .filter(|s| SITUATIONS.iter().any(|n| s.situations.contains(n)))
    {
        let Some(native) = measured.native(scenario.id) else {
            continue;
        };
        let situations: Vec<String> = SITUATIONS
            .iter()
            .filter(|n| scenario.situations.contains(n))
            .map(|n| n.to_string())
            .collect();
        let mut first = true;
        for native_step in native.steps.iter().filter(|s| s.actor == "client") {
            let label = native_step.label.as_str();
            let shown: Vec<Option<&Step>> = SHOWN
                .iter()
                .map(|(_, api)| step(measured.runtime(scenario.id, api), label))
                .collect();
            if native_step.succeeded() && !shown.iter().flatten().any(|s| reported_error(s)) {
                continue;
            }
            let cells: Vec<String> = shown
                .iter()
                .map(|s| s.map_or(String::new(), |s| code(&told(s))))
                .collect();
            let (number, name) = if first {
                (situations.join(", "), format!("`{}`", scenario.id))
            } else {
                (String::new(), String::new())
            };
            first = false;
            let _ = writeln!(
                out,
                "| {number} | {name} | `{label}` | {} | {} |",
                code(&told(native_step)),
                cells.join(" | ")
            );
            // The other API of each runtime, where it told the program something else.
            for t in report
                .trials
                .iter()
                .filter(|t| t.scenario == scenario.id && is_runtime(t) && measured.in_variant(t))
            {
                let api = api_of(t).unwrap_or_default();
                let Some(sibling) = SHOWN.iter().position(|(_, shown_api)| {
                    *shown_api != api && shown_api.split('.').next() == api.split('.').next()
                }) else {
                    continue;
                };
                let (Some(theirs), mine) = (step(Some(t), label), shown[sibling]) else {
                    continue;
                };
                let an_error = reported_error(theirs) || mine.is_some_and(reported_error);
                if an_error && mine.map(told) != Some(told(theirs)) {
                    let example = format!(
                        "`{}` `{label}`: {} where `{}` was told {}",
                        scenario.id,
                        code(&told(theirs)),
                        SHOWN[sibling].1,
                        mine.map_or_else(|| "nothing".to_string(), |s| code(&told(s)))
                    );
                    match others.iter_mut().find(|(a, _, _)| a == api) {
                        Some((_, n, _)) => *n += 1,
                        None => others.push((api.to_string(), 1, example)),
                    }
                }
            }
        }
    }
    if !others.is_empty() {
        let _ = writeln!(
            out,
            "\nA runtime's other API reported another error (or none) at some of these steps (every report shows \
             them all):\n"
        );
        for (api, n, example) in others {
            let _ = writeln!(
                out,
                "- `{api}` at {n} step{}, e.g. {example}",
                if n == 1 { "" } else { "s" }
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue;

    fn fixture() -> Report {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../reports/tests/fixtures/runtimes.json");
        Report::read(&path).expect("the fixture")
    }

    #[test]
    fn the_section_names_the_report_it_was_generated_from() {
        let text = markdown("reports/x.json", &fixture(), &catalogue::all());
        assert!(text.starts_with("Measured in `reports/x.json` (linux "), "{text}");
        assert_eq!(report_named(&text).as_deref(), Some("reports/x.json"));
        assert_eq!(report_named("nothing here"), None);
    }

    #[test]
    fn a_runtime_step_reads_as_its_type_and_message_a_plain_type_left_out() {
        let report = fixture();
        let trial = |api: &str| {
            report
                .trials
                .iter()
                .find(|t| t.scenario == "abort.linger0.so_error_first" && api_of(t) == Some(api))
                .unwrap()
        };
        let write = |api: &str| told(step(Some(trial(api)), "client.write#1").unwrap());
        assert_eq!(write("java.net.Socket"), "java.net.SocketException: Broken pipe");
        assert_eq!(write("python.socket"), "BrokenPipeError: [Errno 32] Broken pipe");
        assert_eq!(
            write("go.net"),
            "write tcp 127.0.0.1:*->127.0.0.1:4000: write: broken pipe [EPIPE]"
        );
        assert_eq!(
            write("node.net"),
            "Cannot call write after a stream was destroyed [ERR_STREAM_DESTROYED]"
        );
        assert_eq!(write("rust.std"), "Broken pipe (os error 32) [EPIPE]");
    }

    #[test]
    fn the_table_holds_the_failing_client_steps_of_the_situations_scenarios_the_report_measured() {
        let text = markdown("r.json", &fixture(), &catalogue::all());
        // abort.linger0.so_error_first answers situation 7; the fixture measured it.
        let rows: Vec<&str> = text.lines().filter(|l| l.starts_with("| ")).collect();
        assert!(
            rows[0].starts_with("| # | scenario | step | errno | Java `java.net.Socket` |"),
            "{text}"
        );
        assert!(
            rows.iter().any(|r| r.starts_with(
                "| 7 | `abort.linger0.so_error_first` | `client.so_error#1` | `ECONNRESET` | `unsupported` |"
            )),
            "{text}"
        );
        assert!(
            !rows
                .iter()
                .any(|r| r.contains("client.connect#1") || r.contains("client.so_error#2")),
            "steps where nothing failed are left out:\n{text}"
        );
        assert!(
            text.contains(
                "- `java.nio.channels.SocketChannel` at 1 step, e.g. `abort.linger0.so_error_first` `client.write#1`: \
                 `java.io.IOException: Broken pipe` where `java.net.Socket` was told `java.net.SocketException: Broken pipe`"
            ),
            "{text}"
        );
        // The Java claim's scenarios are not in the fixture: said so, not made up.
        assert!(text.contains("is told (not measured in this report)"), "{text}");
    }

    #[test]
    fn a_report_without_runtime_trials_says_so() {
        let mut report = fixture();
        report.trials.retain(|t| !is_runtime(t));
        let text = markdown("reports/reference/old.json", &report, &catalogue::all());
        assert!(text.contains("holds no runtime trial"), "{text}");
        assert_eq!(report_named(&text).as_deref(), Some("reports/reference/old.json"));
    }
}

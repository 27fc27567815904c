//! What runtimes told programs, in `explain`: for an errno, the messages the report's runtime
//! trials measured per API and version (where the native call returned that errno, or the
//! runtime exposes it as its code), the documented ones only for runtimes nothing measured,
//! and where the documentation disagrees with the measurement (the measurement holds); for a
//! scenario, what each runtime saw at each client step beside the native outcome.
//!
//! One concept in one file, longer than 600 lines only by the tests that follow the code.

use std::collections::BTreeMap;
use std::fmt::Write;

use sockerr_harness::Step;
use sockerr_reports::runtimes::{self, RuntimeTable};
use sockerr_reports::signature::without_ephemeral_ports;
use sockerr_reports::{Report, TrialReport};

use super::layout::{variant, wrap};
use crate::knowledge::runtimes::{self as documented, Shown};

/// One runtime step of the report that concerns an errno.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Measured {
    /// `java.net.Socket`.
    pub api: String,
    /// `OpenJDK 17.0.15`.
    pub runtime: String,
    /// The call, from the step label: `read`, `write`, `connect`.
    pub verb: String,
    /// What the runtime reported, ephemeral ports written `:*`.
    pub text: String,
    /// The scenario of the step.
    pub scenario: String,
    /// The step's label: `client.read#1`.
    pub label: String,
    /// The native call's outcome at this step, when it was not the errno itself (the runtime
    /// exposes the errno where the call returned another).
    pub native: Option<String>,
    /// Whether the runtime exposed the errno itself as its code (`errno`, `err.code`,
    /// `raw_os_error`).
    pub exposed: bool,
    /// Whether the client's process lived on after the step.
    pub survived: bool,
    /// Whether the runtime reported an error (rather than a value, or a call it cannot make).
    pub error: bool,
    /// Rust's `io::ErrorKind` of the error, where the client reports one.
    pub kind: Option<String>,
}

/// `read` from `client.read#1`.
fn verb_of(label: &str) -> &str {
    let after_actor = label.split_once('.').map_or(label, |(_, rest)| rest);
    after_actor.split('#').next().unwrap_or(after_actor)
}

/// Every runtime step of `report` whose native counterpart (the same step of the native
/// trial) returned `errno`, or whose runtime exposes `errno` as its code; in report order.
pub fn measured(errno: &str, report: &Report) -> Vec<Measured> {
    let by_id: BTreeMap<&str, &TrialReport> = report.trials.iter().map(|t| (t.id.as_str(), t)).collect();
    let mut out = Vec::new();
    for trial in report.trials.iter().filter(|t| runtimes::is_runtime(t)) {
        let native = by_id.get(runtimes::native_id(trial)).copied();
        let client = trial.client.as_ref().expect("a runtime trial names its client");
        for step in trial.steps.iter().filter(|s| s.runtime.is_some()) {
            let answer = step.runtime.as_ref().expect("a runtime step");
            let native_step: Option<&Step> = native.and_then(|n| n.steps.iter().find(|s| s.label == step.label));
            let native_errno = native_step.and_then(|s| s.result.errno.as_deref());
            if native_errno != Some(errno) && answer.code.as_deref() != Some(errno) {
                continue;
            }
            out.push(Measured {
                api: client.api.clone(),
                runtime: client.runtime.clone(),
                verb: verb_of(&step.label).to_string(),
                text: without_ephemeral_ports(&answer.summary()),
                scenario: trial.scenario.clone(),
                label: step.label.clone(),
                error: answer.outcome == "error",
                kind: answer.fields.get("kind").and_then(|k| k.as_str()).map(str::to_string),
                native: native_step
                    .filter(|s| s.result.errno.as_deref() != Some(errno))
                    .map(|s| s.outcome_with_signals()),
                exposed: answer.code.as_deref() == Some(errno),
                survived: answer.ended.is_none() && answer.outcome != "lost",
            });
        }
    }
    out
}

/// The runtime a documented entry's name stands for, as API ids begin: `Java (OpenJDK)` ->
/// `java`, `Node.js` -> `node`, `Rust std` -> `rust`.
fn api_prefix(documented_runtime: &str) -> String {
    documented_runtime
        .split([' ', '.'])
        .next()
        .unwrap_or(documented_runtime)
        .to_ascii_lowercase()
}

fn runtime_of(api: &str) -> &str {
    api.split('.').next().unwrap_or(api)
}

/// Whether a documented entry applies to a measured step: its runtime, and its call kind
/// (`read (java.net.Socket)`, `write (SocketChannel)`, `dial`, `any call`). `None` where the
/// entry cannot be checked here: it names another platform (`write (macOS)`) or a call the
/// runtime clients do not make.
fn applies(shown: &Shown, m: &Measured) -> Option<bool> {
    let (kind, qualifier) = match shown.when.split_once(" (") {
        Some((kind, rest)) => (kind, Some(rest.trim_end_matches(')'))),
        None => (shown.when, None),
    };
    if let Some(q) = qualifier
        && !(q.contains("Socket") || q.contains("Channel"))
    {
        return None;
    }
    let verb = match kind {
        "dial" => "connect",
        "any call" => "",
        "read" | "write" | "connect" => kind,
        _ => return None,
    };
    Some(
        runtime_of(&m.api) == api_prefix(shown.runtime)
            && (verb.is_empty() || m.verb == verb)
            && qualifier.is_none_or(|q| m.api.ends_with(q)),
    )
}

/// A behaviour rather than a message: `no SIGPIPE death`, `retried inside ...`, `handled by
/// the runtime ...`, Rust's `Err(BrokenPipe), no SIGPIPE death`.
fn is_behaviour(shows: &str) -> bool {
    ["no SIGPIPE", "retried", "handled by", "Err("]
        .iter()
        .any(|p| shows.starts_with(p))
}

/// Whether `m` contradicts a documented entry. Most entries are a message, compared by text
/// ([`agrees`]); a few are a behaviour: `no SIGPIPE death` (contradicted by a client that died)
/// and `retried inside ...` / `handled by the runtime ...` (contradicted by a runtime that
/// reported the errno after all).
fn contradicts(shown: &Shown, m: &Measured) -> bool {
    debug_assert!(m.error || is_behaviour(&shown.shows));
    if let Some(kind) = shown.shows.strip_prefix("Err(").and_then(|k| k.split(')').next()) {
        // Rust's kind, and whether the client lived on when the entry says it does.
        m.error && m.kind.as_deref() != Some(kind) || shown.shows.contains("no SIGPIPE death") && !m.survived
    } else if shown.shows.starts_with("no SIGPIPE") {
        !m.survived
    } else if ["retried", "handled by"].iter().any(|p| shown.shows.starts_with(p)) {
        m.exposed
    } else {
        !agrees(&shown.shows, &m.text)
    }
}

/// `text` with every `address:port` (`198.18.0.1:40000`, `127.0.0.1:*`, `[::1]:4000`) written
/// `ADDR`, so that a documented message with example addresses compares with a measured one.
fn without_addresses(text: &str) -> String {
    text.split(' ')
        .map(|word| {
            word.split("->")
                .map(|part| {
                    let address = part.trim_end_matches(':');
                    let host_port = address.rsplit_once(':').is_some_and(|(host, port)| {
                        (port == "*" || port.chars().all(|c| c.is_ascii_digit()) && !port.is_empty())
                            && (host.contains('.') || host.starts_with('['))
                    });
                    if host_port {
                        part.replacen(address, "ADDR", 1)
                    } else {
                        part.to_string()
                    }
                })
                .collect::<Vec<_>>()
                .join("->")
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Whether a documented text agrees with what was measured: one contains the other once
/// example addresses are left out (a documented `Error: read ECONNRESET` agrees with the
/// measured `Error: read ECONNRESET [ECONNRESET]`).
fn agrees(shows: &str, measured: &str) -> bool {
    let (shows, measured) = (without_addresses(shows), without_addresses(measured));
    let message = measured.split_once(": ").map_or(measured.as_str(), |(_, m)| m);
    let message = message.rsplit_once(" [").map_or(message, |(m, _)| m);
    measured.contains(&shows) || shows.contains(&measured) || shows.contains(message)
}

/// Values grouped by key, the keys in first-seen order.
struct Grouped<K, V>(Vec<(K, Vec<V>)>);

impl<K, V> Default for Grouped<K, V> {
    fn default() -> Self {
        Grouped(Vec::new())
    }
}

impl<K: PartialEq, V> Grouped<K, V> {
    fn push(&mut self, key: K, value: V) {
        match self.0.iter_mut().find(|(k, _)| *k == key) {
            Some((_, values)) => values.push(value),
            None => self.0.push((key, vec![value])),
        }
    }
}

/// How many scenarios a line of [`errno_section`] names before it counts the rest.
const SITES_SHOWN: usize = 4;

/// `abort.linger0.read_first client.read#1, client.read#2 (native ok=0); ... and 3 more
/// scenarios`: the steps that showed one text, each scenario and label once (the variants
/// agree, or the text would differ).
fn sites(steps: &[&Measured]) -> String {
    let mut scenarios: Vec<(&str, Vec<String>)> = Vec::new();
    for m in steps {
        let label = match &m.native {
            Some(native) => format!("{} (native {native})", m.label),
            None => m.label.clone(),
        };
        match scenarios.iter_mut().find(|(s, _)| *s == m.scenario) {
            Some((_, labels)) if labels.contains(&label) => {}
            Some((_, labels)) => labels.push(label),
            None => scenarios.push((&m.scenario, vec![label])),
        }
    }
    let mut text: Vec<String> = scenarios
        .iter()
        .take(SITES_SHOWN)
        .map(|(s, labels)| format!("{s} {}", labels.join(", ")))
        .collect();
    if scenarios.len() > SITES_SHOWN {
        text.push(format!("and {} more scenarios", scenarios.len() - SITES_SHOWN));
    }
    text.join("; ")
}

/// How runtimes show `name`: Rust's kind live, the measured messages per API and version, the
/// documentation where it disagrees with them, and the documented entries of runtimes nothing
/// measured.
pub fn errno_section(name: &str, code: i32, report: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "\nhow runtimes show {name}:");
    let rust = documented::rust(code);
    let _ = writeln!(
        out,
        "  {:<15} live        io::ErrorKind::{:?}; Display \"{}\" (std::io::Error::from_raw_os_error({code}))",
        "Rust std", rust.kind, rust.display
    );
    let measured = measured(name, report);
    if measured.is_empty() {
        let _ = writeln!(
            out,
            "  measured    no runtime trial of this report reached {name} (runtime trials: {})",
            report.trials.iter().filter(|t| runtimes::is_runtime(t)).count()
        );
    } else {
        let _ = writeln!(
            out,
            "  measured in this report, per API and version (steps whose native call returned {name}, or whose \
             runtime exposes it):"
        );
    }
    // (api, runtime) -> (verb, text) -> the steps that showed it, each in first-seen order.
    let mut apis: Grouped<(&str, &str), &Measured> = Grouped::default();
    for m in &measured {
        apis.push((m.api.as_str(), m.runtime.as_str()), m);
    }
    for ((api, runtime), steps) in &apis.0 {
        let _ = writeln!(out, "    {api} ({runtime})");
        let mut texts: Grouped<(&str, &str), &Measured> = Grouped::default();
        for m in steps {
            texts.push((m.verb.as_str(), m.text.as_str()), m);
        }
        for ((verb, text), steps) in &texts.0 {
            let _ = writeln!(out, "      {verb:<9} {}", wrap(text, "                "));
            let _ = writeln!(out, "                in {}", wrap(&sites(steps), "                   "));
        }
    }

    let docs = documented::documented(name);
    let mut disagreements = Vec::new();
    let mut unmeasured = Vec::new();
    for shown in &docs {
        let measured_runtime = measured.iter().any(|m| runtime_of(&m.api) == api_prefix(shown.runtime));
        if !measured_runtime {
            unmeasured.push(shown);
            continue;
        }
        // A documented text describes an error: compare it with the errors measured (a value
        // or an unsupported call says nothing about it), a behaviour with every step.
        let relevant: Vec<&Measured> = measured
            .iter()
            .filter(|m| applies(shown, m) == Some(true))
            .filter(|m| m.error || is_behaviour(&shown.shows))
            .collect();
        if relevant.is_empty() {
            continue;
        }
        let contradicted: Vec<&Measured> = relevant.iter().copied().filter(|m| contradicts(shown, m)).collect();
        if !contradicted.is_empty() {
            disagreements.push((shown, contradicted));
        }
    }
    if !disagreements.is_empty() {
        let _ = writeln!(
            out,
            "  documentation that the measurement contradicts (the measurement holds):"
        );
        for (shown, contradicted) in &disagreements {
            let _ = writeln!(
                out,
                "    {} {}: documented \"{}\"",
                shown.runtime, shown.when, shown.shows
            );
            let mut seen: Vec<(&str, &str)> = Vec::new();
            for m in contradicted {
                if seen.contains(&(m.api.as_str(), m.text.as_str())) {
                    continue;
                }
                seen.push((&m.api, &m.text));
                let _ = writeln!(
                    out,
                    "      measured {} ({}): {}",
                    m.api,
                    m.runtime,
                    wrap(&m.text, "        ")
                );
            }
            let _ = writeln!(out, "      source: {}", wrap(shown.source, "              "));
        }
    }
    if !unmeasured.is_empty() {
        let _ = writeln!(
            out,
            "  documented, not measured (no runtime trial of this report measured these):"
        );
    }
    for shown in unmeasured {
        let what = format!("{}: {}", shown.when, shown.shows);
        let _ = writeln!(
            out,
            "    {:<15} documented  {}",
            shown.runtime,
            wrap(&what, "                                ")
        );
        let _ = writeln!(
            out,
            "    {:<15}             source: {}",
            "",
            wrap(shown.source, "                                    ")
        );
    }
    out
}

/// What each runtime saw in a scenario's trials, per client step: the native outcome first,
/// then one line per API with what it reported; a line per variant only where the variants
/// differ. Empty when the trials include no runtime trial.
pub fn scenario_section(trials: &[&TrialReport]) -> String {
    let tables: Vec<(String, RuntimeTable)> = runtimes::pair(trials)
        .iter()
        .filter_map(|g| {
            let table = RuntimeTable::of(g)?;
            let variant = g.trials().next().map(variant).unwrap_or_default();
            Some((variant, table))
        })
        .collect();
    if tables.is_empty() {
        return String::new();
    }
    let mut out = String::new();
    let variants: Vec<&str> = tables.iter().map(|(v, _)| v.as_str()).collect();
    let _ = writeln!(
        out,
        "\nwhat each runtime saw (client steps made by each runtime's client, in {}; each API's trial is \
         <native trial id>.<api>):",
        variants.join(", ")
    );
    let mut labels: Vec<&str> = Vec::new();
    for (_, t) in &tables {
        for l in &t.labels {
            if !labels.contains(&l.as_str()) {
                labels.push(l);
            }
        }
    }
    for label in labels {
        let _ = writeln!(out, "  {label}");
        // (row name) -> (text, variant), rows in first-seen order.
        let mut rows: Grouped<String, (String, &str)> = Grouped::default();
        for (variant, table) in &tables {
            let Some(column) = table.labels.iter().position(|l| l == label) else {
                continue;
            };
            rows.push(
                "native (errno)".into(),
                (
                    table.native[column].clone().unwrap_or_else(|| "(no such step)".into()),
                    variant,
                ),
            );
            for row in &table.rows {
                let text = match &row.cells[column] {
                    Some(cell) => {
                        let mut text = without_ephemeral_ports(&cell.text);
                        if let Some(note) = &cell.note {
                            text.push_str(&format!(" ({note})"));
                        }
                        text
                    }
                    None => match &row.skip_reason {
                        Some(reason) => format!("(skipped: {reason})"),
                        None => "(no such step)".into(),
                    },
                };
                rows.push(row.heading(), (text, variant));
            }
        }
        for (name, seen) in rows.0 {
            let mut texts: Grouped<String, &str> = Grouped::default();
            for (text, variant) in seen {
                texts.push(text, variant);
            }
            let texts = texts.0;
            for (i, (text, in_variants)) in texts.iter().enumerate() {
                let shown_name = if i > 0 {
                    ""
                } else if name.len() > 44 {
                    // A long name on a line of its own.
                    let _ = writeln!(out, "    {name}");
                    ""
                } else {
                    name.as_str()
                };
                let text = if texts.len() > 1 {
                    format!("{text}  (in {})", in_variants.join(", "))
                } else {
                    text.clone()
                };
                let _ = writeln!(out, "    {shown_name:<44} {}", wrap(&text, &" ".repeat(49)));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `reports/tests/fixtures/runtimes.json`: abort.linger0.so_error_first in v4, with a
    /// runtime trial per API in v4/loopback.
    fn fixture() -> Report {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../reports/tests/fixtures/runtimes.json");
        Report::read(&path).expect("the fixture")
    }

    /// The lines of `text` from the one starting (after its indent) with `from` up to the next
    /// line indented as little or less.
    fn block<'t>(text: &'t str, from: &str) -> Vec<&'t str> {
        let lines: Vec<&str> = text.lines().collect();
        let start = lines
            .iter()
            .position(|l| l.trim_start().starts_with(from))
            .unwrap_or_else(|| panic!("no line {from:?} in:\n{text}"));
        let indent = lines[start].len() - lines[start].trim_start().len();
        let end = lines[start + 1..]
            .iter()
            .position(|l| l.len() - l.trim_start().len() <= indent)
            .map_or(lines.len(), |e| e + start + 1);
        lines[start..end].to_vec()
    }

    #[test]
    fn explain_errno_shows_each_runtimes_measured_message_where_the_call_returned_it() {
        let text = errno_section("EPIPE", libc::EPIPE, &fixture());
        let java = block(&text, "java.net.Socket (OpenJDK ").join("\n");
        assert!(
            java.contains("write     java.net.SocketException: Broken pipe"),
            "{java}"
        );
        assert!(
            java.contains("in abort.linger0.so_error_first client.write#1"),
            "{java}"
        );
        let asyncio = block(&text, "python.asyncio (").join("\n");
        assert!(
            asyncio.contains("close     BrokenPipeError: [Errno 32] Broken pipe [EPIPE]")
                && asyncio.contains("client.close#1 (native ok=0)"),
            "a runtime that exposes the errno where the call did not return it:\n{asyncio}"
        );
        assert!(
            !text.contains("documented, not measured"),
            "every runtime was measured, so no documented entry stands in:\n{text}"
        );
    }

    #[test]
    fn explain_errno_says_where_the_documentation_disagrees_with_the_measurement() {
        let text = errno_section("EPIPE", libc::EPIPE, &fixture());
        let contradicted = block(&text, "documentation that the measurement contradicts").join("\n");
        assert!(
            contradicted.contains("Node.js write: documented \"err.code 'EPIPE'; Error: write EPIPE\"")
                && contradicted.contains(
                    "measured node.net (Node.js v20.20.2): Error: Cannot call write after a stream was destroyed"
                ),
            "{contradicted}"
        );
        assert!(!contradicted.contains("Java"), "Java's write agrees:\n{contradicted}");
        assert!(
            !contradicted.contains("Rust std"),
            "Rust's kind agrees:\n{contradicted}"
        );
    }

    #[test]
    fn explain_errno_shows_documented_messages_only_for_runtimes_nothing_measured() {
        let mut report = fixture();
        report
            .trials
            .retain(|t| t.client.as_ref().is_none_or(|c| !c.api.starts_with("node.")));
        let text = errno_section("EPIPE", libc::EPIPE, &report);
        let documented = block(&text, "documented, not measured").join("\n");
        assert!(documented.contains("Node.js"), "{text}");
        assert!(!documented.contains("Java (OpenJDK)"), "Java was measured:\n{text}");
        let none = errno_section(
            "EPIPE",
            libc::EPIPE,
            &Report::new(report.platform.clone(), None, vec![]),
        );
        assert!(none.contains("no runtime trial of this report reached EPIPE"), "{none}");
        assert!(none.contains("    Java (OpenJDK)  documented"), "{none}");
    }

    #[test]
    fn explain_scenario_shows_what_each_runtime_saw_per_client_step_after_the_native_outcome() {
        let report = fixture();
        let trials: Vec<&TrialReport> = report
            .trials
            .iter()
            .filter(|t| t.scenario == "abort.linger0.so_error_first")
            .collect();
        let text = scenario_section(&trials);
        let so_error = block(&text, "client.so_error#1");
        assert_eq!(
            so_error[1].split_whitespace().collect::<Vec<_>>(),
            ["native", "(errno)", "ECONNRESET"]
        );
        let rows = so_error
            .iter()
            .filter(|l| l.starts_with("    ") && !l.starts_with("     "));
        assert_eq!(rows.count(), 1 + 9, "the errno row and a row per API:\n{text}");
        assert!(
            so_error.iter().any(|l| l.contains("java.net.Socket (OpenJDK ")
                && l.contains("unsupported (java.net.Socket exposes no SO_ERROR)")),
            "{text}"
        );
        let read = block(&text, "client.read#1").join("\n");
        assert!(
            read.contains("127.0.0.1:*->127.0.0.1:4000"),
            "ephemeral ports left out:\n{read}"
        );
        assert_eq!(scenario_section(&trials[..2]), "", "no runtime trial, no section");
    }

    #[test]
    fn example_addresses_are_left_out_before_a_documented_message_is_compared() {
        assert_eq!(
            without_addresses("read tcp 198.18.0.1:40000->198.18.0.2:9: read: connection reset by peer"),
            "read tcp ADDR->ADDR: read: connection reset by peer"
        );
        assert_eq!(
            without_addresses("*net.OpError: read tcp [::1]:*->[::1]:4000: read: x"),
            "*net.OpError: read tcp ADDR->ADDR: read: x"
        );
        assert_eq!(without_addresses("Error: read ECONNRESET"), "Error: read ECONNRESET");
    }

    #[test]
    fn a_documented_text_agrees_when_one_holds_the_other_and_not_otherwise() {
        let go = "*net.OpError: read tcp 127.0.0.1:*->127.0.0.1:4000: read: connection reset by peer [ECONNRESET]";
        assert!(agrees(
            "read tcp 198.18.0.1:40000->198.18.0.2:9: read: connection reset by peer",
            go
        ));
        assert!(agrees(
            "err.code 'ECONNRESET'; Error: read ECONNRESET",
            "Error: read ECONNRESET [ECONNRESET]"
        ));
        assert!(agrees(
            "java.net.SocketException: Connection reset",
            "java.net.SocketException: Connection reset"
        ));
        assert!(!agrees(
            "err.code 'ECONNRESET'; Error: write ECONNRESET",
            "Error: Cannot call write after a stream was destroyed [ERR_STREAM_DESTROYED]"
        ));
        assert!(!agrees(
            "java.net.SocketException: Connection reset by peer",
            "java.net.SocketException: Broken pipe"
        ));
    }

    #[test]
    fn a_documented_entry_applies_to_its_runtime_and_call_and_not_to_another_platform() {
        let m = |api: &str, verb: &str| Measured {
            api: api.into(),
            runtime: String::new(),
            verb: verb.into(),
            text: String::new(),
            scenario: String::new(),
            label: String::new(),
            native: None,
            exposed: false,
            survived: true,
            error: true,
            kind: None,
        };
        let entry = |runtime: &'static str, when: &'static str| Shown {
            runtime,
            when,
            shows: String::new(),
            source: "",
        };
        let java_read = entry("Java (OpenJDK)", "read (java.net.Socket)");
        assert_eq!(applies(&java_read, &m("java.net.Socket", "read")), Some(true));
        assert_eq!(applies(&java_read, &m("java.net.Socket", "write")), Some(false));
        assert_eq!(
            applies(&java_read, &m("java.nio.channels.SocketChannel", "read")),
            Some(false)
        );
        let channel = entry("Java (OpenJDK)", "write (SocketChannel)");
        assert_eq!(
            applies(&channel, &m("java.nio.channels.SocketChannel", "write")),
            Some(true)
        );
        assert_eq!(applies(&entry("Go", "dial"), &m("go.net", "connect")), Some(true));
        assert_eq!(
            applies(&entry("Python", "any call"), &m("python.asyncio", "close")),
            Some(true)
        );
        assert_eq!(
            applies(&entry("Node.js", "write (macOS)"), &m("node.net", "write")),
            None
        );
        assert_eq!(
            applies(&entry("Rust std", "write"), &m("rust.tokio", "write")),
            Some(true)
        );
        assert_eq!(applies(&entry("Node.js", "read"), &m("go.net", "read")), Some(false));
    }
}

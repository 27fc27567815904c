//! `report.md`: the report as Markdown for people (and for GitHub, which draws the mermaid
//! sequence diagrams). A title with the platform, a summary table per area, then per scenario
//! its claim, sources, and per variant the steps and the wire. Where runtime clients made the
//! variant's client steps too, the variant is followed by the table of what each runtime saw
//! ([`crate::runtimes`]) and by those runtime trials, folded (`<details>`).
//!
//! One concept in one file (the report as Markdown, section by section), longer than 600
//! lines by the number of sections a report has.
//!
//! The helpers shared with the HTML renderer (grouping by area and scenario, outcomes merged
//! across variants, label, sysctl overrides and guidance) live here too.

use std::collections::BTreeMap;
use std::fmt::Write;

use sockerr_harness::record::Direction;

use crate::ladder::{self, Event, Side};
use crate::links;
use crate::model::{Report, Status, TrialReport};
use crate::runtimes::{self, RuntimeTable};
use crate::summary::Counts;

/// The report as Markdown.
pub fn render_markdown(report: &Report) -> String {
    let mut out = String::new();
    let p = &report.platform;
    let overrides = sysctl_overrides(report);
    let _ = writeln!(out, "# sockerr report: {} {} ({})\n", p.os, p.kernel, p.arch);
    let _ = writeln!(
        out,
        "What the operating system told each program when a TCP connection broke, and what went over the wire."
    );
    let _ = writeln!(out);
    let _ = writeln!(out, "- platform: {} {}, {}", p.os, p.kernel, p.arch);
    let _ = writeln!(out, "- obtained on: {}", p.origin);
    if !p.run_as.is_empty() {
        let _ = writeln!(out, "- run as: {}", p.run_as);
    }
    if let Some(label) = platform_label(report) {
        let _ = writeln!(out, "- label: {label}");
    }
    if !overrides.is_empty() {
        let _ = writeln!(
            out,
            "- sysctl overrides (set in every trial namespace): {}",
            overrides.join(", ")
        );
    }
    if let Some(e) = &report.expectations {
        let _ = writeln!(out, "- expectations: `{e}`");
    }
    let _ = writeln!(
        out,
        "- trials: {} ({})",
        report.trials.len(),
        Counts::of(&report.trials)
    );
    if !p.sysctls.is_empty() {
        let _ = writeln!(
            out,
            "\n<details><summary>TCP sysctls in a fresh trial namespace</summary>\n"
        );
        let _ = writeln!(out, "| sysctl | value |\n|---|---|");
        for (k, v) in &p.sysctls {
            let _ = writeln!(out, "| {} | {} |", code(k), code(v));
        }
        let _ = writeln!(out, "\n</details>");
    }

    let scenarios = group_by_scenario(report);
    let _ = writeln!(out, "\n## Summary\n");
    let _ = writeln!(
        out,
        "Per step the observed outcome: the errno name, `ok=N` for a return value N (`ok=0` from a read is end of \
         file), `killed` when the caller died; `+SIGPIPE` marks a signal the call raised. Where variants \
         (family/topology) disagree, each outcome names its variants."
    );
    for (area, group) in group_by_area(&scenarios) {
        let _ = writeln!(out, "\n### {area}\n");
        let _ = writeln!(
            out,
            "| scenario | step | observed outcome | status |\n|---|---|---|---|"
        );
        for (scenario, trials) in group {
            let (natives, runtimes) = split_runtimes(trials);
            let merged = merged_outcomes(&natives);
            let counts = status_counts(&natives);
            if merged.is_empty() {
                let _ = writeln!(out, "| {} | | | {} |", code(scenario), cell(&counts));
            }
            for (i, row) in merged.iter().enumerate() {
                let (name, status) = if i == 0 {
                    (code(scenario), cell(&counts))
                } else {
                    (String::new(), String::new())
                };
                let _ = writeln!(
                    out,
                    "| {name} | {} | {} | {status} |",
                    code(&row.label),
                    cell(&row.text_code())
                );
            }
            if !runtimes.is_empty() {
                let name = if merged.is_empty() {
                    code(scenario)
                } else {
                    String::new()
                };
                let _ = writeln!(
                    out,
                    "| {name} | runtime clients | {} (see the scenario) | {} |",
                    runtime_apis_text(&runtimes),
                    cell(&status_counts(&runtimes))
                );
            }
        }
    }

    out.push_str(&crate::forged::render_markdown_section(report));
    render_article(&mut out, report);
    render_errnos(&mut out, report);
    let _ = writeln!(out, "\n## Scenarios");
    for (scenario, trials) in &scenarios {
        render_scenario(&mut out, scenario, trials);
    }
    out
}

/// The source article's situations and the scenarios of this run that answer each.
fn render_article(out: &mut String, report: &Report) {
    if report.article.is_empty() {
        return;
    }
    let _ = writeln!(out, "\n## The article's eight situations\n");
    let _ = writeln!(out, "| # | situation | scenarios |\n|---:|---|---|");
    for s in &report.article {
        let ids: Vec<String> = s.scenarios.iter().map(|id| code(id)).collect();
        let _ = writeln!(out, "| {} | {} | {} |", s.number, s.situation, ids.join(", "));
    }
}

/// What each errno of the run means and how programs see it (`Report::errnos`).
fn render_errnos(out: &mut String, report: &Report) {
    if report.errnos.is_empty() {
        return;
    }
    let _ = writeln!(out, "\n## The errnos of this run, and how programs see them\n");
    let _ = writeln!(out, "| errno | number | text | meaning | Rust `io::ErrorKind` |");
    let _ = writeln!(out, "|---|---|---|---|---|");
    for e in &report.errnos {
        let meaning = e.meaning.as_deref().unwrap_or("");
        let _ = writeln!(
            out,
            "| `{}` | {} | {} | {} | `{}` |",
            e.name,
            e.code,
            cell(&e.strerror),
            cell(&cite(meaning)),
            e.rust_error_kind
        );
    }
    let _ = writeln!(out, "\nDocumented, not measured: what other runtimes show.\n");
    let _ = writeln!(out, "| errno | runtime | call | shows | source |");
    let _ = writeln!(out, "|---|---|---|---|---|");
    for e in &report.errnos {
        for r in &e.runtimes {
            let _ = writeln!(
                out,
                "| `{}` | {} | {} | {} | {} |",
                e.name,
                r.runtime,
                r.when,
                cell(&r.shows),
                cell(&cite(&r.source))
            );
        }
    }
}

fn render_scenario(out: &mut String, scenario: &str, trials: &[&TrialReport]) {
    let _ = writeln!(out, "\n### {scenario}\n");
    if let Some(t) = trials.first() {
        if !t.claim.is_empty() {
            let _ = writeln!(out, "{}\n", t.claim);
        }
        if !t.sources.is_empty() {
            let _ = writeln!(out, "Sources:\n");
            for s in &t.sources {
                let _ = writeln!(out, "- {}", cite(s));
            }
            let _ = writeln!(out);
        }
    }
    // Guidance once for the scenario when every variant has the same, else per variant.
    let guidance: Vec<Option<String>> = trials.iter().map(|t| client_guidance(t)).collect();
    let shared_guidance = guidance.windows(2).all(|w| w[0] == w[1]);
    if let (true, Some(Some(g))) = (shared_guidance, guidance.first()) {
        let _ = writeln!(out, "**Client guidance.** {g}\n");
    }
    let own_guidance = |t: &TrialReport| if shared_guidance { None } else { client_guidance(t) };
    for group in runtimes::pair(trials) {
        if let Some(native) = group.native {
            render_trial(out, native, "####", own_guidance(native));
        }
        let Some(table) = RuntimeTable::of(&group) else {
            continue;
        };
        render_runtime_table(out, &table);
        // The runtime trials themselves, folded under their native trial.
        let _ = writeln!(
            out,
            "<details><summary>The {} runtime trials of {}</summary>\n",
            group.runtimes.len(),
            table.native_id
        );
        for t in &group.runtimes {
            render_trial(out, t, "#####", own_guidance(t));
        }
        let _ = writeln!(out, "</details>\n");
    }
}

/// One trial: its heading (variant and status; for a runtime trial its API and version too,
/// with an anchor named by its id), notes, steps, wire and guidance.
fn render_trial(out: &mut String, t: &TrialReport, heading: &str, guidance: Option<String>) {
    match &t.client {
        None => {
            let _ = writeln!(out, "{heading} {}: {}\n", variant_of(t), t.status.as_str());
        }
        Some(client) => {
            let _ = writeln!(out, "<a id=\"{}\"></a>\n", crate::html::anchor(&t.id));
            let version = if client.runtime.is_empty() {
                String::new()
            } else {
                format!(" ({})", client.runtime)
            };
            let _ = writeln!(
                out,
                "{heading} {} {}{version}: {}\n",
                variant_of(t),
                client.api,
                t.status.as_str()
            );
        }
    }
    if let Some(reason) = &t.skip_reason {
        let _ = writeln!(out, "Skipped: {reason}\n");
    }
    if let Some(error) = &t.error {
        let _ = writeln!(out, "Could not run to its end: {error}\n");
    }
    if !t.mismatches.is_empty() {
        // A block per difference, so that expected and observed keep their own lines.
        let _ = writeln!(out, "Differences from the expectation:\n");
        for m in t.mismatches.iter().map(ToString::to_string) {
            let fence = if m.contains("```") { "````" } else { "```" };
            let _ = writeln!(out, "{fence}text\n{m}\n{fence}\n");
        }
    }
    if let Some(timer) = &t.timer {
        let _ = writeln!(out, "Timer waited out: {timer}\n");
    }
    if !t.knobs.is_empty() {
        let _ = writeln!(
            out,
            "Knobs changed from the defaults (the outcome holds for these values):\n"
        );
        for knob in &t.knobs {
            let _ = writeln!(out, "- {}", code(&knob.to_string()));
        }
        let _ = writeln!(out);
    }
    for w in t.waits.iter().filter(|w| !w.met) {
        let _ = writeln!(
            out,
            "Wait not met: {} (gave up after {:.3} ms)\n",
            w.what,
            w.waited_us as f64 / 1000.0
        );
    }
    if !t.steps.is_empty() {
        let _ = writeln!(
            out,
            "| step | call | outcome | revents | TCP state | t (ms) |\n|---|---|---|---|---|---:|"
        );
        for s in &t.steps {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {:.3} |",
                code(&s.label),
                code(&s.op),
                code(&s.outcome_with_signals()),
                code(&s.revents.join("|")),
                cell(s.tcp_state.as_deref().unwrap_or("")),
                s.t_us as f64 / 1000.0
            );
        }
        let _ = writeln!(out);
    }
    if !t.wire.captured {
        let _ = writeln!(out, "No capture ran for this trial.\n");
    } else if t.wire.drops > 0 {
        let _ = writeln!(
            out,
            "The capture dropped {} frames: the wire below is incomplete.\n",
            t.wire.drops
        );
    }
    if !t.steps.is_empty() || !t.wire.segments.is_empty() {
        let _ = writeln!(out, "{}", mermaid(t));
    }
    if let Some(pcap) = &t.wire.pcap {
        let _ = writeln!(out, "Packets: `{pcap}`\n");
    }
    if let Some(g) = guidance {
        let _ = writeln!(out, "**Client guidance.** {g}\n");
    }
}

/// "What each runtime saw": the client's step labels as columns, the native outcome first,
/// then a row per runtime API (linked to its trial) with what the runtime reported. Why a step
/// is unsupported or lost, and a client process that died, are footnotes under the table.
fn render_runtime_table(out: &mut String, table: &RuntimeTable) {
    let _ = writeln!(
        out,
        "**What each runtime saw** (the same client steps made by each runtime's client, against the same \
         server; the first row is what the system call returned in `{}`):\n",
        table.native_id
    );
    let headers: Vec<String> = table.labels.iter().map(|l| code(l)).collect();
    let _ = writeln!(out, "| client | {} |", headers.join(" | "));
    let _ = writeln!(out, "|---|{}", "---|".repeat(table.labels.len()));
    let native: Vec<String> = table
        .native
        .iter()
        .map(|o| o.as_deref().map(code).unwrap_or_default())
        .collect();
    let _ = writeln!(out, "| native (errno) | {} |", native.join(" | "));
    let mut notes: Vec<String> = Vec::new();
    for row in &table.rows {
        let cells: Vec<String> = row
            .cells
            .iter()
            .zip(&table.labels)
            .map(|(c, label)| {
                let Some(c) = c else { return String::new() };
                let mut text = code(&c.text);
                if let Some(note) = &c.note {
                    notes.push(format!("{} {label}: {note}", row.api));
                    text.push_str(&format!(" [{}]", notes.len()));
                }
                text
            })
            .collect();
        let mut name = format!("[{}](#{})", row.api, crate::html::anchor(&row.trial));
        if !row.runtime.is_empty() {
            name.push_str(&format!(" {}", cell(&row.runtime)));
        }
        if row.status != Status::Pass {
            name.push_str(&format!(" ({})", row.status.as_str()));
        }
        let _ = writeln!(out, "| {name} | {} |", cells.join(" | "));
    }
    let _ = writeln!(out);
    for (i, note) in notes.iter().enumerate() {
        let _ = writeln!(out, "{}. {}", i + 1, cell(note));
    }
    if !notes.is_empty() {
        let _ = writeln!(out);
    }
}

/// The trial's wire and calls as a mermaid `sequenceDiagram`, steps and segments interleaved
/// by their time.
pub fn mermaid(trial: &TrialReport) -> String {
    let mut out = String::from("```mermaid\nsequenceDiagram\n    participant Client\n");
    let routed = trial
        .wire
        .segments
        .iter()
        .any(|s| matches!(s.dir, Direction::RouterToClient | Direction::RouterToServer));
    if routed {
        out.push_str("    participant Router\n");
    }
    out.push_str("    participant Server\n");
    for e in ladder::timeline(trial) {
        match e {
            Event::Segment(s) => {
                let arrow = match s.dir {
                    Direction::ClientToServer => "Client->>Server",
                    Direction::ServerToClient => "Server->>Client",
                    Direction::RouterToClient => "Router->>Client",
                    Direction::RouterToServer => "Router->>Server",
                };
                let _ = writeln!(out, "    {arrow}: {}", mermaid_text(&ladder::segment_label(s)));
            }
            Event::Step(s) => {
                let side = match ladder::side_of(&s.actor) {
                    Side::Client => "Client",
                    Side::Server => "Server",
                };
                let _ = writeln!(out, "    Note over {side}: {}", mermaid_text(&ladder::step_label(s)));
            }
        }
    }
    out.push_str("```\n");
    out
}

/// Text safe inside a mermaid message or note: `;` would end the statement and `#` starts
/// an entity, so both become entity codes; line breaks become spaces.
fn mermaid_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '#' => out.push_str("#35;"),
            ';' => out.push_str("#59;"),
            '\n' | '\r' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// A source text with its citations as Markdown links (see [`links`]).
pub fn cite(text: &str) -> String {
    links::pieces(text)
        .into_iter()
        .map(|p| match p.url {
            Some(url) => format!("[{}]({url})", p.text),
            None => p.text,
        })
        .collect()
}

/// A Markdown table cell: `|` escaped, line breaks flattened.
pub fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace(['\n', '\r'], " ")
}

/// An inline code span inside a table cell (empty text gives an empty cell).
fn code(s: &str) -> String {
    if s.is_empty() {
        return String::new();
    }
    let fence = if s.contains('`') { "``" } else { "`" };
    let pad = if s.starts_with('`') || s.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{}{pad}{fence}", cell(s))
}

// ---- helpers shared with the HTML renderer ----

/// The area of a scenario: its id up to the first dot (`abort.linger0.read_first` -> `abort`).
pub fn area_of(scenario: &str) -> &str {
    scenario.split('.').next().unwrap_or(scenario)
}

/// `v4/loopback`: the variant of a trial.
pub fn variant_of(t: &TrialReport) -> String {
    format!("{}/{}", t.family, t.topology)
}

/// A scenario id and its trials (family, then topology order).
pub(crate) type ScenarioGroup<'r> = (&'r str, Vec<&'r TrialReport>);

/// Trials grouped by scenario, scenarios in the order the report first names them.
pub(crate) fn group_by_scenario(report: &Report) -> Vec<ScenarioGroup<'_>> {
    let mut groups: Vec<ScenarioGroup<'_>> = Vec::new();
    for t in &report.trials {
        match groups.iter_mut().find(|(s, _)| *s == t.scenario) {
            Some((_, trials)) => trials.push(t),
            None => groups.push((&t.scenario, vec![t])),
        }
    }
    for (_, trials) in &mut groups {
        trials.sort_by_key(|t| (t.family, t.topology));
    }
    groups
}

/// Scenario groups grouped by area, areas in first-seen order.
pub(crate) fn group_by_area<'r, 'g>(scenarios: &'g [ScenarioGroup<'r>]) -> Vec<(&'r str, Vec<&'g ScenarioGroup<'r>>)> {
    let mut areas: Vec<(&str, Vec<_>)> = Vec::new();
    for g in scenarios {
        let area = area_of(g.0);
        match areas.iter_mut().find(|(a, _)| *a == area) {
            Some((_, v)) => v.push(g),
            None => areas.push((area, vec![g])),
        }
    }
    areas
}

/// One step's outcome across the variants of a scenario.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MergedStep {
    pub label: String,
    /// Each distinct outcome with the variants that showed it.
    pub outcomes: Vec<(String, Vec<String>)>,
    /// How many variants ran the step.
    pub variants: usize,
    /// How many trials (with steps) the scenario has.
    pub of: usize,
}

impl MergedStep {
    /// `ECONNRESET`, or `ECONNRESET (v4/loopback); EPIPE (v6/loopback)` where variants differ
    /// (or where only some variants ran the step).
    pub fn text(&self) -> String {
        self.render(|o| o.to_string())
    }

    /// The same with outcomes as code spans, for Markdown.
    fn text_code(&self) -> String {
        self.render(code)
    }

    fn render(&self, fmt: impl Fn(&str) -> String) -> String {
        if self.outcomes.len() == 1 && self.variants == self.of {
            return fmt(&self.outcomes[0].0);
        }
        self.outcomes
            .iter()
            .map(|(o, v)| format!("{} ({})", fmt(o), v.join(", ")))
            .collect::<Vec<_>>()
            .join("; ")
    }

    pub fn differs(&self) -> bool {
        self.outcomes.len() > 1 || self.variants != self.of
    }
}

/// Per step label (first-seen order) the outcomes seen across the trials, as the run summary
/// shows them. Skipped trials, which ran no step, are left out.
pub(crate) fn merged_outcomes(trials: &[&TrialReport]) -> Vec<MergedStep> {
    let ran: Vec<&&TrialReport> = trials.iter().filter(|t| !t.steps.is_empty()).collect();
    let mut order: Vec<&str> = Vec::new();
    let mut seen: BTreeMap<&str, Vec<(String, Vec<String>)>> = BTreeMap::new();
    let mut count: BTreeMap<&str, usize> = BTreeMap::new();
    for t in &ran {
        let mut counted: Vec<&str> = Vec::new();
        for s in &t.steps {
            if !order.contains(&s.label.as_str()) {
                order.push(&s.label);
            }
            if !counted.contains(&s.label.as_str()) {
                counted.push(&s.label);
                *count.entry(&s.label).or_default() += 1;
            }
            let outcome = s.outcome_with_signals();
            let variant = variant_of(t);
            let list = seen.entry(&s.label).or_default();
            match list.iter_mut().find(|(o, _)| *o == outcome) {
                Some((_, v)) => {
                    if !v.contains(&variant) {
                        v.push(variant)
                    }
                }
                None => list.push((outcome, vec![variant])),
            }
        }
    }
    order
        .into_iter()
        .map(|label| MergedStep {
            label: label.to_string(),
            outcomes: seen.remove(label).unwrap_or_default(),
            variants: count.get(label).copied().unwrap_or(0),
            of: ran.len(),
        })
        .collect()
}

/// A scenario's trials split into its native trials and its runtime trials, each in the order
/// given.
pub(crate) fn split_runtimes<'r>(trials: &[&'r TrialReport]) -> (Vec<&'r TrialReport>, Vec<&'r TrialReport>) {
    trials.iter().copied().partition(|t| !runtimes::is_runtime(t))
}

/// `18 trials of 9 APIs`: how many runtime trials, of how many APIs.
pub(crate) fn runtime_apis_text(trials: &[&TrialReport]) -> String {
    let mut apis: Vec<&str> = trials.iter().filter_map(|t| runtimes::api_of(t)).collect();
    apis.sort();
    apis.dedup();
    format!(
        "{} trial{} of {} API{}",
        trials.len(),
        if trials.len() == 1 { "" } else { "s" },
        apis.len(),
        if apis.len() == 1 { "" } else { "s" }
    )
}

/// `4 pass`, `3 pass, 1 fail`: the statuses of a scenario's trials, zeros left out.
pub(crate) fn status_counts(trials: &[&TrialReport]) -> String {
    let mut n: BTreeMap<Status, usize> = BTreeMap::new();
    for t in trials {
        *n.entry(t.status).or_default() += 1;
    }
    n.iter()
        .map(|(s, c)| format!("{c} {}", s.as_str()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The run's label, when it was given one (`platform.label`).
pub(crate) fn platform_label(report: &Report) -> Option<&str> {
    Some(report.platform.label.trim()).filter(|l| !l.is_empty())
}

/// `name=value` per sysctl the run set in every trial namespace (`platform.sysctl_overrides`).
pub(crate) fn sysctl_overrides(report: &Report) -> Vec<String> {
    report
        .platform
        .sysctl_overrides
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect()
}

/// The trial's client guidance (`TrialReport.guidance`): what a client program should do
/// about what the trial observed. Interpretation from the catalogue, not an observation, so
/// the renderers label it as such. Blank guidance counts as none.
pub fn client_guidance(trial: &TrialReport) -> Option<String> {
    trial
        .guidance
        .as_deref()
        .map(str::trim)
        .filter(|g| !g.is_empty())
        .map(str::to_string)
}

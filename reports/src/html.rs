//! `report.html`: one self-contained page (inline style, a few lines of inline script for the
//! filters, inline SVG ladders; nothing fetched from anywhere) with the platform, the matrix
//! of scenarios x variants, and per trial its steps, waits, mismatches and packet ladder.
//! Scenarios and trials are folded (`<details>`) so that the page of a whole catalogue opens
//! on its matrix and stays short; a failed trial (and its scenario) is open from the start, and
//! a link to a trial opens it. Citations in sources are links ([`crate::links`]).
//!
//! One concept in one file (the report as one HTML page, section by section), longer than 600
//! lines by the number of sections a report has.
//!
//! Runtime trials (the client steps made by a Java, Python, Go, Node.js or Rust client) are
//! folded under their native trial: its matrix cell gets one line for them, the trial shows the
//! table of what each runtime saw ([`crate::runtimes`]), each row linking to its runtime trial,
//! which is folded inside the native trial.
//!
//! The page is rendered from `templates/report.html.j2` with minijinja (HTML autoescape on);
//! this module turns the report into the plain view the template shows.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use sockerr_harness::variant::{Family, Topology};

use crate::ladder;
use crate::links::{self, Piece};
use crate::markdown;
use crate::model::{Report, Status, TrialReport};
use crate::runtimes::{self, RuntimeTable};
use crate::summary::Counts;
use crate::templates;
pub use crate::templates::RenderError;

/// The report as one self-contained HTML page.
pub fn render_html(report: &Report) -> Result<String, RenderError> {
    templates::render(templates::REPORT, &Page::of(report))
}

/// A valid, readable HTML id (and URL fragment) for any text: ASCII letters, digits, `_`
/// and `-` are kept, every other character becomes `-`
/// (`abort::linger0.read_first::v4::loopback` -> `abort--linger0-read_first--v4--loopback`).
pub fn slug(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect()
}

/// The page's anchor of a trial or a scenario: its id, with a trial id in the dotted form
/// (`abort::linger0.read_first::v4::loopback` -> `abort.linger0.read_first.v4.loopback`), so
/// that `report.html#<trial id>` finds the trial; a character a fragment would need escaped
/// becomes `-`.
pub fn anchor(id: &str) -> String {
    id.replace("::", ".")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.') {
                c
            } else {
                '-'
            }
        })
        .collect()
}

/// Ids unique within one page: a repeated one gets `-2`, `-3` ...
#[derive(Default)]
struct Ids(BTreeSet<String>);

impl Ids {
    fn make(&mut self, base: String) -> String {
        let mut id = base.clone();
        let mut n = 1;
        while !self.0.insert(id.clone()) {
            n += 1;
            id = format!("{base}-{n}");
        }
        id
    }
}

#[derive(Serialize)]
struct Page {
    platform: PlatformView,
    expectations: Option<String>,
    total: usize,
    counts: CountsView,
    columns: Vec<String>,
    areas: Vec<AreaView>,
    area_names: Vec<String>,
    errnos: Vec<String>,
    statuses: Vec<&'static str>,
    /// What each errno means and how programs see it.
    errno_notes: Vec<ErrnoView>,
    /// The source article's situations and the scenarios that answer each.
    article: Vec<crate::model::ArticleSituation>,
    /// The forged scenarios' state x event matrix ([`crate::forged`]); no rows when none ran.
    forged: ForgedView,
}

#[derive(Serialize, Default)]
struct ForgedView {
    legend: &'static str,
    events: Vec<String>,
    rows: Vec<ForgedRowView>,
}

#[derive(Serialize)]
struct ForgedRowView {
    state: String,
    cells: Vec<Option<ForgedCellView>>,
}

#[derive(Serialize)]
struct ForgedCellView {
    href: String,
    scenario: String,
    texts: Vec<String>,
}

impl ForgedView {
    fn of(report: &Report) -> ForgedView {
        let m = crate::forged::state_event_matrix(report);
        ForgedView {
            legend: crate::forged::LEGEND,
            events: m.events,
            rows: m
                .rows
                .into_iter()
                .map(|r| ForgedRowView {
                    state: r.state,
                    cells: r
                        .cells
                        .into_iter()
                        .map(|c| {
                            c.map(|c| ForgedCellView {
                                href: format!("#{}", anchor(&c.scenario)),
                                texts: c.shown.iter().map(|x| x.text()).collect(),
                                scenario: c.scenario,
                            })
                        })
                        .collect(),
                })
                .collect(),
        }
    }
}

/// An errno of the run, its meaning and its runtimes' sources with their citations linked.
#[derive(Serialize)]
struct ErrnoView {
    name: String,
    code: i32,
    strerror: String,
    meaning: Vec<Piece>,
    rust_error_kind: String,
    runtimes: Vec<RuntimeView>,
}

#[derive(Serialize)]
struct RuntimeView {
    runtime: String,
    when: String,
    shows: String,
    source: Vec<Piece>,
}

#[derive(Serialize)]
struct PlatformView {
    os: String,
    kernel: String,
    arch: String,
    run_as: String,
    origin: String,
    label: Option<String>,
    sysctl_overrides: Vec<String>,
    sysctls: Vec<(String, String)>,
}

#[derive(Serialize)]
struct CountsView {
    pass: usize,
    fail: usize,
    skip: usize,
    observed: usize,
    text: String,
}

#[derive(Serialize)]
struct AreaView {
    name: String,
    id: String,
    scenarios: Vec<ScenarioView>,
}

#[derive(Serialize)]
struct ScenarioView {
    name: String,
    id: String,
    area: String,
    claim: String,
    /// Each source cut into text and links.
    sources: Vec<Vec<Piece>>,
    counts: String,
    /// Shown open: a trial of it failed.
    open: bool,
    /// One per column; `None` where the scenario has no trial in that variant.
    cells: Vec<Option<CellView>>,
    outcomes: Vec<OutcomeView>,
    guidance: Option<String>,
    trials: Vec<TrialView>,
}

#[derive(Serialize)]
struct CellView {
    /// The native trial's status; `None` where only runtime trials ran in the variant.
    status: Option<&'static str>,
    /// Every status shown in the cell, space-separated (the native trial's and its runtime
    /// trials'), for the status filter.
    statuses: String,
    href: String,
    /// The failed calls in step order (`read ECONNRESET`, `write EPIPE +SIGPIPE`), each
    /// distinct one once.
    summary: Vec<String>,
    errnos: String,
    /// The variant's runtime trials, folded into one line of the cell.
    runtimes: Option<RuntimesBadge>,
}

/// `9 runtimes` with their worst status, linking to the table of what each runtime saw.
#[derive(Serialize)]
struct RuntimesBadge {
    text: String,
    status: &'static str,
    href: String,
}

/// What each runtime saw in one variant ([`RuntimeTable`]).
#[derive(Serialize)]
struct RuntimeTableView {
    native_id: String,
    labels: Vec<String>,
    /// The errno row: the native outcome per label (empty where the native trial has none).
    native: Vec<NativeCellView>,
    rows: Vec<RuntimeRowView>,
}

#[derive(Serialize)]
struct NativeCellView {
    text: String,
    failed: bool,
}

#[derive(Serialize)]
struct RuntimeRowView {
    href: String,
    api: String,
    runtime: String,
    status: &'static str,
    skip_reason: Option<String>,
    cells: Vec<RuntimeCellView>,
}

#[derive(Serialize)]
struct RuntimeCellView {
    text: String,
    failed: bool,
    /// Shown on hover: why the step is unsupported or lost, how the client died, Node.js's
    /// events; empty for none.
    title: String,
    /// Whether `title` holds a note (why, how it ended) rather than events only: the cell is
    /// marked so that a reader knows to hover.
    noted: bool,
}

#[derive(Serialize)]
struct OutcomeView {
    label: String,
    text: String,
    failed: bool,
    differs: bool,
}

#[derive(Serialize)]
struct TrialView {
    id: String,
    anchor: String,
    variant: String,
    /// A runtime trial's API and version: `java.net.Socket (OpenJDK 17.0.15)`.
    client: Option<String>,
    status: &'static str,
    /// Shown open: the trial failed.
    open: bool,
    /// The failed calls in step order (`read ECONNRESET`, `write EPIPE +SIGPIPE`), each
    /// distinct one once.
    failed_calls: Vec<String>,
    area: String,
    errnos: String,
    skip_reason: Option<String>,
    error: Option<String>,
    elapsed_ms: f64,
    steps: Vec<StepView>,
    waits_total: usize,
    waits_not_met: Vec<WaitView>,
    /// Settings changed from the defaults, one line each.
    knobs: Vec<String>,
    timer: Option<String>,
    /// One block per difference, its lines kept (expected and observed each on its own).
    mismatches: Vec<String>,
    captured: bool,
    segments: usize,
    drops: u64,
    pcap: Option<String>,
    /// Only when it differs between the scenario's variants (else the scenario shows it).
    guidance: Option<String>,
    /// The ladder `<svg>`, built by [`ladder::ladder_svg`] (escaped there); the template
    /// marks it safe.
    ladder: String,
    /// A native trial's table of what each runtime saw, when runtime trials ran beside it.
    runtime_table: Option<RuntimeTableView>,
    /// Those runtime trials, folded inside this trial.
    runtime_trials: Vec<TrialView>,
}

#[derive(Serialize)]
struct StepView {
    label: String,
    op: String,
    outcome: String,
    failed: bool,
    revents: String,
    tcp_state: String,
    t_ms: String,
    elapsed_us: u64,
    detail: String,
}

#[derive(Serialize)]
struct WaitView {
    what: String,
    t_ms: String,
    waited_ms: String,
}

impl Page {
    fn of(report: &Report) -> Page {
        let p = &report.platform;
        let counts = Counts::of(&report.trials);
        // The variants present, in family then topology order.
        let variants: BTreeSet<(Family, Topology)> = report.trials.iter().map(|t| (t.family, t.topology)).collect();
        let variants: Vec<(Family, Topology)> = variants.into_iter().collect();
        let columns = variants.iter().map(|(f, t)| format!("{f}/{t}")).collect();
        let mut errnos = BTreeSet::new();
        for t in &report.trials {
            errnos.extend(t.steps.iter().filter_map(|s| s.result.errno.clone()));
        }
        let mut ids = Ids::default();
        let scenarios = markdown::group_by_scenario(report);
        let areas: Vec<AreaView> = markdown::group_by_area(&scenarios)
            .into_iter()
            .map(|(area, group)| AreaView {
                name: area.to_string(),
                id: ids.make(format!("area-{}", slug(area))),
                scenarios: group
                    .into_iter()
                    .map(|(name, trials)| scenario_view(name, trials, &variants, &mut ids))
                    .collect(),
            })
            .collect();
        let mut statuses: Vec<Status> = report.trials.iter().map(|t| t.status).collect();
        statuses.sort();
        statuses.dedup();
        Page {
            platform: PlatformView {
                os: p.os.clone(),
                kernel: p.kernel.clone(),
                arch: p.arch.clone(),
                run_as: p.run_as.clone(),
                origin: p.origin.to_string(),
                label: markdown::platform_label(report).map(str::to_string),
                sysctl_overrides: markdown::sysctl_overrides(report),
                sysctls: p.sysctls.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
            },
            expectations: report.expectations.clone(),
            total: report.trials.len(),
            counts: CountsView {
                pass: counts.pass,
                fail: counts.fail,
                skip: counts.skip,
                observed: counts.observed,
                text: counts.to_string(),
            },
            columns,
            area_names: areas.iter().map(|a| a.name.clone()).collect(),
            areas,
            errnos: errnos.into_iter().collect(),
            statuses: statuses.into_iter().map(Status::as_str).collect(),
            errno_notes: report
                .errnos
                .iter()
                .map(|e| ErrnoView {
                    name: e.name.clone(),
                    code: e.code,
                    strerror: e.strerror.clone(),
                    meaning: links::pieces(e.meaning.as_deref().unwrap_or("")),
                    rust_error_kind: e.rust_error_kind.clone(),
                    runtimes: e
                        .runtimes
                        .iter()
                        .map(|r| RuntimeView {
                            runtime: r.runtime.clone(),
                            when: r.when.clone(),
                            shows: r.shows.clone(),
                            source: links::pieces(&r.source),
                        })
                        .collect(),
                })
                .collect(),
            article: report.article.clone(),
            forged: ForgedView::of(report),
        }
    }
}

fn scenario_view(name: &str, trials: &[&TrialReport], variants: &[(Family, Topology)], ids: &mut Ids) -> ScenarioView {
    let first = trials[0];
    let guidance: Vec<Option<String>> = trials.iter().map(|t| markdown::client_guidance(t)).collect();
    let shared = guidance.windows(2).all(|w| w[0] == w[1]);
    let own_guidance = |t: &TrialReport| if shared { None } else { markdown::client_guidance(t) };
    let id = ids.make(anchor(name));
    let (natives, runtime_trials) = markdown::split_runtimes(trials);
    let mut trial_views: Vec<TrialView> = Vec::new();
    let mut cells_by_variant: BTreeMap<(Family, Topology), CellView> = BTreeMap::new();
    for group in runtimes::pair(trials) {
        let table = RuntimeTable::of(&group);
        let mut nested: Vec<TrialView> = group
            .runtimes
            .iter()
            .map(|t| trial_view(t, own_guidance(t), ids))
            .collect();
        let mut statuses: Vec<&'static str> = group.trials().map(|t| t.status.as_str()).collect();
        statuses.sort();
        statuses.dedup();
        let badge = (!group.runtimes.is_empty()).then(|| RuntimesBadge {
            text: format!(
                "{} runtime{}",
                group.runtimes.len(),
                if group.runtimes.len() == 1 { "" } else { "s" }
            ),
            status: worst(group.runtimes.iter().map(|t| t.status)).as_str(),
            href: String::new(),
        });
        let view = match group.native {
            Some(native) => {
                let mut view = trial_view(native, own_guidance(native), ids);
                view.runtime_table = table.map(|t| runtime_table_view(&t, &nested));
                view.runtime_trials = nested;
                view
            }
            // Runtime trials whose native trial is not in the report stand on their own.
            None => {
                let anchor = format!("#{}", nested[0].anchor);
                cells_by_variant
                    .entry((group.runtimes[0].family, group.runtimes[0].topology))
                    .or_insert(CellView {
                        status: None,
                        statuses: statuses.join(" "),
                        href: anchor.clone(),
                        summary: Vec::new(),
                        errnos: String::new(),
                        runtimes: badge.map(|b| RuntimesBadge { href: anchor, ..b }),
                    });
                trial_views.append(&mut nested);
                continue;
            }
        };
        let native = group.native.expect("a native trial");
        let href = format!("#{}", view.anchor);
        cells_by_variant.insert(
            (native.family, native.topology),
            CellView {
                status: Some(view.status),
                statuses: statuses.join(" "),
                href: href.clone(),
                summary: view.failed_calls.clone(),
                errnos: view.errnos.clone(),
                runtimes: badge.map(|b| RuntimesBadge {
                    href: format!("#{}-runtimes", view.anchor),
                    ..b
                }),
            },
        );
        trial_views.push(view);
    }
    let cells = variants.iter().map(|v| cells_by_variant.remove(v)).collect();
    let outcomes = markdown::merged_outcomes(&natives)
        .into_iter()
        .map(|m| OutcomeView {
            text: m.text(),
            failed: m.outcomes.iter().any(|(o, _)| !o.starts_with("ok=")),
            differs: m.differs(),
            label: m.label,
        })
        .collect();
    let mut counts = markdown::status_counts(&natives);
    if !runtime_trials.is_empty() {
        if !counts.is_empty() {
            counts.push_str(" · ");
        }
        counts.push_str(&format!("runtimes: {}", markdown::status_counts(&runtime_trials)));
    }
    ScenarioView {
        name: name.to_string(),
        id,
        area: markdown::area_of(name).to_string(),
        claim: first.claim.clone(),
        sources: first.sources.iter().map(|src| links::pieces(src)).collect(),
        counts,
        open: trials.iter().any(|t| t.status == Status::Fail),
        cells,
        outcomes,
        guidance: if shared {
            guidance.into_iter().next().flatten()
        } else {
            None
        },
        trials: trial_views,
    }
}

/// The status that most needs a reader among `statuses`: a failure, then a trial no
/// expectation judged, then a skip; a pass only when all passed.
fn worst(statuses: impl Iterator<Item = Status>) -> Status {
    let rank = |s: &Status| match s {
        Status::Fail => 3,
        Status::Observed => 2,
        Status::Skip => 1,
        Status::Pass => 0,
    };
    statuses.max_by_key(rank).unwrap_or(Status::Pass)
}

/// The table of what each runtime saw; `trials` are the views of its rows' trials (for their
/// anchors).
fn runtime_table_view(table: &RuntimeTable, trials: &[TrialView]) -> RuntimeTableView {
    RuntimeTableView {
        native_id: table.native_id.clone(),
        labels: table.labels.clone(),
        native: table
            .native
            .iter()
            .map(|o| NativeCellView {
                failed: o.as_deref().is_some_and(|o| !o.starts_with("ok")),
                text: o.clone().unwrap_or_default(),
            })
            .collect(),
        rows: table
            .rows
            .iter()
            .map(|row| RuntimeRowView {
                href: trials
                    .iter()
                    .find(|t| t.id == row.trial)
                    .map_or_else(|| format!("#{}", anchor(&row.trial)), |t| format!("#{}", t.anchor)),
                api: row.api.clone(),
                runtime: row.runtime.clone(),
                status: row.status.as_str(),
                skip_reason: row.skip_reason.clone(),
                cells: row
                    .cells
                    .iter()
                    .map(|c| match c {
                        None => RuntimeCellView {
                            text: String::new(),
                            failed: false,
                            title: String::new(),
                            noted: false,
                        },
                        Some(c) => {
                            let mut title: Vec<String> = c.note.iter().cloned().collect();
                            if !c.events.is_empty() {
                                title.push(format!("events: {}", c.events.join("; ")));
                            }
                            RuntimeCellView {
                                text: c.text.clone(),
                                failed: c.failed(),
                                title: title.join("\n"),
                                noted: c.note.is_some(),
                            }
                        }
                    })
                    .collect(),
            })
            .collect(),
    }
}

/// `read` from `client.read#1`.
fn verb_of(label: &str) -> &str {
    let after_actor = label.split_once('.').map_or(label, |(_, rest)| rest);
    after_actor.split('#').next().unwrap_or(after_actor)
}

fn trial_view(t: &TrialReport, guidance: Option<String>, ids: &mut Ids) -> TrialView {
    let mut errnos: Vec<&str> = t.steps.iter().filter_map(|s| s.result.errno.as_deref()).collect();
    errnos.sort();
    errnos.dedup();
    let mut failed_calls: Vec<String> = Vec::new();
    for s in t.steps.iter().filter(|s| ladder::step_failed(s)) {
        let call = format!("{} {}", verb_of(&s.label), s.outcome_with_signals());
        if !failed_calls.contains(&call) {
            failed_calls.push(call);
        }
    }
    TrialView {
        id: t.id.clone(),
        anchor: ids.make(anchor(&t.id)),
        variant: markdown::variant_of(t),
        client: t.client.as_ref().map(|c| {
            if c.runtime.is_empty() {
                c.api.clone()
            } else {
                format!("{} ({})", c.api, c.runtime)
            }
        }),
        status: t.status.as_str(),
        open: t.status == Status::Fail,
        failed_calls,
        area: markdown::area_of(&t.scenario).to_string(),
        errnos: errnos.join(" "),
        skip_reason: t.skip_reason.clone(),
        error: t.error.clone(),
        elapsed_ms: t.elapsed_ms,
        steps: t
            .steps
            .iter()
            .map(|s| StepView {
                label: s.label.clone(),
                op: s.op.clone(),
                outcome: s.outcome_with_signals(),
                failed: ladder::step_failed(s),
                revents: s.revents.join(" "),
                tcp_state: s.tcp_state.clone().unwrap_or_default(),
                t_ms: format!("{:.3}", s.t_us as f64 / 1000.0),
                elapsed_us: s.elapsed_us,
                detail: s.detail.clone().unwrap_or_default(),
            })
            .collect(),
        knobs: t.knobs.iter().map(ToString::to_string).collect(),
        timer: t.timer.clone(),
        waits_total: t.waits.len(),
        waits_not_met: t
            .waits
            .iter()
            .filter(|w| !w.met)
            .map(|w| WaitView {
                what: w.what.clone(),
                t_ms: format!("{:.3}", w.t_us as f64 / 1000.0),
                waited_ms: format!("{:.3}", w.waited_us as f64 / 1000.0),
            })
            .collect(),
        mismatches: t.mismatches.iter().map(ToString::to_string).collect(),
        captured: t.wire.captured,
        segments: t.wire.segments.len(),
        drops: t.wire.drops,
        pcap: t.wire.pcap.clone(),
        guidance,
        ladder: if t.steps.is_empty() && t.wire.segments.is_empty() {
            String::new()
        } else {
            ladder::ladder_svg(t)
        },
        runtime_table: None,
        runtime_trials: Vec::new(),
    }
}

//! `report.html`: one self-contained page (inline style, a few lines of inline script for the
//! filters, inline SVG ladders; nothing fetched from anywhere) with the platform, the matrix
//! of scenarios x variants, and per trial its steps, waits, mismatches and packet ladder.
//! Scenarios and trials are folded (`<details>`) so that the page of a whole catalogue opens
//! on its matrix and stays short; a failed trial (and its scenario) is open from the start, and
//! a link to a trial opens it. Citations in sources are links ([`crate::links`]).
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
    status: &'static str,
    href: String,
    /// The failed calls in step order (`read ECONNRESET`, `write EPIPE +SIGPIPE`), each
    /// distinct one once.
    summary: Vec<String>,
    errnos: String,
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
        }
    }
}

fn scenario_view(name: &str, trials: &[&TrialReport], variants: &[(Family, Topology)], ids: &mut Ids) -> ScenarioView {
    let first = trials[0];
    let guidance: Vec<Option<String>> = trials.iter().map(|t| markdown::client_guidance(t)).collect();
    let shared = guidance.windows(2).all(|w| w[0] == w[1]);
    let id = ids.make(anchor(name));
    let trial_views: Vec<TrialView> = trials
        .iter()
        .zip(guidance.iter())
        .map(|(t, g)| trial_view(t, if shared { None } else { g.clone() }, ids))
        .collect();
    let by_variant: BTreeMap<(Family, Topology), &TrialView> = trials
        .iter()
        .zip(&trial_views)
        .map(|(t, v)| ((t.family, t.topology), v))
        .collect();
    let cells = variants
        .iter()
        .map(|v| {
            let view = by_variant.get(v)?;
            Some(CellView {
                status: view.status,
                href: format!("#{}", view.anchor),
                summary: view.failed_calls.clone(),
                errnos: view.errnos.clone(),
            })
        })
        .collect();
    let outcomes = markdown::merged_outcomes(trials)
        .into_iter()
        .map(|m| OutcomeView {
            text: m.text(),
            failed: m.outcomes.iter().any(|(o, _)| !o.starts_with("ok=")),
            differs: m.differs(),
            label: m.label,
        })
        .collect();
    ScenarioView {
        name: name.to_string(),
        id,
        area: markdown::area_of(name).to_string(),
        claim: first.claim.clone(),
        sources: first.sources.iter().map(|src| links::pieces(src)).collect(),
        counts: markdown::status_counts(trials),
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
    }
}

//! The matrix model: several reports (and documented expectation files) compared step by
//! step. Rows are (trial id, step label), plus one [`WIRE`] row per trial holding the
//! direction and flags of its segments; columns are the inputs. A row *differs* when the
//! measured columns that hold its trial do not all show the same cell; a trial only some
//! reports hold is a *gap*. `sockerr compare` builds it; the renderers beside this module
//! show it.

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::model::{Report, TrialReport};

/// What a cell shows where its column has no such trial or step.
pub const GAP: &str = "—";

/// The step label of a trial's wire row.
pub const WIRE: &str = "wire";

/// The step label of a runtime trial's row holding the runtime and its version
/// (`OpenJDK 17.0.15`): messages can change with it.
pub const RUNTIME: &str = "runtime";

/// The heading of the rows of trials that only some reports hold.
pub const PARTIAL: &str = "Same where present, missing from some reports";

/// What a reader needs to read a cell, shown under the columns.
pub const LEGEND: &str = "A cell is the step's outcome: the errno name, ok=N for a return value N, or killed when \
the process died before the call returned; +SIGNAL marks a signal the call raised. A wire cell lists the direction \
and flags of the trial's segments. — marks a report without that trial or step. A row differs when the reports \
holding its trial show different cells; a trial only some reports hold is listed under Gaps. A documented column \
holds the accepted outcome set of an expectation file; it is not measured and never makes a row differ.";

/// What a reader needs to read a runtime trial's rows, added to [`LEGEND`] where there are any.
pub const RUNTIME_LEGEND: &str = "A runtime trial's rows follow its scenario's native trials and name the API whose \
client made the client's steps; their cells are what the runtime reported (its type and message, with ephemeral \
ports written :*), and its runtime row holds the runtime's version, which messages may change with.";

/// One column of the matrix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    /// The report's label, else `os kernel`; the expectation file's stem for a documented
    /// column. A file name in brackets is added where two columns would share a header.
    pub name: String,
    /// The input file.
    pub file: String,
    /// Whether the cells are documented (an expectation file) rather than measured.
    pub documented: bool,
    /// The report's `platform.sysctl_overrides`.
    pub sysctl_overrides: BTreeMap<String, String>,
    /// Where the values come from: `linux 6.18.0 x86_64, as root; host` or `documented, not
    /// measured`.
    pub about: String,
}

impl Column {
    /// The column of a report read from `file`: named by its label, else `os kernel`.
    pub fn measured(file: &str, report: &Report) -> Column {
        let p = &report.platform;
        let name = if p.label.is_empty() {
            format!("{} {}", p.os, p.kernel)
        } else {
            p.label.clone()
        };
        let mut about = format!("{} {} {}", p.os, p.kernel, p.arch);
        if !p.run_as.is_empty() {
            let _ = write!(about, ", as {}", p.run_as);
        }
        let _ = write!(about, "; {}", p.origin);
        Column {
            name,
            file: file.to_string(),
            documented: false,
            sysctl_overrides: p.sysctl_overrides.clone(),
            about,
        }
    }

    /// The column of an expectation file: named by the file's stem.
    pub fn documented(file: &str) -> Column {
        Column {
            name: std::path::Path::new(file)
                .file_stem()
                .map_or(file.to_string(), |s| s.to_string_lossy().into_owned()),
            file: file.to_string(),
            documented: true,
            sysctl_overrides: BTreeMap::new(),
            about: "documented, not measured".to_string(),
        }
    }

    /// The name, the sysctl overrides in parentheses, and `(documented, not measured)` for a
    /// documented column.
    pub fn header(&self) -> String {
        let mut header = self.name.clone();
        if !self.sysctl_overrides.is_empty() {
            let _ = write!(header, " ({})", overrides_text(&self.sysctl_overrides));
        }
        if self.documented {
            header.push_str(" (documented, not measured)");
        }
        header
    }

    /// The sysctl overrides as a table cell: `key=value, ...`, or the gap mark for none.
    pub fn overrides_cell(&self) -> String {
        if self.sysctl_overrides.is_empty() {
            GAP.to_string()
        } else {
            overrides_text(&self.sysctl_overrides)
        }
    }

    /// Adds a file name in brackets where two columns would share a header: told apart by
    /// the file's directory and name, then its whole path, then (the same file given twice)
    /// by position.
    pub fn tell_apart(columns: &mut [Column]) {
        let base: Vec<String> = columns.iter().map(|c| c.name.clone()).collect();
        for tell in [
            |c: &Column, _: usize| {
                let parts: Vec<&str> = c.file.rsplit('/').take(2).collect();
                parts.into_iter().rev().collect::<Vec<_>>().join("/")
            },
            |c: &Column, _: usize| c.file.clone(),
            |_: &Column, i: usize| format!("#{}", i + 1),
        ] {
            let headers: Vec<String> = columns.iter().map(Column::header).collect();
            for (i, column) in columns.iter_mut().enumerate() {
                if headers.iter().filter(|h| **h == headers[i]).count() > 1 {
                    column.name = format!("{} [{}]", base[i], tell(column, i));
                }
            }
        }
    }
}

fn overrides_text(overrides: &BTreeMap<String, String>) -> String {
    overrides
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// One row: a step of a trial (or its wire, or a runtime trial's runtime version) in every
/// column.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Row {
    pub trial: String,
    /// The trial's scenario: rows are grouped by it, a scenario's runtime trials after its
    /// native trials.
    pub scenario: String,
    /// For a runtime trial, the API whose client made the client steps (`java.net.Socket`, the
    /// tail of the trial id); `None` for a native trial.
    pub client: Option<String>,
    /// The step label (`client.read#1`), [`WIRE`], or [`RUNTIME`].
    pub step: String,
    /// One per column; `None` where the column has no such trial or step.
    pub cells: Vec<Option<String>>,
    /// Whether the measured columns that hold the trial do not all show the same cell.
    pub differs: bool,
    /// Whether every measured column holds the trial.
    pub everywhere: bool,
}

impl Row {
    /// The native trial the row's trial belongs to: the trial id without a runtime trial's
    /// `.<api>` tail.
    pub fn native_trial(&self) -> &str {
        self.client
            .as_deref()
            .and_then(|api| self.trial.strip_suffix(api))
            .and_then(|rest| rest.strip_suffix('.'))
            .unwrap_or(&self.trial)
    }
}

/// Trials that only some of the reports hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gap {
    /// Headers of the measured columns that hold these trials.
    pub only_in: Vec<String>,
    pub trials: Vec<String>,
}

impl std::fmt::Display for Gap {
    /// `trials only in A: t1, t2`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "trials only in {}: {}",
            self.only_in.join(", "),
            self.trials.join(", ")
        )
    }
}

/// Several reports (and documented expectations) compared step by step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Matrix {
    pub columns: Vec<Column>,
    /// Per trial (in order of first appearance) its steps, then its wire row.
    pub rows: Vec<Row>,
    pub gaps: Vec<Gap>,
    /// The measured reports' state x event matrices of forged segments, side by side (empty
    /// when none holds a forged trial).
    pub forged: crate::forged::SideBySide,
}

/// One part of the matrix as the renderers show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section<'m> {
    pub title: &'static str,
    pub rows: Vec<&'m Row>,
    /// Whether these are the differing rows (shown first, and emphasised).
    pub differs: bool,
}

impl Matrix {
    /// The rows whose measured cells differ, in row order.
    pub fn differing(&self) -> impl Iterator<Item = &Row> {
        self.rows.iter().filter(|r| r.differs)
    }

    /// The rows of trials every report holds whose cells are all the same, in row order.
    pub fn same(&self) -> impl Iterator<Item = &Row> {
        self.rows.iter().filter(|r| !r.differs && r.everywhere)
    }

    /// The rows of trials only some reports hold (the gaps) whose cells are the same in those
    /// that do, in row order.
    pub fn partial(&self) -> impl Iterator<Item = &Row> {
        self.rows.iter().filter(|r| !r.differs && !r.everywhere)
    }

    /// The legend, with [`RUNTIME_LEGEND`] where the matrix has runtime trials.
    pub fn legend(&self) -> String {
        if self.rows.iter().any(|r| r.client.is_some()) {
            format!("{LEGEND} {RUNTIME_LEGEND}")
        } else {
            LEGEND.to_string()
        }
    }

    /// Whether any row is a runtime trial's: the renderers then show the API in a column.
    pub fn has_runtimes(&self) -> bool {
        self.rows.iter().any(|r| r.client.is_some())
    }

    /// `N reports compared (and M documented columns): R rows, D differ.`
    pub fn overview(&self) -> String {
        let documented = self.columns.iter().filter(|c| c.documented).count();
        let measured = self.columns.len() - documented;
        let mut text = format!("{measured} report{} compared", if measured == 1 { "" } else { "s" });
        if documented > 0 {
            let _ = write!(
                text,
                ", with {documented} documented column{}",
                if documented == 1 { "" } else { "s" }
            );
        }
        let _ = write!(text, ": {} rows, {} differ.", self.rows.len(), self.differing().count());
        text
    }

    /// The differences first, then the rows that are the same everywhere, then (when there
    /// are gaps) the rows of trials only some reports hold.
    pub fn sections(&self) -> Vec<Section<'_>> {
        let mut sections = vec![
            Section {
                title: "Differences",
                rows: self.differing().collect(),
                differs: true,
            },
            Section {
                title: "Same everywhere",
                rows: self.same().collect(),
                differs: false,
            },
        ];
        if !self.gaps.is_empty() {
            sections.push(Section {
                title: PARTIAL,
                rows: self.partial().collect(),
                differs: false,
            });
        }
        sections
    }
}

/// The direction and flags of each segment: `client>server S, server>client S., ...`.
pub fn wire_cell(trial: &TrialReport) -> String {
    if !trial.wire.captured {
        return "(not captured)".to_string();
    }
    if trial.wire.segments.is_empty() {
        return "(no segments)".to_string();
    }
    trial
        .wire
        .segments
        .iter()
        .map(|s| format!("{} {}", s.dir, s.flags))
        .collect::<Vec<_>>()
        .join(", ")
}

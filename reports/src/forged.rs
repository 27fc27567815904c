//! The state x event matrix of the forged scenarios, as FreeBSD's tcp-testsuite lays out its
//! `state-event-engine/rcv-<event>-<state>/` folders: rows are the TCP states a forged segment
//! met, columns the forged events, and each cell says what the program was told after the
//! injection and what the receiving host answered on the wire. Rows and columns come from the
//! scenario ids of the report (`forged.<event>.<state>[.<twist>]`, `forged.rst.exact.fin_wait_1`,
//! `forged.rst.exact.time_wait.rfc1337_on`), never from a list of scenarios; an id with no
//! state in it (`forged.challenge_ack.burst`) has no cell.

use std::collections::BTreeSet;
use std::fmt::Write;

use sockerr_harness::record::answer_to_injection;

use crate::model::{Report, Status, TrialReport};

/// The prefix of the ids this matrix reads.
pub const PREFIX: &str = "forged.";

/// RFC 9293's states as scenario ids spell them, with their names, in the order a
/// connection passes through them: the rows' order.
const STATES: [(&str, &str); 10] = [
    ("listen", "LISTEN"),
    ("syn_sent", "SYN-SENT"),
    ("syn_rcvd", "SYN-RECEIVED"),
    ("established", "ESTABLISHED"),
    ("fin_wait_1", "FIN-WAIT-1"),
    ("fin_wait_2", "FIN-WAIT-2"),
    ("close_wait", "CLOSE-WAIT"),
    ("closing", "CLOSING"),
    ("last_ack", "LAST-ACK"),
    ("time_wait", "TIME-WAIT"),
];

/// The answer of a trial that sent no forged segment (it failed before).
const NOT_INJECTED: &str = "not injected";

/// Outcomes that tell a program nothing about the connection: "not yet" answers.
const NOT_TOLD: [&str; 3] = ["EAGAIN", "EWOULDBLOCK", "EINPROGRESS"];

/// A forged scenario's id, split: the event (`rst.exact`), the state's index in [`STATES`]
/// and the twist after it (`rfc1337_on`, empty when none).
fn split_id(scenario: &str) -> Option<(String, usize, String)> {
    let parts: Vec<&str> = scenario.strip_prefix(PREFIX)?.split('.').collect();
    let (at, state) = parts
        .iter()
        .enumerate()
        .rev()
        .find_map(|(i, p)| STATES.iter().position(|(id, _)| id == p).map(|s| (i, s)))?;
    if at == 0 {
        return None;
    }
    Some((parts[..at].join("."), state, parts[at + 1..].join(".")))
}

/// What one trial showed after its injection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shown {
    /// The first errno a step after the last injection returned, `ok` when none did (or only
    /// "not yet": EAGAIN, EINPROGRESS), `-` when no step followed.
    pub told: String,
    /// The flags of each segment that answered the injection (`.`, `R`), or `nothing`.
    pub answer: String,
}

impl Shown {
    /// `ECONNRESET · nothing`.
    pub fn text(&self) -> String {
        format!("{} · {}", self.told, self.answer)
    }

    /// [`Shown::text`] with the flags as code, for Markdown.
    fn markdown(&self) -> String {
        if self.answer == "nothing" {
            self.text()
        } else {
            format!("{} · `{}`", self.told, self.answer)
        }
    }
}

/// One cell: what a scenario's trials showed, once per distinct outcome across its variants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cell {
    pub scenario: String,
    pub shown: Vec<Shown>,
}

impl Cell {
    /// The outcomes' texts; variants that disagree are separated by ` / `.
    pub fn text(&self) -> String {
        self.shown.iter().map(Shown::text).collect::<Vec<_>>().join(" / ")
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateRow {
    /// The state's name, with the twist in parentheses (`TIME-WAIT (rfc1337_on)`).
    pub state: String,
    /// One per event, in [`StateEventMatrix::events`]' order.
    pub cells: Vec<Option<Cell>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StateEventMatrix {
    /// The events in the order the report first holds them (`rst.exact`, `rst.in_window` ...).
    pub events: Vec<String>,
    pub rows: Vec<StateRow>,
}

impl StateEventMatrix {
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
}

/// What one trial showed after its last injection (see [`Shown`]).
pub fn shown_by(t: &TrialReport) -> Shown {
    let after = t
        .steps
        .iter()
        .rposition(|s| s.label.contains(".inject#"))
        .map_or(&t.steps[..0], |i| &t.steps[i + 1..]);
    let told = if after.is_empty() {
        "-".to_string()
    } else {
        after
            .iter()
            .filter_map(|s| s.result.errno.as_deref())
            .find(|e| !NOT_TOLD.contains(e))
            .unwrap_or("ok")
            .to_string()
    };
    let answer = match answer_to_injection(&t.steps, &t.wire.segments) {
        None => NOT_INJECTED.to_string(),
        Some(answer) if answer.is_empty() => "nothing".to_string(),
        Some(answer) => answer.iter().map(|s| s.flags.as_str()).collect::<Vec<_>>().join(" "),
    };
    Shown { told, answer }
}

/// A row before it is named: the state's index in [`STATES`] and the twist.
type RowKey = (usize, String);

/// The matrix of the report's native forged trials that ran (runtime trials and skips left
/// out).
pub fn state_event_matrix(report: &Report) -> StateEventMatrix {
    let mut events: Vec<String> = Vec::new();
    let mut rows: Vec<(RowKey, Vec<(String, Cell)>)> = Vec::new();
    for t in &report.trials {
        if t.client.is_some() || t.status == Status::Skip {
            continue;
        }
        let Some((event, state, twist)) = split_id(&t.scenario) else {
            continue;
        };
        // A trial that failed before its injection has nothing to show here (its report says
        // why).
        let shown = shown_by(t);
        if shown.answer == NOT_INJECTED {
            continue;
        }
        if !events.contains(&event) {
            events.push(event.clone());
        }
        let key = (state, twist);
        let row = match rows.iter().position(|(k, _)| *k == key) {
            Some(i) => &mut rows[i].1,
            None => {
                rows.push((key, Vec::new()));
                &mut rows.last_mut().expect("just pushed").1
            }
        };
        match row.iter_mut().find(|(e, _)| *e == event) {
            Some((_, cell)) if !cell.shown.contains(&shown) => cell.shown.push(shown),
            Some(_) => {}
            None => row.push((
                event,
                Cell {
                    scenario: t.scenario.clone(),
                    shown: vec![shown],
                },
            )),
        }
    }
    rows.sort_by(|(a, _), (b, _)| a.cmp(b));
    let rows = rows
        .into_iter()
        .map(|((state, twist), cells)| StateRow {
            state: if twist.is_empty() {
                STATES[state].1.to_string()
            } else {
                format!("{} ({twist})", STATES[state].1)
            },
            cells: events
                .iter()
                .map(|e| cells.iter().find(|(ce, _)| ce == e).map(|(_, c)| c.clone()))
                .collect(),
        })
        .collect();
    StateEventMatrix { events, rows }
}

/// What the cells say, for the legend under both renderings.
pub const LEGEND: &str = "Each cell: what the program was told after the injection (the first errno a step returned, `ok` when none did, `-` when no step followed), then what the receiving host answered before the script's next step (`.` a challenge or duplicate ACK, `R` a reset, `nothing`). Variants that disagree are separated by ` / `; a trial that failed before its injection is left out (its report says why).";

/// The matrix as a Markdown section (empty when the report holds no forged trial with a state).
pub fn render_markdown_section(report: &Report) -> String {
    let m = state_event_matrix(report);
    if m.is_empty() {
        return String::new();
    }
    format!(
        "\n## Forged segments: state x event\n\n{LEGEND}\n\n{}",
        markdown_table(&m)
    )
}

/// The matrix as a Markdown table, a row per state.
pub fn markdown_table(m: &StateEventMatrix) -> String {
    let mut out = table_head(&m.events);
    for row in &m.rows {
        let _ = write!(out, "| {} |", row.state);
        for cell in &row.cells {
            match cell {
                Some(c) => {
                    let texts: Vec<String> = c.shown.iter().map(Shown::markdown).collect();
                    let _ = write!(out, " {} |", texts.join(" / "));
                }
                None => {
                    let _ = write!(out, " |");
                }
            }
        }
        let _ = writeln!(out);
    }
    out
}

/// The header and separator lines of a Markdown table with a column per event.
fn table_head(events: &[String]) -> String {
    let mut out = String::from("| state |");
    for e in events {
        let _ = write!(out, " `{e}` |");
    }
    out.push_str("\n|---|");
    for _ in events {
        out.push_str("---|");
    }
    out.push('\n');
    out
}

/// The scenarios of the matrix, for a check that every forged scenario with a state has a
/// cell.
pub fn scenarios_in(m: &StateEventMatrix) -> BTreeSet<String> {
    m.rows
        .iter()
        .flat_map(|r| r.cells.iter().flatten().map(|c| c.scenario.clone()))
        .collect()
}

/// The state x event matrices of several reports side by side, as `sockerr compare` shows
/// them: per state and event, what each report's cell says.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SideBySide {
    /// The reports' column headers.
    pub columns: Vec<String>,
    /// The events of every report, in the order they first appear.
    pub events: Vec<String>,
    pub rows: Vec<SideRow>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SideRow {
    pub state: String,
    /// Per event, per column: the cell's text ([`Cell::text`]), `None` where that report has
    /// no such trial.
    pub cells: Vec<Vec<Option<String>>>,
}

impl SideRow {
    /// Whether the reports that hold the cell of `event` do not all say the same.
    pub fn differs(&self, event: usize) -> bool {
        let present: Vec<&String> = self.cells[event].iter().flatten().collect();
        present.windows(2).any(|w| w[0] != w[1])
    }
}

impl SideBySide {
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// How many cells differ between the reports.
    pub fn differing(&self) -> usize {
        self.rows
            .iter()
            .map(|r| (0..self.events.len()).filter(|&e| r.differs(e)).count())
            .sum()
    }
}

/// Where a row's state stands in [`STATES`] (its twist aside), for the rows' order.
fn state_order(state: &str) -> usize {
    let name = state.split(" (").next().unwrap_or(state);
    STATES.iter().position(|(_, n)| *n == name).unwrap_or(STATES.len())
}

/// Lays the matrices of several reports (header, matrix) side by side.
pub fn side_by_side(columns: &[(String, StateEventMatrix)]) -> SideBySide {
    let mut events: Vec<String> = Vec::new();
    let mut states: Vec<String> = Vec::new();
    for (_, m) in columns {
        for e in &m.events {
            if !events.contains(e) {
                events.push(e.clone());
            }
        }
        for r in &m.rows {
            if !states.contains(&r.state) {
                states.push(r.state.clone());
            }
        }
    }
    states.sort_by_key(|s| (state_order(s), s.clone()));
    let cell = |m: &StateEventMatrix, state: &str, event: &str| -> Option<String> {
        let row = m.rows.iter().find(|r| r.state == state)?;
        let at = m.events.iter().position(|e| e == event)?;
        row.cells[at].as_ref().map(Cell::text)
    };
    let rows = states
        .into_iter()
        .map(|state| SideRow {
            cells: events
                .iter()
                .map(|e| columns.iter().map(|(_, m)| cell(m, &state, e)).collect())
                .collect(),
            state,
        })
        .collect();
    SideBySide {
        columns: columns.iter().map(|(h, _)| h.clone()).collect(),
        events,
        rows,
    }
}

/// What a side-by-side cell says: the one text where the reports holding it agree, else
/// each report's, named by its column.
pub fn side_cell_lines(s: &SideBySide, row: &SideRow, event: usize) -> Vec<String> {
    let present: Vec<(usize, &String)> = row.cells[event]
        .iter()
        .enumerate()
        .filter_map(|(c, t)| t.as_ref().map(|t| (c, t)))
        .collect();
    if !row.differs(event) {
        return present.first().map(|(_, t)| vec![t.to_string()]).unwrap_or_default();
    }
    present
        .into_iter()
        .map(|(c, t)| format!("{}: {t}", s.columns[c]))
        .collect()
}

/// The side-by-side matrix as a Markdown section (empty when no report holds a forged trial
/// with a state); differing cells in bold, each report's text on a line of its own.
pub fn render_side_by_side_markdown(s: &SideBySide) -> String {
    let mut out = String::new();
    if s.is_empty() {
        return out;
    }
    let _ = writeln!(out, "\n## Forged segments: state x event, side by side\n");
    let _ = writeln!(
        out,
        "{LEGEND} Where the reports differ, each one's text is shown, named by its column, in bold ({} cells differ).\n",
        s.differing()
    );
    out.push_str(&table_head(&s.events));
    for row in &s.rows {
        let _ = write!(out, "| {} |", row.state);
        for e in 0..s.events.len() {
            let lines = side_cell_lines(s, row, e);
            let text = lines.join("<br>").replace('|', "\\|");
            if row.differs(e) {
                let _ = write!(out, " **{text}** |");
            } else {
                let _ = write!(out, " {text} |");
            }
        }
        let _ = writeln!(out);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_splits_into_event_state_and_twist() {
        assert_eq!(
            split_id("forged.rst.exact.established"),
            Some(("rst.exact".into(), 3, String::new()))
        );
        assert_eq!(
            split_id("forged.rst.exact.time_wait.rfc1337_on"),
            Some(("rst.exact".into(), 9, "rfc1337_on".into()))
        );
        assert_eq!(split_id("forged.syn.syn_rcvd"), Some(("syn".into(), 2, String::new())));
        assert_eq!(split_id("forged.challenge_ack.burst"), None);
        assert_eq!(split_id("close.time_wait.rst"), None);
    }

    fn matrix(cells: &[(&str, &str, &str)]) -> StateEventMatrix {
        let mut m = StateEventMatrix::default();
        for (state, event, text) in cells {
            if !m.events.iter().any(|e| e == event) {
                m.events.push(event.to_string());
            }
            let (told, answer) = text.split_once(" · ").expect("told · answer");
            let cell = Cell {
                scenario: format!("forged.{event}.{state}"),
                shown: vec![Shown {
                    told: told.into(),
                    answer: answer.into(),
                }],
            };
            let at = m.events.iter().position(|e| e == event).expect("pushed");
            match m.rows.iter_mut().find(|r| r.state == *state) {
                Some(row) => {
                    row.cells.resize(m.events.len(), None);
                    row.cells[at] = Some(cell);
                }
                None => {
                    let mut cells = vec![None; m.events.len()];
                    cells[at] = Some(cell);
                    m.rows.push(StateRow {
                        state: state.to_string(),
                        cells,
                    });
                }
            }
        }
        for row in &mut m.rows {
            row.cells.resize(m.events.len(), None);
        }
        m
    }

    /// Two kernels that answer an in-window reset in ESTABLISHED differently (RFC 5961 §3.2:
    /// a challenge ACK, against RFC 9293's older rule of a reset accepted anywhere in the
    /// window) and agree in TIME-WAIT: the differing cell names both, the other one text.
    #[test]
    fn two_reports_side_by_side_name_each_report_only_where_they_differ() {
        let a = matrix(&[
            ("ESTABLISHED", "rst.in_window", "ok · ."),
            ("TIME-WAIT", "rst.exact", "- · nothing"),
        ]);
        let b = matrix(&[
            ("TIME-WAIT", "rst.exact", "- · nothing"),
            ("ESTABLISHED", "rst.in_window", "ECONNRESET · nothing"),
        ]);
        let s = side_by_side(&[("6.1".into(), a), ("7.3".into(), b)]);
        assert_eq!(
            s.rows.iter().map(|r| r.state.as_str()).collect::<Vec<_>>(),
            ["ESTABLISHED", "TIME-WAIT"]
        );
        assert_eq!(s.differing(), 1);
        let established = &s.rows[0];
        assert_eq!(
            side_cell_lines(&s, established, 0),
            ["6.1: ok · .", "7.3: ECONNRESET · nothing"]
        );
        assert_eq!(side_cell_lines(&s, &s.rows[1], 1), ["- · nothing"]);
        let md = render_side_by_side_markdown(&s);
        assert!(
            md.contains("| ESTABLISHED | **6.1: ok · .<br>7.3: ECONNRESET · nothing** |"),
            "{md}"
        );
        assert!(md.contains("1 cells differ"), "{md}");
    }
}

//! `matrix.html`: the matrix as one self-contained page (inline style, no script, nothing
//! fetched), rendered from `templates/matrix.html.j2`. The differences are shown open; the
//! rows that are the same are folded (`<details>`), so that the page opens on what differs.

use serde::Serialize;

use super::model::{GAP, Matrix, WIRE};
use crate::templates::{self, RenderError};

/// The matrix as one self-contained HTML page.
pub fn render_matrix_html(matrix: &Matrix) -> Result<String, RenderError> {
    templates::render(templates::MATRIX, &Page::of(matrix))
}

#[derive(Serialize)]
struct Page {
    overview: String,
    legend: String,
    /// Whether a column names the API of runtime trials' rows.
    runtimes: bool,
    columns: Vec<ColumnView>,
    headers: Vec<HeaderView>,
    gaps: Vec<String>,
    forged: Option<ForgedView>,
    sections: Vec<SectionView>,
}

/// The forged segments' state x event matrices side by side.
#[derive(Serialize)]
struct ForgedView {
    legend: String,
    differing: usize,
    events: Vec<String>,
    rows: Vec<ForgedRowView>,
}

#[derive(Serialize)]
struct ForgedRowView {
    state: String,
    cells: Vec<ForgedCellView>,
}

#[derive(Serialize)]
struct ForgedCellView {
    /// One line per report where they differ, else the one text.
    lines: Vec<String>,
    differs: bool,
}

impl ForgedView {
    fn of(s: &crate::forged::SideBySide) -> Option<ForgedView> {
        (!s.is_empty()).then(|| ForgedView {
            legend: crate::forged::LEGEND.to_string(),
            differing: s.differing(),
            events: s.events.clone(),
            rows: s
                .rows
                .iter()
                .map(|row| ForgedRowView {
                    state: row.state.clone(),
                    cells: (0..s.events.len())
                        .map(|e| ForgedCellView {
                            lines: crate::forged::side_cell_lines(s, row, e),
                            differs: row.differs(e),
                        })
                        .collect(),
                })
                .collect(),
        })
    }
}

#[derive(Serialize)]
struct ColumnView {
    header: String,
    file: String,
    about: String,
    overrides: String,
    documented: bool,
}

#[derive(Serialize)]
struct HeaderView {
    text: String,
    documented: bool,
}

#[derive(Serialize)]
struct SectionView {
    title: &'static str,
    differs: bool,
    /// Shown closed until opened: the rows that are the same.
    folded: bool,
    rows: Vec<RowView>,
}

#[derive(Serialize)]
struct RowView {
    /// The native trial (a runtime trial's id without its API).
    trial: String,
    /// The runtime trial's API; `native` for a native trial's row.
    client: String,
    /// The first row of its scenario in its section: a heading row goes before it.
    scenario: Option<String>,
    step: String,
    cells: Vec<CellView>,
}

#[derive(Serialize)]
struct CellView {
    text: String,
    /// `documented`, `gap`, `wire`, space-separated; empty for none.
    class: String,
}

impl Page {
    fn of(matrix: &Matrix) -> Page {
        Page {
            overview: matrix.overview(),
            legend: matrix.legend(),
            runtimes: matrix.has_runtimes(),
            columns: matrix
                .columns
                .iter()
                .map(|c| ColumnView {
                    header: c.header(),
                    file: c.file.clone(),
                    about: c.about.clone(),
                    overrides: c.overrides_cell(),
                    documented: c.documented,
                })
                .collect(),
            headers: matrix
                .columns
                .iter()
                .map(|c| HeaderView {
                    text: c.header(),
                    documented: c.documented,
                })
                .collect(),
            gaps: matrix.gaps.iter().map(ToString::to_string).collect(),
            forged: ForgedView::of(&matrix.forged),
            sections: matrix
                .sections()
                .into_iter()
                .map(|s| SectionView {
                    title: s.title,
                    differs: s.differs,
                    folded: !s.differs,
                    rows: s
                        .rows
                        .iter()
                        .enumerate()
                        .map(|(i, row)| RowView {
                            trial: row.native_trial().to_string(),
                            client: row.client.clone().unwrap_or_else(|| "native".into()),
                            scenario: (i == 0 || s.rows[i - 1].scenario != row.scenario)
                                .then(|| row.scenario.clone())
                                .filter(|s| !s.is_empty()),
                            step: row.step.clone(),
                            cells: matrix
                                .columns
                                .iter()
                                .zip(&row.cells)
                                .map(|(c, cell)| {
                                    let mut classes = Vec::new();
                                    if c.documented {
                                        classes.push("documented");
                                    }
                                    if cell.is_none() {
                                        classes.push("gap");
                                    }
                                    if row.step == WIRE {
                                        classes.push("wire");
                                    }
                                    CellView {
                                        text: cell.as_deref().unwrap_or(GAP).to_string(),
                                        class: classes.join(" "),
                                    }
                                })
                                .collect(),
                        })
                        .collect(),
                })
                .collect(),
        }
    }
}

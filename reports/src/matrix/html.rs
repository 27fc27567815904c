//! `matrix.html`: the matrix as one self-contained page (inline style, no script, nothing
//! fetched), rendered from `templates/matrix.html.j2`. The differences are shown open; the
//! rows that are the same are folded (`<details>`), so that the page opens on what differs.

use serde::Serialize;

use super::model::{GAP, LEGEND, Matrix, WIRE};
use crate::templates::{self, RenderError};

/// The matrix as one self-contained HTML page.
pub fn render_matrix_html(matrix: &Matrix) -> Result<String, RenderError> {
    templates::render(templates::MATRIX, &Page::of(matrix))
}

#[derive(Serialize)]
struct Page {
    overview: String,
    legend: &'static str,
    columns: Vec<ColumnView>,
    headers: Vec<HeaderView>,
    gaps: Vec<String>,
    sections: Vec<SectionView>,
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
    trial: String,
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
            legend: LEGEND,
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
                        .map(|row| RowView {
                            trial: row.trial.clone(),
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

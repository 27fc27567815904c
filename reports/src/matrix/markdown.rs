//! `matrix.md`: the matrix as Markdown, in the manner of `report.md`: the columns and where
//! they come from, the gaps, then one table per section (the differences first, in bold).

use std::fmt::Write;

use super::model::{GAP, Matrix};
use crate::markdown::cell;

/// The matrix as Markdown.
pub fn render_matrix_markdown(matrix: &Matrix) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# sockerr matrix\n\n{}\n", matrix.overview());
    let _ = writeln!(
        out,
        "## Columns\n\n| column | file | platform | sysctl overrides |\n|---|---|---|---|"
    );
    for c in &matrix.columns {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} |",
            text(&c.header()),
            text(&c.file),
            text(&c.about),
            text(&c.overrides_cell())
        );
    }
    let _ = writeln!(out, "\n{}", matrix.legend());
    if !matrix.gaps.is_empty() {
        let _ = writeln!(out, "\n## Gaps\n");
        for gap in &matrix.gaps {
            let _ = writeln!(out, "- {}", text(&gap.to_string()));
        }
    }
    out.push_str(&crate::forged::render_side_by_side_markdown(&matrix.forged));
    for section in matrix.sections() {
        let _ = writeln!(out, "\n## {} ({})\n", section.title, section.rows.len());
        if section.rows.is_empty() {
            let _ = writeln!(out, "(none)");
            continue;
        }
        let headers: Vec<String> = matrix.columns.iter().map(|c| text(&c.header())).collect();
        // With runtime trials, the trial column names the native trial and a column the API.
        let runtimes = matrix.has_runtimes();
        let client_header = if runtimes { "client | " } else { "" };
        let _ = writeln!(out, "| trial | {client_header}step | {} |", headers.join(" | "));
        let _ = writeln!(
            out,
            "|---|{}---|{}",
            if runtimes { "---|" } else { "" },
            "---|".repeat(matrix.columns.len())
        );
        for row in &section.rows {
            let cells: Vec<String> = row
                .cells
                .iter()
                .map(|c| text(c.as_deref().unwrap_or(GAP)))
                .map(|c| if section.differs { format!("**{c}**") } else { c })
                .collect();
            let (trial, client) = if runtimes {
                let api = row.client.as_deref().unwrap_or("native");
                (row.native_trial(), format!("{} | ", text(api)))
            } else {
                (row.trial.as_str(), String::new())
            };
            let _ = writeln!(
                out,
                "| {} | {client}{} | {} |",
                text(trial),
                text(&row.step),
                cells.join(" | ")
            );
        }
    }
    out
}

/// Plain text in a table cell: backslashes kept literal, then as any cell.
fn text(s: &str) -> String {
    cell(&s.replace('\\', "\\\\"))
}

//! What `sockerr compare` prints: the differing rows with every cell, the gaps, and how many
//! rows are the same.

use std::fmt::Write;

use super::model::{GAP, Matrix, PARTIAL, Row};

impl Matrix {
    /// The console summary: the differing rows with every cell, the gaps, and the number of
    /// the other rows.
    pub fn summary(&self) -> String {
        let mut out = String::new();
        let differing: Vec<&Row> = self.differing().collect();
        let _ = writeln!(out, "Differences ({}):", differing.len());
        for row in &differing {
            let _ = writeln!(out, "  {}  {}", row.trial, row.step);
            for (column, cell) in self.columns.iter().zip(&row.cells) {
                let _ = writeln!(
                    out,
                    "      {:<28} {}",
                    format!("{}:", column.header()),
                    cell.as_deref().unwrap_or(GAP)
                );
            }
        }
        for gap in &self.gaps {
            let _ = writeln!(out, "{gap}");
        }
        let _ = writeln!(out, "Same everywhere ({})", self.same().count());
        let partial = self.partial().count();
        if partial > 0 {
            let _ = writeln!(out, "{PARTIAL} ({partial})");
        }
        out
    }
}

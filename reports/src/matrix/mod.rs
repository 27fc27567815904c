//! The *matrix*: several reports (and documented expectation files) compared step by step, as
//! `sockerr compare` writes it. [`model`] holds the rows, columns and gaps; the renderers beside
//! it show them on the console ([`Matrix::summary`]), as Markdown and as HTML.

pub mod html;
pub mod markdown;
pub mod model;
mod summary;

use std::path::{Path, PathBuf};

pub use html::render_matrix_html;
pub use markdown::render_matrix_markdown;
pub use model::{Column, GAP, Gap, Matrix, RUNTIME, Row, Section, WIRE, wire_cell};

use crate::model::write_atomically;

/// Writes `matrix.md` and `matrix.html` into `dir` (created if missing), each through a
/// temporary file and a rename. Returns the paths written.
pub fn write_matrix(matrix: &Matrix, dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)?;
    let html = render_matrix_html(matrix).map_err(std::io::Error::other)?;
    let mut written = Vec::new();
    for (name, text) in [("matrix.md", render_matrix_markdown(matrix)), ("matrix.html", html)] {
        let path = dir.join(name);
        write_atomically(&path, text.as_bytes())?;
        written.push(path);
    }
    Ok(written)
}

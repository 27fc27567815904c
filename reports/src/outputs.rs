//! Every file a run writes beside its pcapng files, each written through a temporary file and
//! a rename so that a reader never sees half of one.

use std::path::{Path, PathBuf};

use crate::model::{Report, write_atomically};

/// Writes `report.json`, `report.md`, `report.html`, `junit.xml` and `report.schema.json` into
/// `dir` and returns their paths, report.json first.
pub fn write_outputs(report: &Report, dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let json = dir.join("report.json");
    report.write(&json)?;
    let html = crate::render_html(report).map_err(std::io::Error::other)?;
    let files = [
        ("report.md", crate::render_markdown(report)),
        ("report.html", html),
        ("junit.xml", crate::render_junit(report)),
        ("report.schema.json", crate::schema::report_schema_json()),
    ];
    let mut written = vec![json];
    for (name, text) in files {
        let path = dir.join(name);
        write_atomically(&path, text.as_bytes())?;
        written.push(path);
    }
    Ok(written)
}

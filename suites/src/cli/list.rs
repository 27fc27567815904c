//! `sockerr list`: the scenarios and their trials.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;

use super::common::FilterArgs;
use crate::catalogue;

/// List the scenarios in catalogue order: id, claim and the trials each runs as.
///
/// With --filter, only the trials it names (and their scenarios): a way to try a pattern
/// before giving it to `run`, `stress` or `bench`.
///
/// Exit status: 0, or 2 when a --filter names no trial (the closest ids are named).
#[derive(clap::Args)]
pub struct ListArgs {
    #[command(flatten)]
    filter: FilterArgs,
    /// Instead, rewrite the parts of this README that the catalogue generates (the counts,
    /// the article's situations, every scenario), between their `<!-- generated: NAME -->`
    /// and `<!-- end: NAME -->` markers.
    #[arg(long, value_name = "FILE", conflicts_with = "filter")]
    readme: Option<PathBuf>,
}

pub fn list(args: ListArgs) -> anyhow::Result<ExitCode> {
    if let Some(path) = &args.readme {
        return update_readme(path);
    }
    let scenarios = catalogue::all();
    let selection = args.filter.select(&scenarios)?;
    let mut text = String::new();
    let mut current: Option<&str> = None;
    for planned in &selection.trials {
        let s = planned.scenario;
        if current != Some(s.id) {
            text.push_str(&format!("{}\n    {}\n", s.id, s.claim));
            current = Some(s.id);
        }
        text.push_str(&format!("    - {}\n", crate::selection::canonical_id(&planned.id())));
    }
    super::out(&text);
    Ok(ExitCode::SUCCESS)
}

fn update_readme(path: &Path) -> anyhow::Result<ExitCode> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let updated = crate::readme::update(&text, &catalogue::all()).with_context(|| path.display().to_string())?;
    if updated != text {
        sockerr_reports::model::write_atomically(path, updated.as_bytes())
            .with_context(|| format!("cannot write {}", path.display()))?;
        super::out(&format!("updated {}\n", path.display()));
    }
    Ok(ExitCode::SUCCESS)
}

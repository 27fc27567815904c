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
    /// Instead, rewrite the parts of this README that are generated (the counts, the
    /// article's situations, every scenario, and what each runtime told the program), between
    /// their `<!-- generated: NAME -->` and `<!-- end: NAME -->` markers.
    #[arg(long, value_name = "FILE", conflicts_with = "filter")]
    readme: Option<PathBuf>,
    /// With --readme: the report README's runtime part is generated from, a path relative to
    /// README's directory [default: the report that part names now].
    #[arg(long, value_name = "REPORT", requires = "readme")]
    report: Option<PathBuf>,
}

pub fn list(args: ListArgs) -> anyhow::Result<ExitCode> {
    if let Some(path) = &args.readme {
        return update_readme(path, args.report.as_deref());
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

/// Rewrites README's generated parts; the runtime part from `report`, else from the report
/// that part names now (either a path relative to README's directory).
fn update_readme(path: &Path, report: Option<&Path>) -> anyhow::Result<ExitCode> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let named = match report {
        Some(report) => report.display().to_string(),
        None => crate::readme::runtime_report_named(&text).with_context(|| {
            format!(
                "{} names no report for its runtime part: give one with --report",
                path.display()
            )
        })?,
    };
    let base = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let runtime_report = sockerr_reports::Report::read(&base.join(&named))?;
    let source = crate::readme::RuntimeSource {
        path: &named,
        report: &runtime_report,
    };
    let updated =
        crate::readme::update(&text, &catalogue::all(), Some(&source)).with_context(|| path.display().to_string())?;
    if updated != text {
        sockerr_reports::model::write_atomically(path, updated.as_bytes())
            .with_context(|| format!("cannot write {}", path.display()))?;
        super::out(&format!("updated {}\n", path.display()));
    }
    Ok(ExitCode::SUCCESS)
}

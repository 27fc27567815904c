//! `sockerr list`: the scenarios and their trials.

use std::process::ExitCode;

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
}

pub fn list(args: ListArgs) -> anyhow::Result<ExitCode> {
    let scenarios = catalogue::all();
    let selection = args.filter.select(&scenarios)?;
    let mut current: Option<&str> = None;
    for planned in &selection.trials {
        let s = planned.scenario;
        if current != Some(s.id) {
            println!("{}\n    {}", s.id, s.claim);
            current = Some(s.id);
        }
        println!("    - {}", crate::selection::canonical_id(&planned.id()));
    }
    Ok(ExitCode::SUCCESS)
}

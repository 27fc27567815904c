//! `sockerr compare`: saved reports side by side, step by step.

use std::path::PathBuf;
use std::process::ExitCode;

/// Compare saved reports step by step: write DIR/matrix.md and DIR/matrix.html.
///
/// One row per trial and step label, plus one `wire` row per trial (the direction and
/// flags of its segments); one column per report, named by its label (`run --label`) or
/// else by `os kernel`, with the sysctl overrides it ran with. A cell is the step's outcome
/// (`ECONNRESET`, `ok=0`, `EPIPE +SIGPIPE`), or `—` where that report has no such trial or
/// step. Rows where the reports holding the trial disagree come first, under "Differences
/// (N)", and are printed; trials only some reports hold are listed as gaps, not counted as
/// differences. An expectation file (`.toml`) adds a column of documented, not measured,
/// outcome sets, which never makes a row differ.
///
/// Exit status: 0 when the matrix was written (even when cells differ), 2 when an input
/// cannot be read or the output cannot be written.
#[derive(clap::Args)]
pub struct CompareArgs {
    /// Reports (report.json written by `sockerr run`), one column each; expectation files
    /// (.toml) add documented columns.
    #[arg(required = true, value_name = "FILE")]
    inputs: Vec<PathBuf>,
    /// Directory for matrix.md and matrix.html (created if missing).
    #[arg(long, default_value = "reports/local", value_name = "DIR")]
    out: PathBuf,
}

pub fn compare(args: CompareArgs) -> anyhow::Result<ExitCode> {
    let inputs = args
        .inputs
        .iter()
        .map(|p| crate::compare::Input::load(p))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let matrix = crate::compare::build(&inputs)?;
    let written = crate::compare::write(&matrix, &args.out)?;
    let mut text = matrix.summary();
    for path in written {
        text.push_str(&format!("matrix: {}\n", path.display()));
    }
    super::out(&text);
    Ok(ExitCode::SUCCESS)
}

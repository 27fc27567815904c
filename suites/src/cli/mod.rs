//! The `sockerr` command line: one file per command, the arguments several commands share in
//! [`common`], and what the console shows while and after trials run in [`console`].

mod bench;
mod capabilities;
mod common;
mod compare;
mod console;
mod list;
mod paint;
mod progress;
mod run;
mod show;
mod stress;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::runner;

/// What the operating system tells a program when a TCP connection breaks, and what went over
/// the wire. Each scenario runs on real sockets in fresh, private network namespaces (nothing
/// on the host is touched) and is compared with the expectation file of this platform.
///
/// A trial is one scenario in one variant, named `<scenario id>.<family>.<topology>`
/// (`abort.linger0.read_first.v4.loopback`). Every option that takes trials (`--filter`,
/// `explain`) accepts a scenario id, a trial id, a part of one, or a glob (`abort.linger0.*`,
/// `*.v6.*`); `sockerr list` prints them all.
#[derive(Parser)]
#[command(name = "sockerr", version, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    Run(Box<run::RunArgs>),
    List(list::ListArgs),
    Show(show::ShowArgs),
    /// Explain an errno, a scenario or trials: meaning, where this platform returns it
    /// (steps, variants, wire), what a client should do, other platforms' documented values,
    /// and how runtimes show it.
    ///
    /// Exit status: 0 when explained, 2 when the subject is unknown (the closest names are
    /// suggested) or the report cannot be read.
    Explain(crate::explain::ExplainArgs),
    Stress(stress::StressArgs),
    Bench(bench::BenchArgs),
    Compare(compare::CompareArgs),
    Capabilities(capabilities::CapabilitiesArgs),
}

/// The `sockerr` program. Call it first thing in `main`, before any thread exists: running as
/// an ordinary user, the process enters a user namespace, which only a single-threaded process
/// may do, and SIGINT and SIGTERM are taken by a thread of their own, which the other threads
/// must inherit. Exit status 2 when a command could not start (its message names why).
pub fn main() -> ExitCode {
    let (run_as, skip_reason) = runner::prepare_process();
    // An interrupted run removes the files it was writing before it dies of the signal.
    if let Err(e) = sockerr_harness::sys::on_termination(sockerr_harness::atomic_file::remove_unfinished) {
        eprintln!("sockerr: cannot take SIGINT and SIGTERM ({e}): an interrupted run may leave temporary files");
    }
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Run(args) => run::run(*args, run_as, skip_reason),
        Command::List(args) => list::list(args),
        Command::Show(args) => show::show(args),
        Command::Explain(args) => crate::explain::run(args, run_as, skip_reason),
        Command::Stress(args) => stress::stress(args, run_as, skip_reason),
        Command::Bench(args) => bench::bench(args, skip_reason),
        Command::Compare(args) => compare::compare(args),
        Command::Capabilities(args) => capabilities::capabilities(args, skip_reason),
    };
    match outcome {
        Ok(code) => code,
        Err(e) => {
            eprintln!("sockerr: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// Writes `text` to standard output. A reader that went away (`sockerr list | head`) is no
/// error: what is left is not written, and the command goes on (SIGPIPE cannot end it, as the
/// trials need it ignored).
fn out(text: &str) {
    use std::io::Write;
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
}

/// Writes a stress or bench result as JSON to `path` (through a temporary file), prints it
/// and where it went; the exit status is 0 when it is `clean`, 1 otherwise.
fn write_result<T: serde::Serialize + std::fmt::Display>(
    result: &T,
    path: &std::path::Path,
    clean: bool,
) -> anyhow::Result<ExitCode> {
    use anyhow::Context;
    let json = serde_json::to_string_pretty(result)?;
    sockerr_reports::model::write_atomically(path, json.as_bytes())
        .with_context(|| format!("cannot write {}", path.display()))?;
    out(&format!("{result}result: {}\n", path.display()));
    Ok(if clean { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

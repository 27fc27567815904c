//! `sockerr`: runs the catalogue and writes the report.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use sockerr::catalogue;
use sockerr::expectations::Expectations;
use sockerr::runner::{self, RunConfig};
use sockerr_harness::platform::{Origin, Platform};
use sockerr_reports::{Report, summary};

/// What the operating system tells a program when a TCP connection breaks, and what went over
/// the wire. Each scenario runs on real sockets in fresh, private network namespaces (nothing
/// on the host is touched) and is compared with the expectation file of this platform.
#[derive(Parser)]
#[command(name = "sockerr", version, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the catalogue: write report.json, report.md, report.html, junit.xml,
    /// report.schema.json and one pcapng per trial into DIR, and print a summary.
    ///
    /// Exit status: 0 when no trial failed, 1 when one did, 2 when the run could not start.
    Run(RunArgs),
    /// List the scenarios: id, claim and the trials each one runs as.
    List {
        /// Instead, rewrite the parts of this README that the catalogue generates (the
        /// counts, the article's situations, every scenario), between their
        /// `<!-- generated: NAME -->` and `<!-- end: NAME -->` markers.
        #[arg(long, value_name = "FILE")]
        readme: Option<PathBuf>,
        /// With --readme: the report its runtime part (what each runtime told the program) is
        /// generated from [default: the report that part names now].
        #[arg(long, value_name = "REPORT", requires = "readme")]
        report: Option<PathBuf>,
    },
    /// Print the summary of a saved report.
    Show {
        /// A report.json written by `sockerr run`.
        report: PathBuf,
    },
    /// Explain an errno or a scenario: meaning, where this platform returns it (steps,
    /// variants, wire), what a client should do, other platforms' documented values, and how
    /// runtimes show it.
    ///
    /// Exit status: 0 when explained, 2 when the errno or scenario is unknown (the closest
    /// names are suggested) or the report cannot be read.
    Explain(sockerr::explain::ExplainArgs),
    /// Run the catalogue many times under CPU load; list trials whose outcome changed.
    ///
    /// Starts K CPU-burning processes (`sh -c 'while :; do :; done'`, killed when the run
    /// ends), runs the selected trials N times one run after another, and compares each
    /// trial's outcome between runs: status, errno or return value, signals, poll revents
    /// and TCP state of every step, unmet waits, and the segments in relative seq/ack
    /// numbers. Timings, ports, descriptors and absolute sequence numbers are left out. Prints
    /// the wall time per run, every trial that failed its expectation, every trial whose
    /// outcome differed with a diff of its first two outcomes, and `N differing trials`;
    /// writes the same to DIR/stress.json. No pcapng files are written.
    ///
    /// Exit status: 0 when every trial had one outcome and passed in every run, 1 when any
    /// trial differed between runs or failed in any run, 2 when the run could not start.
    Stress(StressArgs),
    /// Measure how fast the catalogue runs: write DIR/bench.json and print a short table.
    ///
    /// Runs the selected trials K times on an unloaded machine (no burners, no pcapng) and
    /// reports, as medians over the runs: the wall time of a whole run, the longest trial
    /// (which one, and the protocol timer it waits out), their ratio, the harness's overhead
    /// per trial (the time not spent in the scenario's own script: sandbox set-up and
    /// tear-down, capture, judging), per-trial medians, and the peak memory. Also checks that
    /// no trial's outcome differed between the runs.
    ///
    /// Exit status: 0 when every trial passed and kept one outcome, 1 otherwise, 2 when the
    /// run could not start.
    Bench(BenchArgs),
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
    Compare(CompareArgs),
}

#[derive(clap::Args)]
struct RunArgs {
    /// Directory for report.json and pcap/ (created if missing).
    #[arg(long, default_value = "reports/local", value_name = "DIR")]
    out: PathBuf,
    /// Your expectation file, layered over the built-in suites/expectations/linux.toml: it
    /// decides for the scenarios and steps it names, the built-in file for the rest
    /// [default: $SOCKERR_EXPECT; none: the built-in file alone].
    #[arg(long, value_name = "FILE")]
    expect: Option<PathBuf>,
    /// Run only trials whose id contains this text (repeat for several).
    #[arg(long, value_name = "TEXT")]
    filter: Vec<String>,
    /// Trials run at once [default: the number of CPUs].
    #[arg(long, value_name = "N")]
    jobs: Option<usize>,
    /// Do not write pcapng files.
    #[arg(long)]
    no_pcap: bool,
    /// Set a per-namespace sysctl (net.ipv4.*, net.ipv6.*, net.core.*) in every namespace of
    /// every trial before any socket exists (repeat for several); the host's sysctls are never
    /// changed. Tried first in a throw-away namespace: a key or value the kernel refuses stops
    /// the run. Recorded in the report's platform.sysctl_overrides.
    #[arg(long, value_name = "KEY=VALUE", value_parser = runner::parse_sysctl)]
    sysctl: Vec<(String, String)>,
    /// A name for this run, recorded as platform.label and shown as its column by `sockerr
    /// compare` [default: none; the column is then `os kernel`].
    #[arg(long, value_name = "NAME", default_value = "", hide_default_value = true)]
    label: String,
    /// How this run is obtained, recorded as platform.origin and shown by the reports and
    /// `sockerr compare`: `host`, or for a run inside a virtual machine (what `make matrix`
    /// passes) `guest,KEY=VALUE,...` with the keys kernel_package and accelerator (kvm or
    /// tcg), and optionally kernel_package_version and vmm; values hold no commas
    /// [default: host, or $SOCKERR_ORIGIN when set].
    #[arg(long, value_name = "ORIGIN")]
    origin: Option<Origin>,
}

fn main() -> ExitCode {
    // Before any thread exists: entering a user namespace needs a single-threaded process.
    let (run_as, skip_reason) = runner::prepare_process();
    // An interrupted run removes the files it was writing before it dies of the signal.
    if let Err(e) = sockerr_harness::sys::on_termination(sockerr_harness::atomic_file::remove_unfinished) {
        eprintln!("sockerr: cannot take SIGINT and SIGTERM ({e}): an interrupted run may leave temporary files");
    }
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Run(args) => run(args, run_as, skip_reason),
        Command::List { readme: None, .. } => list(),
        Command::List {
            readme: Some(path),
            report,
        } => update_readme(&path, report.as_deref()),
        Command::Show { report } => show(&report),
        Command::Explain(args) => sockerr::explain::run(args, run_as, skip_reason),
        Command::Stress(args) => stress(args, run_as, skip_reason),
        Command::Bench(args) => bench(args, skip_reason),
        Command::Compare(args) => compare(args),
    };
    match outcome {
        Ok(code) => code,
        Err(e) => {
            eprintln!("sockerr: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn list() -> anyhow::Result<ExitCode> {
    for s in catalogue::all() {
        println!("{}\n    {}", s.id, s.claim);
        for (family, topology) in s.variants() {
            println!("    - {}", s.trial_name(family, topology));
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Rewrites README's generated parts; the runtime part from `report`, else from the report
/// that part names now (a path relative to README's directory).
fn update_readme(path: &std::path::Path, report: Option<&std::path::Path>) -> anyhow::Result<ExitCode> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let named = match report {
        Some(report) => report.display().to_string(),
        None => sockerr::readme::runtime_report_named(&text).with_context(|| {
            format!(
                "{} names no report for its runtime part: give one with --report",
                path.display()
            )
        })?,
    };
    let base = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    let runtime_report = Report::read(&base.join(&named))?;
    let source = sockerr::readme::RuntimeSource {
        path: &named,
        report: &runtime_report,
    };
    let updated =
        sockerr::readme::update(&text, &catalogue::all(), Some(&source)).with_context(|| path.display().to_string())?;
    if updated != text {
        sockerr_reports::model::write_atomically(path, updated.as_bytes())
            .with_context(|| format!("cannot write {}", path.display()))?;
        println!("updated {}", path.display());
    }
    Ok(ExitCode::SUCCESS)
}

fn show(path: &std::path::Path) -> anyhow::Result<ExitCode> {
    let report = Report::read(path)?;
    print!("{}", summary::render(&report));
    Ok(ExitCode::SUCCESS)
}

/// The trials whose id contains one of `filters` (all when there is none); an error when none
/// does, so that a typo cannot make a run that checks nothing.
fn selected<'a>(
    scenarios: &'a [sockerr::scenario::Scenario],
    filters: &[String],
) -> anyhow::Result<Vec<runner::Planned<'a>>> {
    let planned: Vec<_> = runner::plan(scenarios)
        .into_iter()
        .filter(|p| filters.is_empty() || filters.iter().any(|f| p.id().contains(f.as_str())))
        .collect();
    if planned.is_empty() {
        anyhow::bail!("no trial matches {filters:?} (see `sockerr list`)");
    }
    Ok(planned)
}

fn run(args: RunArgs, run_as: String, skip_reason: Option<String>) -> anyhow::Result<ExitCode> {
    let scenarios = catalogue::all();
    let expectations = Expectations::for_run(args.expect.as_deref(), &catalogue::ids())?;
    let planned = selected(&scenarios, &args.filter)?;
    // Before any trial: the overrides are tried in a throw-away namespace, so that a refused
    // one stops the run here; the platform then shows the values in force.
    let mut platform = Platform::probe_with(&args.sysctl).context("a --sysctl override was refused")?;
    platform.label = args.label.clone();
    platform.origin = match args.origin.clone() {
        Some(origin) => origin,
        None => match std::env::var("SOCKERR_ORIGIN") {
            Ok(text) if !text.trim().is_empty() => text.parse().map_err(|e| anyhow::anyhow!("SOCKERR_ORIGIN: {e}"))?,
            _ => Origin::default(),
        },
    };
    let pcap_dir = args.out.join("pcap");
    std::fs::create_dir_all(&pcap_dir).with_context(|| format!("cannot create {}", pcap_dir.display()))?;
    for dir in [&args.out, &pcap_dir] {
        sockerr_harness::atomic_file::remove_stale(dir);
    }
    if !args.no_pcap {
        for old in std::fs::read_dir(&pcap_dir)?.flatten() {
            if old.path().extension().is_some_and(|e| e == "pcapng") {
                let _ = std::fs::remove_file(old.path());
            }
        }
    }
    let config = RunConfig {
        expectations,
        pcap_dir: (!args.no_pcap).then_some(pcap_dir),
        capabilities: runner::probe(&planned, skip_reason),
        sysctls: args.sysctl.clone(),
        ..RunConfig::default()
    };
    let jobs = args.jobs.unwrap_or_else(runner::default_jobs);
    let total = planned.len();
    let finished = std::sync::atomic::AtomicUsize::new(0);
    let trials = runner::run_all_reporting(&planned, &config, jobs, |t| {
        let n = finished.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
        eprintln!(
            "[{n:>3}/{total}] {:<8} {} ({:.1} ms)",
            t.status.as_str(),
            t.id,
            t.elapsed_ms
        );
    });
    platform.run_as = run_as;
    let mut report = Report::new(platform, Some(config.expectations.origin()), trials);
    report.errnos = sockerr::knowledge::errno_notes(&report);
    report.article = sockerr::article::mapping(&scenarios);
    let written = sockerr_reports::outputs::write_outputs(&report, &args.out)
        .with_context(|| format!("cannot write the report into {}", args.out.display()))?;
    print!("{}", summary::render(&report));
    for path in written {
        println!("wrote {}", path.display());
    }
    let failed = report.trials.iter().any(|t| t.status == sockerr_reports::Status::Fail);
    Ok(if failed { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

#[derive(clap::Args)]
struct StressArgs {
    /// How many times to run the selected trials.
    #[arg(long, default_value_t = 20, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    runs: u64,
    /// CPU-burning processes loading the machine during the runs.
    #[arg(long, default_value_t = 2, value_name = "K")]
    burners: usize,
    /// Run only trials whose id contains this text (repeat for several).
    #[arg(long, value_name = "TEXT")]
    filter: Vec<String>,
    /// Trials run at once within a run [default: the number of CPUs].
    #[arg(long, value_name = "N")]
    jobs: Option<usize>,
    /// Your expectation file, layered over the built-in suites/expectations/linux.toml: it
    /// decides for the scenarios and steps it names, the built-in file for the rest
    /// [default: $SOCKERR_EXPECT; none: the built-in file alone].
    #[arg(long, value_name = "FILE")]
    expect: Option<PathBuf>,
    /// Directory for stress.json (created if missing).
    #[arg(long, default_value = "reports/local", value_name = "DIR")]
    out: PathBuf,
}

fn stress(args: StressArgs, run_as: String, skip_reason: Option<String>) -> anyhow::Result<ExitCode> {
    let scenarios = catalogue::all();
    let expectations = Expectations::for_run(args.expect.as_deref(), &catalogue::ids())?;
    let planned = selected(&scenarios, &args.filter)?;
    std::fs::create_dir_all(&args.out).with_context(|| format!("cannot create {}", args.out.display()))?;
    let config = RunConfig {
        expectations,
        pcap_dir: None,
        capabilities: runner::probe(&planned, skip_reason),
        ..RunConfig::default()
    };
    let jobs = args.jobs.unwrap_or_else(runner::default_jobs);
    let runs = args.runs as usize;
    eprintln!(
        "sockerr stress as {run_as}: {runs} runs of {} trials, {jobs} at once, {} CPU burners",
        planned.len(),
        args.burners
    );
    let result =
        sockerr::stress::stress_reporting(&planned, &config, runs, args.burners, jobs, |run, wall, trials| {
            let failed = trials
                .iter()
                .filter(|t| t.status == sockerr_reports::Status::Fail)
                .count();
            eprintln!("run {run:>3}/{runs}: {:.2} s, {failed} failed", wall.as_secs_f64());
        })?;
    write_result(&result, &args.out.join("stress.json"), result.clean())
}

/// Writes a stress or bench result as JSON to `path` (through a temporary file), prints it
/// and where it went; the exit status is 0 when it is `clean`, 1 otherwise.
fn write_result<T: serde::Serialize + std::fmt::Display>(
    result: &T,
    path: &std::path::Path,
    clean: bool,
) -> anyhow::Result<ExitCode> {
    let json = serde_json::to_string_pretty(result)?;
    sockerr_reports::model::write_atomically(path, json.as_bytes())
        .with_context(|| format!("cannot write {}", path.display()))?;
    print!("{result}");
    println!("result: {}", path.display());
    Ok(if clean { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

#[derive(clap::Args)]
struct BenchArgs {
    /// How many times to run the selected trials.
    #[arg(long, default_value_t = 5, value_name = "K", value_parser = clap::value_parser!(u64).range(1..))]
    runs: u64,
    /// Run only trials whose id contains this text (repeat for several).
    #[arg(long, value_name = "TEXT")]
    filter: Vec<String>,
    /// Trials run at once [default: the number of CPUs].
    #[arg(long, value_name = "N")]
    jobs: Option<usize>,
    /// Your expectation file, layered over the built-in suites/expectations/linux.toml: it
    /// decides for the scenarios and steps it names, the built-in file for the rest
    /// [default: $SOCKERR_EXPECT; none: the built-in file alone].
    #[arg(long, value_name = "FILE")]
    expect: Option<PathBuf>,
    /// Directory for bench.json (created if missing).
    #[arg(long, default_value = "reports", value_name = "DIR")]
    out: PathBuf,
}

fn bench(args: BenchArgs, skip_reason: Option<String>) -> anyhow::Result<ExitCode> {
    if let Some(reason) = skip_reason {
        anyhow::bail!("cannot measure: {reason}");
    }
    let scenarios = catalogue::all();
    let expectations = Expectations::for_run(args.expect.as_deref(), &catalogue::ids())?;
    let planned = selected(&scenarios, &args.filter)?;
    std::fs::create_dir_all(&args.out).with_context(|| format!("cannot create {}", args.out.display()))?;
    let config = RunConfig {
        expectations,
        capabilities: runner::probe(&planned, None),
        ..RunConfig::default()
    };
    let jobs = args.jobs.unwrap_or_else(runner::default_jobs);
    let result = sockerr::bench::bench(&planned, &config, args.runs as usize, jobs)?;
    write_result(&result, &args.out.join("bench.json"), result.clean())
}

#[derive(clap::Args)]
struct CompareArgs {
    /// Reports (report.json written by `sockerr run`), one column each; expectation files
    /// (.toml) add documented columns.
    #[arg(required = true, value_name = "FILE")]
    inputs: Vec<PathBuf>,
    /// Directory for matrix.md and matrix.html (created if missing).
    #[arg(long, default_value = "reports/local", value_name = "DIR")]
    out: PathBuf,
}

fn compare(args: CompareArgs) -> anyhow::Result<ExitCode> {
    let inputs = args
        .inputs
        .iter()
        .map(|p| sockerr::compare::Input::load(p))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let matrix = sockerr::compare::build(&inputs)?;
    let written = sockerr::compare::write(&matrix, &args.out)?;
    print!("{}", matrix.summary());
    for path in written {
        println!("matrix: {}", path.display());
    }
    Ok(ExitCode::SUCCESS)
}

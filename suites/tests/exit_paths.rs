//! Every way a run can end leaves the host as it found it (README, "What the suite touches"):
//! its normal end, SIGINT, SIGTERM or SIGKILL in the middle of a trial, and a panic inside a
//! scenario. Afterwards the host has the same links, addresses, routes, nftables ruleset and
//! `net.*` sysctls; no process of the run is left, nor any namespace held by one; the output
//! directory holds no half-written report; and the next run works.
//!
//! Why this holds without any clean-up code: a trial's namespaces are anonymous and live only
//! as long as its thread, sockets and children (network_namespaces(7)), which all end with the
//! process, however it ends (signal(7): the default action of SIGINT and SIGTERM terminates the
//! process; SIGKILL cannot be caught); the only child a trial forks asks for SIGKILL when its
//! parent dies (prctl(2) PR_SET_PDEATHSIG); reports and pcapng files are written to a
//! temporary file that is renamed into place (rename(2): the replacement is atomic).
//!
//! Leftover processes are found even after they were orphaned: this test process makes itself
//! a child subreaper (prctl(2) PR_SET_CHILD_SUBREAPER), so a descendant of the run that outlives
//! it is re-parented here instead of to init, where it could not be told from anyone else's.

// Linux only: pidfd_open and PR_SET_CHILD_SUBREAPER are Linux's.
#![cfg(target_os = "linux")]

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Read};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::Path;
use std::process::{Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

mod common;

use common::{differences, host_snapshot};
use sockerr::catalogue;
use sockerr::expectations::Expectations;
use sockerr::runner::{self, Planned, RunConfig};
use sockerr::scenario::Scenario;
use sockerr_harness::{ScriptResult, Trial};
use sockerr_reports::{Report, Status};

/// How long one run of the CLI may take before the test gives up on it (a run takes seconds).
const RUN_DEADLINE: Duration = Duration::from_secs(120);

/// How long a process of the run that was already dying when the run ended (a child killed by
/// its parent-death signal) may take to finish dying before it counts as left behind.
const DYING_DEADLINE: Duration = Duration::from_secs(30);

/// The tests of this file compare process-wide state (children, descriptors, the namespaces of
/// this process's threads), so they run one at a time.
static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(PoisonError::into_inner)
}

fn namespaces_unavailable() -> Option<String> {
    if !nix::unistd::geteuid().is_root() {
        return Some("comparing the host's firewall ruleset and every sysctl needs root".into());
    }
    sockerr_harness::sys::namespaces_unavailable()
}

// ---------------------------------------------------------------------------------------------
// The host

// ---------------------------------------------------------------------------------------------
// Processes and namespaces (proc(5))

/// A process as /proc/<pid>/stat shows it.
#[derive(Debug, Clone)]
struct Proc {
    pid: i32,
    ppid: i32,
    /// Field 22, the start time in clock ticks since boot: with the pid, it names one process
    /// even if the pid is reused.
    start: u64,
    state: char,
    comm: String,
}

fn proc_stat(pid: i32) -> Option<Proc> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name is in parentheses and may itself contain spaces and parentheses.
    let (head, rest) = text.rsplit_once(')')?;
    let comm = head.split_once('(')?.1.to_string();
    let fields: Vec<&str> = rest.split_whitespace().collect();
    Some(Proc {
        pid,
        state: fields.first()?.chars().next()?,
        ppid: fields.get(1)?.parse().ok()?,
        start: fields.get(19)?.parse().ok()?,
        comm,
    })
}

fn processes() -> BTreeMap<i32, Proc> {
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter_map(|pid| Some((pid, proc_stat(pid)?)))
        .collect()
}

/// The network namespaces a process's threads are in, by their link text (`net:[4026531840]`).
fn namespaces_of(pid: &str) -> BTreeSet<String> {
    let tasks = std::fs::read_dir(format!("/proc/{pid}/task"))
        .into_iter()
        .flatten()
        .flatten()
        .map(|t| t.path());
    std::iter::once(Path::new("/proc").join(pid))
        .chain(tasks)
        .filter_map(|p| std::fs::read_link(p.join("ns/net")).ok())
        .map(|l| l.display().to_string())
        .collect()
}

/// How many network namespaces the processes of the machine hold (through any thread). Other
/// processes may create namespaces meanwhile, so this is only shown, never compared.
fn namespaces_on_the_machine() -> usize {
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| {
            e.file_name()
                .to_str()
                .is_some_and(|n| n.bytes().all(|b| b.is_ascii_digit()))
        })
        .flat_map(|e| namespaces_of(&e.file_name().to_string_lossy()))
        .collect::<BTreeSet<_>>()
        .len()
}

/// Whether `p` descends from a process `is_ancestor` accepts (following ppid links).
fn descends(p: &Proc, all: &BTreeMap<i32, Proc>, is_ancestor: &dyn Fn(&Proc) -> bool) -> bool {
    let mut current = p;
    for _ in 0..128 {
        let Some(parent) = all.get(&current.ppid) else {
            return false;
        };
        if is_ancestor(parent) {
            return true;
        }
        current = parent;
    }
    false
}

/// The spawned run and every process seen descending from it, as (pid, start time).
struct Lineage {
    members: BTreeSet<(i32, u64)>,
}

impl Lineage {
    fn of(pid: i32) -> Lineage {
        let mut members = BTreeSet::new();
        if let Some(p) = proc_stat(pid) {
            members.insert((p.pid, p.start));
        }
        Lineage { members }
    }

    fn contains(&self, p: &Proc) -> bool {
        self.members.contains(&(p.pid, p.start))
    }

    /// Adds every process now descending from a member.
    fn observe(&mut self) {
        let all = processes();
        let found: Vec<(i32, u64)> = all
            .values()
            .filter(|p| !self.contains(p) && descends(p, &all, &|a| self.contains(a)))
            .map(|p| (p.pid, p.start))
            .collect();
        self.members.extend(found);
    }

    /// Processes that are members, descend from one, or descend from this test process (where
    /// orphans of the run are re-parented): none should exist once the run has been waited for.
    fn survivors(&self) -> Vec<Proc> {
        let me = std::process::id() as i32;
        let all = processes();
        all.values()
            .filter(|p| p.pid != me)
            .filter(|p| self.contains(p) || descends(p, &all, &|a| self.contains(a) || a.pid == me))
            .cloned()
            .collect()
    }
}

/// Waits until process `pid` has ended (pidfd_open(2): the descriptor becomes readable when the
/// process terminates), at most until `deadline`. True if it ended.
fn wait_until_ended(pid: i32, deadline: Instant) -> bool {
    // SAFETY: pidfd_open takes a pid and flags and returns a new descriptor or -1.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    if fd < 0 {
        return std::io::Error::last_os_error().raw_os_error() == Some(libc::ESRCH);
    }
    // SAFETY: a descriptor just returned to us, owned from here on.
    let fd = unsafe { OwnedFd::from_raw_fd(fd as i32) };
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let mut pfd = libc::pollfd {
            fd: fd.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd.
        let rc = unsafe { libc::poll(&mut pfd, 1, left.as_millis().min(i32::MAX as u128) as i32) };
        if rc < 0 && std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted {
            continue;
        }
        return rc > 0;
    }
}

/// Reaps a zombie child of this process, if `pid` is one.
fn reap(pid: i32) {
    let mut status = 0;
    // SAFETY: waiting without blocking for one pid.
    unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
}

/// Makes orphaned descendants of this process come back to it (see the file's comment).
fn become_subreaper() {
    // SAFETY: sets a flag of this process.
    let rc = unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1) };
    assert_eq!(rc, 0, "PR_SET_CHILD_SUBREAPER: {}", std::io::Error::last_os_error());
}

/// After a run was waited for: one failure line per process of its lineage still alive (given
/// [`DYING_DEADLINE`] to finish dying), with the namespaces it holds. Zombies re-parented here
/// are reaped; a process still alive after the deadline is killed, so one failure does not
/// spill into the next test.
fn processes_left_behind(lineage: &Lineage) -> Vec<String> {
    let deadline = Instant::now() + DYING_DEADLINE;
    let mut failures = Vec::new();
    for p in lineage.survivors() {
        let namespaces = namespaces_of(&p.pid.to_string());
        let ended = p.state == 'Z' || wait_until_ended(p.pid, deadline);
        if !ended {
            failures.push(format!(
                "process {} ({}, state {}) of the run is still alive, holding network namespaces {namespaces:?}",
                p.pid, p.comm, p.state
            ));
            if proc_stat(p.pid).is_some_and(|now| now.start == p.start) {
                // SAFETY: a descendant of the process this test spawned, still the same process.
                unsafe { libc::kill(p.pid, libc::SIGKILL) };
                wait_until_ended(p.pid, Instant::now() + DYING_DEADLINE);
            }
        }
        reap(p.pid);
    }
    failures
}

// ---------------------------------------------------------------------------------------------
// Running the CLI

/// How one run of the CLI ended and what it left.
struct CliRun {
    status: Option<ExitStatus>,
    stderr: String,
    /// Whether the signal was sent after a progress line, that is mid-run.
    signalled_mid_run: bool,
    failures: Vec<String>,
}

/// Runs `sockerr run --out <out> --jobs 1`; with `signal`, sends it to the process right after
/// the first progress line. Reads stderr line by line as it comes, waits for the process, and
/// checks that neither it nor any descendant is left.
fn run_cli(out: &Path, signal: Option<libc::c_int>) -> CliRun {
    let mut command = Command::new(env!("CARGO_BIN_EXE_sockerr"));
    command
        .args(["run", "--out", out.to_str().expect("UTF-8 temp path"), "--jobs", "1"])
        .env_remove("SOCKERR_EXPECT")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // The run must meet the signals as a program started from a terminal does. An ignored
    // disposition is inherited across execve(2), and a shell starts background jobs with
    // SIGINT ignored (POSIX, "Asynchronous Lists"), so one inherited by this test is reset.
    // SAFETY: signal(2) is async-signal-safe (signal-safety(7)), as the child of a fork needs.
    unsafe {
        command.pre_exec(|| {
            libc::signal(libc::SIGINT, libc::SIG_DFL);
            libc::signal(libc::SIGTERM, libc::SIG_DFL);
            Ok(())
        });
    }
    let mut child = command.spawn().expect("spawn sockerr");
    let pid = child.id() as i32;
    let mut lineage = Lineage::of(pid);
    let mut stdout = child.stdout.take().expect("piped stdout");
    let stdout_reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stdout.read_to_string(&mut text);
        text
    });
    let stderr = child.stderr.take().expect("piped stderr");
    let (lines_tx, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines() {
            if line.is_err() || lines_tx.send(line.unwrap_or_default()).is_err() {
                break;
            }
        }
    });

    let deadline = Instant::now() + RUN_DEADLINE;
    let mut failures = Vec::new();
    let mut stderr_text = String::new();
    let mut signalled_mid_run = false;
    loop {
        match lines.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            Ok(line) => {
                lineage.observe();
                let progress = line.starts_with('[');
                stderr_text.push_str(&line);
                stderr_text.push('\n');
                if let (Some(signo), true, false) = (signal, progress, signalled_mid_run) {
                    // SAFETY: signalling the child this test spawned, not yet waited for.
                    let rc = unsafe { libc::kill(pid, signo) };
                    assert_eq!(rc, 0, "kill({pid}): {}", std::io::Error::last_os_error());
                    signalled_mid_run = true;
                }
            }
            Err(RecvTimeoutError::Disconnected) => break,
            Err(RecvTimeoutError::Timeout) => {
                failures.push(format!(
                    "stderr still open {} s after the start (a process holds it)",
                    RUN_DEADLINE.as_secs()
                ));
                break;
            }
        }
    }
    if !wait_until_ended(pid, deadline) {
        failures.push(format!(
            "the run did not end within {} s; killed",
            RUN_DEADLINE.as_secs()
        ));
        // SAFETY: the child this test spawned, not yet waited for.
        unsafe { libc::kill(pid, libc::SIGKILL) };
    }
    let status = child.wait().ok();
    if let Some(p) = proc_stat(pid).filter(|p| lineage.contains(p)) {
        failures.push(format!(
            "/proc/{pid} still exists after wait ({}, state {})",
            p.comm, p.state
        ));
    }
    // Only now: a process left behind would hold stdout open (it is killed above).
    failures.extend(processes_left_behind(&lineage));
    let stdout_text = stdout_reader.join().unwrap_or_default();
    CliRun {
        status,
        stderr: format!("{stderr_text}{stdout_text}"),
        signalled_mid_run,
        failures,
    }
}

/// Files a writer left half-done: `.<name>.<pid>.tmp` anywhere under `dir`.
fn temporary_files(dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return found;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            found.extend(temporary_files(&path));
        } else if name.starts_with('.') && name.ends_with(".tmp") {
            found.push(format!("temporary file left behind: {}", path.display()));
        }
    }
    found
}

fn describe(status: Option<ExitStatus>) -> String {
    match status {
        Some(s) => match (s.code(), s.signal()) {
            (Some(code), _) => format!("exit status {code}"),
            (_, Some(signo)) => format!("killed by {}", sockerr_harness::sys::signal_name(signo)),
            _ => format!("{s:?}"),
        },
        None => "unknown status (wait failed)".into(),
    }
}

/// The whole check for one exit path: `signal` (None for the normal end) lands mid-run; the
/// host, the processes and the output directory are then checked, and a later normal run into
/// the same directory must succeed.
fn a_run_ended_by(signal: Option<libc::c_int>) {
    if sockerr_harness::prerequisite::unmet(namespaces_unavailable()) {
        return;
    }
    let _serial = serial();
    become_subreaper();
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("out");
    let namespaces_before = namespaces_on_the_machine();
    let before = host_snapshot();

    let run = run_cli(&out, signal);
    let after = host_snapshot();
    let namespaces_after = namespaces_on_the_machine();
    let mut failures = run.failures;
    let how = describe(run.status);
    match signal {
        None if run.status.is_some_and(|s| s.success()) => {}
        None => failures.push(format!("the normal run ended with {how}")),
        Some(signo) => {
            if !run.signalled_mid_run {
                failures.push("no progress line came, so the signal was never sent".into());
            } else if run.status.and_then(|s| s.signal()) != Some(signo) {
                failures.push(format!(
                    "the run ended with {how}, not by the signal: it did not land mid-run"
                ));
            }
        }
    }
    failures.extend(differences(&before, &after, "during the run"));
    let report = out.join("report.json");
    match (signal, report.exists()) {
        (Some(_), false) => {}
        _ => {
            if let Err(e) = Report::read(&report) {
                failures.push(format!("report.json after the run is not a complete report: {e}"));
            }
        }
    }
    failures.extend(temporary_files(&out));

    let later = run_cli(&out, None);
    let after_later = host_snapshot();
    failures.extend(later.failures.iter().map(|f| format!("later run: {f}")));
    // The later run must run to its end: exit status 0, or 1 when some trial differed from
    // its expectation (which the conformance target judges), never 2 or a signal.
    if !matches!(later.status.and_then(|s| s.code()), Some(0 | 1)) {
        failures.push(format!(
            "a later normal run ended with {}:\n{}",
            describe(later.status),
            later.stderr
        ));
    }
    if let Err(e) = Report::read(&report) {
        failures.push(format!("the later run's report.json does not parse: {e}"));
    }
    failures.extend(temporary_files(&out).into_iter().map(|f| format!("later run: {f}")));
    failures.extend(differences(&before, &after_later, "by the later run"));

    assert!(
        failures.is_empty(),
        "{} failure(s) after a run that ended with {how}:\n  {}\n(diagnostic: network namespaces held on the machine: \
         {namespaces_before} before, {namespaces_after} after; other processes may create some)\nstderr of the run:\n{}",
        failures.len(),
        failures.join("\n  "),
        run.stderr
    );
}

#[test]
fn a_run_that_ends_normally_leaves_the_host_unchanged_and_no_process_behind() {
    // README "What the suite touches"; network_namespaces(7): a namespace without a process,
    // thread or open descriptor in it is freed.
    a_run_ended_by(None);
}

#[test]
fn a_run_interrupted_by_sigint_mid_trial_leaves_the_host_unchanged_and_no_process_or_half_report_behind() {
    // signal(7): SIGINT's default action terminates the process; rename(2) replaces atomically.
    a_run_ended_by(Some(libc::SIGINT));
}

#[test]
fn a_run_terminated_by_sigterm_mid_trial_leaves_the_host_unchanged_and_no_process_or_half_report_behind() {
    // signal(7): SIGTERM's default action terminates the process; rename(2) replaces atomically.
    a_run_ended_by(Some(libc::SIGTERM));
}

#[test]
fn a_run_killed_by_sigkill_mid_trial_leaves_the_host_unchanged_and_no_process_or_half_report_behind() {
    // signal(7): SIGKILL cannot be caught, so nothing of the run can clean up: the kernel must;
    // prctl(2) PR_SET_PDEATHSIG takes a forked writer down with it.
    a_run_ended_by(Some(libc::SIGKILL));
}

// ---------------------------------------------------------------------------------------------
// A panic inside a scenario

const PANIC_MESSAGE: &str = "deliberate panic after opening sockets";

fn panics_after_opening_sockets(t: &mut Trial) -> ScriptResult {
    let (_client, _server, _listener) = t.connected_pair()?;
    panic!("{PANIC_MESSAGE}");
}

/// Not in the catalogue: a scenario whose script panics with a connected pair open.
static PANICKING: Scenario = Scenario {
    id: "exit_paths.panic.after_sockets",
    claim: "A script that panics with sockets open fails its trial and leaves nothing behind.",
    sources: &["README: What the suite touches", "network_namespaces(7)"],
    guidance: "None: a scenario of the suite's own tests.",
    script: panics_after_opening_sockets,
    ..Scenario::BASE
};

fn open_descriptors() -> usize {
    std::fs::read_dir("/proc/self/fd").map(|d| d.count()).unwrap_or(0)
}

#[test]
fn a_scenario_that_panics_with_sockets_open_fails_its_trial_and_leaves_no_descriptor_namespace_or_host_change() {
    // std::thread::JoinHandle::join: a panic on the trial's thread comes back as an Err; the
    // unwinding drops its sockets and namespace handles (network_namespaces(7): then freed).
    if sockerr_harness::prerequisite::unmet(namespaces_unavailable()) {
        return;
    }
    let _serial = serial();
    let config = RunConfig {
        expectations: Expectations::for_run(None, &catalogue::ids()).expect("built-in expectations"),
        ..RunConfig::default()
    };
    let before = host_snapshot();
    let threads_namespaces_before = namespaces_of("self");
    let descriptors_before = open_descriptors();

    let mut failures = Vec::new();
    for (family, topology) in PANICKING.variants() {
        let report = runner::run_trial(
            Planned {
                scenario: &PANICKING,
                family,
                topology,
                client: None,
            },
            &config,
        );
        let said = format!("error {:?}, mismatches {:?}", report.error, report.mismatches);
        if report.status != Status::Fail {
            failures.push(format!("{}: status {:?}, not fail ({said})", report.id, report.status));
        }
        let mentions = |s: String| s.contains("panicked") && s.contains(PANIC_MESSAGE);
        let mismatches = report.mismatches.iter().map(|m| m.observed.clone());
        if !report.error.iter().cloned().chain(mismatches).any(mentions) {
            failures.push(format!("{}: the report does not mention the panic: {said}", report.id));
        }
        if !report.steps.iter().any(|s| s.label == "listener.accept#1") {
            failures.push(format!(
                "{}: the sockets were not open when it panicked: steps {:?}",
                report.id, report.steps
            ));
        }
    }

    assert_eq!(
        open_descriptors(),
        descriptors_before,
        "descriptors left open: {failures:?}"
    );
    assert_eq!(
        namespaces_of("self"),
        threads_namespaces_before,
        "this process's threads are in other namespaces"
    );
    failures.extend(differences(&before, &host_snapshot(), "during the panicking trials"));
    let me = std::process::id() as i32;
    failures.extend(
        processes()
            .values()
            .filter(|p| p.ppid == me)
            .map(|p| format!("child process {} ({}) left", p.pid, p.comm)),
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

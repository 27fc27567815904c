//! A trial's lifecycle: a thread of its own, a sandbox built ahead or on the spot, the
//! script, a deadline, and the observation that remains (even of a trial that hung or
//! panicked).

use std::io;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use super::{ScriptResult, SetupError, Trial, TrialSpec, lock};
use crate::capture::Capture;
use crate::log::StepLog;
use crate::record::{Observation, Wait, Wire};
use crate::sandbox::Sandbox;
use crate::sys;

/// What the trial's thread shares with the caller, so that a trial that hangs or panics can
/// still be reported with the steps, waits and wire it got to.
#[derive(Clone)]
struct Shared {
    log: StepLog,
    waits: Arc<Mutex<Vec<Wait>>>,
    /// Set once the sandbox (and so the capture) exists.
    capture: Arc<Mutex<Option<Arc<Mutex<Capture>>>>>,
}

/// Runs `script` in a fresh sandbox on a thread of its own and returns what it observed.
///
/// A trial still running at `spec.deadline` is reported as failed with the steps, waits and
/// wire it got to, and the caller goes on. Its thread is left behind: every blocking call of
/// a trial ends within [`BLOCKING_CALL_LIMIT`](crate::endpoint::BLOCKING_CALL_LIMIT), after
/// which the thread ends and its namespaces vanish. A script that panics is reported the same
/// way, with the panic message.
pub fn run<F>(spec: &TrialSpec, script: F) -> Observation
where
    F: FnOnce(&mut Trial) -> ScriptResult + Send + 'static,
{
    run_prepared(spec, None, script)
}

/// A trial's sandbox being built ahead of the trial, on a thread of its own, while the
/// worker that will run the trial still runs the one before. Building a sandbox mostly
/// sleeps (an RCU grace period for the capture rings, link set-up), so the next trial's
/// sandbox is ready, or nearly, when its turn comes: see [`prepare`] and [`run_prepared`].
pub struct Prepared(Building);

enum Building {
    Underway(std::thread::JoinHandle<io::Result<(Sandbox, Capture)>>),
    Done(io::Result<(Sandbox, Capture)>),
}

impl Prepared {
    /// Waits until the sandbox is built (or failed to build): for trials that should start
    /// together once the set-up of all of them is over.
    pub fn built(self) -> Prepared {
        match self.0 {
            Building::Underway(thread) => Prepared(Building::Done(join_build(thread))),
            done => Prepared(done),
        }
    }
}

fn join_build(thread: std::thread::JoinHandle<io::Result<(Sandbox, Capture)>>) -> io::Result<(Sandbox, Capture)> {
    thread
        .join()
        .unwrap_or_else(|_| Err(io::Error::other("building the sandbox panicked")))
}

/// Starts building the sandbox `spec` asks for. `None` if no thread could be started (the
/// trial then builds its own).
pub fn prepare(spec: &TrialSpec) -> Option<Prepared> {
    let spec = spec.clone();
    std::thread::Builder::new()
        .name(format!("sandbox-{}-{}", spec.family, spec.topology))
        .spawn(move || Sandbox::build(spec.topology, spec.family, &spec.sysctls, Instant::now()))
        .ok()
        .map(|thread| Prepared(Building::Underway(thread)))
}

/// [`run`], in the sandbox [`prepare`] built for `spec`.
pub fn run_prepared<F>(spec: &TrialSpec, prepared: Option<Prepared>, script: F) -> Observation
where
    F: FnOnce(&mut Trial) -> ScriptResult + Send + 'static,
{
    let start = Instant::now();
    let shared = Shared {
        log: StepLog::new(start),
        waits: Arc::new(Mutex::new(Vec::new())),
        capture: Arc::new(Mutex::new(None)),
    };
    let (done, finished) = mpsc::channel();
    let thread = {
        let (spec, shared) = (spec.clone(), shared.clone());
        std::thread::Builder::new()
            .name(format!("trial-{}-{}", spec.family, spec.topology))
            .spawn(move || {
                let observation = run_on_this_thread(&spec, prepared, shared, script);
                let _ = done.send(observation);
            })
    };
    let mut observation = match thread {
        Err(e) => Observation {
            error: Some(format!("could not start the trial's thread: {e}")),
            ..Observation::default()
        },
        Ok(handle) => match finished.recv_timeout(spec.deadline) {
            Ok(observation) => {
                let _ = handle.join();
                observation
            }
            Err(RecvTimeoutError::Timeout) => {
                let steps = shared.log.steps().len();
                let why = format!(
                    "the trial exceeded its deadline of {:?} and was stopped after {steps} steps",
                    spec.deadline
                );
                salvage(spec, &shared, why)
            }
            Err(RecvTimeoutError::Disconnected) => {
                let why = match handle.join() {
                    Err(panic) => format!("the trial panicked: {}", panic_message(&panic)),
                    Ok(()) => "the trial's thread ended without a result".to_string(),
                };
                salvage(spec, &shared, why)
            }
        },
    };
    observation.elapsed_us = start.elapsed().as_micros() as u64;
    observation
}

/// The observation of a trial that did not finish: what it recorded until now.
fn salvage(spec: &TrialSpec, shared: &Shared, error: String) -> Observation {
    let capture = lock(&shared.capture).clone();
    let wire = match capture {
        Some(capture) => {
            let mut capture = lock(&capture);
            let _ = capture.poll_new();
            let pcap = spec.pcap.as_ref().and_then(|path| {
                capture
                    .write_pcapng(path, &shared.log.steps())
                    .ok()
                    .map(|()| path.display().to_string())
            });
            Wire {
                captured: capture.why_not_captured().is_none(),
                segments: capture.segments(),
                drops: 0,
                pcap,
                not_captured: capture.why_not_captured().map(str::to_string),
            }
        }
        None => Wire::default(),
    };
    Observation {
        steps: shared.log.steps(),
        waits: lock(&shared.waits).clone(),
        wire,
        knobs: shared.log.knobs(),
        client: shared.log.client_info(),
        error: Some(error),
        skipped: None,
        elapsed_us: 0,
        setup_us: 0,
        script_us: 0,
    }
}

fn panic_message(panic: &Box<dyn std::any::Any + Send>) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into())
}

fn run_on_this_thread<F>(spec: &TrialSpec, prepared: Option<Prepared>, shared: Shared, script: F) -> Observation
where
    F: FnOnce(&mut Trial) -> ScriptResult,
{
    if let Err(e) = sys::block_watched_signals() {
        return Observation {
            error: Some(format!("could not block SIGPIPE on the trial thread: {e}")),
            ..Observation::default()
        };
    }
    let setup_started = Instant::now();
    let built = match prepared {
        Some(Prepared(Building::Underway(thread))) => join_build(thread),
        Some(Prepared(Building::Done(built))) => built,
        None => Sandbox::build(spec.topology, spec.family, &spec.sysctls, shared.log.start()),
    };
    let (sandbox, mut capture) = match built {
        Ok(built) => built,
        Err(e) => {
            return Observation {
                error: Some(format!("sandbox: {e}")),
                ..Observation::default()
            };
        }
    };
    if let Err(e) = sandbox.enter_client() {
        return Observation {
            error: Some(format!("sandbox: {e}")),
            ..Observation::default()
        };
    }
    capture.restart_clock(shared.log.start());
    let capture = Arc::new(Mutex::new(capture));
    *lock(&shared.capture) = Some(Arc::clone(&capture));
    let mut trial = Trial {
        client: spec.client,
        sandbox,
        capture,
        log: shared.log.clone(),
        waits: Arc::clone(&shared.waits),
        overrides: spec.sysctls.clone(),
    };
    let setup_us = setup_started.elapsed().as_micros() as u64;
    let script_started = Instant::now();
    let outcome = script(&mut trial);
    let script_us = script_started.elapsed().as_micros() as u64;
    let (mut error, skipped) = match outcome {
        Ok(()) => (None, None),
        Err(SetupError::Skip(reason)) => (None, Some(reason)),
        Err(e) => (Some(e.to_string()), None),
    };
    if let (None, None, Some(declared)) = (&error, &skipped, &spec.declared) {
        let undeclared: Vec<String> = shared
            .log
            .used()
            .into_iter()
            .filter(|need| !declared.contains(need))
            .map(|need| need.to_string())
            .collect();
        if !undeclared.is_empty() {
            error = Some(format!(
                "the scenario uses {} without declaring it in its needs",
                undeclared.join(", ")
            ));
        }
    }
    drop(trial);
    let capture = lock(&shared.capture)
        .take()
        .and_then(Arc::into_inner)
        .map(|m| m.into_inner().unwrap_or_else(PoisonError::into_inner));
    let not_captured = capture.as_ref().and_then(|c| c.why_not_captured().map(str::to_string));
    let wire = match capture.map(Capture::finish) {
        Some(Ok(result)) => {
            let pcap = spec
                .pcap
                .as_ref()
                .and_then(|path| match result.write_pcapng(path, &shared.log.steps()) {
                    Ok(()) => Some(path.display().to_string()),
                    Err(e) => {
                        error.get_or_insert(format!("could not write {}: {e}", path.display()));
                        None
                    }
                });
            Wire {
                captured: not_captured.is_none(),
                segments: result.segments,
                drops: result.drops,
                pcap,
                not_captured,
            }
        }
        Some(Err(e)) => {
            error.get_or_insert(format!("capture: {e}"));
            Wire::default()
        }
        None => {
            error.get_or_insert("capture: still in use when the trial ended".into());
            Wire::default()
        }
    };
    Observation {
        steps: shared.log.steps(),
        waits: lock(&shared.waits).clone(),
        wire,
        knobs: shared.log.knobs(),
        client: shared.log.client_info(),
        error,
        skipped,
        elapsed_us: 0,
        setup_us,
        script_us,
    }
}

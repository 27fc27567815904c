//! Running one trial: a fresh thread, a fresh sandbox, a script that drives endpoints, and
//! the observation it leaves behind.

use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use crate::capture::Capture;
use crate::endpoint::{Background, Endpoint};
use crate::log::StepLog;
use crate::record::{Observation, Segment, Wait, Wire};
use crate::sandbox::Sandbox;
use crate::sandbox::capabilities::Capabilities;
use crate::sys;
use crate::variant::{Family, Topology};

/// How long a trial waits for an expected event (a packet, readiness) before it records the
/// wait as unmet and goes on. Generous: the events awaited normally come within microseconds.
pub const WAIT_DEADLINE: Duration = Duration::from_secs(5);

/// A port in the server's namespace where nothing listens. The namespace is private to the
/// trial, so any port would do; a fixed one keeps reports identical between runs.
pub const CLOSED_PORT: u16 = 9;

/// The port the server listens on when a scenario needs a listener.
pub const SERVER_PORT: u16 = 4000;

/// What a script returns: `Err` when the scenario could not be set up (not an outcome under
/// test: those are steps), or a [`Skip`] when this machine cannot run it.
pub type ScriptResult = Result<(), Box<dyn std::error::Error + Send + Sync>>;

/// The error a script returns when the machine lacks what the scenario needs (the `nft`
/// command, a sysctl of a newer kernel): the trial is skipped, not failed. The reason is one
/// line and says how to get what is missing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skip(pub String);

impl std::fmt::Display for Skip {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Skip {}

/// How long a whole trial may take before it is stopped and reported as failed with what it
/// did so far. The scenarios of the catalogue take milliseconds; protocol timers they wait
/// for are shortened to seconds at most.
pub const TRIAL_DEADLINE: Duration = Duration::from_secs(60);

/// Which variant to run, where to write its pcapng, how long it may take, and the sysctls
/// its namespaces get.
#[derive(Debug, Clone)]
pub struct TrialSpec {
    pub topology: Topology,
    pub family: Family,
    pub pcap: Option<PathBuf>,
    pub deadline: Duration,
    /// Sysctls (`net.ipv4.tcp_rfc1337`, value) written in every namespace of the trial right
    /// after it is created, before any socket exists; a write that fails fails the trial.
    pub sysctls: Vec<(String, String)>,
}

/// The world a script runs in: the sandbox, the step log and the capture.
pub struct Trial {
    sandbox: Sandbox,
    capture: Arc<Mutex<Capture>>,
    log: StepLog,
    waits: Arc<Mutex<Vec<Wait>>>,
}

/// What the trial's thread shares with the caller, so that a trial that hangs or panics can
/// still be reported with the steps, waits and wire it got to.
#[derive(Clone)]
struct Shared {
    log: StepLog,
    waits: Arc<Mutex<Vec<Wait>>>,
    /// Set once the sandbox (and so the capture) exists.
    capture: Arc<Mutex<Option<Arc<Mutex<Capture>>>>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
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
            let pcap = spec
                .pcap
                .as_ref()
                .and_then(|path| capture.write_pcapng(path).ok().map(|()| path.display().to_string()));
            Wire {
                captured: true,
                segments: capture.segments(),
                drops: 0,
                pcap,
            }
        }
        None => Wire::default(),
    };
    Observation {
        steps: shared.log.steps(),
        waits: lock(&shared.waits).clone(),
        wire,
        knobs: shared.log.knobs(),
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
        Err(e) if e.get_ref().is_some_and(|inner| inner.is::<Skip>()) => {
            return Observation {
                skipped: Some(e.into_inner().map(|inner| inner.to_string()).unwrap_or_default()),
                ..Observation::default()
            };
        }
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
        sandbox,
        capture,
        log: shared.log.clone(),
        waits: Arc::clone(&shared.waits),
    };
    let setup_us = setup_started.elapsed().as_micros() as u64;
    let script_started = Instant::now();
    let outcome = script(&mut trial);
    let script_us = script_started.elapsed().as_micros() as u64;
    let (mut error, skipped) = match outcome.map_err(|e| e.downcast::<Skip>()) {
        Ok(()) => (None, None),
        Err(Ok(skip)) => (None, Some(skip.0)),
        Err(Err(e)) => (Some(e.to_string()), None),
    };
    drop(trial);
    let capture = lock(&shared.capture)
        .take()
        .and_then(Arc::into_inner)
        .map(|m| m.into_inner().unwrap_or_else(PoisonError::into_inner));
    let wire = match capture.map(Capture::finish) {
        Some(Ok(result)) => {
            let pcap = spec.pcap.as_ref().and_then(|path| match result.write_pcapng(path) {
                Ok(()) => Some(path.display().to_string()),
                Err(e) => {
                    error.get_or_insert(format!("could not write {}: {e}", path.display()));
                    None
                }
            });
            Wire {
                captured: true,
                segments: result.segments,
                drops: result.drops,
                pcap,
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
        error,
        skipped,
        elapsed_us: 0,
        setup_us,
        script_us,
    }
}

impl Trial {
    pub fn family(&self) -> Family {
        self.sandbox.family()
    }

    pub fn topology(&self) -> Topology {
        self.sandbox.topology()
    }

    /// The step log, for endpoints of kinds this module does not make (UDP, Unix).
    pub(crate) fn log(&self) -> &StepLog {
        &self.log
    }

    /// Moves the calling thread into `host`'s namespace; sockets and processes it creates
    /// next belong to that host. Scripts go back to the client with `enter(Host::Client)`.
    pub fn enter(&self, host: Host) -> io::Result<()> {
        match host {
            Host::Client => self.sandbox.enter_client(),
            Host::Server => self.sandbox.enter_server(),
            Host::Router => self.sandbox.enter_router(),
        }
    }

    /// The router's address on the client's side (`routed` topology only).
    pub fn router_ip(&self) -> Option<std::net::IpAddr> {
        self.sandbox.router_ip()
    }

    /// Sets a sysctl of `host`'s namespace (never the host machine's: the trial's thread is
    /// in a namespace of its own) and records it as a knob with the value it had. A key the
    /// kernel does not have in a network namespace skips the trial, naming the key; so does
    /// one a namespace may not set here (gVisor), unless it already holds `value`.
    pub fn sysctl(&mut self, host: Host, key: &str, value: &str) -> ScriptResult {
        self.enter(host)?;
        let default = sys::read_sysctl(key).ok();
        if let Err(why) = crate::sandbox::capabilities::sysctl(key) {
            self.sandbox.enter_client()?;
            if default.as_deref() == Some(value) {
                self.log.knob(crate::record::Knob {
                    name: format!("sysctl {key}"),
                    scope: host.as_str().to_string(),
                    value: value.to_string(),
                    default,
                });
                return Ok(());
            }
            let remedy = match why.starts_with("this kernel has no") {
                true => "run on a kernel that has it",
                false => "run where a network namespace may set it",
            };
            return Err(Box::new(Skip(format!("{why}: {remedy}"))));
        }
        let written = crate::sandbox::apply_sysctls(&[(key.to_string(), value.to_string())]);
        self.sandbox.enter_client()?;
        match written {
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(Box::new(Skip(format!(
                    "this kernel has no {key} in a network namespace: run on a kernel that has it"
                ))));
            }
            Err(e) => return Err(Box::new(e)),
            Ok(()) => {}
        }
        self.log.knob(crate::record::Knob {
            name: format!("sysctl {key}"),
            scope: host.as_str().to_string(),
            value: value.to_string(),
            default,
        });
        Ok(())
    }

    /// A new TCP socket on the client's host for `actor` (`client2`, when a scenario has
    /// several clients).
    pub fn client_named(&mut self, actor: &str) -> io::Result<Endpoint> {
        self.sandbox.enter_client()?;
        Endpoint::tcp(&self.log, actor, &self.server_addr(SERVER_PORT))
    }

    /// The server's address with `port`.
    pub fn server_addr(&self, port: u16) -> SocketAddr {
        SocketAddr::new(self.sandbox.server_ip(), port)
    }

    /// An address of the server's host where nothing listens. The capture judges directions
    /// by it.
    pub fn closed_port(&mut self) -> SocketAddr {
        let addr = self.server_addr(CLOSED_PORT);
        lock(&self.capture).set_server(addr);
        addr
    }

    /// A new TCP socket on the client's host, actor `client`.
    pub fn client(&mut self) -> io::Result<Endpoint> {
        self.client_named("client")
    }

    /// A listening socket on the server's host, actor `listener` (step `listener.listen#1`).
    pub fn listener(&mut self, backlog: i32) -> io::Result<Endpoint> {
        let addr = self.server_addr(SERVER_PORT);
        self.sandbox.enter_server()?;
        let mut listener = Endpoint::tcp(&self.log, "listener", &addr)?;
        self.sandbox.enter_client()?;
        lock(&self.capture).set_server(addr);
        let step = listener.listen(&addr, backlog);
        match step.result.errno {
            None => Ok(listener),
            Some(errno) => Err(io::Error::other(format!("listen on {addr}: {errno}"))),
        }
    }

    /// A connected pair: the client (`client`), the accepted socket (`server`) and the
    /// listener. Steps `listener.listen#1`, `client.connect#1`, `listener.accept#1`.
    pub fn connected_pair(&mut self) -> io::Result<(Endpoint, Endpoint, Endpoint)> {
        let mut listener = self.listener(16)?;
        let mut client = self.client()?;
        let connected = client.connect(&self.server_addr(SERVER_PORT));
        if let Some(errno) = connected.result.errno {
            return Err(io::Error::other(format!("set-up connect failed: {errno}")));
        }
        match listener.accept("server") {
            (_, Some(server)) => Ok((client, server, listener)),
            (step, None) => Err(io::Error::other(format!(
                "set-up accept failed: {:?}",
                step.result.errno
            ))),
        }
    }

    /// Waits until the captured wire satisfies `seen`, for at most [`WAIT_DEADLINE`]. Records
    /// the wait and says whether it was met.
    pub fn wait_for_wire(&mut self, what: &str, seen: impl Fn(&[Segment]) -> bool) -> bool {
        let started = Instant::now();
        let met = lock(&self.capture)
            .wait_for(started + WAIT_DEADLINE, seen)
            .unwrap_or(false);
        self.record_wait(what, started, met)
    }

    /// Waits until the capture shows a segment from `dir` whose flags contain `flag` (a letter
    /// of tcpdump's notation: `R`, `F`, `S`, `P`).
    pub fn wait_for_segment(&mut self, dir: crate::record::Direction, flag: char) -> bool {
        let who = match dir {
            crate::record::Direction::ClientToServer => "client",
            crate::record::Direction::ServerToClient => "server",
            crate::record::Direction::RouterToClient | crate::record::Direction::RouterToServer => "router",
        };
        let what = format!("a segment with {flag} from the {who} on the wire");
        self.wait_for_wire(&what, |segments| {
            segments.iter().any(|s| s.dir == dir && s.flags.contains(flag))
        })
    }

    /// Waits until poll(2) on `endpoint` reports any of `events` (POLLERR and POLLHUP are
    /// always reported), for at most [`WAIT_DEADLINE`]. Nothing is read or consumed.
    ///
    /// Where a peer's FIN does not wake a poll that asks for POLLRDHUP alone (gVisor), POLLIN
    /// is asked too, since the FIN makes the socket readable; a wake-up that reports neither
    /// `events` nor an error is not the one awaited, and the wait goes on.
    pub fn wait_for_events(&mut self, endpoint: &Endpoint, events: libc::c_short, what: &str) -> bool {
        let started = Instant::now();
        let deadline = started + WAIT_DEADLINE;
        let awaited = events | libc::POLLERR | libc::POLLHUP;
        let asked = match Capabilities::get().poll_rdhup_wakeup {
            Err(_) if events & libc::POLLRDHUP != 0 => events | libc::POLLIN,
            _ => events,
        };
        let mut met = false;
        if let Some(fd) = endpoint.fd() {
            loop {
                let left = deadline.saturating_duration_since(Instant::now());
                match sys::poll_one(fd, asked, Some(left)) {
                    (Err(e), _) if e.kind() == io::ErrorKind::Interrupted => continue,
                    (Ok(n), revents) if asked != events && n > 0 && revents & (awaited | libc::POLLNVAL) == 0 => {
                        if Instant::now() >= deadline {
                            break;
                        }
                        std::thread::yield_now();
                        continue;
                    }
                    (Ok(n), revents) => met = n > 0 && revents & libc::POLLNVAL == 0,
                    (Err(_), _) => {}
                }
                break;
            }
        }
        self.record_wait(what, started, met)
    }

    /// Waits until `endpoint`'s TCP state (TCP_INFO) is `state`, for at most
    /// [`WAIT_DEADLINE`]. For a segment already seen on the wire whose effect the next step
    /// observes: the capture sees a segment as it is sent, and the receiver may process it a
    /// little later (in ksoftirqd, under load). TCP_INFO has no change notification: it yields
    /// between looks.
    pub fn wait_for_state(&mut self, endpoint: &Endpoint, state: &str) -> bool {
        let started = Instant::now();
        let fd = endpoint.fd();
        let met = fd.is_some_and(|fd| yield_until(started + WAIT_DEADLINE, || sys::tcp_state(fd) == Some(state)));
        let what = format!("the {}'s socket is in {state} (TCP_INFO)", endpoint.actor());
        self.record_wait(&what, started, met)
    }

    /// Waits until `endpoint` has processed the highest acknowledgement the capture shows its
    /// peer sending it so far (TCP_INFO `tcpi_bytes_acked` reaches it), for at most
    /// [`WAIT_DEADLINE`]: an ACK seen on the wire frees the endpoint's send buffer only once
    /// processed, which may be a little later. Yields between looks.
    ///
    /// Where TCP_INFO does not count the bytes acknowledged (gVisor), the wait could never be
    /// met: it is not attempted, and the trial is skipped with the reason.
    pub fn wait_for_acks_processed(&mut self, endpoint: &Endpoint) -> Result<bool, Skip> {
        if let Err(why) = &Capabilities::get().tcp_info_bytes_acked {
            return Err(Skip(format!(
                "the trial waits for the {} to process the acknowledgements it was sent, which this platform does not show: {why}",
                endpoint.actor()
            )));
        }
        let started = Instant::now();
        let local = endpoint
            .socket()
            .ok()
            .and_then(|s| s.local_addr().ok())
            .and_then(|a| a.as_socket())
            .map(|a| a.to_string());
        let highest = local.and_then(|local| {
            let mut capture = lock(&self.capture);
            let _ = capture.poll_new();
            capture
                .segments()
                .iter()
                .filter(|s| s.dst == local && s.flags.contains('.'))
                .map(|s| u64::from(s.ack))
                .max()
        });
        let met = match (endpoint.fd(), highest) {
            (Some(fd), Some(highest)) => yield_until(started + WAIT_DEADLINE, || {
                sys::tcp_bytes_acked(fd).is_some_and(|acked| acked >= highest)
            }),
            _ => false,
        };
        let what = format!(
            "the {} has processed every acknowledgement on the wire (TCP_INFO)",
            endpoint.actor()
        );
        Ok(self.record_wait(&what, started, met))
    }

    /// Waits until the thread of `call` is asleep in one of `syscalls` (see
    /// [`sys::sleeping_in_syscall`]), so that what the trial does next happens while it is
    /// blocked, for at most [`WAIT_DEADLINE`]. /proc has no change notification: it yields
    /// between looks.
    ///
    /// Where /proc does not name the system call (gVisor), the evidence is the thread's state
    /// alone: asleep (`S`), in whatever call; the recorded wait says so.
    pub fn wait_until_blocked(&mut self, call: &Background, syscalls: &[libc::c_long], what: &str) -> bool {
        let started = Instant::now();
        let deadline = started + WAIT_DEADLINE;
        if Capabilities::get().task_syscall.is_err() {
            let met = yield_until(deadline, || sys::thread_state(call.tid()) == Some('S'));
            let what = format!("{what} (by its state in /proc alone: this platform does not name the call)");
            return self.record_wait(&what, started, met);
        }
        let met = yield_until(deadline, || {
            sys::sleeping_in_syscall(call.tid()).is_some_and(|nr| syscalls.contains(&nr))
        });
        self.record_wait(what, started, met)
    }

    /// Waits until the kernel's table of TCP sockets on `host` (what `/proc/net/tcp` and
    /// `/proc/net/tcp6` list in its namespace: listeners, connections, and TIME_WAIT
    /// minisockets, which no descriptor reaches) satisfies `seen`, for at most
    /// [`WAIT_DEADLINE`]. Records the wait and says whether it was met. /proc has no change
    /// notification: it yields between looks. Where the platform's table does not list the
    /// namespace's sockets, the wait is not attempted (and recorded as unmet).
    pub fn wait_for_tcp_table(&mut self, host: Host, what: &str, seen: impl Fn(&[TcpEntry]) -> bool) -> bool {
        let started = Instant::now();
        if let Err(why) = &Capabilities::get().tcp_table {
            return self.wait_not_attempted(what, why);
        }
        let entered = self.enter(host);
        let met = entered.is_ok()
            && yield_until(started + WAIT_DEADLINE, || {
                tcp_table().is_some_and(|table| seen(&table))
            });
        let _ = self.sandbox.enter_client();
        self.record_wait(what, started, met)
    }

    /// Records a wait that this platform could never satisfy as not attempted (unmet, after
    /// no time), with the reason: see [`Capabilities`]. Returns false.
    pub fn wait_not_attempted(&mut self, what: &str, why: &str) -> bool {
        self.record_wait(&format!("{what} (not attempted: {why})"), Instant::now(), false)
    }

    pub(crate) fn record_wait(&mut self, what: &str, started: Instant, met: bool) -> bool {
        lock(&self.waits).push(Wait {
            what: what.to_string(),
            met,
            t_us: self.log.micros_since_start(started),
            waited_us: started.elapsed().as_micros() as u64,
        });
        met
    }
}

/// Looks at `met` until it holds or `deadline` passes, yielding the CPU between looks; says
/// whether it held. For kernel state that has no change notification (/proc, TCP_INFO).
fn yield_until(deadline: Instant, mut met: impl FnMut() -> bool) -> bool {
    loop {
        if met() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::yield_now();
    }
}

/// Which host of the trial.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Host {
    Client,
    Server,
    /// The router between them, in the `routed` topology.
    Router,
}

impl Host {
    pub fn as_str(self) -> &'static str {
        match self {
            Host::Client => "client",
            Host::Server => "server",
            Host::Router => "router",
        }
    }
}

/// One socket of the kernel's TCP table (a line of `/proc/net/tcp` or `/proc/net/tcp6`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TcpEntry {
    pub local: SocketAddr,
    pub remote: SocketAddr,
    /// The state's name, as [`sys::tcp_state`] gives it (`TIME_WAIT`).
    pub state: &'static str,
}

/// The TCP table of the calling thread's network namespace, or `None` where it cannot be read.
pub(crate) fn tcp_table() -> Option<Vec<TcpEntry>> {
    let mut entries = Vec::new();
    for file in ["/proc/thread-self/net/tcp", "/proc/thread-self/net/tcp6"] {
        let text = std::fs::read_to_string(file).ok()?;
        entries.extend(text.lines().skip(1).filter_map(parse_tcp_line));
    }
    Some(entries)
}

/// `  0: 0100007F:0FA0 0100007F:A1B2 06 ...`: addresses as the kernel's memory holds them,
/// printed as 32-bit words in host order, ports in hex, the state in hex.
fn parse_tcp_line(line: &str) -> Option<TcpEntry> {
    let mut fields = line.split_whitespace().skip(1);
    let local = parse_proc_addr(fields.next()?)?;
    let remote = parse_proc_addr(fields.next()?)?;
    let state = u8::from_str_radix(fields.next()?, 16).ok()?;
    Some(TcpEntry {
        local,
        remote,
        state: sys::tcp_state_name(state),
    })
}

fn parse_proc_addr(field: &str) -> Option<SocketAddr> {
    let (addr, port) = field.split_once(':')?;
    let port = u16::from_str_radix(port, 16).ok()?;
    let mut bytes = Vec::with_capacity(16);
    for i in (0..addr.len()).step_by(8) {
        let word = u32::from_str_radix(addr.get(i..i + 8)?, 16).ok()?;
        bytes.extend_from_slice(&word.to_ne_bytes());
    }
    let ip = match bytes.len() {
        4 => std::net::IpAddr::from(<[u8; 4]>::try_from(bytes).ok()?),
        16 => std::net::IpAddr::from(<[u8; 16]>::try_from(bytes).ok()?),
        _ => return None,
    };
    Some(SocketAddr::new(ip, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proc_net_tcp_lines_parse_into_addresses_and_states() {
        let v4 = "   3: 0100007F:0FA0 0200007F:A1B2 06 00000000:00000000 03:00000F9C 00000000 0 0 0 3";
        let e = parse_tcp_line(v4).expect("a v4 line");
        assert_eq!(e.local, "127.0.0.1:4000".parse().unwrap());
        assert_eq!(e.remote, "127.0.0.2:41394".parse().unwrap());
        assert_eq!(e.state, "TIME_WAIT");
        let v6 = "   0: 00000000000000000000000001000000:0FA0 00000000000000000000000000000000:0000 0A 0";
        let e = parse_tcp_line(v6).expect("a v6 line");
        assert_eq!(e.local, "[::1]:4000".parse().unwrap());
        assert_eq!(e.state, "LISTEN");
    }

    fn spec(deadline: Duration) -> TrialSpec {
        TrialSpec {
            topology: Topology::Loopback,
            family: Family::V4,
            pcap: None,
            deadline,
            sysctls: Vec::new(),
        }
    }

    fn flags(o: &Observation) -> Vec<String> {
        o.wire
            .segments
            .iter()
            .map(|s| format!("{} {}", s.dir, s.flags))
            .collect()
    }

    #[test]
    fn a_trial_that_blocks_past_its_deadline_is_stopped_with_its_steps_and_wire_so_far() {
        if let Some(reason) = sys::namespaces_unavailable() {
            eprintln!("skipped: {reason}");
            return;
        }
        let started = Instant::now();
        let observed = run(&spec(Duration::from_millis(300)), |t| {
            let (mut client, _server, _listener) = t.connected_pair()?;
            client.read(64); // nothing will ever arrive: blocks until SO_RCVTIMEO
            Ok(())
        });
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "the caller waited {:?}",
            started.elapsed()
        );
        let error = observed.error.clone().unwrap_or_default();
        assert!(error.contains("exceeded its deadline of 300ms"), "{error}");
        let labels: Vec<_> = observed.steps.iter().map(|s| s.label.as_str()).collect();
        assert_eq!(labels, ["listener.listen#1", "client.connect#1", "listener.accept#1"]);
        assert_eq!(
            flags(&observed),
            ["client>server S", "server>client S.", "client>server ."]
        );
    }

    #[test]
    fn a_script_that_panics_is_reported_with_the_panic_and_its_steps() {
        if let Some(reason) = sys::namespaces_unavailable() {
            eprintln!("skipped: {reason}");
            return;
        }
        let observed = run(&spec(TRIAL_DEADLINE), |t| {
            let (_client, mut server, _listener) = t.connected_pair()?;
            server.abort();
            panic!("scenario bug");
        });
        assert_eq!(observed.error.as_deref(), Some("the trial panicked: scenario bug"));
        assert_eq!(observed.steps.last().map(|s| s.label.as_str()), Some("server.abort#1"));
        assert!(
            flags(&observed).contains(&"server>client R.".to_string()),
            "{:?}",
            flags(&observed)
        );
    }

    fn host_value(key: &str) -> String {
        sys::read_sysctl(key).unwrap_or_else(|e| format!("unreadable: {e}"))
    }

    /// ip-sysctl.rst: tcp_rfc1337 and tcp_abort_on_overflow are per network namespace, so an
    /// override reaches every namespace of the trial (client and server; loopback has one)
    /// and leaves the host's value alone (DESIGN.md principle 3).
    #[test]
    fn a_sysctl_override_is_in_force_in_every_namespace_of_a_trial_and_not_on_the_host() {
        if let Some(reason) = sys::namespaces_unavailable() {
            eprintln!("skipped: {reason}");
            return;
        }
        let keys = ["net.ipv4.tcp_rfc1337", "net.ipv4.tcp_abort_on_overflow"];
        let host_before = keys.map(host_value);
        for topology in [Topology::Loopback, Topology::TwoHosts] {
            let mut spec = spec(TRIAL_DEADLINE);
            spec.topology = topology;
            spec.sysctls = keys.iter().map(|k| (k.to_string(), "1".to_string())).collect();
            let seen = Arc::new(Mutex::new(Vec::new()));
            let record = Arc::clone(&seen);
            let observed = run(&spec, move |t| {
                for (who, enter) in [
                    ("server", Sandbox::enter_server as fn(&Sandbox) -> io::Result<()>),
                    ("client", Sandbox::enter_client),
                ] {
                    enter(&t.sandbox)?;
                    for key in ["net.ipv4.tcp_rfc1337", "net.ipv4.tcp_abort_on_overflow"] {
                        lock(&record).push(format!("{who} {key}={}", sys::read_sysctl(key)?));
                    }
                }
                Ok(())
            });
            assert_eq!(observed.error, None, "{topology}");
            assert_eq!(
                *lock(&seen),
                [
                    "server net.ipv4.tcp_rfc1337=1",
                    "server net.ipv4.tcp_abort_on_overflow=1",
                    "client net.ipv4.tcp_rfc1337=1",
                    "client net.ipv4.tcp_abort_on_overflow=1"
                ],
                "{topology}"
            );
        }
        assert_eq!(keys.map(host_value), host_before, "the host's sysctls changed");
    }

    /// proc_sys(5): a sysctl the kernel does not have is no file under /proc/sys, so writing it
    /// fails with ENOENT; the trial then fails before any step, naming the key.
    #[test]
    fn a_sysctl_override_the_kernel_refuses_fails_the_trial_naming_the_key() {
        if let Some(reason) = sys::namespaces_unavailable() {
            eprintln!("skipped: {reason}");
            return;
        }
        for topology in [Topology::Loopback, Topology::TwoHosts] {
            let mut spec = spec(TRIAL_DEADLINE);
            spec.topology = topology;
            spec.sysctls = vec![("net.ipv4.no_such_knob".into(), "1".into())];
            let observed = run(&spec, |t| {
                t.connected_pair()?;
                Ok(())
            });
            let error = observed.error.unwrap_or_default();
            assert!(error.starts_with("sandbox: in the "), "{error}");
            assert!(
                error.contains("sysctl net.ipv4.no_such_knob=1: no such sysctl in a network namespace"),
                "{error}"
            );
            assert!(observed.steps.is_empty(), "{topology}: steps ran");
        }
    }
}

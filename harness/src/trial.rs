//! Running one trial: a fresh thread, a fresh sandbox, a script that drives endpoints, and
//! the observation it leaves behind.

use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::capture::Capture;
use crate::endpoint::Endpoint;
use crate::log::StepLog;
use crate::record::{Observation, Segment, Wait, Wire};
use crate::sandbox::Sandbox;
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
/// test: those are steps).
pub type ScriptResult = Result<(), Box<dyn std::error::Error + Send + Sync>>;

/// Which variant to run, and where to write its pcapng.
#[derive(Debug, Clone)]
pub struct TrialSpec {
    pub topology: Topology,
    pub family: Family,
    pub pcap: Option<PathBuf>,
}

/// The world a script runs in: the sandbox, the step log and the capture.
pub struct Trial {
    sandbox: Sandbox,
    capture: Capture,
    log: StepLog,
    waits: Vec<Wait>,
}

/// Runs `script` in a fresh sandbox on a thread of its own and returns what it observed.
/// The thread, its namespaces, sockets and capture are gone when this returns.
pub fn run<F>(spec: &TrialSpec, script: F) -> Observation
where
    F: FnOnce(&mut Trial) -> ScriptResult + Send,
{
    let start = Instant::now();
    let observed = std::thread::scope(|scope| {
        std::thread::Builder::new()
            .name(format!("trial-{}-{}", spec.family, spec.topology))
            .spawn_scoped(scope, || run_on_this_thread(spec, start, script))
            .map_err(|e| format!("could not start the trial's thread: {e}"))
            .and_then(|handle| handle.join().map_err(|panic| format!("the trial panicked: {}", panic_message(&panic))))
    });
    let mut observation = observed.unwrap_or_else(|error| Observation { error: Some(error), ..Observation::default() });
    observation.elapsed_us = start.elapsed().as_micros() as u64;
    observation
}

fn panic_message(panic: &Box<dyn std::any::Any + Send>) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into())
}

fn run_on_this_thread<F>(spec: &TrialSpec, start: Instant, script: F) -> Observation
where
    F: FnOnce(&mut Trial) -> ScriptResult,
{
    if let Err(e) = sys::block_watched_signals() {
        return Observation { error: Some(format!("could not block SIGPIPE on the trial thread: {e}")), ..Observation::default() };
    }
    let (sandbox, capture) = match Sandbox::build(spec.topology, spec.family, start) {
        Ok(built) => built,
        Err(e) => return Observation { error: Some(format!("sandbox: {e}")), ..Observation::default() },
    };
    let mut trial = Trial { sandbox, capture, log: StepLog::new(start), waits: Vec::new() };
    let mut error = script(&mut trial).err().map(|e| e.to_string());
    let Trial { capture, log, waits, .. } = trial;
    let wire = match capture.finish() {
        Ok(result) => {
            let pcap = spec.pcap.as_ref().and_then(|path| match result.write_pcapng(path) {
                Ok(()) => Some(path.display().to_string()),
                Err(e) => {
                    error.get_or_insert(format!("could not write {}: {e}", path.display()));
                    None
                }
            });
            Wire { captured: true, segments: result.segments, drops: result.drops, pcap }
        }
        Err(e) => {
            error.get_or_insert(format!("capture: {e}"));
            Wire::default()
        }
    };
    Observation { steps: log.steps(), waits, wire, error, elapsed_us: 0 }
}

impl Trial {
    pub fn family(&self) -> Family {
        self.sandbox.family()
    }

    pub fn topology(&self) -> Topology {
        self.sandbox.topology()
    }

    /// The server's address with `port`.
    pub fn server_addr(&self, port: u16) -> SocketAddr {
        SocketAddr::new(self.sandbox.server_ip(), port)
    }

    /// An address of the server's host where nothing listens. The capture judges directions
    /// by it.
    pub fn closed_port(&mut self) -> SocketAddr {
        let addr = self.server_addr(CLOSED_PORT);
        self.capture.set_server(addr);
        addr
    }

    /// A new TCP socket on the client's host, actor `client`.
    pub fn client(&mut self) -> io::Result<Endpoint> {
        self.sandbox.enter_client()?;
        Endpoint::tcp(&self.log, "client", &self.server_addr(SERVER_PORT))
    }

    /// A listening socket on the server's host, actor `listener` (step `listener.listen#1`).
    pub fn listener(&mut self, backlog: i32) -> io::Result<Endpoint> {
        let addr = self.server_addr(SERVER_PORT);
        self.sandbox.enter_server()?;
        let mut listener = Endpoint::tcp(&self.log, "listener", &addr)?;
        self.sandbox.enter_client()?;
        self.capture.set_server(addr);
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
            (step, None) => Err(io::Error::other(format!("set-up accept failed: {:?}", step.result.errno))),
        }
    }

    /// Waits until the captured wire satisfies `seen`, for at most [`WAIT_DEADLINE`]. Records
    /// the wait and says whether it was met.
    pub fn wait_for_wire(&mut self, what: &str, seen: impl Fn(&[Segment]) -> bool) -> bool {
        let started = Instant::now();
        let met = self.capture.wait_for(started + WAIT_DEADLINE, seen).unwrap_or(false);
        self.record_wait(what, started, met)
    }

    /// Waits until the capture shows a segment from `dir` whose flags contain `flag` (a letter
    /// of tcpdump's notation: `R`, `F`, `S`, `P`).
    pub fn wait_for_segment(&mut self, dir: crate::record::Direction, flag: char) -> bool {
        let who = match dir {
            crate::record::Direction::ClientToServer => "client",
            crate::record::Direction::ServerToClient => "server",
        };
        let what = format!("a segment with {flag} from the {who} on the wire");
        self.wait_for_wire(&what, |segments| segments.iter().any(|s| s.dir == dir && s.flags.contains(flag)))
    }

    /// Waits until poll(2) on `endpoint` reports any of `events` (POLLERR and POLLHUP are
    /// always reported), for at most [`WAIT_DEADLINE`]. Nothing is read or consumed.
    pub fn wait_for_events(&mut self, endpoint: &Endpoint, events: libc::c_short, what: &str) -> bool {
        let started = Instant::now();
        let deadline = started + WAIT_DEADLINE;
        let mut met = false;
        if let Some(fd) = endpoint.fd() {
            loop {
                let left = deadline.saturating_duration_since(Instant::now());
                match sys::poll_one(fd, events, Some(left)) {
                    (Err(e), _) if e.kind() == io::ErrorKind::Interrupted => continue,
                    (Ok(n), revents) => met = n > 0 && revents & libc::POLLNVAL == 0,
                    (Err(_), _) => {}
                }
                break;
            }
        }
        self.record_wait(what, started, met)
    }

    fn record_wait(&mut self, what: &str, started: Instant, met: bool) -> bool {
        self.waits.push(Wait {
            what: what.to_string(),
            met,
            t_us: self.log.micros_since_start(started),
            waited_us: started.elapsed().as_micros() as u64,
        });
        met
    }
}

//! One trial: a fresh thread, a fresh sandbox, a script that drives endpoints, and the
//! observation it leaves behind.
//!
//! The pieces by concern: [`mod@run`] (the lifecycle: thread, sandbox, deadline, observation),
//! [`actors`] (the endpoints a script gets: clients, listener, connected pairs, UDP and Unix
//! sockets), [`waits`] (waiting on the wire, readiness, TCP state, /proc), [`firewall`]
//! (nftables rules inside a host) and [`error`] (why a script stopped).

pub mod actors;
pub mod error;
pub mod firewall;
pub mod inject;
pub mod run;
#[cfg(all(test, target_os = "linux"))]
mod tests;
pub mod waits;

use std::io;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

pub use actors::SocketDir;
pub use error::{Context, ScriptResult, SetupError};
pub use run::{Prepared, prepare, run, run_prepared};
pub use waits::WAIT_DEADLINE;

use crate::capabilities::Need;
use crate::capture::Capture;
use crate::log::StepLog;
use crate::record::{Knob, Wait};
use crate::sandbox::Sandbox;
use crate::sys;
use crate::variant::{Family, Topology};

/// A port in the server's namespace where nothing listens. The namespace is private to the
/// trial, so any port would do; a fixed one keeps reports identical between runs.
pub const CLOSED_PORT: u16 = 9;

/// The port the server listens on when a scenario needs a listener.
pub const SERVER_PORT: u16 = 4000;

/// How long a whole trial may take before it is stopped and reported as failed with what it
/// did so far. The scenarios of the catalogue take milliseconds; protocol timers they wait
/// for are shortened to seconds at most.
pub const TRIAL_DEADLINE: Duration = Duration::from_secs(60);

/// Which variant to run, where to write its pcapng, how long it may take, the sysctls its
/// namespaces get, and what its scenario declared it needs.
#[derive(Debug, Clone)]
pub struct TrialSpec {
    pub topology: Topology,
    pub family: Family,
    pub pcap: Option<PathBuf>,
    pub deadline: Duration,
    /// Sysctls (`net.ipv4.tcp_rfc1337`, value) written in every namespace of the trial right
    /// after it is created, before any socket exists; a write that fails fails the trial.
    pub sysctls: Vec<(String, String)>,
    /// What the scenario declared it needs. A trial that uses something else fails, naming
    /// it, so that declarations stay true (the runner skips trials by them before they run).
    /// `None`: nothing is checked.
    pub declared: Option<Vec<Need>>,
    /// The runtime API whose client makes the client's steps (`t.client()`), for a runtime
    /// trial; `None`: the harness makes them itself.
    pub client: Option<crate::runtime::Api>,
}

impl TrialSpec {
    /// A spec with the standard deadline, no pcapng, no sysctls and nothing checked.
    pub fn new(family: Family, topology: Topology) -> TrialSpec {
        TrialSpec {
            topology,
            family,
            pcap: None,
            deadline: TRIAL_DEADLINE,
            sysctls: Vec::new(),
            declared: None,
            client: None,
        }
    }
}

/// The world a script runs in: the sandbox, the step log and the capture.
pub struct Trial {
    sandbox: Sandbox,
    /// See [`TrialSpec::client`].
    client: Option<crate::runtime::Api>,
    capture: Arc<Mutex<Capture>>,
    log: StepLog,
    waits: Arc<Mutex<Vec<Wait>>>,
    /// The run's sysctl overrides (`--sysctl`), already written in every namespace.
    overrides: Vec<(String, String)>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
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

impl Trial {
    pub fn family(&self) -> Family {
        self.sandbox.family()
    }

    pub fn topology(&self) -> Topology {
        self.sandbox.topology()
    }

    /// The step log, for endpoints of kinds this module does not make.
    pub(crate) fn log(&self) -> &StepLog {
        &self.log
    }

    /// Notes that the script uses `need`; the trial fails at its end if its scenario did not
    /// declare it (see [`TrialSpec::declared`]).
    pub(crate) fn uses(&self, need: Need) {
        self.log.uses(need);
    }

    /// Moves the calling thread into `host`'s namespace; sockets and processes it creates
    /// next belong to that host. Scripts go back to the client with `enter(Host::Client)`.
    pub fn enter(&self, host: Host) -> io::Result<()> {
        match host {
            Host::Client => self.sandbox.enter_client(),
            Host::Server => self.sandbox.enter_server(),
            Host::Router => self.sandbox.enter_router(),
        }
        .map_err(|e| io::Error::new(e.kind(), format!("entering the {} namespace: {e}", host.as_str())))
    }

    /// The router's address on the client's side (`routed` topology only).
    pub fn router_ip(&self) -> Option<std::net::IpAddr> {
        self.sandbox.router_ip()
    }

    /// Sets a sysctl of `host`'s namespace (never the host machine's: the trial's thread is
    /// in a namespace of its own) and records it as a knob with the value it had. A key the
    /// kernel does not have in a network namespace skips the trial, naming the key.
    pub fn sysctl(&mut self, host: Host, key: &'static str, value: &str) -> ScriptResult {
        self.uses(Need::Sysctl(key));
        self.write_sysctl(host, key, value)
    }

    /// [`Trial::sysctl`] for a setting that only shortens the trial (a timer floor newer
    /// kernels let a namespace lower): where the kernel lacks the key nothing is written, no
    /// knob is recorded, and the trial goes on. It is not a need.
    pub fn sysctl_where_present(&mut self, host: Host, key: &'static str, value: &str) -> ScriptResult {
        match self.write_sysctl(host, key, value) {
            Err(SetupError::Skip(_)) => Ok(()),
            other => other,
        }
    }

    /// [`Trial::sysctl`] for a baseline the scenario pins so that its outcome does not hang
    /// on the machine's defaults, but that a run may change on purpose: where the run
    /// overrides `key` (`sockerr run --sysctl`), the override stays in force and the knob
    /// records its value; otherwise `value` is written.
    pub fn sysctl_baseline(&mut self, host: Host, key: &'static str, value: &str) -> ScriptResult {
        let overridden = self.overrides.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone());
        let Some(value_in_force) = overridden else {
            return self.sysctl(host, key, value);
        };
        self.uses(Need::Sysctl(key));
        self.log.knob(Knob {
            name: format!("sysctl {key}"),
            scope: format!("{} (--sysctl)", host.as_str()),
            value: value_in_force,
            default: None,
        });
        Ok(())
    }

    fn write_sysctl(&mut self, host: Host, key: &'static str, value: &str) -> ScriptResult {
        if self.topology() == Topology::Host {
            return Err(SetupError::Skip(format!(
                "the host topology never changes the host's {key}: run it in a namespace topology"
            )));
        }
        self.enter(host)?;
        let default = sys::read_sysctl(key).ok();
        let written = crate::sandbox::apply_sysctls(&[(key.to_string(), value.to_string())]);
        self.enter(Host::Client)?;
        match written {
            // A key that cannot even be read is not there: Linux refuses its write with
            // ENOENT, gVisor with EACCES (no file can be made under /proc/sys).
            Err(e) if e.kind() == io::ErrorKind::NotFound || default.is_none() => {
                return Err(SetupError::Skip(format!(
                    "this kernel has no {key} in a network namespace: run on a kernel that has it"
                )));
            }
            Err(e) => return Err(e.into()),
            Ok(()) => {}
        }
        self.log.knob(Knob {
            name: format!("sysctl {key}"),
            scope: host.as_str().to_string(),
            value: value.to_string(),
            default,
        });
        Ok(())
    }

    /// Raises the floor of `host`'s retransmission timeout towards its peer to `rto_min` (a
    /// locked metric on the route to the peer's address, ip-route(8) `rto_min`), in the trial's
    /// namespace only, and records it as a knob. For a scenario whose steps must fall between
    /// transmissions that TCP's timers would otherwise space 200 ms apart (TCP_RTO_MIN, and
    /// the same ceiling on TCP_CORK): a wider floor keeps a loaded machine from moving a
    /// retransmission across a step. On loopback both ends share the route. Where the platform
    /// keeps no route metrics (it refuses the lookup or the route as unsupported), nothing is
    /// set, no knob is recorded and the trial goes on with the platform's own timers.
    pub fn rto_min(&mut self, host: Host, rto_min: Duration) -> ScriptResult {
        if self.topology() == Topology::Host {
            return Err(SetupError::Skip(
                "the host topology never changes the host's routes: run it in a namespace topology".into(),
            ));
        }
        let peer = match host {
            Host::Client => self.sandbox.server_ip(),
            Host::Server => self.client_ip(),
            Host::Router => return Err("rto_min: the router ends no connection of its own".into()),
        };
        self.enter(host)?;
        let set = sys::set_route_rto_min(peer, rto_min);
        self.enter(Host::Client)?;
        match set {
            Err(e) if e.kind() == io::ErrorKind::Unsupported => Ok(()),
            Err(e) => Err(e.into()),
            Ok(()) => {
                self.log.knob(Knob {
                    name: "route rto_min".to_string(),
                    scope: format!("{} to {peer}", host.as_str()),
                    value: format!("{} ms", rto_min.as_millis()),
                    default: None,
                });
                Ok(())
            }
        }
    }
}

//! Long-lived clients: one process per runtime for the whole run, started in a private empty
//! namespace, listening on a Unix socket; each session is a connection whose first request
//! names the trial's namespace, which the client's session thread enters before it makes a
//! socket. A process per trial would cost a JVM's, Python's or Node's start-up every time
//! (see runtimes/README.md for the measurements).

use std::collections::BTreeMap;
use std::fs::File;
use std::io;
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use super::Runtime;
use super::line::Lines;
use super::programs::{self, Launch};
use crate::sys::{self, PipedChild};

/// How long a client may take to start listening (a JVM on a loaded machine).
const START_DEADLINE: Duration = Duration::from_secs(30);

/// A running long-lived client.
pub(crate) struct Server {
    child: Mutex<PipedChild>,
    socket: PathBuf,
    log: PathBuf,
}

static SERVERS: Mutex<BTreeMap<Runtime, Arc<Server>>> = Mutex::new(BTreeMap::new());

impl Server {
    /// Whether the process has ended, and how.
    pub(crate) fn ended(&self) -> Option<String> {
        self.child.lock().unwrap_or_else(PoisonError::into_inner).try_ended()
    }

    /// A new session: a connection to the client.
    pub(crate) fn connect(&self) -> io::Result<Lines> {
        let stream = UnixStream::connect(&self.socket)?;
        let rx = File::from(std::os::fd::OwnedFd::from(stream.try_clone()?));
        Ok(Lines::new(File::from(std::os::fd::OwnedFd::from(stream)), rx))
    }
}

/// Ends every running client (SIGKILL, then reaped): at the end of a run, so that no process
/// outlives it. Sessions still open lose their client.
pub(crate) fn stop_all() {
    let servers = std::mem::take(&mut *SERVERS.lock().unwrap_or_else(PoisonError::into_inner));
    for server in servers.into_values() {
        server.child.lock().unwrap_or_else(PoisonError::into_inner).kill();
    }
}

/// The running client of `runtime`, started now if it is not running (or died).
pub(crate) fn get(runtime: Runtime, launch: &Launch) -> io::Result<Arc<Server>> {
    let mut servers = SERVERS.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(server) = servers.get(&runtime) {
        if server.ended().is_none() {
            return Ok(Arc::clone(server));
        }
    }
    let server = Arc::new(start(runtime, launch)?);
    servers.insert(runtime, Arc::clone(&server));
    Ok(server)
}

/// A directory of this process's own for the clients' sockets and logs, in the cache; the
/// directories of processes that are gone are removed on the way.
fn run_dir() -> io::Result<PathBuf> {
    let root = programs::cache_root().join("run");
    std::fs::create_dir_all(&root)?;
    for old in std::fs::read_dir(&root)?.flatten() {
        let pid = old.file_name().to_str().and_then(|n| n.parse::<u32>().ok());
        if pid.is_some_and(|pid| pid != std::process::id() && !sys::process_exists(pid)) {
            let _ = std::fs::remove_dir_all(old.path());
        }
    }
    let mut dir = root.join(std::process::id().to_string());
    // sockaddr_un holds 108 bytes: a deep target directory falls back to the temporary one.
    if dir.as_os_str().len() > 80 {
        dir = std::env::temp_dir().join(format!("sockerr-{}", std::process::id()));
    }
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

fn start(runtime: Runtime, launch: &Launch) -> io::Result<Server> {
    let dir = run_dir()?;
    let name = runtime.name().to_lowercase();
    let socket = dir.join(format!("{name}.sock"));
    let log = dir.join(format!("{name}.log"));
    let _ = std::fs::remove_file(&socket);
    let errors = File::options().create(true).append(true).open(&log)?;
    let mut args: Vec<String> = launch.args.clone();
    args.extend(["serve".into(), socket.display().to_string()]);
    let program = launch.program.clone();
    let mut child = sys::in_fresh_namespace(move || {
        // With `lo` up the namespace has addresses of both families: the JDK decides once, at
        // start-up, whether IPv6 exists, from /proc/net/if_inet6 (net_util_md.c IPv6_supported).
        crate::sys::netlink::Netlink::open()?.set_up("lo")?;
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        sys::spawn_piped(&program, &refs, &errors)
    })??;
    let ready = {
        let stdout = child.stdout.try_clone()?;
        let stdin = File::open("/dev/null")?;
        Lines::new(stdin, stdout).read_line(Instant::now() + START_DEADLINE)
    };
    match ready {
        Ok(line) if line.trim() == "ready" => Ok(Server {
            child: Mutex::new(child),
            socket,
            log,
        }),
        other => {
            child.kill();
            let said = std::fs::read_to_string(&log).unwrap_or_default();
            let tail: Vec<&str> = said.lines().rev().take(3).collect();
            Err(io::Error::other(format!(
                "the {} client did not start ({}): {}",
                runtime.name(),
                match other {
                    Ok(line) => format!("it said {line:?}"),
                    Err(e) => e.to_string(),
                },
                tail.into_iter().rev().collect::<Vec<_>>().join(" / ")
            )))
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.socket);
        let _ = std::fs::remove_file(&self.log);
    }
}

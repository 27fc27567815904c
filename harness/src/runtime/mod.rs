//! Runtime clients: the client steps of a trial made by a program in another runtime (Java,
//! Python, Go, Node.js, Rust), so that a report can say what a *program* is told, beside the
//! errno the system call returned.
//!
//! # The protocol
//!
//! A client serves sessions. A session is one socket's life, driven step by step: the harness
//! writes one JSON request per line, the client answers each with one JSON observation per
//! line, in order. `runtimes/README.md` describes it for the clients' authors; in short:
//!
//! | request | the call |
//! |---|---|
//! | `{"op":"hello","api":"java.net.Socket","netns":"/proc/P/task/T/ns/net"}` | chooses the API; `netns` (optional) is entered (setns(2)) before any socket exists; answers `runtime` (name and version) and `pid` |
//! | `{"op":"connect","host":"198.18.0.2","port":4000}` | creates the socket and connects it, as the API does |
//! | `{"op":"read","len":64}` | reads up to `len` bytes; `value` is the API's return (a count; Java's end of file is -1, Go's is an `io.EOF` error) |
//! | `{"op":"write","len":1}` | writes `len` bytes `x`; `value` is the API's return |
//! | `{"op":"shutdown","how":"read"\|"write"\|"both"}` | shutdown(2) as far as the API has it |
//! | `{"op":"so_error"}` | the pending error, where the API exposes SO_ERROR |
//! | `{"op":"getpeername"}` | the peer's address as the API gives it |
//! | `{"op":"set_nodelay","on":true}`, `{"op":"set_keepalive","on":true}` | the option |
//! | `{"op":"close"}` | closes the socket |
//! | `{"op":"bye"}` | closes what is open without a step and ends the session (answered `ok`) |
//!
//! An observation ([`Answer`]) has `outcome` `ok` (with `value`), `error` (with `type`, the
//! exact `message`, `code` and `errno` where the runtime exposes them, and runtime-specific
//! `fields`), or `unsupported` (with `why`: the API cannot express the step; it is recorded,
//! never dropped). Node.js adds `events`, the socket's events since the previous observation.
//! Every observation carries `fd`, the socket's descriptor in the client's process while it
//! is open, through which the harness reads revents and TCP_INFO itself (pidfd_getfd(2)),
//! never SO_ERROR. Every blocking call of a client is bounded by
//! [`BLOCKING_CALL_LIMIT`]; an answer that does not come within it and a margin is recorded
//! as `lost`, as is a client that died.
//!
//! # Where the clients run
//!
//! Their sockets must live in the trial's namespace. Java (JDK 17), Python and Go run as one
//! long-lived process per runtime whose session threads enter the trial's namespace
//! (`server.rs`). Node.js, which cannot enter a namespace from JavaScript, runs as one
//! long-lived process too, on its IPC channel: the harness makes the socket in the trial's
//! namespace and passes it with the `connect` request (`node_ipc.rs`). A JDK without the
//! namespace entry runs as a process per session, started from the trial's thread (so in its
//! namespace). Rust's clients run on a thread started from the trial's thread. Set
//! `SOCKERR_RUNTIME_MODE=process` to run every client as a process per session; a long-lived
//! process costs one start per run instead of one per trial (runtimes/README.md has the
//! figures).

mod line;
mod node_ipc;
mod programs;
mod server;

use std::fs::File;
use std::io;
use std::net::SocketAddr;
use std::os::fd::OwnedFd;
use std::sync::Arc;
use std::time::{Duration, Instant};

mod api;

pub use crate::record::runtime::{Answer, RuntimeStep};
pub use api::{Api, Runtime, StartError, require_all};
use line::Lines;
use serde_json::{Value, json};

use crate::endpoint::BLOCKING_CALL_LIMIT;
use crate::endpoint::stream::Shut;
use crate::events::{EventApi, Events};
use crate::sys;

/// How long past [`BLOCKING_CALL_LIMIT`] the harness waits for an answer before it records
/// the step as `lost`: the client's own bound comes first.
const ANSWER_MARGIN: Duration = Duration::from_secs(5);

/// How long a client may take to start and answer its hello (a JVM on a loaded machine).
const HELLO_DEADLINE: Duration = Duration::from_secs(30);

impl Runtime {
    /// Why this runtime's clients cannot run on this machine, with the Debian package that
    /// installs what is missing; `None` when they can.
    pub fn missing(self) -> Option<String> {
        programs::missing(self)
    }

    /// Builds this runtime's client and starts its long-lived process if it has one, so
    /// that the first trial does not wait for it (a JVM takes hundreds of milliseconds). A run
    /// calls it on a thread of its own before its trials start; trials start what is not yet
    /// running anyway.
    pub fn prepare(self) -> Result<(), StartError> {
        if self == Runtime::Rust {
            return Ok(());
        }
        if let Some(why) = programs::missing(self) {
            return Err(StartError::Missing(why));
        }
        let failed = |e: &dyn std::fmt::Display| StartError::Failed(format!("{}: {e}", self.name()));
        let launch = programs::launch(self).map_err(|e| failed(&e))?;
        if per_process() {
            return Ok(());
        }
        if self == Runtime::Node {
            node_ipc::get(&launch).map_err(|e| failed(&e))?;
        } else if launch.enters_namespaces {
            server::get(self, &launch).map_err(|e| failed(&e))?;
        }
        Ok(())
    }
}

/// Ends every long-lived client this process started (they are started again when a later
/// session needs them): a run calls it at its end, so that it leaves no process behind.
pub fn stop_all() {
    server::stop_all();
    node_ipc::stop();
}

/// Whether `SOCKERR_RUNTIME_MODE=process` asks for a process per session for every client.
fn per_process() -> bool {
    std::env::var("SOCKERR_RUNTIME_MODE").is_ok_and(|m| m == "process")
}

/// Where a session's client runs.
enum Host {
    /// A long-lived process serving many sessions.
    Server(Arc<server::Server>),
    /// The long-lived Node.js process (its session is the channel).
    Node,
    /// A process of this session's own.
    Process(sys::PipedChild),
    /// A thread of this process.
    Thread(std::thread::JoinHandle<io::Result<()>>),
}

/// One session of a runtime client: a socket made and used by `api`, in the network namespace
/// of the thread that started it. Every call is a [`RuntimeStep`]. Dropping it ends the
/// session: the client closes what is still open, and the drop returns once it has.
pub struct RuntimeClient {
    api: Api,
    version: String,
    channel: Channel,
    /// The namespace of the thread that started the session, where the harness creates the
    /// socket for a client that cannot (Node.js on its IPC channel).
    netns: Option<sys::NetNs>,
    /// `None` only once the session ended.
    host: Option<Host>,
    /// The client's process, for pidfd_getfd(2); `None` where pidfd_open failed.
    pidfd: Option<OwnedFd>,
    /// The socket's descriptor in the client's process, from the last answer.
    fd: Option<i32>,
    started: Instant,
    counts: std::collections::HashMap<&'static str, u32>,
    steps: Vec<RuntimeStep>,
}

impl RuntimeClient {
    /// Starts a session of `api` whose socket will live in the calling thread's network
    /// namespace. The runtime is built or started first if this process has not yet done so.
    pub fn start(api: Api) -> Result<RuntimeClient, StartError> {
        let runtime = api.runtime();
        let failed = |e: &dyn std::fmt::Display| StartError::Failed(format!("{api}: {e}"));
        let mut own_netns = None;
        let (channel, host, netns) = if runtime == Runtime::Rust {
            let (ours, theirs) = std::os::unix::net::UnixStream::pair().map_err(|e| failed(&e))?;
            let thread = std::thread::Builder::new()
                .name(format!("client-{api}"))
                .spawn(move || {
                    let input = io::BufReader::new(theirs.try_clone()?);
                    sockerr_runtime_rust::serve(input, theirs)
                })
                .map_err(|e| failed(&e))?;
            let lines = lines_of(ours).map_err(|e| failed(&e))?;
            (Channel::Lines(lines), Host::Thread(thread), None)
        } else {
            if let Some(why) = programs::missing(runtime) {
                return Err(StartError::Missing(why));
            }
            let launch = programs::launch(runtime).map_err(|e| failed(&e))?;
            let per_process = per_process();
            if runtime == Runtime::Node && !per_process {
                let host = node_ipc::get(&launch).map_err(|e| failed(&e))?;
                own_netns = Some(sys::NetNs::current().map_err(|e| failed(&e))?);
                (Channel::Node(host.session()), Host::Node, None)
            } else if launch.enters_namespaces && !per_process {
                let server = server::get(runtime, &launch).map_err(|e| failed(&e))?;
                let lines = server.connect().map_err(|e| failed(&e))?;
                (
                    Channel::Lines(lines),
                    Host::Server(server),
                    Some(sys::thread_netns_path()),
                )
            } else {
                let mut args: Vec<&str> = launch.args.iter().map(String::as_str).collect();
                args.push("stdio");
                let errors = File::options().write(true).open("/dev/null").map_err(|e| failed(&e))?;
                let mut child = sys::spawn_piped(&launch.program, &args, &errors).map_err(|e| failed(&e))?;
                let tx = child.stdin.take().expect("a new child's input");
                let rx = child.stdout.try_clone().map_err(|e| failed(&e))?;
                (Channel::Lines(Lines::new(tx, rx)), Host::Process(child), None)
            }
        };
        let mut client = RuntimeClient {
            api,
            version: String::new(),
            channel,
            netns: own_netns,
            host: Some(host),
            pidfd: None,
            fd: None,
            started: Instant::now(),
            counts: Default::default(),
            steps: Vec::new(),
        };
        let hello = json!({ "op": "hello", "api": api.id(), "netns": netns });
        let answer = client.exchange(&hello, None, Instant::now() + HELLO_DEADLINE);
        if answer.outcome != "ok" {
            return Err(failed(&format!("the hello was answered {}", answer.summary_with_why())));
        }
        client.version = answer.runtime.unwrap_or_default();
        client.pidfd = answer.pid.and_then(|pid| sys::pidfd_open(pid as libc::pid_t).ok());
        client.started = Instant::now();
        Ok(client)
    }

    pub fn api(&self) -> Api {
        self.api
    }

    /// The runtime and its version as the client reported it: `OpenJDK 17.0.15`, `Python
    /// 3.11.7`, `go1.19.8`, `Node.js v20.20.2`, `rustc 1.95.0 + tokio 1.x`.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// Every step so far.
    pub fn steps(&self) -> &[RuntimeStep] {
        &self.steps
    }

    /// Creates the socket and connects it to `addr`. A client that cannot create its socket
    /// in the trial's namespace (Node.js on its IPC channel) gets one made here as its
    /// runtime would make it, and connects it itself.
    pub fn connect(&mut self, addr: SocketAddr) -> RuntimeStep {
        let request = json!({ "op": "connect", "host": addr.ip().to_string(), "port": addr.port() });
        let op = format!("connect({addr})");
        let Some(netns) = &self.netns else {
            return self.step("connect", op, request, None);
        };
        match socket_in(netns, addr) {
            Ok(socket) => self.step("connect", op, request, Some(socket)),
            Err(e) => {
                let answer = Answer::lost(format!("the harness could not create the socket to pass: {e}"));
                self.record("connect", op, answer, 0, 0)
            }
        }
    }

    /// Reads up to `len` bytes.
    pub fn read(&mut self, len: usize) -> RuntimeStep {
        self.step(
            "read",
            format!("read({len})"),
            json!({ "op": "read", "len": len }),
            None,
        )
    }

    /// Writes `len` bytes.
    pub fn write(&mut self, len: usize) -> RuntimeStep {
        self.step(
            "write",
            format!("write({len})"),
            json!({ "op": "write", "len": len }),
            None,
        )
    }

    pub fn shutdown(&mut self, how: Shut) -> RuntimeStep {
        let how = match how {
            Shut::Read => "read",
            Shut::Write => "write",
            Shut::Both => "both",
        };
        self.step(
            "shutdown",
            format!("shutdown({how})"),
            json!({ "op": "shutdown", "how": how }),
            None,
        )
    }

    /// The pending error, where the API exposes SO_ERROR.
    pub fn so_error(&mut self) -> RuntimeStep {
        self.step("so_error", "SO_ERROR".into(), json!({ "op": "so_error" }), None)
    }

    pub fn getpeername(&mut self) -> RuntimeStep {
        self.step(
            "getpeername",
            "getpeername()".into(),
            json!({ "op": "getpeername" }),
            None,
        )
    }

    pub fn set_nodelay(&mut self, on: bool) -> RuntimeStep {
        self.step(
            "set_nodelay",
            format!("TCP_NODELAY={on}"),
            json!({ "op": "set_nodelay", "on": on }),
            None,
        )
    }

    pub fn set_keepalive(&mut self, on: bool) -> RuntimeStep {
        self.step(
            "set_keepalive",
            format!("SO_KEEPALIVE={on}"),
            json!({ "op": "set_keepalive", "on": on }),
            None,
        )
    }

    pub fn close(&mut self) -> RuntimeStep {
        self.step("close", "close()".into(), json!({ "op": "close" }), None)
    }

    /// A duplicate of the client's socket while it is open (pidfd_getfd(2)), for the
    /// harness's waits (poll, TCP_INFO). Drop it before the next step: while it is open, the
    /// client's close does not release the socket.
    pub fn socket_view(&self) -> Option<socket2::Socket> {
        sys::pidfd_getfd(self.pidfd.as_ref()?, self.fd?)
            .ok()
            .map(socket2::Socket::from)
    }

    fn step(&mut self, verb: &'static str, op: String, request: Value, socket: Option<OwnedFd>) -> RuntimeStep {
        let t_us = self.started.elapsed().as_micros() as u64;
        let sent = Instant::now();
        let answer = self.exchange(&request, socket, sent + BLOCKING_CALL_LIMIT + ANSWER_MARGIN);
        let elapsed_us = sent.elapsed().as_micros() as u64;
        self.record(verb, op, answer, t_us, elapsed_us)
    }

    /// Appends the step of `answer`, with what the harness sees of the socket now.
    fn record(&mut self, verb: &'static str, op: String, answer: Answer, t_us: u64, elapsed_us: u64) -> RuntimeStep {
        self.fd = answer.fd;
        let ended = self.ended();
        let (revents, tcp_state) = match self.socket_view() {
            Some(socket) => (
                sys::poll_one(&socket, Events::REQUESTABLE, Some(Duration::ZERO))
                    .1
                    .names(EventApi::Poll),
                sys::tcp_state(&socket).map(str::to_string),
            ),
            None => (Vec::new(), None),
        };
        let n = self.counts.entry(verb).or_insert(0);
        *n += 1;
        let step = RuntimeStep {
            label: format!("client.{verb}#{n}"),
            api: self.api.id().to_string(),
            op,
            answer,
            survived: ended.is_none(),
            ended,
            revents,
            tcp_state,
            t_us,
            elapsed_us,
        };
        self.steps.push(step.clone());
        step
    }

    /// One request and its answer; a client that does not answer by `deadline`, answers
    /// something unreadable, or is gone, gives a `lost` answer saying so.
    fn exchange(&mut self, request: &Value, socket: Option<OwnedFd>, deadline: Instant) -> Answer {
        let answered = match &mut self.channel {
            Channel::Lines(lines) => lines.exchange(&request.to_string(), deadline),
            Channel::Node(session) => session.exchange(request, socket, deadline),
        };
        match answered {
            Ok(line) => serde_json::from_str(&line).unwrap_or_else(|e| {
                Answer::lost(format!("the client answered {line:?}, which is no observation: {e}"))
            }),
            Err(e) => {
                let ended = self
                    .ended()
                    .map(|how| format!(" (its process ended: {how})"))
                    .unwrap_or_default();
                Answer::lost(format!("no answer from the client: {e}{ended}"))
            }
        }
    }

    /// How the client's process ended, if it has.
    fn ended(&mut self) -> Option<String> {
        match self.host.as_mut()? {
            Host::Server(server) => server.ended(),
            Host::Node => match &self.channel {
                Channel::Node(session) => session.ended(),
                Channel::Lines(_) => None,
            },
            Host::Process(child) => child.try_ended(),
            Host::Thread(thread) => thread.is_finished().then(|| "the client's thread ended".to_string()),
        }
    }
}

impl Answer {
    /// The answer of a step the client never answered: `why` says what happened instead.
    pub(crate) fn lost(why: impl Into<String>) -> Answer {
        Answer {
            outcome: "lost".into(),
            why: Some(why.into()),
            ..Answer::default()
        }
    }

    fn summary_with_why(&self) -> String {
        match &self.why {
            Some(why) => format!("{}: {why}", self.summary()),
            None => self.summary(),
        }
    }
}

/// How requests reach a client.
enum Channel {
    /// Lines on a pipe pair or a stream socket of the session's own.
    Lines(Lines),
    /// A session on the shared Node.js channel.
    Node(node_ipc::NodeSession),
}

/// A TCP socket for `addr`'s family, made in `netns` as libuv makes one (no protocol number,
/// non-blocking, close-on-exec, no option set), for a client that adopts it.
fn socket_in(netns: &sys::NetNs, addr: SocketAddr) -> io::Result<OwnedFd> {
    let make = || -> io::Result<OwnedFd> {
        let socket = socket2::Socket::new(
            socket2::Domain::for_address(addr),
            socket2::Type::STREAM.nonblocking(),
            None,
        )?;
        Ok(socket.into())
    };
    if sys::NetNs::current()?.same_as(netns) {
        return make();
    }
    std::thread::scope(|scope| {
        scope
            .spawn(|| {
                netns.enter()?;
                make()
            })
            .join()
            .unwrap_or_else(|_| Err(io::Error::other("the thread that makes the socket panicked")))
    })
}

fn lines_of(stream: std::os::unix::net::UnixStream) -> io::Result<Lines> {
    let rx = File::from(OwnedFd::from(stream.try_clone()?));
    Ok(Lines::new(File::from(OwnedFd::from(stream)), rx))
}

impl Drop for RuntimeClient {
    /// Ends the session and waits until the client has closed its socket, so that what that
    /// close sends belongs to the trial; a client process of the session's own is reaped.
    fn drop(&mut self) {
        let deadline = Instant::now() + BLOCKING_CALL_LIMIT + ANSWER_MARGIN;
        let bye = json!({ "op": "bye" });
        let said_bye = match &mut self.channel {
            Channel::Lines(lines) => lines.exchange(&bye.to_string(), deadline).is_ok(),
            Channel::Node(session) => session.exchange(&bye, None, deadline).is_ok(),
        };
        match (self.host.take(), &mut self.channel) {
            (Some(Host::Process(mut child)), Channel::Lines(lines)) => {
                // It exits after its bye: its output closes then. One that does not is killed.
                let exited =
                    said_bye && matches!(lines.read_line(deadline), Err(e) if e.kind() == io::ErrorKind::UnexpectedEof);
                if exited {
                    let _ = child.wait();
                }
            }
            (Some(Host::Thread(thread)), _) if said_bye => {
                let _ = thread.join();
            }
            _ => {}
        }
    }
}

//! A socket plus the name of the actor that owns it. Every operation runs the real system
//! call and appends a [`Step`] to the trial's log: the return value or errno, how long it
//! took, the poll revents and TCP state right after it, and the signals it raised.
//!
//! Nothing here reads SO_ERROR on its own: that consumes the pending error, so it is only
//! ever read as a step of its own ([`Endpoint::so_error`]).
//!
//! The operations live by kind: [`stream`] (TCP calls), [`close`] (close and abort),
//! [`linger`], [`epoll`], [`datagram`] (UDP), [`unix`] (AF_UNIX paths) and
//! [`peer_process`] (a peer that is a process of its own).

pub mod close;
pub mod datagram;
pub mod epoll;
pub mod linger;
pub mod peer_process;
pub mod runtime;
pub mod stream;
pub mod unix;

use std::io;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use socket2::{Domain, Protocol, Socket, Type};

use crate::events::{EventApi, Events};
use crate::log::StepLog;
use crate::record::{CallResult, Step};
use crate::sys;
use crate::verb::Verb;

/// Upper bound on any blocking call of a trial (SO_RCVTIMEO / SO_SNDTIMEO): a call that
/// would block longer returns EAGAIN instead of hanging the run.
pub const BLOCKING_CALL_LIMIT: Duration = Duration::from_secs(10);

/// What a call returned: a value or an error, plus a human detail (bytes read, an address).
pub(crate) struct Returned {
    pub(crate) result: CallResult,
    pub(crate) detail: Option<String>,
    /// Signals delivered to a child process that made the call on the actor's behalf.
    pub(crate) child_signals: Vec<String>,
    /// The call's own revents, for a poll step (otherwise they are read after the call).
    pub(crate) revents: Option<Vec<String>>,
}

impl Returned {
    pub(crate) fn from_io(r: io::Result<i64>) -> Returned {
        Returned {
            result: call_result(r),
            detail: None,
            child_signals: Vec::new(),
            revents: None,
        }
    }

    pub(crate) fn with_detail(mut self, detail: impl Into<String>) -> Returned {
        self.detail = Some(detail.into());
        self
    }
}

/// A call's result as a program sees it: the return value, or the errno by name and number.
pub fn call_result(r: io::Result<i64>) -> CallResult {
    match r {
        Ok(v) => CallResult {
            ret: Some(v),
            errno: None,
            errno_code: None,
        },
        Err(e) => {
            let code = e.raw_os_error();
            CallResult {
                ret: None,
                errno: Some(code.map_or_else(|| e.to_string(), sys::errno_name)),
                errno_code: code,
            }
        }
    }
}

/// A socket of one actor of a trial. Dropping it closes the socket without a step; call
/// [`Endpoint::close`] or [`Endpoint::abort`] to make closing part of the record.
pub struct Endpoint {
    actor: String,
    socket: Option<Socket>,
    /// The runtime client that makes this endpoint's calls, if one does (then `socket` is
    /// `None`: the socket is the client's).
    runtime: Option<Box<crate::runtime::RuntimeClient>>,
    pub(crate) log: StepLog,
}

/// A socket dropped without a step is closed apart from forks too (see
/// [`sys::exclusive_close`]).
impl Drop for Endpoint {
    fn drop(&mut self) {
        if let Some(socket) = self.socket.take() {
            sys::exclusive_close(close::lingers(&socket), || drop(socket));
        }
    }
}

impl Endpoint {
    /// A new TCP socket for `actor`, in the calling thread's network namespace.
    pub fn tcp(log: &StepLog, actor: &str, addr: &SocketAddr) -> io::Result<Endpoint> {
        let socket = Socket::new(Domain::for_address(*addr), Type::STREAM, Some(Protocol::TCP))?;
        Endpoint::from_socket(log, actor, socket)
    }

    /// An endpoint of `actor` around a socket made elsewhere (accepted, UDP, Unix), with the
    /// same blocking-call limit as every other. A limit that cannot be set is an error: a
    /// call without it could hang the trial.
    pub(crate) fn from_socket(log: &StepLog, actor: &str, socket: Socket) -> io::Result<Endpoint> {
        socket.set_read_timeout(Some(BLOCKING_CALL_LIMIT))?;
        socket.set_write_timeout(Some(BLOCKING_CALL_LIMIT))?;
        Ok(Endpoint {
            actor: actor.to_string(),
            socket: Some(socket),
            runtime: None,
            log: log.clone(),
        })
    }

    pub fn actor(&self) -> &str {
        &self.actor
    }

    /// Whether the socket is still open (not closed by a step).
    pub fn is_open(&self) -> bool {
        self.socket.is_some() || self.runtime.is_some()
    }

    /// The socket itself, for configuration the trial does not record (options, modes). A
    /// runtime client's socket is its own: an error.
    pub fn socket(&self) -> io::Result<&Socket> {
        if self.runtime.is_some() {
            return Err(io::Error::new(
                io::ErrorKind::Unsupported,
                format!("{}: a runtime client makes this endpoint's calls", self.actor),
            ));
        }
        self.socket.as_ref().ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::NotConnected,
                format!("{}: socket already closed", self.actor),
            )
        })
    }

    /// Runs `look` on the socket as the harness may look at it without consuming anything
    /// (poll, TCP_INFO, its address): the endpoint's own socket, or for a runtime client a
    /// duplicate taken for the look and closed right after. `None` when there is no socket.
    pub fn observe<T>(&self, look: impl FnOnce(&Socket) -> T) -> Option<T> {
        match &self.runtime {
            Some(client) => client.socket_view().map(|view| look(&view)),
            None => self.socket.as_ref().map(look),
        }
    }

    /// The socket's local address, where it has one.
    pub fn local_addr(&self) -> Option<std::net::SocketAddr> {
        self.observe(|s| s.local_addr().ok()).flatten()?.as_socket()
    }

    /// The TCP state of the socket (TCP_INFO), or `None` when it is closed or not TCP.
    pub fn tcp_state(&self) -> Option<&'static str> {
        self.observe(sys::tcp_state).flatten()
    }

    /// Records an operation of the caller's own as the next `verb` step of this actor: `op`
    /// says what was called, `call` makes the call on the socket and returns what the program
    /// would see (the value, or the error with its OS code). For scenarios outside the
    /// catalogue that need a call the endpoint does not offer.
    pub fn record(&mut self, verb: Verb, op: impl Into<String>, call: impl FnOnce(&Socket) -> io::Result<i64>) -> Step {
        self.step(verb, op.into(), |s| Returned::from_io(call(s)))
    }

    /// Records a call that does not go through this endpoint's socket but is aimed at it (a
    /// forged segment sent from another namespace) as the next `verb` step of this actor: it
    /// is made even when the socket is already closed (a connection in TIME_WAIT has no
    /// descriptor), and the readiness and TCP state after it are the socket's, if open.
    pub(crate) fn record_aimed(&mut self, verb: Verb, op: String, call: impl FnOnce() -> io::Result<i64>) -> Step {
        let started = Instant::now();
        sys::take_signals();
        let returned = Returned::from_io(call());
        let elapsed = started.elapsed();
        let signals = sys::take_signals();
        self.finish(verb, op, started, elapsed, returned, signals)
    }

    /// Runs one call on the open socket and records it as the next `verb` step of this actor.
    pub(crate) fn step(&mut self, verb: Verb, op: String, call: impl FnOnce(&Socket) -> Returned) -> Step {
        let started = Instant::now();
        sys::take_signals(); // anything pending before the call is not this step's
        let returned = match &self.socket {
            Some(s) => call(s),
            None => Returned::from_io(Err(io::Error::from_raw_os_error(libc::EBADF))),
        };
        let elapsed = started.elapsed();
        let signals = sys::take_signals();
        self.finish(verb, op, started, elapsed, returned, signals)
    }

    /// Appends the step: revents and TCP state are read now, right after the call.
    fn finish(
        &mut self,
        verb: Verb,
        op: String,
        started: Instant,
        elapsed: Duration,
        returned: Returned,
        mut signals: Vec<String>,
    ) -> Step {
        let (after, tcp_state) = match &self.socket {
            Some(socket) => (
                sys::poll_one(socket, Events::REQUESTABLE, Some(Duration::ZERO))
                    .1
                    .names(EventApi::Poll),
                sys::tcp_state(socket).map(str::to_string),
            ),
            None => (Vec::new(), None),
        };
        let revents = returned.revents.unwrap_or(after);
        signals.extend(returned.child_signals);
        let t_us = self.log.micros_since_start(started);
        self.log.push(&self.actor, verb, |label| Step {
            label,
            actor: self.actor.clone(),
            op,
            result: returned.result,
            revents,
            tcp_state,
            signals,
            t_us,
            elapsed_us: elapsed.as_micros() as u64,
            detail: returned.detail,
            runtime: None,
        })
    }

    /// Runs `call` on a thread of its own, as `actor`, on a duplicate of this endpoint's
    /// descriptor (the same open socket, so the call sees what this endpoint would): a call
    /// that blocks (poll, read) while the trial's thread goes on. [`Background::tid`] lets the
    /// trial wait until the thread really sleeps. The step enters the trial's log when
    /// [`Background::join`] is called, not when the call returns: otherwise where it lands
    /// among the trial thread's steps would depend on which thread the scheduler ran first.
    pub fn spawn(
        &self,
        actor: &str,
        call: impl FnOnce(&mut Endpoint) -> Step + Send + 'static,
    ) -> io::Result<Background> {
        let mut endpoint = Endpoint {
            actor: actor.to_string(),
            socket: Some(self.socket()?.try_clone()?),
            runtime: None,
            log: StepLog::new(self.log.start()),
        };
        let (tid_tx, tid_rx) = std::sync::mpsc::channel();
        let handle = std::thread::Builder::new().name(actor.to_string()).spawn(move || {
            let blocked = sys::block_watched_signals();
            let _ = tid_tx.send(blocked.map(|()| sys::thread_id()));
            call(&mut endpoint)
        })?;
        let tid = tid_rx
            .recv()
            .map_err(|_| io::Error::other(format!("{actor}: the thread ended before it started")))?
            .map_err(|e| io::Error::new(e.kind(), format!("{actor}: could not block SIGPIPE: {e}")))?;
        Ok(Background {
            tid,
            handle,
            log: self.log.clone(),
        })
    }
}

/// A recorded call running on a thread of its own (see [`Endpoint::spawn`]).
pub struct Background {
    tid: sys::Tid,
    handle: std::thread::JoinHandle<Step>,
    /// The trial's log, which the step joins at [`Background::join`].
    log: StepLog,
}

impl Background {
    /// The thread's kernel id (its directory under /proc/self/task).
    pub fn tid(&self) -> sys::Tid {
        self.tid
    }

    /// Waits until the call returns and appends its step to the trial's log (labelled there);
    /// the step, or an error when the thread panicked.
    pub fn join(self) -> io::Result<Step> {
        let step = self
            .handle
            .join()
            .map_err(|_| io::Error::other("the background call panicked"))?;
        let verb = step
            .label
            .split_once('.')
            .and_then(|(_, rest)| rest.rsplit_once('#'))
            .and_then(|(verb, _)| verb.parse().ok())
            .unwrap_or(Verb::Custom);
        Ok(self.log.push(&step.actor.clone(), verb, |label| Step { label, ..step }))
    }
}

/// `1 byte`, `7 bytes`.
pub(crate) fn bytes(n: usize) -> String {
    if n == 1 { "1 byte".into() } else { format!("{n} bytes") }
}

//! A socket plus the name of the actor that owns it. Every operation runs the real system
//! call and appends a [`Step`] to the trial's log: the return value or errno, how long it
//! took, the poll revents and TCP state right after it, and the signals it raised.
//!
//! Nothing here reads SO_ERROR on its own: that consumes the pending error, so it is only
//! ever read as a step of its own ([`Endpoint::so_error`]).

use std::io;
use std::net::SocketAddr;
use std::os::fd::{AsRawFd, RawFd};
use std::time::{Duration, Instant};

use socket2::{Domain, Protocol, SockAddr, Socket, Type};

use crate::log::StepLog;
use crate::record::{CallResult, Knob, Step};
use crate::sys;

#[cfg(target_os = "linux")]
pub mod epoll;
#[cfg(target_os = "linux")]
pub mod peer_process;

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

pub(crate) fn call_result(r: io::Result<i64>) -> CallResult {
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

pub(crate) fn cvt(rc: libc::ssize_t) -> io::Result<i64> {
    if rc < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(rc as i64)
    }
}

/// Which halves `shutdown` closes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shut {
    Read,
    Write,
    Both,
}

/// A socket of one actor of a trial. Dropping it closes the socket without a step; call
/// [`Endpoint::close`] or [`Endpoint::abort`] to make closing part of the record.
pub struct Endpoint {
    actor: String,
    socket: Option<Socket>,
    pub(crate) log: StepLog,
}

/// Whether closing `socket` blocks for its linger time (SO_LINGER {on, N > 0}).
fn lingers(socket: &Socket) -> bool {
    socket.linger().ok().flatten().is_some_and(|d| !d.is_zero())
}

/// A socket dropped without a step is closed apart from forks too (see
/// [`sys::exclusive_close`]).
impl Drop for Endpoint {
    fn drop(&mut self) {
        if let Some(socket) = self.socket.take() {
            sys::exclusive_close(lingers(&socket), || drop(socket));
        }
    }
}

impl Endpoint {
    /// A new TCP socket for `actor`, in the calling thread's network namespace.
    pub fn tcp(log: &StepLog, actor: &str, addr: &SocketAddr) -> io::Result<Endpoint> {
        let socket = Socket::new(Domain::for_address(*addr), Type::STREAM, Some(Protocol::TCP))?;
        Endpoint::from_socket(log, actor, socket)
    }

    /// An endpoint of `actor` around a socket made elsewhere (UDP, Unix), with the same
    /// blocking-call limit as every other.
    pub(crate) fn from_socket(log: &StepLog, actor: &str, socket: Socket) -> io::Result<Endpoint> {
        socket.set_read_timeout(Some(BLOCKING_CALL_LIMIT))?;
        socket.set_write_timeout(Some(BLOCKING_CALL_LIMIT))?;
        Ok(Endpoint {
            actor: actor.to_string(),
            socket: Some(socket),
            log: log.clone(),
        })
    }

    pub fn actor(&self) -> &str {
        &self.actor
    }

    /// The socket's descriptor, while it is open.
    pub fn fd(&self) -> Option<RawFd> {
        self.socket.as_ref().map(AsRawFd::as_raw_fd)
    }

    /// The socket itself, for configuration the trial does not record (options, modes).
    pub fn socket(&self) -> io::Result<&Socket> {
        self.socket.as_ref().ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::NotConnected,
                format!("{}: socket already closed", self.actor),
            )
        })
    }

    /// Runs one call on the open socket and records it as the next `verb` step of this actor.
    pub(crate) fn step(&mut self, verb: &str, op: String, call: impl FnOnce(&Socket) -> Returned) -> Step {
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
        verb: &str,
        op: String,
        started: Instant,
        elapsed: Duration,
        returned: Returned,
        mut signals: Vec<String>,
    ) -> Step {
        let (after, tcp_state) = match self.fd() {
            Some(fd) => (
                sys::poll_names(sys::poll_one(fd, sys::POLL_ALL, Some(Duration::ZERO)).1),
                sys::tcp_state(fd).map(str::to_string),
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
        })
    }

    /// listen(2) with the given backlog, after binding `addr`.
    pub fn listen(&mut self, addr: &SocketAddr, backlog: i32) -> Step {
        let op = format!("bind({addr}); listen({backlog})");
        self.step("listen", op, |s| {
            let r = s
                .set_reuse_address(true)
                .and_then(|_| s.bind(&SockAddr::from(*addr)))
                .and_then(|_| s.listen(backlog));
            Returned::from_io(r.map(|_| 0))
        })
    }

    /// connect(2); blocking or not as the socket is set.
    pub fn connect(&mut self, addr: &SocketAddr) -> Step {
        self.step("connect", format!("connect({addr})"), |s| {
            Returned::from_io(s.connect(&SockAddr::from(*addr)).map(|_| 0))
        })
    }

    /// accept(2): the step, and the accepted connection as an endpoint of `actor`. On success
    /// the step's `ret` is 0 and the descriptor is in its detail: descriptor numbers depend
    /// on what else the process has open, so they would make equal runs look different.
    pub fn accept(&mut self, actor: &str) -> (Step, Option<Endpoint>) {
        let mut accepted = None;
        let step = self.step("accept", "accept()".into(), |s| match s.accept() {
            Ok((conn, peer)) => {
                let fd = conn.as_raw_fd();
                let peer = peer.as_socket().map_or_else(|| "?".into(), |a| a.to_string());
                accepted = Some(conn);
                Returned::from_io(Ok(0)).with_detail(format!("fd {fd}, peer {peer}"))
            }
            Err(e) => Returned::from_io(Err(e)),
        });
        let endpoint = accepted.map(|socket| {
            let _ = socket.set_read_timeout(Some(BLOCKING_CALL_LIMIT));
            let _ = socket.set_write_timeout(Some(BLOCKING_CALL_LIMIT));
            Endpoint {
                actor: actor.to_string(),
                socket: Some(socket),
                log: self.log.clone(),
            }
        });
        (step, endpoint)
    }

    /// read(2) of up to `len` bytes.
    pub fn read(&mut self, len: usize) -> Step {
        self.step("read", format!("read({len})"), |s| {
            let mut buf = vec![0u8; len];
            // SAFETY: `buf` is valid for writes of `len` bytes.
            let r = cvt(unsafe { libc::read(s.as_raw_fd(), buf.as_mut_ptr().cast(), len) });
            let detail = match &r {
                Ok(0) => Some("end of file".to_string()),
                Ok(n) => Some(format!("{n} bytes")),
                Err(_) => None,
            };
            Returned {
                result: call_result(r),
                detail,
                child_signals: Vec::new(),
                revents: None,
            }
        })
    }

    /// write(2): no flags, so SIGPIPE is raised where the system raises it (it is recorded,
    /// not delivered: trial threads keep it blocked).
    pub fn write(&mut self, data: &[u8]) -> Step {
        self.step("write", format!("write({})", bytes(data.len())), |s| {
            // SAFETY: `data` is valid for reads of its length.
            Returned::from_io(cvt(unsafe {
                libc::write(s.as_raw_fd(), data.as_ptr().cast(), data.len())
            }))
        })
    }

    /// send(2) with MSG_NOSIGNAL: the error without the signal.
    pub fn send_nosignal(&mut self, data: &[u8]) -> Step {
        self.step("send", format!("send({}, MSG_NOSIGNAL)", bytes(data.len())), |s| {
            // SAFETY: `data` is valid for reads of its length.
            Returned::from_io(cvt(unsafe {
                libc::send(s.as_raw_fd(), data.as_ptr().cast(), data.len(), libc::MSG_NOSIGNAL)
            }))
        })
    }

    /// shutdown(2).
    pub fn shutdown(&mut self, how: Shut) -> Step {
        let (name, std_how) = match how {
            Shut::Read => ("SHUT_RD", std::net::Shutdown::Read),
            Shut::Write => ("SHUT_WR", std::net::Shutdown::Write),
            Shut::Both => ("SHUT_RDWR", std::net::Shutdown::Both),
        };
        self.step("shutdown", format!("shutdown({name})"), |s| {
            Returned::from_io(s.shutdown(std_how).map(|_| 0))
        })
    }

    /// getsockopt(SO_ERROR), which returns and clears the pending error. The outcome is the
    /// error it returned (`ok=0` when none was pending), since that is what a program acts on.
    pub fn so_error(&mut self) -> Step {
        self.step("so_error", "getsockopt(SO_ERROR)".into(), |s| match s.take_error() {
            Ok(None) => Returned::from_io(Ok(0)).with_detail("no pending error"),
            Ok(Some(pending)) => Returned::from_io(Err(pending))
                .with_detail("getsockopt succeeded; this is the pending error it returned"),
            Err(e) => Returned::from_io(Err(e)).with_detail("getsockopt itself failed"),
        })
    }

    /// getpeername(2).
    pub fn getpeername(&mut self) -> Step {
        self.step("getpeername", "getpeername()".into(), |s| match s.peer_addr() {
            Ok(a) => Returned::from_io(Ok(0)).with_detail(a.as_socket().map_or_else(|| "?".into(), |a| a.to_string())),
            Err(e) => Returned::from_io(Err(e)),
        })
    }

    /// poll(2) for `events` with a timeout. The recorded revents are the call's own.
    pub fn poll(&mut self, events: libc::c_short, timeout: Duration) -> Step {
        let asked = sys::poll_names(events).join("|");
        let op = format!("poll({asked}, {} ms)", timeout.as_millis());
        self.step("poll", op, |s| {
            let (rc, revents) = sys::poll_one(s.as_raw_fd(), events, Some(timeout));
            let mut returned = Returned::from_io(rc.map(i64::from));
            returned.revents = Some(sys::poll_names(revents));
            returned
        })
    }

    /// setsockopt(2) of an integer option; `name` is how the step shows it (`TCP_NODELAY`).
    pub fn setsockopt(&mut self, level: libc::c_int, option: libc::c_int, name: &str, value: libc::c_int) -> Step {
        self.step("setsockopt", format!("setsockopt({name}, {value})"), |s| {
            // SAFETY: `value` is a valid c_int for the duration of the call.
            let rc = unsafe {
                libc::setsockopt(
                    s.as_raw_fd(),
                    level,
                    option,
                    (&value as *const libc::c_int).cast(),
                    std::mem::size_of::<libc::c_int>() as libc::socklen_t,
                )
            };
            Returned::from_io(cvt(rc as libc::ssize_t))
        })
    }

    /// setsockopt(2) of a timer or limit the scenario shortens (`TCP_USER_TIMEOUT`,
    /// `TCP_KEEPIDLE`, `TCP_SYNCNT` ...): the step, plus a knob with the value the option had,
    /// so the report says the outcome is not the default's.
    pub fn tune(&mut self, level: libc::c_int, option: libc::c_int, name: &str, value: libc::c_int) -> Step {
        let default = self.fd().and_then(|fd| {
            let mut current: libc::c_int = 0;
            let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
            // SAFETY: `current` and `len` are valid for writes of the sizes given.
            let rc =
                unsafe { libc::getsockopt(fd, level, option, (&mut current as *mut libc::c_int).cast(), &mut len) };
            (rc == 0).then(|| current.to_string())
        });
        let step = self.setsockopt(level, option, name, value);
        if step.result.errno.is_none() {
            self.log.knob(Knob {
                name: format!("setsockopt {name}"),
                scope: self.actor.clone(),
                value: value.to_string(),
                default,
            });
        }
        step
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
            log: StepLog::new(self.log.start()),
        };
        let (tid_tx, tid_rx) = std::sync::mpsc::channel();
        let handle = std::thread::Builder::new().name(actor.to_string()).spawn(move || {
            let _ = sys::block_watched_signals();
            let _ = tid_tx.send(sys::thread_id());
            call(&mut endpoint)
        })?;
        let tid = tid_rx
            .recv()
            .map_err(|_| io::Error::other(format!("{actor}: the thread ended before it started")))?;
        Ok(Background {
            tid,
            handle,
            log: self.log.clone(),
        })
    }

    /// close(2). The endpoint has no socket afterwards.
    pub fn close(&mut self) -> Step {
        self.close_with("close", "close()".into(), |_| Ok(()))
    }

    /// Abortive close: SO_LINGER {on, 0}, then close(2), which sends a reset (socket(7)).
    pub fn abort(&mut self) -> Step {
        self.close_with("abort", "setsockopt(SO_LINGER, {1, 0}); close()".into(), |s| {
            s.set_linger(Some(Duration::ZERO))
        })
    }

    fn close_with(&mut self, verb: &str, op: String, before: impl FnOnce(&Socket) -> io::Result<()>) -> Step {
        let started = Instant::now();
        sys::take_signals();
        let returned = match self.socket.take() {
            Some(s) => {
                let r = before(&s).and_then(|_| {
                    // The close must release the socket, not a reference a fork elsewhere
                    // shares for a moment (see `sys::exclusive_close`).
                    let lingers = lingers(&s);
                    let fd = std::os::fd::IntoRawFd::into_raw_fd(s);
                    // SAFETY: `fd` was just released by its owner and is closed exactly once.
                    let close = || cvt(unsafe { libc::close(fd) } as libc::ssize_t).map(|_| ());
                    sys::exclusive_close(lingers, close)
                });
                Returned::from_io(r.map(|_| 0))
            }
            None => Returned::from_io(Err(io::Error::from_raw_os_error(libc::EBADF))),
        };
        let elapsed = started.elapsed();
        let signals = sys::take_signals();
        self.finish(verb, op, started, elapsed, returned, signals)
    }

    /// write(2) from a child process whose SIGPIPE is at its default disposition, as a plain
    /// C program has it: records whether the signal killed the writer before write returned.
    pub fn write_in_child(&mut self, data: &[u8]) -> Step {
        let op = format!("write({}) in a child process, SIGPIPE at SIG_DFL", bytes(data.len()));
        self.step("write", op, |s| match sys::write_in_child(s.as_raw_fd(), data) {
            Ok(sys::ChildWrite::Returned(r)) => Returned::from_io(r),
            Ok(sys::ChildWrite::Killed(signo)) => Returned {
                result: CallResult {
                    ret: None,
                    errno: None,
                    errno_code: None,
                },
                detail: Some(format!(
                    "the child was killed by {} before write returned",
                    sys::signal_name(signo)
                )),
                child_signals: vec![sys::signal_name(signo)],
                revents: None,
            },
            Err(e) => Returned::from_io(Err(e)).with_detail("could not run the child process"),
        })
    }
}

/// A recorded call running on a thread of its own (see [`Endpoint::spawn`]).
pub struct Background {
    tid: libc::pid_t,
    handle: std::thread::JoinHandle<Step>,
    /// The trial's log, which the step joins at [`Background::join`].
    log: StepLog,
}

impl Background {
    /// The thread's kernel id (its directory under /proc/self/task).
    pub fn tid(&self) -> libc::pid_t {
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
            .map_or("call", |(verb, _)| verb)
            .to_string();
        Ok(self
            .log
            .push(&step.actor.clone(), &verb, |label| Step { label, ..step }))
    }
}

/// `1 byte`, `7 bytes`.
fn bytes(n: usize) -> String {
    if n == 1 { "1 byte".into() } else { format!("{n} bytes") }
}

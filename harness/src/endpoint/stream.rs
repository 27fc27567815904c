//! The calls of a TCP socket as steps: listen, bind, connect, accept, read, write, send,
//! shutdown, SO_ERROR, getpeername, poll and socket options.

use std::net::SocketAddr;
use std::time::Duration;

use socket2::SockAddr;

use super::runtime::RuntimeCall;
use super::{Endpoint, Returned, bytes};
use crate::capabilities::Need;
use crate::events::{EventApi, Events};
use crate::record::{Knob, Step};
use crate::sockopt::SockOpt;
use crate::sys;
use crate::verb::Verb;

/// Which halves `shutdown` closes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shut {
    Read,
    Write,
    Both,
}

impl Endpoint {
    /// listen(2) with the given backlog, after binding `addr`.
    pub fn listen(&mut self, addr: &SocketAddr, backlog: i32) -> Step {
        if let Some(step) = self.via_runtime(
            Verb::Listen,
            RuntimeCall::Unsupported(format!("bind({addr}); listen({backlog})")),
        ) {
            return step;
        }
        let op = format!("bind({addr}); listen({backlog})");
        self.step(Verb::Listen, op, |s| {
            let r = s
                .set_reuse_address(true)
                .and_then(|_| s.bind(&SockAddr::from(*addr)))
                .and_then(|_| s.listen(backlog));
            Returned::from_io(r.map(|_| 0))
        })
    }

    /// bind(2) to `addr` with SO_REUSEADDR (as servers set it), step `actor.bind#n`.
    pub fn bind(&mut self, addr: &SocketAddr) -> Step {
        if let Some(step) = self.via_runtime(Verb::Bind, RuntimeCall::Unsupported(format!("bind({addr})"))) {
            return step;
        }
        self.step(Verb::Bind, format!("bind({addr})"), |s| {
            let r = s.set_reuse_address(true).and_then(|()| s.bind(&SockAddr::from(*addr)));
            Returned::from_io(r.map(|()| 0))
        })
    }

    /// connect(2); blocking or not as the socket is set.
    pub fn connect(&mut self, addr: &SocketAddr) -> Step {
        if let Some(step) = self.via_runtime(Verb::Connect, RuntimeCall::Connect(addr)) {
            return step;
        }
        self.step(Verb::Connect, format!("connect({addr})"), |s| {
            Returned::from_io(s.connect(&SockAddr::from(*addr)).map(|_| 0))
        })
    }

    /// accept(2): the step, and the accepted connection as an endpoint of `actor`. On success
    /// the step's `ret` is 0 and the descriptor is in its detail: descriptor numbers depend
    /// on what else the process has open, so they would make equal runs look different. An
    /// accepted socket whose blocking-call limit cannot be set is reported as not accepted
    /// (its step says why): a call on it could hang the trial.
    pub fn accept(&mut self, actor: &str) -> (Step, Option<Endpoint>) {
        if let Some(step) = self.via_runtime(Verb::Accept, RuntimeCall::Unsupported("accept()".into())) {
            return (step, None);
        }
        let mut accepted = None;
        let log = self.log.clone();
        let step = self.step(Verb::Accept, "accept()".into(), |s| match s.accept() {
            Ok((conn, peer)) => {
                let fd = describe_handle(&conn);
                let peer = peer.as_socket().map_or_else(|| "?".into(), |a| a.to_string());
                match Endpoint::from_socket(&log, actor, conn) {
                    Ok(endpoint) => {
                        accepted = Some(endpoint);
                        Returned::from_io(Ok(0)).with_detail(format!("{fd}, peer {peer}"))
                    }
                    Err(e) => Returned::from_io(Ok(0)).with_detail(format!(
                        "{fd}, peer {peer}; its blocking-call limit could not be set ({e}), so it was closed"
                    )),
                }
            }
            Err(e) => Returned::from_io(Err(e)),
        });
        (step, accepted)
    }

    /// read(2) of up to `len` bytes.
    pub fn read(&mut self, len: usize) -> Step {
        if let Some(step) = self.via_runtime(Verb::Read, RuntimeCall::Read(len)) {
            return step;
        }
        self.step(Verb::Read, format!("read({len})"), |s| {
            let mut buf = vec![0u8; len];
            let r = sys::read(s, &mut buf);
            let detail = match &r {
                Ok(0) => Some("end of file".to_string()),
                Ok(n) => Some(format!("{n} bytes")),
                Err(_) => None,
            };
            Returned {
                detail,
                ..Returned::from_io(r)
            }
        })
    }

    /// write(2): no flags, so SIGPIPE is raised where the system raises it (it is recorded,
    /// not delivered: trial threads keep it blocked).
    pub fn write(&mut self, data: &[u8]) -> Step {
        if let Some(step) = self.via_runtime(Verb::Write, RuntimeCall::Write(data.len())) {
            return step;
        }
        self.step(Verb::Write, format!("write({})", bytes(data.len())), |s| {
            Returned::from_io(sys::write(s, data))
        })
    }

    /// send(2) with MSG_NOSIGNAL: the error without the signal.
    pub fn send_nosignal(&mut self, data: &[u8]) -> Step {
        if let Some(step) = self.via_runtime(Verb::Send, RuntimeCall::Write(data.len())) {
            return step;
        }
        let op = format!("send({}, MSG_NOSIGNAL)", bytes(data.len()));
        self.step(Verb::Send, op, |s| Returned::from_io(sys::send_nosignal(s, data)))
    }

    /// write(2) from a child process whose SIGPIPE is at its default disposition, as a plain
    /// C program has it: records whether the signal killed the writer before write returned.
    pub fn write_in_child(&mut self, data: &[u8]) -> Step {
        if let Some(step) = self.via_runtime(
            Verb::Write,
            RuntimeCall::Unsupported(format!("write({}) in a child process", bytes(data.len()))),
        ) {
            return step;
        }
        let op = format!("write({}) in a child process, SIGPIPE at SIG_DFL", bytes(data.len()));
        self.log.uses(Need::Fork);
        self.step(Verb::Write, op, |s| match sys::write_in_child(s, data) {
            Ok(sys::ChildWrite::Returned(r)) => Returned::from_io(r),
            Ok(sys::ChildWrite::Killed(signo)) => Returned {
                result: crate::record::CallResult {
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

    /// shutdown(2).
    pub fn shutdown(&mut self, how: Shut) -> Step {
        if let Some(step) = self.via_runtime(Verb::Shutdown, RuntimeCall::Shutdown(how)) {
            return step;
        }
        let (name, std_how) = match how {
            Shut::Read => ("SHUT_RD", std::net::Shutdown::Read),
            Shut::Write => ("SHUT_WR", std::net::Shutdown::Write),
            Shut::Both => ("SHUT_RDWR", std::net::Shutdown::Both),
        };
        self.step(Verb::Shutdown, format!("shutdown({name})"), |s| {
            Returned::from_io(s.shutdown(std_how).map(|_| 0))
        })
    }

    /// getsockopt(SO_ERROR), which returns and clears the pending error. The outcome is the
    /// error it returned (`ok=0` when none was pending), since that is what a program acts on.
    pub fn so_error(&mut self) -> Step {
        if let Some(step) = self.via_runtime(Verb::SoError, RuntimeCall::SoError) {
            return step;
        }
        self.step(Verb::SoError, "getsockopt(SO_ERROR)".into(), |s| match s.take_error() {
            Ok(None) => Returned::from_io(Ok(0)).with_detail("no pending error"),
            Ok(Some(pending)) => Returned::from_io(Err(pending))
                .with_detail("getsockopt succeeded; this is the pending error it returned"),
            Err(e) => Returned::from_io(Err(e)).with_detail("getsockopt itself failed"),
        })
    }

    /// getpeername(2).
    pub fn getpeername(&mut self) -> Step {
        if let Some(step) = self.via_runtime(Verb::Getpeername, RuntimeCall::Getpeername) {
            return step;
        }
        self.step(Verb::Getpeername, "getpeername()".into(), |s| match s.peer_addr() {
            Ok(a) => Returned::from_io(Ok(0)).with_detail(a.as_socket().map_or_else(|| "?".into(), |a| a.to_string())),
            Err(e) => Returned::from_io(Err(e)),
        })
    }

    /// poll(2) for `events` with a timeout. The recorded revents are the call's own.
    pub fn poll(&mut self, events: Events, timeout: Duration) -> Step {
        if let Some(step) = self.via_runtime(
            Verb::Poll,
            RuntimeCall::Unsupported(format!("poll({})", events.names(EventApi::Poll).join("|"))),
        ) {
            return step;
        }
        let asked = events.names(EventApi::Poll).join("|");
        let op = format!("poll({asked}, {} ms)", timeout.as_millis());
        self.step(Verb::Poll, op, |s| {
            let (rc, revents) = sys::poll_one(s, events, Some(timeout));
            Returned {
                revents: Some(revents.names(EventApi::Poll)),
                ..Returned::from_io(rc.map(i64::from))
            }
        })
    }

    /// setsockopt(2) of an integer option.
    pub fn setsockopt(&mut self, option: SockOpt, value: i32) -> Step {
        if let Some(step) = self.via_runtime(Verb::Setsockopt, RuntimeCall::SetOption(option, value)) {
            return step;
        }
        self.step(Verb::Setsockopt, format!("setsockopt({option}, {value})"), |s| {
            Returned::from_io(sys::set_int_option(s, option, value).map(|()| 0))
        })
    }

    /// setsockopt(2) of a timer or limit the scenario shortens (`TCP_USER_TIMEOUT`,
    /// `TCP_KEEPIDLE`, `TCP_SYNCNT` ...): the step, plus a knob with the value the option had,
    /// so the report says the outcome is not the default's.
    pub fn tune(&mut self, option: SockOpt, value: i32) -> Step {
        let default = self
            .observe(|s| sys::int_option(s, option).ok())
            .flatten()
            .map(|v| v.to_string());
        let step = self.setsockopt(option, value);
        if step.result.errno.is_none() {
            self.log.knob(Knob {
                name: format!("setsockopt {option}"),
                scope: self.actor.clone(),
                value: value.to_string(),
                default,
            });
        }
        step
    }
}

/// How a step names an accepted socket's handle (`fd 7`).
fn describe_handle(socket: &socket2::Socket) -> String {
    format!("fd {}", sys::raw_handle(socket))
}

//! An endpoint whose calls a runtime client makes (Java, Python, Go, Node.js, Rust; see
//! [`crate::runtime`]): the same script, the same labels, but each step is what that
//! runtime's API did and reported. A call the API cannot express is a step whose outcome is
//! `unsupported`, with why; it is never dropped.
//!
//! The harness never holds the runtime's socket between steps: while it did, the runtime's
//! close would not release the socket. Waits look at it through a duplicate taken for the
//! look and closed right after ([`Endpoint::observe`]).

use std::net::SocketAddr;
use std::time::Instant;

use super::Endpoint;
use crate::record::{CallResult, Step};
use crate::runtime::{Answer, RuntimeClient, RuntimeStep};
use crate::sockopt::SockOpt;
use crate::verb::Verb;

/// What a runtime endpoint is asked to do.
pub(crate) enum RuntimeCall<'a> {
    Connect(&'a SocketAddr),
    Read(usize),
    Write(usize),
    Shutdown(super::stream::Shut),
    SoError,
    Getpeername,
    SetOption(SockOpt, i32),
    Close,
    /// A call the runtime clients do not make (poll, epoll_wait, listen, an abortive close
    /// ...): recorded as `unsupported`, with the native call it stands for.
    Unsupported(String),
}

/// The errno a runtime's code names, when it names one (`ECONNRESET`; Node's `ERR_...` codes
/// and Rust's numbers are not errno names).
fn errno_name(code: &str) -> Option<String> {
    let is_name = code.len() > 1
        && code.starts_with('E')
        && code
            .bytes()
            .skip(1)
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
    is_name.then(|| code.to_string())
}

/// The call's result as far as the runtime exposes it: the value it returned, or the errno
/// its error carries (none for Java, whose exceptions carry only a message).
fn call_result(answer: &Answer) -> CallResult {
    match answer.outcome.as_str() {
        "ok" => CallResult {
            ret: answer.value.as_ref().and_then(serde_json::Value::as_i64),
            errno: None,
            errno_code: None,
        },
        _ => CallResult {
            ret: None,
            errno: answer.code.as_deref().and_then(errno_name),
            errno_code: answer.errno.and_then(|n| i32::try_from(n.unsigned_abs()).ok()),
        },
    }
}

impl Endpoint {
    /// An endpoint of `actor` whose calls `client` makes.
    pub(crate) fn with_runtime(log: &crate::log::StepLog, actor: &str, client: RuntimeClient) -> Endpoint {
        log.client(client.api().id(), client.version());
        Endpoint {
            actor: actor.to_string(),
            socket: None,
            runtime: Some(Box::new(client)),
            log: log.clone(),
        }
    }

    /// Whether a runtime client makes this endpoint's calls.
    pub fn is_runtime(&self) -> bool {
        self.runtime.is_some()
    }

    /// Makes `call` through the runtime client, if this endpoint has one, and records it as
    /// the next `verb` step; `None` for a native endpoint, which makes the call itself.
    pub(crate) fn via_runtime(&mut self, verb: Verb, call: RuntimeCall<'_>) -> Option<Step> {
        let client = self.runtime.as_mut()?;
        let started = Instant::now();
        let made = match call {
            RuntimeCall::Connect(addr) => client.connect(*addr),
            RuntimeCall::Read(len) => client.read(len),
            RuntimeCall::Write(len) => client.write(len),
            RuntimeCall::Shutdown(how) => client.shutdown(how),
            RuntimeCall::SoError => client.so_error(),
            RuntimeCall::Getpeername => client.getpeername(),
            RuntimeCall::SetOption(SockOpt::TcpNodelay, value) => client.set_nodelay(value != 0),
            RuntimeCall::SetOption(SockOpt::SoKeepalive, value) => client.set_keepalive(value != 0),
            RuntimeCall::SetOption(option, value) => unsupported(
                client,
                format!("setsockopt({option}, {value})"),
                "the runtime clients set only TCP_NODELAY and SO_KEEPALIVE",
            ),
            RuntimeCall::Close => client.close(),
            RuntimeCall::Unsupported(op) => unsupported(client, op, "the runtime clients do not make this call"),
        };
        Some(self.record_runtime(verb, started, made))
    }

    fn record_runtime(&mut self, verb: Verb, started: Instant, mut made: RuntimeStep) -> Step {
        made.answer.ended = made.ended.clone();
        let api = self.runtime.as_ref().map_or("", |c| c.api().id());
        let t_us = self.log.micros_since_start(started);
        let detail = (!made.survived).then(|| {
            format!(
                "the client's process ended: {}",
                made.ended.as_deref().unwrap_or("how is unknown")
            )
        });
        self.log.push(&self.actor, verb, |label| Step {
            label,
            actor: self.actor.clone(),
            op: format!("{api} {}", made.op),
            result: call_result(&made.answer),
            revents: made.revents,
            tcp_state: made.tcp_state,
            signals: Vec::new(),
            t_us,
            elapsed_us: started.elapsed().as_micros() as u64,
            detail,
            runtime: Some(made.answer),
        })
    }
}

/// A step the runtime client is not asked to make, recorded as such.
fn unsupported(client: &RuntimeClient, op: String, why: &str) -> RuntimeStep {
    RuntimeStep {
        label: String::new(),
        api: client.api().id().to_string(),
        op,
        answer: Answer {
            outcome: "unsupported".into(),
            why: Some(why.to_string()),
            ..Answer::default()
        },
        survived: true,
        ended: None,
        revents: Vec::new(),
        tcp_state: None,
        t_us: 0,
        elapsed_us: 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_runtime_s_code_gives_the_errno_only_when_it_names_one() {
        assert_eq!(errno_name("ECONNRESET").as_deref(), Some("ECONNRESET"));
        assert_eq!(errno_name("ERR_STREAM_DESTROYED"), None);
        assert_eq!(errno_name("104"), None);
        let java = Answer {
            outcome: "error".into(),
            error_type: Some("java.net.SocketException".into()),
            message: Some("Connection reset".into()),
            ..Answer::default()
        };
        assert_eq!(call_result(&java).errno, None);
        let node = Answer {
            outcome: "error".into(),
            code: Some("ECONNRESET".into()),
            errno: Some(-104),
            ..Answer::default()
        };
        let result = call_result(&node);
        assert_eq!(
            (result.errno.as_deref(), result.errno_code),
            (Some("ECONNRESET"), Some(104))
        );
    }
}

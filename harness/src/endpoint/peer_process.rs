//! A peer that is a process of its own: a forked child holds the socket, so that killing it
//! shows what the kernel does with the connections of a process that dies (it closes every
//! descriptor in do_exit, as if the program had called close).

use std::io;
use std::time::Instant;

use super::{Endpoint, call_result};
use crate::capabilities::Need;
use crate::log::StepLog;
use crate::record::Step;
use crate::sys::{self, ChildEnd, HeldSocket};
use crate::verb::Verb;

/// A child process holding one socket, asleep until it is killed.
pub struct PeerProcess {
    child: HeldSocket,
    actor: String,
    log: StepLog,
}

impl Endpoint {
    /// Forks a child process (in the calling thread's network namespace) that keeps this
    /// socket and sleeps; this process's descriptor is closed without a step, so the
    /// connection lives on in the child alone. The child closes every other descriptor it
    /// inherited (other trials' sockets must not outlive their own close), and dies with the
    /// thread that forked it, so it never outlives the run.
    pub fn hand_to_child_process(mut self, actor: &str) -> io::Result<PeerProcess> {
        self.log.uses(Need::Fork);
        let socket = self
            .socket
            .take()
            .ok_or_else(|| io::Error::other("socket already closed"))?;
        Ok(PeerProcess {
            child: sys::hand_to_child(socket)?,
            actor: actor.to_string(),
            log: self.log.clone(),
        })
    }
}

impl PeerProcess {
    /// SIGKILL, then waitpid until the child is gone: by then the kernel has closed its
    /// descriptors. Step `peer.kill#n`, `ok=0` when the child died of SIGKILL.
    pub fn kill(&mut self) -> Step {
        let started = Instant::now();
        let (result, detail) = match self.child.kill() {
            Ok(ChildEnd::Signaled(signal)) => (Ok(0), format!("the child died of {signal}")),
            Ok(ChildEnd::Other(how)) => (Ok(0), format!("the child ended otherwise: {how}")),
            Err(e) => (Err(e), "could not kill and reap the child".to_string()),
        };
        let elapsed = started.elapsed();
        let t_us = self.log.micros_since_start(started);
        let actor = self.actor.clone();
        self.log.push(&actor, Verb::Kill, |label| Step {
            label,
            actor: actor.clone(),
            op: "kill(SIGKILL); waitpid()".into(),
            result: call_result(result),
            revents: Vec::new(),
            tcp_state: None,
            signals: Vec::new(),
            t_us,
            elapsed_us: elapsed.as_micros() as u64,
            detail: Some(detail),
            runtime: None,
        })
    }
}

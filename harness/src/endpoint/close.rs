//! Closing a socket as a step: close(2), and the abortive close (SO_LINGER {on, 0}, then
//! close), which sends a reset (socket(7)).

use std::io;
use std::time::{Duration, Instant};

use socket2::Socket;

use super::runtime::RuntimeCall;
use super::{Endpoint, Returned};
use crate::record::Step;
use crate::sys;
use crate::verb::Verb;

/// Whether closing `socket` blocks for its linger time (SO_LINGER {on, N > 0}).
pub(crate) fn lingers(socket: &Socket) -> bool {
    socket.linger().ok().flatten().is_some_and(|d| !d.is_zero())
}

impl Endpoint {
    /// close(2). The endpoint has no socket afterwards.
    pub fn close(&mut self) -> Step {
        if let Some(step) = self.via_runtime(Verb::Close, RuntimeCall::Close) {
            return step;
        }
        self.close_with(Verb::Close, "close()".into(), |_| Ok(()))
    }

    /// Abortive close: SO_LINGER {on, 0}, then close(2), which sends a reset (socket(7)).
    pub fn abort(&mut self) -> Step {
        if let Some(step) = self.via_runtime(
            Verb::Abort,
            RuntimeCall::Unsupported("setsockopt(SO_LINGER, {1, 0}); close()".into()),
        ) {
            return step;
        }
        self.close_with(Verb::Abort, "setsockopt(SO_LINGER, {1, 0}); close()".into(), |s| {
            s.set_linger(Some(Duration::ZERO))
        })
    }

    fn close_with(&mut self, verb: Verb, op: String, before: impl FnOnce(&Socket) -> io::Result<()>) -> Step {
        let started = Instant::now();
        sys::take_signals();
        let returned = match self.socket.take() {
            Some(s) => {
                let r = before(&s).and_then(|()| {
                    // The close must release the socket, not a reference a fork elsewhere
                    // shares for a moment (see `sys::exclusive_close`).
                    let lingers = lingers(&s);
                    sys::exclusive_close(lingers, || sys::close(s))
                });
                Returned::from_io(r.map(|()| 0))
            }
            None => Returned::from_io(Err(io::Error::from_raw_os_error(libc::EBADF))),
        };
        let elapsed = started.elapsed();
        let signals = sys::take_signals();
        self.finish(verb, op, started, elapsed, returned, signals)
    }
}

//! epoll(7) readiness as a recorded step: event loops (tokio, libuv, Go's netpoller) learn
//! about a peer's reset from epoll_wait, not from poll, so the events it reports are part of
//! what a program is told.

use std::time::Duration;

use super::runtime::RuntimeCall;
use super::{Endpoint, Returned};
use crate::capabilities::Need;
use crate::events::{EventApi, Events};
use crate::record::Step;
use crate::sys;
use crate::verb::Verb;

impl Endpoint {
    /// epoll_wait(2) on a fresh, level-triggered epoll instance that watches this socket for
    /// `events` (EPOLLERR and EPOLLHUP are always reported), with a timeout. The step's
    /// revents are the epoll events the call returned, by name (`EPOLLIN`, `EPOLLRDHUP`).
    pub fn epoll_wait(&mut self, events: Events, timeout: Duration) -> Step {
        if let Some(step) = self.via_runtime(
            Verb::EpollWait,
            RuntimeCall::Unsupported(format!("epoll_wait({})", events.names(EventApi::Epoll).join("|"))),
        ) {
            return step;
        }
        let asked = events.names(EventApi::Epoll).join("|");
        let op = format!("epoll_wait({asked}, {} ms)", timeout.as_millis());
        self.log.uses(Need::Epoll);
        self.step(Verb::EpollWait, op, |s| {
            let (rc, got) = sys::epoll_once(s, events, timeout);
            Returned {
                revents: Some(got.names(EventApi::Epoll)),
                ..Returned::from_io(rc)
            }
        })
    }
}

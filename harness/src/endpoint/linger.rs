//! A lingering close: SO_LINGER {on, N > 0}, the one timer socket(7) gives close(2) itself.
//! [`Endpoint::tune`] takes integers; SO_LINGER takes a `struct linger`, so it has its own
//! recorded step and knob here.

use std::time::Duration;

use super::runtime::RuntimeCall;
use super::{Endpoint, Returned};
use crate::record::{Knob, Step};
use crate::verb::Verb;

impl Endpoint {
    /// setsockopt(SO_LINGER, {1, `seconds`}): close(2) then blocks until the peer has
    /// acknowledged everything sent, or `seconds` have passed. Step `actor.setsockopt#n`, plus
    /// a knob with the value the option had (`off` by default).
    pub fn linger(&mut self, seconds: u32) -> Step {
        if let Some(step) = self.via_runtime(
            Verb::Setsockopt,
            RuntimeCall::Unsupported(format!("setsockopt(SO_LINGER, {{1, {seconds}}})")),
        ) {
            return step;
        }
        let default = self.socket().ok().and_then(|s| s.linger().ok()).map(|d| match d {
            None => "off".to_string(),
            Some(d) => format!("{{1, {}}}", d.as_secs()),
        });
        let step = self.step(
            Verb::Setsockopt,
            format!("setsockopt(SO_LINGER, {{1, {seconds}}})"),
            |s| Returned::from_io(s.set_linger(Some(Duration::from_secs(seconds.into()))).map(|()| 0)),
        );
        if step.result.errno.is_none() {
            self.log.knob(Knob {
                name: "setsockopt SO_LINGER".into(),
                scope: self.actor().to_string(),
                value: format!("{{1, {seconds}}}"),
                default,
            });
        }
        step
    }
}

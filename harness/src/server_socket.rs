//! A socket the server's host opens towards the client (not accepted from a listener): for
//! scenarios where the server's side sends the first segment, e.g. a new connection from the
//! service's own port to a client whose old connection is still in TIME_WAIT.

use std::io;
use std::net::SocketAddr;

use socket2::SockAddr;

use crate::endpoint::{Endpoint, Returned};
use crate::record::Step;
use crate::trial::{Host, Trial};

impl Trial {
    /// A new TCP socket on the server's host for `actor`; the trial's thread is back on the
    /// client's host afterwards.
    pub fn server_socket(&mut self, actor: &str) -> io::Result<Endpoint> {
        let addr = self.server_addr(crate::trial::SERVER_PORT);
        self.enter(Host::Server)?;
        let made = Endpoint::tcp(self.log(), actor, &addr);
        self.enter(Host::Client)?;
        made
    }
}

impl Endpoint {
    /// bind(2) to `addr` with SO_REUSEADDR (as servers set it), step `actor.bind#n`.
    pub fn bind(&mut self, addr: &SocketAddr) -> Step {
        self.step("bind", format!("bind({addr})"), |s| {
            let r = s.set_reuse_address(true).and_then(|()| s.bind(&SockAddr::from(*addr)));
            Returned::from_io(r.map(|()| 0))
        })
    }
}

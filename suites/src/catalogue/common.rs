//! Set-ups and waits that several areas share.

use sockerr_harness::{Direction, Endpoint, Trial};

/// Waits until the server's reset is on the wire and the client's socket has taken it
/// (POLLERR or POLLHUP, which poll always reports).
pub fn await_reset(t: &mut Trial, client: &Endpoint) {
    t.wait_for_segment(Direction::ServerToClient, 'R');
    t.wait_for_events(client, 0, "the client's socket has the reset (POLLERR or POLLHUP)");
}

//! connect: what a client is told when nobody listens.

use sockerr_harness::sys::POLL_ALL;
use sockerr_harness::trial::WAIT_DEADLINE;
use sockerr_harness::{Direction, ScriptResult, Trial};

use crate::scenario::{BOTH_FAMILIES, BOTH_TOPOLOGIES, Scenario};

pub fn scenarios() -> Vec<Scenario> {
    vec![
        Scenario {
            id: "connect.closed_port.blocking",
            claim: "A blocking connect to a port where nothing listens fails with ECONNREFUSED as soon as the server's kernel answers the SYN with a reset.",
            sources: &[
                "article situation 1 (the port is not open)",
                "RFC 9293 §3.10.7.1 (a segment for a CLOSED connection is answered with a reset)",
                "RFC 9293 §3.10.7.3 (a reset in SYN-SENT: connection refused)",
                "connect(2): ECONNREFUSED",
            ],
            guidance: "ECONNREFUSED: nothing listens on that address and port (or a firewall answers with a reset); the request never reached a server, so retrying is safe. Try the next address getaddrinfo returned, else back off (exponential, with jitter) and retry a bounded number of times, then report the service as down.",
            timer: None,
            families: BOTH_FAMILIES,
            topologies: BOTH_TOPOLOGIES,
            script: closed_port_blocking,
        },
        Scenario {
            id: "connect.closed_port.nonblocking",
            claim: "A non-blocking connect to a closed port returns EINPROGRESS, poll then reports the failure, SO_ERROR holds ECONNREFUSED once, and a second connect reports the consumed failure differently.",
            sources: &[
                "article situation 1 (the port is not open)",
                "connect(2): EINPROGRESS, \"use getsockopt SO_ERROR to determine whether connect() completed successfully\"",
                "socket(7): SO_ERROR \"get and clear the pending socket error\"",
                "poll(2): POLLERR, POLLHUP",
            ],
            guidance: "EINPROGRESS is not a failure: wait until poll reports the socket writable (treat POLLHUP and POLLERR as ready too), then read SO_ERROR once: 0 means connected, ECONNREFUSED that nothing listens (try the next address or back off). Never call connect again to learn the result, the error is consumed by then: close the socket and retry with a new one.",
            timer: None,
            families: BOTH_FAMILIES,
            topologies: BOTH_TOPOLOGIES,
            script: closed_port_nonblocking,
        },
    ]
}

/// connect#1 blocks until the reset arrives.
fn closed_port_blocking(t: &mut Trial) -> ScriptResult {
    let addr = t.closed_port();
    let mut client = t.client()?;
    client.connect(&addr);
    t.wait_for_segment(Direction::ServerToClient, 'R');
    client.close();
    Ok(())
}

/// connect#1 returns at once; poll#1 waits for the outcome; SO_ERROR twice; connect#2.
fn closed_port_nonblocking(t: &mut Trial) -> ScriptResult {
    let addr = t.closed_port();
    let mut client = t.client()?;
    client.socket()?.set_nonblocking(true)?;
    client.connect(&addr);
    client.poll(POLL_ALL, WAIT_DEADLINE);
    client.so_error();
    client.so_error();
    client.connect(&addr);
    t.wait_for_segment(Direction::ServerToClient, 'R');
    client.close();
    Ok(())
}

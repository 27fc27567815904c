//! close and linger: how a connection ends when the application closes it.

use std::net::SocketAddr;

use sockerr_harness::trial::Host;
use sockerr_harness::{Direction, ScriptResult, Shut, Trial};

use super::peer_close::{fin_ack_on_wire, fin_acked};
use crate::scenario::{BOTH_FAMILIES, BOTH_TOPOLOGIES, Scenario};

pub fn scenarios() -> Vec<Scenario> {
    vec![Scenario {
        id: "close.orderly",
        claim: "When both sides close normally the connection ends with a FIN each way and no reset, and the side that closed first keeps the connection in TIME_WAIT, out of reach of its descriptor.",
        sources: &[
            "article situation 8 (orderly release versus abortive release)",
            "RFC 9293 §3.6 (closing a connection; TIME-WAIT on the side that closes first)",
            "RFC 1122 §4.2.2.13 (graceful close)",
            "shutdown(2): SHUT_WR; tcp(7): tcp_fin_timeout, TIME_WAIT",
        ],
        guidance: "Close by shutdown(SHUT_WR), read until end of file, then close: nothing is lost and no reset is sent. The side that closes first holds TIME_WAIT (60 s on Linux) for that address pair; let servers close first only when they can afford it, and set SO_REUSEADDR on listeners so a restart can bind.",
        timer: None,
        families: BOTH_FAMILIES,
        topologies: BOTH_TOPOLOGIES,
        script: orderly,
    }]
}

fn orderly(t: &mut Trial) -> ScriptResult {
    let (mut client, mut server, _listener) = t.connected_pair()?;
    let local: Option<SocketAddr> = client.socket()?.local_addr()?.as_socket();
    // The client closes first, as a half-close, so that its socket can still be asked for
    // its state at each stage; close() would leave no descriptor to ask.
    client.shutdown(Shut::Write);
    fin_acked(t, &server, Direction::ClientToServer)?;
    client.poll(
        libc::POLLIN | libc::POLLOUT | libc::POLLRDHUP,
        std::time::Duration::ZERO,
    );
    server.read(64);
    server.close();
    // The client, in FIN_WAIT2, acknowledges the server's FIN at once (tcp_fin) and its
    // connection enters TIME_WAIT.
    fin_ack_on_wire(t, Direction::ServerToClient, "the client's ACK of the server's FIN");
    client.read(64);
    t.wait_for_tcp_table(
        Host::Client,
        "the client's host holds the connection in TIME_WAIT (/proc/net/tcp)",
        |table| table.iter().any(|e| Some(e.local) == local && e.state == "TIME_WAIT"),
    );
    client.close();
    Ok(())
}

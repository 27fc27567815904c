//! accept and backlog: what the server sees of connections that changed while they waited in
//! the listener's queue.

use std::net::SocketAddr;

use sockerr_harness::trial::{Host, SERVER_PORT};
use sockerr_harness::{Direction, Events, Need, ScriptResult, Trial};

use crate::scenario::Scenario;

pub fn scenarios() -> Vec<Scenario> {
    vec![Scenario {
        id: "accept.reset_before_accept",
        claim: "A connection reset by the client after the handshake but before the server accepts it is still returned by accept, whose first read fails with ECONNRESET and whose getpeername fails with ENOTCONN.",
        sources: &[
            "RFC 9293 §3.10.7.4 (a reset in ESTABLISHED: connection reset)",
            "accept(2): ECONNABORTED \"a connection has been aborted\"",
            "getpeername(2): ENOTCONN",
            "socket(7): SO_LINGER with a zero timeout",
        ],
        situations: &[8, 7],
        guidance: "accept() can hand over a connection that is already dead. Treat an error on its first read (ECONNRESET) or from getpeername (ENOTCONN) as a client that went away: close that socket and keep accepting; never stop the accept loop over it (nor over ECONNABORTED from accept itself, which other systems return).",
        needs: &[Need::PacketCapture, Need::TcpTable],
        script: reset_before_accept,
        ..Scenario::BASE
    }]
}

fn reset_before_accept(t: &mut Trial) -> ScriptResult {
    let mut listener = t.listener(16)?;
    let mut client = t.client()?;
    let server = t.server_addr(SERVER_PORT);
    client.connect(&server);
    let local: Option<SocketAddr> = client.local_addr();
    t.wait_for_events(
        &listener,
        Events::IN,
        "the handshaken connection waits in the listener's queue (POLLIN)",
    );
    client.abort();
    t.wait_for_segment(Direction::ClientToServer, 'R');
    // The capture sees the reset before TCP has processed it; the server's socket is not
    // reachable before accept, so wait until the server's kernel has dropped the connection
    // from its table (tcp_done unhashes it).
    t.wait_for_tcp_table(
        Host::Server,
        "the server's host no longer lists the connection (/proc/net/tcp)",
        |table| {
            !table
                .iter()
                .any(|e| Some(e.remote) == local && e.local == server && e.state != "LISTEN")
        },
    )?;
    let (_, accepted) = listener.accept("server");
    if let Some(mut accepted) = accepted {
        accepted.read(64);
        accepted.getpeername();
        accepted.read(64);
        accepted.close();
    }
    Ok(())
}

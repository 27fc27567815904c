//! peer closes (orderly): the peer sends FIN, then the local side reads and writes.

use sockerr_harness::{Direction, Endpoint, ScriptResult, Trial};

use super::common::await_reset;
use crate::scenario::{BOTH_FAMILIES, BOTH_TOPOLOGIES, Scenario};

pub fn scenarios() -> Vec<Scenario> {
    vec![
        Scenario {
            id: "peer_close.fin.read_then_write",
            claim: "After the peer's orderly close the client reads end of file, its first send is accepted and answered with a reset by the closed peer, and its second send fails with EPIPE (MSG_NOSIGNAL: no signal).",
            sources: &[
                "article situations 7 and 8 (reset vs broken pipe; orderly release)",
                "RFC 9293 §3.10.7.4 (data for a closed connection is answered with a reset)",
                "send(2): EPIPE, MSG_NOSIGNAL",
                "read(2): 0 at end of file",
            ],
            guidance: "read() returning 0 means the peer sent FIN: it will send nothing more and has usually closed. Use what was received, close the socket, and send further requests on a new connection. Data written after the FIN is lost even when the write succeeds (the closed peer answers it with a reset); EPIPE then means: close, the peer is gone.",
            families: BOTH_FAMILIES,
            topologies: BOTH_TOPOLOGIES,
            script: fin_read_then_write,
        },
        Scenario {
            id: "peer_close.fin.write_first",
            claim: "After the peer's orderly close a client that writes before reading has its first send accepted, its second fail with EPIPE once the peer's reset is in, and then reads end of file.",
            sources: &[
                "article situations 7 and 8 (reset vs broken pipe; orderly release)",
                "RFC 9293 §3.10.7.4 (data for a closed connection is answered with a reset)",
                "send(2): EPIPE, MSG_NOSIGNAL",
            ],
            guidance: "A successful write proves nothing about delivery: after the peer's FIN the first write is accepted, then discarded with a reset. Before reusing an idle or pooled connection, poll it for POLLIN/POLLRDHUP and read; on end of file or EPIPE close it and resend on a new connection, replaying only idempotent requests.",
            families: BOTH_FAMILIES,
            topologies: BOTH_TOPOLOGIES,
            script: fin_write_first,
        },
        Scenario {
            id: "peer_close.fin.sigpipe",
            claim: "A plain write() to a peer that closed and then reset the connection kills a process whose SIGPIPE is at its default disposition, before write returns.",
            sources: &[
                "article situation 7 (\"Broken pipe\")",
                "write(2): EPIPE, \"the writing process will also receive a SIGPIPE signal\"",
                "signal(7): SIGPIPE default action is to terminate the process",
            ],
            guidance: "A write to a connection the peer has closed and reset raises SIGPIPE, which by default kills the process before write() returns. Send with MSG_NOSIGNAL, set SO_NOSIGPIPE where it exists (macOS, FreeBSD), or ignore SIGPIPE process-wide (signal(SIGPIPE, SIG_IGN)); then handle EPIPE: close, the peer is gone.",
            families: BOTH_FAMILIES,
            topologies: BOTH_TOPOLOGIES,
            script: fin_sigpipe,
        },
    ]
}

/// The server closes; the client waits until its socket has seen the FIN and acknowledged
/// it. Linux delays the ACK of a FIN (tcp_fin() enters delayed-ACK "pingpong" mode, hoping to
/// send it with the application's own FIN; RFC 1122 §4.2.3.2 allows the delay), so whether
/// the ACK travels alone or on the client's next write would depend on timing. A client that
/// writes later than the delayed-ACK timeout has acknowledged the FIN by then; setting
/// TCP_QUICKACK now sends that ACK at once (tcp(7)), so the wire is the same in every run.
fn closed_by_server(t: &mut Trial) -> std::io::Result<Endpoint> {
    let (client, mut server, _listener) = t.connected_pair()?;
    server.close();
    t.wait_for_events(
        &client,
        libc::POLLRDHUP,
        "the client's socket has the server's FIN (POLLRDHUP)",
    );
    client.socket()?.set_tcp_quickack(true)?;
    t.wait_for_wire("the client's ACK of the server's FIN", |segments| {
        let fin = segments
            .iter()
            .position(|s| s.dir == Direction::ServerToClient && s.flags.contains('F'));
        fin.is_some_and(|i| {
            segments[i..]
                .iter()
                .any(|s| s.dir == Direction::ClientToServer && s.flags == ".")
        })
    });
    Ok(client)
}

fn fin_read_then_write(t: &mut Trial) -> ScriptResult {
    let mut client = closed_by_server(t)?;
    client.read(64);
    client.send_nosignal(b"x");
    await_reset(t, &client);
    client.send_nosignal(b"x");
    client.read(64);
    client.close();
    Ok(())
}

fn fin_write_first(t: &mut Trial) -> ScriptResult {
    let mut client = closed_by_server(t)?;
    client.send_nosignal(b"x");
    await_reset(t, &client);
    client.send_nosignal(b"x");
    client.read(64);
    client.read(64);
    client.close();
    Ok(())
}

fn fin_sigpipe(t: &mut Trial) -> ScriptResult {
    let mut client = closed_by_server(t)?;
    client.write_in_child(b"x");
    await_reset(t, &client);
    client.write_in_child(b"x");
    client.read(64);
    client.close();
    Ok(())
}

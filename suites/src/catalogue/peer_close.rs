//! peer closes (orderly): the peer sends FIN, then the local side reads and writes.

use sockerr_harness::{Direction, Endpoint, Events, Need, ScriptResult, SetupError, Shut, Trial};

use super::common::await_reset;
use crate::scenario::Scenario;

pub fn scenarios() -> Vec<Scenario> {
    vec![
        Scenario {
            id: "peer_close.fin.read_then_write",
            claim: "After the peer's orderly close the client reads end of file, its first send is accepted and answered with a reset by the closed peer, and its second send fails with EPIPE (MSG_NOSIGNAL: no signal).",
            sources: &[
                "RFC 9293 §3.6.1 and RFC 1122 §4.2.2.13 (data that arrives after CLOSE is answered with a reset)",
                "send(2): EPIPE, MSG_NOSIGNAL",
                "read(2): 0 at end of file",
            ],
            situations: &[7, 8],
            guidance: "read() returning 0 means the peer sent FIN: it will send nothing more and has usually closed. Use what was received, close the socket, and send further requests on a new connection. Data written after the FIN is lost even when the write succeeds (the closed peer answers it with a reset); EPIPE then means: close, the peer is gone.",
            needs: &[Need::PacketCapture],
            runtimes: true,
            script: fin_read_then_write,
            ..Scenario::BASE
        },
        Scenario {
            id: "peer_close.fin.write_first",
            claim: "After the peer's orderly close a client that writes before reading has its first send accepted, its second fail with EPIPE once the peer's reset is in, and then reads end of file.",
            sources: &[
                "RFC 9293 §3.6.1 and RFC 1122 §4.2.2.13 (data that arrives after CLOSE is answered with a reset)",
                "send(2): EPIPE, MSG_NOSIGNAL",
            ],
            situations: &[7, 8],
            guidance: "A successful write proves nothing about delivery: after the peer's FIN the first write is accepted, then discarded with a reset. Before reusing an idle or pooled connection, poll it for POLLIN/POLLRDHUP and read; on end of file or EPIPE close it and resend on a new connection, replaying only idempotent requests.",
            needs: &[Need::PacketCapture],
            runtimes: true,
            script: fin_write_first,
            ..Scenario::BASE
        },
        Scenario {
            id: "peer_close.fin.sigpipe",
            claim: "A plain write() to a peer that closed and then reset the connection kills a process whose SIGPIPE is at its default disposition, before write returns.",
            sources: &[
                "write(2): EPIPE, \"the writing process will also receive a SIGPIPE signal\"",
                "signal(7): SIGPIPE default action is to terminate the process",
            ],
            situations: &[7],
            guidance: "A write to a connection the peer has closed and reset raises SIGPIPE, which by default kills the process before write() returns. Send with MSG_NOSIGNAL, set SO_NOSIGPIPE where it exists (macOS, FreeBSD), or ignore SIGPIPE process-wide (signal(SIGPIPE, SIG_IGN)); then handle EPIPE: close, the peer is gone.",
            needs: &[Need::PacketCapture, Need::Fork],
            script: fin_sigpipe,
            ..Scenario::BASE
        },
        Scenario {
            id: "peer_close.shutdown_wr",
            claim: "After the peer's half-close (shutdown SHUT_WR) the client reads end of file yet can still send, the peer still reads what it sent, and no reset goes on the wire.",
            sources: &[
                "RFC 9293 §3.6 (a FIN closes only its sender's direction: CLOSE_WAIT may still send)",
                "shutdown(2): SHUT_WR, further transmissions are disallowed",
                "read(2): 0 at end of file",
            ],
            situations: &[8],
            guidance: "End of file means the peer will send nothing more, not that it is gone: a half-closed peer (shutdown(SHUT_WR), e.g. after sending its whole request) still reads. Finish sending what it waits for, then close. Only a write error (EPIPE, ECONNRESET) says the peer stopped reading.",
            needs: &[Need::PacketCapture],
            runtimes: true,
            script: shutdown_wr,
            ..Scenario::BASE
        },
        Scenario {
            id: "peer_close.shutdown_rd",
            claim: "A peer that shut down its reading half (shutdown SHUT_RD) sends nothing on the wire, still acknowledges the client's data and still reads it, and only then reads end of file.",
            sources: &[
                "RFC 9293 §3.6 (no segment closes only the receiving direction)",
                "shutdown(2): SHUT_RD, further receptions are disallowed",
                "RFC 1122 §4.2.2.13 (a half-closed connection still receives)",
            ],
            guidance: "A peer's shutdown(SHUT_RD) is invisible to the client on Linux: its sends succeed and are acknowledged, so no error tells it the peer stopped reading; the peer still reads queued data, then end of file. Rely on the application protocol (a response, a FIN), never on a successful send.",
            needs: &[Need::PacketCapture],
            runtimes: true,
            script: shutdown_rd,
            ..Scenario::BASE
        },
    ]
}

/// The server closes; the client waits until its socket has seen the FIN and acknowledged
/// it (see [`fin_acked`]).
fn closed_by_server(t: &mut Trial) -> Result<Endpoint, SetupError> {
    let (client, mut server, _listener) = t.connected_pair()?;
    server.close();
    fin_acked(t, &client, Direction::ServerToClient)?;
    Ok(client)
}

/// Waits until `receiver` has the FIN its peer sent (direction `fin`) and has acknowledged it
/// on the wire. Linux delays the ACK of a FIN (tcp_fin() enters delayed-ACK "pingpong" mode,
/// hoping to send it with the application's own FIN; RFC 1122 §4.2.3.2 allows the delay), so
/// whether the ACK travels alone or on the receiver's next segment would depend on timing. A
/// receiver that sends later than the delayed-ACK timeout has acknowledged the FIN by then;
/// setting TCP_QUICKACK now sends that ACK at once (tcp(7)), so the wire is the same in every
/// run. A receiver that already shut its reading half reports POLLRDHUP from the start, so
/// the ACK on the wire is what this waits for, after the poll.
pub(super) fn fin_acked(t: &mut Trial, receiver: &Endpoint, fin: Direction) -> Result<(), SetupError> {
    let who = match fin {
        Direction::ServerToClient | Direction::RouterToClient => "client",
        Direction::ClientToServer | Direction::RouterToServer => "server",
    };
    t.wait_for_events(
        receiver,
        Events::RDHUP,
        &format!("the {who}'s socket has its peer's FIN (POLLRDHUP)"),
    );
    // A runtime client may have closed its socket on the FIN already (Node.js ends its side
    // when the peer ends): nothing is left to acknowledge then.
    if let Some(quickack) = receiver.observe(sockerr_harness::sys::ack_at_once) {
        quickack?;
    }
    fin_ack_on_wire(t, fin, &format!("the {who}'s ACK of its peer's FIN"));
    Ok(())
}

/// The other direction.
fn opposite(dir: Direction) -> Direction {
    match dir {
        Direction::ServerToClient | Direction::RouterToClient => Direction::ClientToServer,
        Direction::ClientToServer | Direction::RouterToServer => Direction::ServerToClient,
    }
}

/// Waits until the last FIN of direction `fin` is acknowledged on the wire.
pub(super) fn fin_ack_on_wire(t: &mut Trial, fin: Direction, what: &str) {
    let ack = opposite(fin);
    t.wait_for_wire(what, |segments| {
        segments
            .iter()
            .rposition(|s| s.dir == fin && s.flags.contains('F'))
            .is_some_and(|i| {
                let end = segments[i].seq.wrapping_add(segments[i].len).wrapping_add(1);
                segments[i..]
                    .iter()
                    .any(|s| s.dir == ack && s.flags.contains('.') && s.ack == end)
            })
    });
}

/// Waits until the side that received the data segment of direction `data` has acknowledged
/// all of it on the wire (the ACK may be delayed; it comes within the delayed-ACK timeout).
pub(super) fn data_acked(t: &mut Trial, data: Direction, what: &str) {
    let ack = opposite(data);
    t.wait_for_wire(what, |segments| {
        segments
            .iter()
            .rposition(|s| s.dir == data && s.len > 0)
            .is_some_and(|i| {
                let end = segments[i].seq.wrapping_add(segments[i].len);
                segments[i..]
                    .iter()
                    .any(|s| s.dir == ack && s.flags.contains('.') && s.ack == end)
            })
    });
}

fn fin_read_then_write(t: &mut Trial) -> ScriptResult {
    let mut client = closed_by_server(t)?;
    client.read(64);
    if client.send_nosignal(b"x").succeeded() {
        await_reset(t, &client);
    }
    client.send_nosignal(b"x");
    client.read(64);
    client.close();
    Ok(())
}

fn fin_write_first(t: &mut Trial) -> ScriptResult {
    let mut client = closed_by_server(t)?;
    if client.send_nosignal(b"x").succeeded() {
        await_reset(t, &client);
    }
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

fn shutdown_wr(t: &mut Trial) -> ScriptResult {
    let (mut client, mut server, _listener) = t.connected_pair()?;
    server.shutdown(Shut::Write);
    fin_acked(t, &client, Direction::ServerToClient)?;
    client.read(64);
    if client.send_nosignal(b"request").succeeded() {
        data_acked(t, Direction::ClientToServer, "the server's ACK of the client's request");
    }
    server.read(64);
    // The client closes too; the server, in FIN_WAIT2, acknowledges that FIN at once
    // (tcp_fin sends the ACK and enters TIME_WAIT), after which nothing more is sent.
    client.close();
    fin_ack_on_wire(t, Direction::ClientToServer, "the server's ACK of the client's FIN");
    server.read(64);
    server.close();
    Ok(())
}

fn shutdown_rd(t: &mut Trial) -> ScriptResult {
    let (mut client, mut server, _listener) = t.connected_pair()?;
    server.shutdown(Shut::Read);
    client.send_nosignal(b"first");
    data_acked(
        t,
        Direction::ClientToServer,
        "the server's ACK of the client's first send",
    );
    client.send_nosignal(b"second");
    data_acked(
        t,
        Direction::ClientToServer,
        "the server's ACK of the client's second send",
    );
    server.read(64);
    server.read(64);
    // An orderly end: the server closes, the client acknowledges its FIN (forced, see
    // fin_acked) and closes, and the server's orphan in FIN_WAIT2 acknowledges that FIN at once.
    server.close();
    fin_acked(t, &client, Direction::ServerToClient)?;
    client.read(64);
    client.close();
    fin_ack_on_wire(t, Direction::ClientToServer, "the server's ACK of the client's FIN");
    Ok(())
}

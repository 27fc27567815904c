//! crash: the peer is a process that dies (SIGKILL) mid-conversation; its kernel closes the
//! connection for it.

use sockerr_harness::{Direction, Endpoint, Need, ScriptResult, SetupError, Trial};

use super::common::await_reset;
use crate::scenario::Scenario;

pub fn scenarios() -> Vec<Scenario> {
    vec![
        Scenario {
            id: "crash.process_killed.idle",
            claim: "When the peer process is killed with nothing unread, its kernel closes the connection with a FIN: the client reads end of file, its first write is answered with a reset, and the next write fails with EPIPE.",
            sources: &[
                "exit(2)/_exit(2): open file descriptors are closed when the process terminates",
                "RFC 9293 §3.6 (CLOSE: FIN) and §3.6.1 (data that arrives after CLOSE is answered with a reset)",
            ],
            situations: &[4],
            guidance: "A killed peer process looks exactly like an orderly close: end of file on read. Treat end of file in the middle of a request as a failure of that request; do not write more (the reply is a reset, then EPIPE). Close, reconnect, and replay only idempotent requests.",
            needs: &[Need::PacketCapture, Need::Fork],
            runtimes: true,
            script: process_killed_idle,
            ..Scenario::BASE
        },
        Scenario {
            id: "crash.process_killed.unread_data",
            claim: "When the peer process is killed while the client's request is unread in its receive buffer, its kernel sends a reset instead of a FIN, and the client's read fails with ECONNRESET.",
            sources: &[
                "exit(2)/_exit(2): open file descriptors are closed when the process terminates",
                "RFC 2525 §2.17 (\"Failure to RST on close with data pending\")",
                "RFC 9293 §3.10.7.4 (a reset in ESTABLISHED: connection reset)",
            ],
            situations: &[3, 4],
            guidance: "ECONNRESET after a request: the server may have crashed with the request unread (or read it and crashed: the client cannot tell). Close, reconnect, and replay only idempotent requests; report the others as failed with an unknown outcome.",
            needs: &[Need::PacketCapture, Need::Fork],
            runtimes: true,
            script: process_killed_unread_data,
            ..Scenario::BASE
        },
    ]
}

/// A connection whose server end lives in a child process of the server's namespace
/// (actor `peer`), and the client.
fn pair_with_peer_process(t: &mut Trial) -> Result<(Endpoint, sockerr_harness::PeerProcess), SetupError> {
    let (client, server, _listener) = t.connected_pair()?;
    let peer = server.hand_to_child_process("peer")?;
    Ok((client, peer))
}

fn process_killed_idle(t: &mut Trial) -> ScriptResult {
    let (mut client, mut peer) = pair_with_peer_process(t)?;
    peer.kill();
    t.wait_for_segment(Direction::ServerToClient, 'F');
    // The client acknowledges the FIN at once or after its delayed-ACK timer; waiting for
    // that ACK keeps it from riding on the write below instead. (A runtime that ends its side
    // when the peer did, as Node.js does, acknowledges it with its own FIN.)
    t.wait_for_wire("the client's ACK of the FIN", |segments| {
        let fin = segments
            .iter()
            .position(|s| s.dir == Direction::ServerToClient && s.flags.contains('F'));
        fin.is_some_and(|i| {
            let end = segments[i].seq.wrapping_add(1);
            segments[i..]
                .iter()
                .any(|s| s.dir == Direction::ClientToServer && s.flags.ends_with('.') && !s.flags.contains('P') && s.ack == end)
        })
    });
    client.read(64);
    if client.write(b"x").succeeded() {
        await_reset(t, &client);
    }
    client.write(b"x");
    client.read(64);
    client.close();
    Ok(())
}

fn process_killed_unread_data(t: &mut Trial) -> ScriptResult {
    let (mut client, mut peer) = pair_with_peer_process(t)?;
    client.write(b"request");
    t.wait_for_wire("the server's ACK of the request", |segments| {
        segments
            .iter()
            .any(|s| s.dir == Direction::ServerToClient && s.flags == "." && s.ack > 1)
    });
    peer.kill();
    await_reset(t, &client);
    client.read(64);
    client.read(64);
    client.write(b"x");
    client.close();
    Ok(())
}

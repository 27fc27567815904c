//! listener: a listening socket closed while handshaken connections still wait in its
//! accept queue.

use sockerr_harness::{Direction, Need, ScriptResult, Trial};

use super::common::{await_reset, connect_client, of_port};
use crate::scenario::Scenario;

pub fn scenarios() -> Vec<Scenario> {
    vec![Scenario {
        id: "listener.closed_with_pending",
        claim: "Closing a listener resets every connection still waiting in its accept queue: each client's first call after the reset fails with ECONNRESET, whether it reads or writes, and a write after that fails with EPIPE.",
        sources: &[
            "close(2) on a listening socket; listen(2)",
            "RFC 9293 §3.10.4 (ABORT: send a reset)",
            "Linux inet_csk_listen_stop: queued children are disconnected with a reset",
        ],
        guidance: "A connection can be reset before the server ever accepted it (the server restarted or stopped listening): the request was not processed. Treat ECONNRESET before any reply as retryable: close, reconnect with backoff, and resend.",
        needs: &[Need::PacketCapture],
        script: listener_closed_with_pending,
        ..Scenario::BASE
    }]
}

fn listener_closed_with_pending(t: &mut Trial) -> ScriptResult {
    let mut listener = t.listener(16)?;
    let (mut client1, port1) = connect_client(t, "client1")?;
    let (mut client2, _) = connect_client(t, "client2")?;
    client1.write(b"request");
    t.wait_for_wire("the server's ACK of client1's request", |segments| {
        of_port(segments, port1).any(|s| s.dir == Direction::ServerToClient && s.flags == "." && s.ack > 1)
    });
    listener.close();
    await_reset(t, &client1);
    await_reset(t, &client2);
    client1.read(64);
    client1.write(b"x");
    client2.write(b"x");
    client2.read(64);
    client1.close();
    client2.close();
    Ok(())
}

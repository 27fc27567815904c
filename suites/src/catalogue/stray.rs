//! stray: segments that match no connection, because one end lost its state without a word.

use sockerr_harness::trial::Host;
use sockerr_harness::{Endpoint, Hook, Need, ScriptResult, Trial};

use super::common::await_reset;
use crate::scenario::Scenario;

pub fn scenarios() -> Vec<Scenario> {
    vec![Scenario {
        id: "stray.peer_lost_state",
        claim: "When the server has lost a connection without telling the client (a reboot, or a reset nobody received), the client's next data is answered with a reset, and only the calls after that fail: read with ECONNRESET, write with EPIPE.",
        sources: &[
            "RFC 9293 §3.10.7.2 (the listener answers a segment carrying an ACK with <SEQ=SEG.ACK><CTL=RST>)",
            "RFC 9293 §3.5.3 (half-open connections: \"the other end has crashed\")",
            "RFC 9293 §3.10.7.4 (a reset in ESTABLISHED: connection reset)",
        ],
        situations: &[5],
        guidance: "A connection idle for a while may be dead without any sign: the write that follows succeeds, and the failure (ECONNRESET) shows only at the next call. Send requests on idle pooled connections only if a reset there can be retried: replay idempotent requests on a fresh connection, and let keepalive or an idle timeout retire old connections first.",
        needs: &[Need::Nftables, Need::PacketCapture],
        runtimes: true,
        script: peer_lost_state,
        ..Scenario::BASE
    }]
}

/// Makes `server` forget its connection without telling the client: an abortive close whose
/// reset the server's own firewall swallows, so the client's side stays ESTABLISHED. close(2)
/// sends the reset before it returns, so the rule can go as soon as abort has returned. The
/// listener stays: the server is back up, as a rebooted one would be.
pub(super) fn lose_state(t: &mut Trial, server: &mut Endpoint) -> ScriptResult {
    t.firewall(Host::Server, Hook::Output, "tcp flags rst drop")?;
    server.abort();
    t.firewall_clear(Host::Server)
}

/// write#1 carries the data the server's kernel answers with a reset; read#1, write#2 and
/// read#2 then show the error once and the dead connection after it.
fn peer_lost_state(t: &mut Trial) -> ScriptResult {
    let (mut client, mut server, _listener) = t.connected_pair()?;
    lose_state(t, &mut server)?;
    client.write(b"request");
    await_reset(t, &client);
    client.read(64);
    client.write(b"request");
    client.read(64);
    client.close();
    Ok(())
}

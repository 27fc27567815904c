//! Set-ups and waits that several areas share.

use std::time::Duration;

use sockerr_harness::trial::{SERVER_PORT, WAIT_DEADLINE};
use sockerr_harness::{Direction, Endpoint, Events, Hook, Host, ScriptResult, Segment, SetupError, Trial};

/// Waits until the server's reset is on the wire and the client's socket has taken it
/// (POLLERR or POLLHUP, which poll always reports).
pub fn await_reset(t: &mut Trial, client: &Endpoint) {
    t.wait_for_segment(Direction::ServerToClient, 'R');
    t.wait_for_events(
        client,
        Events::NONE,
        "the client's socket has the reset (POLLERR or POLLHUP)",
    );
}

/// The server goes silent for the connection's port: its firewall drops every segment in
/// and out, so the client hears nothing, not even a reset.
pub fn silence_server(t: &mut Trial) -> ScriptResult {
    t.firewall(Host::Server, Hook::Input, &format!("tcp dport {SERVER_PORT} drop"))?;
    t.firewall(Host::Server, Hook::Output, &format!("tcp sport {SERVER_PORT} drop"))
}

/// What a program sees once the kernel dropped the connection: poll#1 (no wait), read#1,
/// write#2, read#2, close.
pub fn after_drop(client: &mut Endpoint) {
    client.poll(Events::REQUESTABLE, Duration::ZERO);
    client.read(64);
    client.write(b"request");
    client.read(64);
    client.close();
}

/// Segments of the connection whose client end is bound to `port`.
pub fn of_port(segments: &[Segment], port: u16) -> impl Iterator<Item = &Segment> + Clone {
    let suffix = format!(":{port}");
    segments
        .iter()
        .filter(move |s| s.src.ends_with(&suffix) || s.dst.ends_with(&suffix))
}

pub fn local_port(endpoint: &Endpoint) -> Result<u16, SetupError> {
    endpoint
        .local_addr()
        .map(|a| a.port())
        .ok_or_else(|| SetupError::Other(format!("{} has no local port", endpoint.actor())))
}

/// A non-blocking client named `actor` whose connect has started (step `connect#1`).
pub fn start_connect(t: &mut Trial, actor: &str) -> Result<(Endpoint, u16), SetupError> {
    let mut client = t.client_named(actor)?;
    client.socket()?.set_nonblocking(true)?;
    client.connect(&t.server_addr(sockerr_harness::trial::SERVER_PORT));
    let port = local_port(&client)?;
    Ok((client, port))
}

/// A client whose handshake completed on its side, and whose final ACK is on the wire
/// (steps `connect#1`, `poll#1`).
pub fn connect_client(t: &mut Trial, actor: &str) -> Result<(Endpoint, u16), SetupError> {
    let (mut client, port) = start_connect(t, actor)?;
    client.poll(Events::OUT, WAIT_DEADLINE);
    t.wait_for_wire(&format!("{actor}'s final ACK of the handshake"), |segments| {
        of_port(segments, port).any(|s| s.dir == Direction::ClientToServer && s.flags == ".")
    });
    Ok((client, port))
}

//! forged: how a stack judges a segment it did not expect, state by state (RFC 9293 §3.10.7,
//! RFC 5961). The two real stacks keep their connection; a third party injects one segment
//! (or ICMP error) from the namespace of the host it impersonates, with numbers derived from
//! the trial's capture, and the trial records what the application is told after it, what
//! answered on the wire (`wire.answer` in the expectations) and the TCP state.
//!
//! Families by file: [`established`], [`handshake`] (SYN-SENT, SYN-RCVD), [`listener`],
//! [`closing`] (FIN-WAIT-1 to TIME-WAIT), [`icmp`] and [`burst`] (the challenge ACK limit).

mod burst;
mod closing;
mod established;
mod handshake;
mod icmp;
mod listener;

use std::net::SocketAddr;
use std::time::Duration;

use sockerr_harness::trial::SERVER_PORT;
use sockerr_harness::trial::inject::{Forged, Sent, flag};
use sockerr_harness::{Direction, Endpoint, Events, Need, ScriptResult, SetupError, Trial};

use crate::scenario::Scenario;

pub fn scenarios() -> Vec<Scenario> {
    [
        established::scenarios(),
        handshake::scenarios(),
        listener::scenarios(),
        closing::scenarios(),
        icmp::scenarios(),
        burst::scenarios(),
    ]
        .into_iter()
        .flatten()
        .collect()
}

/// What every forged scenario shares: the article's fifth situation (a segment that belongs
/// to no connection, or not to this one), with the family's guidance and needs.
fn family(guidance: &'static str, needs: &'static [Need]) -> Scenario {
    Scenario {
        situations: &[5],
        guidance,
        needs,
        ..Scenario::BASE
    }
}

/// The RFC 5961 sources every family cites.
const RFC5961: &str = "RFC 5961 §3.2 (a reset whose sequence number is in the window but not exactly RCV.NXT is answered with a challenge ACK <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>)";

/// What every forged scenario tells a client about a reset.
const RESET_GUIDANCE: &str = "A reset proves only that some host on the path sent one: a stack that follows RFC 5961 accepts it only at exactly RCV.NXT, so an off-by-window forgery is answered with a challenge ACK and the connection lives on. ECONNRESET means the connection is gone, not who ended it: retry idempotent requests on a new connection.";

/// A quarter of the sequence space: a number this far behind RCV.NXT is out of any window.
pub(super) const FAR: u32 = 1 << 30;

/// The addresses of a connection: the client's end and the server's.
pub(super) fn ends(t: &Trial, client: &Endpoint) -> Result<(SocketAddr, SocketAddr), SetupError> {
    let local = client
        .local_addr()
        .ok_or_else(|| SetupError::Other(format!("{} has no local address", client.actor())))?;
    Ok((local, t.server_addr(SERVER_PORT)))
}

/// What `from` sent to `to` as the capture saw it; an error when it saw nothing.
pub(super) fn sent(t: &mut Trial, from: SocketAddr, to: SocketAddr) -> Result<Sent, SetupError> {
    t.sent(from, to)
        .ok_or_else(|| SetupError::Other(format!("the capture saw nothing from {from} to {to}")))
}

/// Half the window `receiver` last advertised (unscaled, so at most half the real window):
/// an offset from RCV.NXT that is in the window but not exact.
pub(super) fn half_window(receiver: &Sent) -> u32 {
    (u32::from(receiver.win) / 2).max(1)
}

/// Which forged segment: a reset at exactly RCV.NXT, in the window but not exact, or far
/// outside the window; or a SYN in the window.
#[derive(Clone, Copy)]
pub(super) enum Event {
    Exact,
    InWindow,
    OutOfWindow,
    Syn,
}

impl Event {
    /// The segment `template` becomes: its numbers from what the impersonated host (`sender`)
    /// sent last (its SND.NXT is the victim's RCV.NXT) and the victim's window (`receiver`).
    pub(super) fn forge(self, sender: &Sent, receiver: &Sent, template: Forged) -> Forged {
        match self {
            Event::Exact => Forged {
                flags: flag::RST,
                seq: sender.snd_nxt,
                numbers: "seq=RCV.NXT (exact)".into(),
                ..template
            },
            Event::InWindow => Forged {
                flags: flag::RST,
                seq: sender.snd_nxt.wrapping_add(half_window(receiver)),
                numbers: "seq=RCV.NXT+win/2 (in window)".into(),
                ..template
            },
            Event::OutOfWindow => Forged {
                flags: flag::RST,
                seq: sender.snd_nxt.wrapping_sub(FAR),
                numbers: "seq=RCV.NXT-2^30 (out of window)".into(),
                ..template
            },
            Event::Syn => Forged {
                flags: flag::SYN,
                seq: sender.snd_nxt.wrapping_add(half_window(receiver)),
                numbers: "seq=RCV.NXT+win/2 (in window)".into(),
                ..template
            },
        }
    }
}

/// Whether the connection survived, seen by the program and on the wire: the victim's poll#1
/// (no wait), then [`probe`].
pub(super) fn survival(t: &mut Trial, victim: &mut Endpoint, peer: &mut Endpoint, towards_victim: Direction) -> ScriptResult {
    victim.socket()?.set_nonblocking(true)?;
    victim.poll(Events::IN | Events::OUT | Events::RDHUP, Duration::ZERO);
    probe(t, victim, peer, towards_victim)
}

/// The peer sends data (write#1), the victim's host answers it (an ACK if the connection
/// lives, a reset if not), and the victim reads (read#n, non-blocking).
pub(super) fn probe(t: &mut Trial, victim: &mut Endpoint, peer: &mut Endpoint, towards_victim: Direction) -> ScriptResult {
    victim.socket()?.set_nonblocking(true)?;
    peer.write(b"probe");
    await_answer_to_data(t, towards_victim, "the victim's host answers the peer's data");
    victim.read(64);
    Ok(())
}

/// Waits (as `what`) until the host that data sent in `data_dir` reached answers the last
/// such data with any segment, forged segments left out on both sides.
pub(super) fn await_answer_to_data(t: &mut Trial, data_dir: Direction, what: &str) {
    let answering = data_dir.reverse();
    t.wait_for_wire(what, |segments| {
        let Some(data) = segments
            .iter()
            .rposition(|s| s.dir == data_dir && s.len > 0 && !s.injected)
        else {
            return false;
        };
        segments[data..].iter().any(|s| s.dir == answering && !s.injected)
    });
}

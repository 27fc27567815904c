//! Forged segments that reach an ESTABLISHED connection, aimed at the client as if from the
//! server (RFC 9293 §3.10.7.4, RFC 5961 §3 to §5).

use sockerr_harness::trial::Host;
use sockerr_harness::trial::inject::{Forged, Sent, flag};
use sockerr_harness::{Direction, Need, ScriptResult, Trial};

use super::{Event, RESET_GUIDANCE, RFC5961, ends, sent, survival};
use crate::scenario::Scenario;

const NEEDS: &[Need] = &[Need::PacketCapture, Need::ProtocolCounters];

pub fn scenarios() -> Vec<Scenario> {
    let base = super::family(RESET_GUIDANCE, NEEDS);
    vec![
        Scenario {
            id: "forged.rst.exact.established",
            claim: "A forged reset whose sequence number is exactly RCV.NXT ends an established connection: nothing answers it, and the next read fails with ECONNRESET.",
            sources: &["RFC 9293 §3.10.7.4 (a reset in ESTABLISHED: connection reset)", RFC5961],
            script: rst_exact,
            ..base.clone()
        },
        Scenario {
            id: "forged.rst.in_window.established",
            claim: "A forged reset in the window but not at RCV.NXT is answered with a challenge ACK and the connection survives: the peer's next data is read.",
            sources: &[RFC5961, "tcp_validate_incoming, tcp_send_challenge_ack (net/ipv4/tcp_input.c)"],
            script: rst_in_window,
            ..base.clone()
        },
        Scenario {
            id: "forged.rst.out_of_window.established",
            claim: "A forged reset far outside the window is dropped without an answer and the connection survives.",
            sources: &["RFC 9293 §3.10.7.4 (first, check sequence number; a reset out of window is dropped)", RFC5961],
            script: rst_out_of_window,
            ..base.clone()
        },
        Scenario {
            id: "forged.rst_data.established",
            claim: "A forged reset that carries data, at exactly RCV.NXT, ends the connection like a bare one: the next read fails with ECONNRESET.",
            sources: &["RFC 9293 §3.5.3 (a reset may carry data explaining it)", "RFC 9293 §3.10.7.4"],
            script: rst_data,
            ..base.clone()
        },
        Scenario {
            id: "forged.noflags.established",
            claim: "A forged segment with no flag at all, at RCV.NXT, is dropped without an answer and the connection survives.",
            sources: &["RFC 9293 §3.10.7.4 (fifth, check the ACK field: if the ACK bit is off, drop the segment)"],
            script: noflags,
            ..base.clone()
        },
        Scenario {
            id: "forged.syn.established",
            claim: "A forged SYN that reaches an established connection is answered with a challenge ACK and the connection survives.",
            sources: &["RFC 5961 §4.2 (a SYN in a synchronized state is answered with a challenge ACK)", "RFC 9293 §3.10.7.4 (fourth, check the SYN bit)"],
            script: syn,
            ..base.clone()
        },
        Scenario {
            id: "forged.ack.unsent_data.established",
            claim: "A forged ACK that acknowledges data never sent (SEG.ACK beyond SND.NXT) is dropped and the connection survives.",
            sources: &["RFC 5961 §5.2 (an ACK beyond SND.NXT is unacceptable)", "RFC 9293 §3.10.7.4 (fifth, check the ACK field)"],
            script: ack_unsent_data,
            ..base
        },
    ]
}

/// A connected pair; `forge` builds the segment from what each side sent (the server's, the
/// client's) and the template (from the server, to the client); it is injected, then
/// [`survival`] shows what became of the connection.
fn forged_at_client(t: &mut Trial, forge: impl Fn(&Sent, &Sent, Forged) -> Forged) -> ScriptResult {
    let (mut client, mut server, _listener) = t.connected_pair()?;
    let (c, s) = ends(t, &client)?;
    let (server_sent, client_sent) = (sent(t, s, c)?, sent(t, c, s)?);
    let forged = forge(&server_sent, &client_sent, Forged::from(Host::Server, s, c));
    t.inject(&mut client, &forged)?;
    survival(t, &mut client, &mut server, Direction::ServerToClient)
}

fn rst_exact(t: &mut Trial) -> ScriptResult {
    forged_at_client(t, |server, client, template| Event::Exact.forge(server, client, template))
}

fn rst_in_window(t: &mut Trial) -> ScriptResult {
    forged_at_client(t, |server, client, template| Event::InWindow.forge(server, client, template))
}

fn rst_out_of_window(t: &mut Trial) -> ScriptResult {
    forged_at_client(t, |server, client, template| Event::OutOfWindow.forge(server, client, template))
}

fn rst_data(t: &mut Trial) -> ScriptResult {
    forged_at_client(t, |server, _, template| Forged {
        flags: flag::RST,
        seq: server.snd_nxt,
        payload: b"forged reset",
        numbers: "seq=RCV.NXT (exact)".into(),
        ..template
    })
}

fn noflags(t: &mut Trial) -> ScriptResult {
    forged_at_client(t, |server, _, template| Forged {
        seq: server.snd_nxt,
        numbers: "seq=RCV.NXT".into(),
        ..template
    })
}

fn syn(t: &mut Trial) -> ScriptResult {
    forged_at_client(t, |server, client, template| Event::Syn.forge(server, client, template))
}

fn ack_unsent_data(t: &mut Trial) -> ScriptResult {
    forged_at_client(t, |server, client, template| Forged {
        flags: flag::ACK,
        seq: server.snd_nxt,
        ack: client.snd_nxt.wrapping_add(1),
        numbers: "seq=RCV.NXT ack=SND.NXT+1 (beyond SND.NXT)".into(),
        ..template
    })
}

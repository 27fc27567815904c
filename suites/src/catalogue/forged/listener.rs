//! Forged segments that reach a listening socket: no connection, so no numbers to match
//! (RFC 9293 §3.10.7.2).

use std::net::SocketAddr;

use sockerr_harness::trial::inject::{Forged, flag};
use sockerr_harness::trial::{Host, SERVER_PORT};
use sockerr_harness::{Need, ScriptResult, Trial};

use crate::scenario::Scenario;

const NEEDS: &[Need] = &[Need::PacketCapture, Need::ProtocolCounters];

/// The port the forged segments come from: no socket of the client's host is bound to it.
const FORGED_PORT: u16 = 40001;

/// The numbers of every forged segment here: a listener has no connection to match them with.
const SEQ: u32 = 0x1000;
const ACK: u32 = 0x2000;

const GUIDANCE: &str = "Stray segments at a listener do not disturb it: the next connection is accepted as usual. A server needs no handling of its own; a client whose connect meets a reset from a listener it reached by mistake sees ECONNREFUSED only for its own SYN.";

pub fn scenarios() -> Vec<Scenario> {
    let base = super::family(GUIDANCE, NEEDS);
    vec![
        Scenario {
            id: "forged.rst.listen",
            claim: "A forged reset that reaches a listener is dropped without an answer, and the listener accepts the next connection.",
            sources: &["RFC 9293 §3.10.7.2 (LISTEN, first, check for a RST: an incoming RST should be ignored)"],
            script: rst,
            ..base.clone()
        },
        Scenario {
            id: "forged.synack.listen",
            claim: "A forged SYN-ACK that reaches a listener is answered with a reset <SEQ=SEG.ACK>, and the listener accepts the next connection.",
            sources: &["RFC 9293 §3.10.7.2 (LISTEN, second, check for an ACK: answered with <SEQ=SEG.ACK><CTL=RST>)"],
            script: synack,
            ..base.clone()
        },
        Scenario {
            id: "forged.syn_rst.listen",
            claim: "A forged segment with both SYN and RST that reaches a listener is dropped without an answer, and the listener accepts the next connection.",
            sources: &["RFC 9293 §3.10.7.2 (LISTEN: the RST is checked first and the segment ignored)"],
            script: syn_rst,
            ..base.clone()
        },
        Scenario {
            id: "forged.noflags.listen",
            claim: "A forged segment with no flag at all that reaches a listener is dropped without an answer, and the listener accepts the next connection.",
            sources: &["RFC 9293 §3.10.7.2 (LISTEN, fourth, other text or control: drop the segment)"],
            script: noflags,
            ..base
        },
    ]
}

/// A listener, a segment forged as from a client port nobody uses, then a real client
/// connects (connect#1) and the listener accepts it (accept#1). The client then aborts
/// (abort#1): a single reset ends the connection, where an orderly close would end it with
/// an ACK of the first FIN sent alone or with the other FIN, as the delayed ACK falls.
fn at_listener(t: &mut Trial, flags: u8, numbers: &str) -> ScriptResult {
    let mut listener = t.listener(16)?;
    let from = SocketAddr::new(t.client_ip(), FORGED_PORT);
    let forged = Forged {
        flags,
        seq: SEQ,
        ack: ACK,
        numbers: numbers.into(),
        ..Forged::from(Host::Client, from, t.server_addr(SERVER_PORT))
    };
    t.inject(&mut listener, &forged)?;
    let mut client = t.client()?;
    client.connect(&t.server_addr(SERVER_PORT));
    let _server = listener.accept("server");
    client.abort();
    Ok(())
}

fn rst(t: &mut Trial) -> ScriptResult {
    at_listener(t, flag::RST, "seq=0x1000 (no connection)")
}

fn synack(t: &mut Trial) -> ScriptResult {
    at_listener(t, flag::SYN | flag::ACK, "seq=0x1000 ack=0x2000 (no connection)")
}

fn syn_rst(t: &mut Trial) -> ScriptResult {
    at_listener(t, flag::SYN | flag::RST, "seq=0x1000 (no connection)")
}

fn noflags(t: &mut Trial) -> ScriptResult {
    at_listener(t, 0, "seq=0x1000 (no connection)")
}

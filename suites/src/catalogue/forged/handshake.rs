//! Forged segments during the handshake: a client in SYN-SENT (RFC 9293 §3.10.7.3) and a
//! server's half-open connection in SYN-RECEIVED (RFC 9293 §3.10.7.4 for SYN-RECEIVED): a
//! reset exact, in the window and out of it, and a SYN.

use std::time::Duration;

use sockerr_harness::trial::inject::{Forged, Sent, flag};
use sockerr_harness::trial::{Host, SERVER_PORT};
use sockerr_harness::{Direction, Events, Hook, Need, ScriptResult, Trial};

use super::{Event, await_answer_to_data, ends, sent};
use crate::catalogue::common::start_connect;
use crate::scenario::Scenario;

const NEEDS: &[Need] = &[Need::Nftables, Need::PacketCapture, Need::ProtocolCounters];

/// The sequence number a forged SYN-ACK starts from: the impersonated server never sent one.
const FORGED_ISS: u32 = 0x1000;

const SYN_SENT_GUIDANCE: &str = "While connect is pending, a reset or SYN-ACK that does not acknowledge this SYN is not an answer to it: the connect goes on, and only its own outcome (poll, SO_ERROR) says whether the connection opened. Do not treat stray segments as a refusal; do set a connect timeout.";

const SYN_RCVD_GUIDANCE: &str = "A connection the client sees as open may never have reached the server's accept queue: a reset on the first write or read is a refused connection in effect. Retry the request on a new connection, once.";

pub fn scenarios() -> Vec<Scenario> {
    let base = super::family(SYN_SENT_GUIDANCE, NEEDS);
    vec![
        Scenario {
            id: "forged.rst.bad_ack.syn_sent",
            claim: "In SYN-SENT a forged reset whose ACK does not acknowledge the SYN is dropped without an answer, and the connect goes on.",
            sources: &["RFC 9293 §3.10.7.3 (SYN-SENT: an unacceptable ACK; if the RST bit is on, drop the segment)"],
            script: rst_bad_ack,
            ..base.clone()
        },
        Scenario {
            id: "forged.rst.no_ack.syn_sent",
            claim: "In SYN-SENT a forged reset without an ACK is dropped without an answer, and the connect goes on.",
            sources: &["RFC 9293 §3.10.7.3 (SYN-SENT, second, check the RST bit: with no ACK, drop the segment)"],
            script: rst_no_ack,
            ..base.clone()
        },
        Scenario {
            id: "forged.synack.bad_ack.syn_sent",
            claim: "In SYN-SENT a forged SYN-ACK that does not acknowledge the SYN is answered with a reset <SEQ=SEG.ACK>, and the connect goes on.",
            sources: &["RFC 9293 §3.10.7.3 (SYN-SENT, first, check the ACK bit: an unacceptable ACK is answered with <SEQ=SEG.ACK><CTL=RST>)"],
            script: synack_bad_ack,
            ..base.clone()
        },
        Scenario {
            id: "forged.rst.exact.syn_rcvd",
            claim: "A forged reset at exactly RCV.NXT removes the server's half-open connection: the client, which believes it is connected, has its next data answered with a reset and its read fails with ECONNRESET, and the listener never accepts.",
            sources: &[
                "RFC 9293 §3.10.7.4 (SYN-RECEIVED, second, check the RST bit: a passive open returns to LISTEN)",
                "tcp_check_req (net/ipv4/tcp_minisocks.c): a reset drops the request",
            ],
            guidance: SYN_RCVD_GUIDANCE,
            script: rst_exact_syn_rcvd,
            ..base.clone()
        },
        Scenario {
            id: "forged.rst.out_of_window.syn_rcvd",
            claim: "A forged reset far outside the window is dropped without an answer and the server's half-open connection survives: the client's data completes it and the listener has a connection ready.",
            sources: &[
                "RFC 9293 §3.10.7.4 (first, check sequence number: an unacceptable reset is dropped)",
                "tcp_check_req (net/ipv4/tcp_minisocks.c): out of window, no ACK for a reset",
            ],
            guidance: SYN_RCVD_GUIDANCE,
            script: rst_out_of_window_syn_rcvd,
            ..base.clone()
        },
        Scenario {
            id: "forged.syn.syn_rcvd",
            claim: "A forged SYN in the window of the server's half-open connection is answered with a reset and removes it: the client's next data is answered with a reset, its read fails with ECONNRESET, and the listener never accepts.",
            sources: &[
                "RFC 9293 §3.10.7.4 (fourth, check the SYN bit)",
                "RFC 5961 §4.2 (a SYN in a synchronized state is answered with a challenge ACK)",
                "tcp_check_req (net/ipv4/tcp_minisocks.c): a SYN in the window goes to embryonic_reset, which sends a reset",
            ],
            guidance: SYN_RCVD_GUIDANCE,
            script: syn_syn_rcvd,
            ..base
        },
    ]
}

/// A client in SYN-SENT towards a port whose SYNs the server's firewall drops (so no real
/// answer comes), a forged segment from the server built by `forge` from the client's
/// SND.NXT, then poll#1 (no wait) and so_error#1: is the connect still pending? Where the
/// forged segment carries an unacceptable ACK (`resends`), the kernel sends its SYN again
/// two jiffies later (tcp_rcv_synsent_state_process: TCP_TIMEOUT_MIN), and the trial waits for
/// it; close#1 then ends the connect before its regular timer (1 s) could add another SYN.
fn at_syn_sent(t: &mut Trial, resends: bool, forge: impl Fn(u32, Forged) -> Forged) -> ScriptResult {
    let s = t.closed_port();
    t.firewall(Host::Server, Hook::Input, &format!("tcp dport {} drop", s.port()))?;
    let mut client = t.client()?;
    client.socket()?.set_nonblocking(true)?;
    client.connect(&s);
    t.wait_for_segment(Direction::ClientToServer, 'S');
    let (c, _) = ends(t, &client)?;
    let client_sent = sent(t, c, s)?;
    let forged = forge(client_sent.snd_nxt, Forged::from(Host::Server, s, c));
    t.inject(&mut client, &forged)?;
    client.poll(Events::OUT, Duration::ZERO);
    client.so_error();
    if resends {
        t.wait_for_wire("the client's SYN sent again", |segments| {
            segments
                .iter()
                .filter(|x| x.dir == Direction::ClientToServer && x.flags == "S")
                .count()
                >= 2
        });
    }
    client.close();
    Ok(())
}

fn rst_bad_ack(t: &mut Trial) -> ScriptResult {
    at_syn_sent(t, true, |snd_nxt, template| Forged {
        flags: flag::RST | flag::ACK,
        ack: snd_nxt.wrapping_add(1),
        numbers: "ack=SND.NXT+1 (beyond SND.NXT)".into(),
        ..template
    })
}

fn rst_no_ack(t: &mut Trial) -> ScriptResult {
    at_syn_sent(t, false, |_, template| Forged {
        flags: flag::RST,
        numbers: "seq=0, no ACK".into(),
        ..template
    })
}

fn synack_bad_ack(t: &mut Trial) -> ScriptResult {
    at_syn_sent(t, true, |snd_nxt, template| Forged {
        flags: flag::SYN | flag::ACK,
        seq: FORGED_ISS,
        ack: snd_nxt.wrapping_add(1),
        numbers: "ack=SND.NXT+1 (beyond SND.NXT)".into(),
        ..template
    })
}

/// The client's final ACK of the handshake is dropped on its way out, so the server holds a
/// half-open connection (SYN-RECEIVED) while the client is ESTABLISHED. A segment forged as
/// the client's by `forge` (from what the client and the server sent, and the template) is
/// injected; the client's firewall goes, its data (write#1) then meets the server's host,
/// whose answer the client reads (read#1, non-blocking): a reset if the half-open connection
/// is gone, an ACK if the data completed it; the listener's poll#1 (no wait) says whether a
/// connection is ready.
fn at_syn_rcvd(t: &mut Trial, forge: impl Fn(&Sent, &Sent, Forged) -> Forged) -> ScriptResult {
    let mut listener = t.listener(16)?;
    t.firewall(Host::Client, Hook::Output, &format!("tcp dport {SERVER_PORT} tcp flags == ack drop"))?;
    let (mut client, _port) = start_connect(t, "client")?;
    t.wait_for_segment(Direction::ServerToClient, 'S');
    let (c, s) = ends(t, &client)?;
    let (client_sent, server_sent) = (sent(t, c, s)?, sent(t, s, c)?);
    let forged = forge(&client_sent, &server_sent, Forged::from(Host::Client, c, s));
    t.inject(&mut listener, &forged)?;
    t.firewall_clear(Host::Client)?;
    client.write(b"request");
    await_answer_to_data(t, Direction::ClientToServer, "the server's host answers the client's data");
    client.read(64);
    listener.poll(Events::IN, Duration::ZERO);
    Ok(())
}

fn rst_exact_syn_rcvd(t: &mut Trial) -> ScriptResult {
    at_syn_rcvd(t, |client, server, template| Event::Exact.forge(client, server, template))
}

fn rst_out_of_window_syn_rcvd(t: &mut Trial) -> ScriptResult {
    at_syn_rcvd(t, |client, server, template| Event::OutOfWindow.forge(client, server, template))
}

fn syn_syn_rcvd(t: &mut Trial) -> ScriptResult {
    at_syn_rcvd(t, |client, server, template| Event::Syn.forge(client, server, template))
}

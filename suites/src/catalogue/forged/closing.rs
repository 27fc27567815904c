//! Forged resets and SYNs that reach a connection while it closes: FIN-WAIT-1, FIN-WAIT-2,
//! CLOSE-WAIT, CLOSING, LAST-ACK and TIME-WAIT (with tcp_rfc1337 off and on), aimed at the
//! client as if from the server (RFC 9293 §3.10.7.4, RFC 5961 §3, RFC 1337).

use std::time::Duration;

use sockerr_harness::trial::inject::{Forged, flag};
use sockerr_harness::trial::{Host, SERVER_PORT};
use sockerr_harness::{Direction, Endpoint, Events, Hook, Need, ScriptResult, Shut, Trial};

use super::{Event, RESET_GUIDANCE, RFC5961, await_answer_to_data, ends, sent, survival};
use crate::catalogue::close::enter_time_wait;
use crate::catalogue::peer_close::fin_acked;
use crate::scenario::Scenario;

/// The states a closing connection passes through, as the client holds them.
#[derive(Clone, Copy)]
enum ClosingState {
    FinWait1,
    FinWait2,
    CloseWait,
    Closing,
    LastAck,
}

impl ClosingState {
    fn tcp_state(self) -> &'static str {
        match self {
            ClosingState::FinWait1 => "FIN_WAIT1",
            ClosingState::FinWait2 => "FIN_WAIT2",
            ClosingState::CloseWait => "CLOSE_WAIT",
            ClosingState::Closing => "CLOSING",
            ClosingState::LastAck => "LAST_ACK",
        }
    }
}

impl Event {
    /// The clauses a scenario of this event in a closing state relies on.
    fn sources(self) -> &'static [&'static str] {
        match self {
            Event::Exact | Event::InWindow => &[RST_IN_CLOSING, RFC5961],
            Event::OutOfWindow => &[
                "RFC 9293 §3.10.7.4 (first, check sequence number: an unacceptable segment with the RST bit is dropped)",
                RFC5961,
            ],
            Event::Syn => &[
                "RFC 5961 §4.2 (a SYN in a synchronized state is answered with a challenge ACK)",
                "RFC 9293 §3.10.7.4 (fourth, check the SYN bit)",
            ],
        }
    }
}

const RST_IN_CLOSING: &str = "RFC 9293 §3.10.7.4 (second, check the RST bit: in FIN-WAIT-1, FIN-WAIT-2 and CLOSE-WAIT the connection is reset; in CLOSING and LAST-ACK it is closed)";

const NEEDS: &[Need] = &[Need::Nftables, Need::PacketCapture, Need::ProtocolCounters];
const TIME_WAIT_NEEDS: &[Need] = &[
    Need::Nftables,
    Need::PacketCapture,
    Need::ProtocolCounters,
    Need::TcpTable,
    Need::Sysctl("net.ipv4.tcp_rfc1337"),
];

/// Declares each closing-state scenario with its script.
macro_rules! closing {
    ($($name:ident: $id:literal, $state:expr, $event:expr, $claim:literal;)*) => {
        $(fn $name(t: &mut Trial) -> ScriptResult {
            in_closing_state(t, $state, $event)
        })*
        fn closing_scenarios() -> Vec<Scenario> {
            vec![$(Scenario {
                id: $id,
                claim: $claim,
                sources: $event.sources(),
                situations: &[5, 8],
                guidance: RESET_GUIDANCE,
                needs: NEEDS,
                script: $name,
                ..Scenario::BASE
            }),*]
        }
    };
}

closing! {
    rst_exact_fin_wait_1: "forged.rst.exact.fin_wait_1", ClosingState::FinWait1, Event::Exact,
        "In FIN-WAIT-1 a forged reset at exactly RCV.NXT ends the connection without an answer: the next read fails with ECONNRESET.";
    rst_in_window_fin_wait_1: "forged.rst.in_window.fin_wait_1", ClosingState::FinWait1, Event::InWindow,
        "In FIN-WAIT-1 a forged reset in the window but not exact is answered with a challenge ACK and the connection survives: the peer's data is read.";
    rst_exact_fin_wait_2: "forged.rst.exact.fin_wait_2", ClosingState::FinWait2, Event::Exact,
        "In FIN-WAIT-2 a forged reset at exactly RCV.NXT ends the connection without an answer: the next read fails with ECONNRESET.";
    rst_in_window_fin_wait_2: "forged.rst.in_window.fin_wait_2", ClosingState::FinWait2, Event::InWindow,
        "In FIN-WAIT-2 a forged reset in the window but not exact is answered with a challenge ACK and the connection survives: the peer's data is read.";
    rst_exact_close_wait: "forged.rst.exact.close_wait", ClosingState::CloseWait, Event::Exact,
        "In CLOSE-WAIT a forged reset at exactly RCV.NXT ends the connection without an answer: the next write fails with EPIPE.";
    rst_in_window_close_wait: "forged.rst.in_window.close_wait", ClosingState::CloseWait, Event::InWindow,
        "In CLOSE-WAIT a forged reset in the window but not exact is answered with a challenge ACK and the connection survives: the next write is accepted.";
    rst_exact_closing: "forged.rst.exact.closing", ClosingState::Closing, Event::Exact,
        "In CLOSING a forged reset at exactly RCV.NXT ends the connection without an answer.";
    rst_in_window_closing: "forged.rst.in_window.closing", ClosingState::Closing, Event::InWindow,
        "In CLOSING a forged reset in the window but not exact is answered with a challenge ACK and the connection stays in CLOSING.";
    rst_exact_last_ack: "forged.rst.exact.last_ack", ClosingState::LastAck, Event::Exact,
        "In LAST-ACK a forged reset at exactly RCV.NXT ends the connection without an answer.";
    rst_in_window_last_ack: "forged.rst.in_window.last_ack", ClosingState::LastAck, Event::InWindow,
        "In LAST-ACK a forged reset in the window but not exact is answered with a challenge ACK and the connection stays in LAST_ACK.";
    rst_out_of_window_fin_wait_1: "forged.rst.out_of_window.fin_wait_1", ClosingState::FinWait1, Event::OutOfWindow,
        "In FIN-WAIT-1 a forged reset far outside the window is dropped without an answer and the connection survives: the peer's data is read.";
    rst_out_of_window_fin_wait_2: "forged.rst.out_of_window.fin_wait_2", ClosingState::FinWait2, Event::OutOfWindow,
        "In FIN-WAIT-2 a forged reset far outside the window is dropped without an answer and the connection survives: the peer's data is read.";
    rst_out_of_window_close_wait: "forged.rst.out_of_window.close_wait", ClosingState::CloseWait, Event::OutOfWindow,
        "In CLOSE-WAIT a forged reset far outside the window is dropped without an answer and the connection survives: the next write is accepted.";
    rst_out_of_window_closing: "forged.rst.out_of_window.closing", ClosingState::Closing, Event::OutOfWindow,
        "In CLOSING a forged reset far outside the window is dropped without an answer and the connection stays in CLOSING.";
    rst_out_of_window_last_ack: "forged.rst.out_of_window.last_ack", ClosingState::LastAck, Event::OutOfWindow,
        "In LAST-ACK a forged reset far outside the window is dropped without an answer and the connection stays in LAST_ACK.";
    syn_fin_wait_1: "forged.syn.fin_wait_1", ClosingState::FinWait1, Event::Syn,
        "In FIN-WAIT-1 a forged SYN in the window is answered with a challenge ACK and the connection survives: the peer's data is read.";
    syn_fin_wait_2: "forged.syn.fin_wait_2", ClosingState::FinWait2, Event::Syn,
        "In FIN-WAIT-2 a forged SYN in the window is answered with a challenge ACK and the connection survives: the peer's data is read.";
    syn_close_wait: "forged.syn.close_wait", ClosingState::CloseWait, Event::Syn,
        "In CLOSE-WAIT a forged SYN in the window is answered with a challenge ACK and the connection survives: the next write is accepted.";
    syn_closing: "forged.syn.closing", ClosingState::Closing, Event::Syn,
        "In CLOSING a forged SYN in the window is answered with a challenge ACK and the connection stays in CLOSING.";
    syn_last_ack: "forged.syn.last_ack", ClosingState::LastAck, Event::Syn,
        "In LAST-ACK a forged SYN in the window is answered with a challenge ACK and the connection stays in LAST_ACK.";
}

pub fn scenarios() -> Vec<Scenario> {
    let time_wait = Scenario {
        sources: &[
            "RFC 9293 §3.10.7.4 (TIME-WAIT, second, check the RST bit: close the connection)",
            "RFC 1337 (TIME-WAIT assassination; fix F1: ignore a reset in TIME-WAIT)",
            "ip-sysctl.rst: tcp_rfc1337; tcp_timewait_state_process (net/ipv4/tcp_minisocks.c)",
        ],
        situations: &[5, 8],
        guidance: "Nothing reaches a program: the TIME-WAIT has no descriptor. A reset can end it early (tcp_rfc1337 = 0, the Linux default), after which old segments of the connection may reach a new one on the same ports; clients should let the kernel choose ports, and servers should not reconnect from their service port.",
        needs: TIME_WAIT_NEEDS,
        ..Scenario::BASE
    };
    let mut all = closing_scenarios();
    all.extend([
        Scenario {
            id: "forged.rst.exact.time_wait",
            claim: "With tcp_rfc1337 = 0 a forged reset at exactly RCV.NXT ends a TIME-WAIT without an answer: a retransmitted FIN injected next is answered with a reset by the client's host.",
            script: rst_exact_time_wait,
            ..time_wait.clone()
        },
        Scenario {
            id: "forged.rst.in_window.time_wait",
            claim: "With tcp_rfc1337 = 0 a forged reset in the window but not exact is ignored by a TIME-WAIT: a retransmitted FIN injected next is acknowledged.",
            script: rst_in_window_time_wait,
            ..time_wait.clone()
        },
        Scenario {
            id: "forged.rst.exact.time_wait.rfc1337_on",
            claim: "With tcp_rfc1337 = 1 a forged reset at exactly RCV.NXT is ignored by a TIME-WAIT: a retransmitted FIN injected next is acknowledged.",
            script: rst_exact_time_wait_rfc1337,
            ..time_wait.clone()
        },
        Scenario {
            id: "forged.rst.in_window.time_wait.rfc1337_on",
            claim: "With tcp_rfc1337 = 1 a forged reset in the window but not exact is ignored by a TIME-WAIT: a retransmitted FIN injected next is acknowledged.",
            script: rst_in_window_time_wait_rfc1337,
            ..time_wait
        },
    ]);
    all
}

/// The server's firewall drops every FIN the client sends, so the client's FIN is never
/// acknowledged and its side stays in FIN-WAIT-1, CLOSING or LAST-ACK.
fn drop_client_fins(t: &mut Trial) -> ScriptResult {
    t.firewall(
        Host::Server,
        Hook::Input,
        &format!("tcp dport {SERVER_PORT} tcp flags & fin == fin drop"),
    )
}

/// Brings the client's side of a connected pair to `state`.
fn reach(t: &mut Trial, state: ClosingState, client: &mut Endpoint, server: &mut Endpoint) -> ScriptResult {
    match state {
        ClosingState::FinWait1 => {
            drop_client_fins(t)?;
            client.shutdown(Shut::Write);
        }
        ClosingState::FinWait2 => {
            client.shutdown(Shut::Write);
            fin_acked(t, server, Direction::ClientToServer)?;
        }
        ClosingState::CloseWait => {
            server.shutdown(Shut::Write);
            fin_acked(t, client, Direction::ServerToClient)?;
        }
        ClosingState::Closing => {
            drop_client_fins(t)?;
            client.shutdown(Shut::Write);
            server.shutdown(Shut::Write);
        }
        ClosingState::LastAck => {
            server.shutdown(Shut::Write);
            fin_acked(t, client, Direction::ServerToClient)?;
            drop_client_fins(t)?;
            client.shutdown(Shut::Write);
        }
    }
    t.wait_for_state(client, state.tcp_state());
    Ok(())
}

/// A connected pair whose client reaches `state`, a forged reset from the server, then what
/// is left: where the server can still send, [`survival`]; in CLOSE-WAIT the client sends
/// (send#1, the server's host answers) and reads; in CLOSING and LAST-ACK, where neither can
/// send, the client polls (poll#1, no wait) and reads (read#1, non-blocking).
fn in_closing_state(t: &mut Trial, state: ClosingState, event: Event) -> ScriptResult {
    let (mut client, mut server, _listener) = t.connected_pair()?;
    reach(t, state, &mut client, &mut server)?;
    let (c, s) = ends(t, &client)?;
    let (server_sent, client_sent) = (sent(t, s, c)?, sent(t, c, s)?);
    let forged = event.forge(&server_sent, &client_sent, Forged::from(Host::Server, s, c));
    t.inject(&mut client, &forged)?;
    match state {
        ClosingState::FinWait1 | ClosingState::FinWait2 => survival(t, &mut client, &mut server, Direction::ServerToClient),
        ClosingState::CloseWait => {
            client.socket()?.set_nonblocking(true)?;
            client.poll(Events::IN | Events::OUT | Events::RDHUP, Duration::ZERO);
            if client.send_nosignal(b"probe").succeeded() {
                await_answer_to_data(t, Direction::ClientToServer, "the server's host answers the client's data");
            }
            client.read(64);
            Ok(())
        }
        ClosingState::Closing | ClosingState::LastAck => {
            client.socket()?.set_nonblocking(true)?;
            client.poll(Events::IN | Events::OUT | Events::RDHUP, Duration::ZERO);
            client.read(64);
            Ok(())
        }
    }
}

fn rst_exact_time_wait(t: &mut Trial) -> ScriptResult {
    in_time_wait(t, "0", Event::Exact)
}

fn rst_in_window_time_wait(t: &mut Trial) -> ScriptResult {
    in_time_wait(t, "0", Event::InWindow)
}

fn rst_exact_time_wait_rfc1337(t: &mut Trial) -> ScriptResult {
    in_time_wait(t, "1", Event::Exact)
}

fn rst_in_window_time_wait_rfc1337(t: &mut Trial) -> ScriptResult {
    in_time_wait(t, "1", Event::InWindow)
}

/// The client closes first and its host holds the connection in TIME-WAIT. The server's host
/// is then kept out (its firewall drops what the client's host sends it: it would answer the
/// TIME-WAIT's ACKs with resets of its own). A forged reset (inject#1), then a retransmission
/// of the server's FIN (inject#2): a live TIME-WAIT acknowledges it, a gone one has the
/// client's host answer with a reset.
fn in_time_wait(t: &mut Trial, rfc1337: &str, reset: Event) -> ScriptResult {
    t.sysctl(Host::Client, "net.ipv4.tcp_rfc1337", rfc1337)?;
    let (mut client, mut server, _listener) = t.connected_pair()?;
    let (c, s) = ends(t, &client)?;
    enter_time_wait(t, &mut client, &mut server)?;
    t.firewall(Host::Server, Hook::Input, &format!("tcp dport {SERVER_PORT} drop"))?;
    let (server_sent, client_sent) = (sent(t, s, c)?, sent(t, c, s)?);
    let forged = reset.forge(&server_sent, &client_sent, Forged::from(Host::Server, s, c));
    t.inject(&mut client, &forged)?;
    let fin_again = Forged {
        flags: flag::FIN | flag::ACK,
        seq: server_sent.snd_nxt.wrapping_sub(1),
        ack: client_sent.snd_nxt,
        numbers: "seq=RCV.NXT-1 ack=SND.NXT (the server's FIN again)".into(),
        ..Forged::from(Host::Server, s, c)
    };
    t.inject(&mut client, &fin_again)?;
    t.wait_for_wire("the client's host answers the FIN sent again", |segments| {
        let Some(fin) = segments.iter().rposition(|x| x.injected) else {
            return false;
        };
        segments[fin..].iter().any(|x| x.dir == Direction::ClientToServer)
    });
    Ok(())
}

//! Forged ICMP errors that reach an ESTABLISHED connection: a "destination unreachable:
//! host" (ICMPv6: address unreachable) sent as if from the server's host about a segment the
//! client sent, quoting a sequence number inside or outside SND.UNA..SND.NXT (RFC 5927 §4.1,
//! RFC 5961 §1 on blind attacks through ICMP, RFC 1122 §4.2.3.9 on soft errors).

use std::time::Duration;

use sockerr_harness::trial::Host;
use sockerr_harness::trial::inject::{Forged, ForgedIcmp, Sent, flag};
use sockerr_harness::{Direction, Events, Family, Need, ScriptResult, SockOpt, Trial};

use super::{FAR, ends, probe, sent};
use crate::scenario::Scenario;

const NEEDS: &[Need] = &[Need::PacketCapture, Need::ProtocolCounters];
const RECVERR_NEEDS: &[Need] = &[Need::PacketCapture, Need::ProtocolCounters, Need::ErrorQueue];

const GUIDANCE: &str = "An ICMP unreachable about an established connection is a soft error (RFC 1122 §4.2.3.9): the connection lives on. EHOSTUNREACH from SO_ERROR, or from a read with IP_RECVERR on, does not mean the connection is lost: keep using it and let a timeout (TCP_USER_TIMEOUT, keepalive, the application's own) decide.";

const TCP_V4_ERR: &str = "tcp_v4_err and tcp_v6_err (net/ipv4/tcp_ipv4.c, net/ipv6/tcp_ipv6.c): an ICMP error quoting a sequence number outside SND.UNA..SND.NXT is counted in OutOfWindowIcmps and ignored";
const SOFT_ERROR: &str = "RFC 1122 §4.2.3.9 (destination unreachable codes 0, 1 and 5 are soft errors: TCP must not abort the connection)";

pub fn scenarios() -> Vec<Scenario> {
    let base = super::family(GUIDANCE, NEEDS);
    vec![
        Scenario {
            id: "forged.icmp.out_of_window.established",
            claim: "A forged ICMP unreachable quoting a sequence number outside SND.UNA..SND.NXT tells the program nothing: no readiness, no pending error in SO_ERROR, and the connection carries the peer's next data.",
            sources: &[TCP_V4_ERR, "RFC 5927 §4.1 (checking the sequence number in the quoted TCP header)"],
            script: out_of_window,
            ..base.clone()
        },
        Scenario {
            id: "forged.icmp.in_window.established",
            claim: "A forged ICMP unreachable quoting SND.UNA is taken as a soft error: poll shows no error and a read finds no data (EAGAIN), SO_ERROR returns EHOSTUNREACH once, and the connection carries the peer's next data.",
            sources: &[
                SOFT_ERROR,
                "tcp_v4_err, tcp_v6_err: without IP_RECVERR the error is kept in sk_err_soft",
                "sk_getsockopt SO_ERROR (net/core/sock.c): sk_err, else sk_err_soft, cleared when read",
            ],
            script: in_window,
            ..base.clone()
        },
        Scenario {
            id: "forged.icmp.in_window.established.recverr",
            claim: "With IP_RECVERR (IPV6_RECVERR) on, a forged ICMP unreachable quoting SND.UNA becomes the socket's pending error: poll shows POLLERR, the next read fails with EHOSTUNREACH, the error queue holds nothing (EAGAIN), and the connection carries the peer's next data.",
            sources: &[
                SOFT_ERROR,
                "tcp_v4_err, tcp_v6_err: with IP_RECVERR the error goes to sk_err and sk_error_report; ip_icmp_error (the error queue) only in SYN-SENT and SYN-RECEIVED",
                "ip(7): IP_RECVERR; ipv6(7): IPV6_RECVERR",
            ],
            needs: RECVERR_NEEDS,
            script: in_window_recverr,
            ..base
        },
    ]
}

fn out_of_window(t: &mut Trial) -> ScriptResult {
    icmp_at_client(t, false, |snd_una, template| Forged {
        seq: snd_una.wrapping_sub(FAR),
        numbers: "seq=SND.UNA-2^30 (out of window)".into(),
        ..template
    })
}

fn in_window(t: &mut Trial) -> ScriptResult {
    icmp_at_client(t, false, in_flight)
}

fn in_window_recverr(t: &mut Trial) -> ScriptResult {
    icmp_at_client(t, true, in_flight)
}

/// The quoted segment at SND.UNA: on an idle connection SND.UNA = SND.NXT, the only number
/// in SND.UNA..SND.NXT.
fn in_flight(snd_una: u32, template: Forged) -> Forged {
    Forged {
        seq: snd_una,
        numbers: "seq=SND.UNA (in window)".into(),
        ..template
    }
}

/// SND.UNA of `client`: the server's last acknowledgement, or SND.NXT if it sent none.
fn snd_una(client: &Sent, server: &Sent) -> u32 {
    server.ack.unwrap_or(client.snd_nxt)
}

/// A connected pair (the client with IP_RECVERR on when `recverr`); an ICMP error from the
/// server's host quoting a segment of the client's built by `quote` from SND.UNA (inject#1);
/// then what the program is told: poll#1 (no wait), read#1 (non-blocking), with `recverr`
/// recv_errqueue#1, so_error#1; and whether the connection lives ([`probe`]: the server's
/// data, read#2).
fn icmp_at_client(t: &mut Trial, recverr: bool, quote: impl Fn(u32, Forged) -> Forged) -> ScriptResult {
    let (mut client, mut server, _listener) = t.connected_pair()?;
    if recverr {
        match t.family() {
            Family::V6 => client.setsockopt(SockOpt::Ipv6Recverr, 1),
            _ => client.setsockopt(SockOpt::IpRecverr, 1),
        };
    }
    let (c, s) = ends(t, &client)?;
    let (client_sent, server_sent) = (sent(t, c, s)?, sent(t, s, c)?);
    let quoted = quote(
        snd_una(&client_sent, &server_sent),
        Forged {
            flags: flag::ACK,
            ack: server_sent.snd_nxt,
            ..Forged::from(Host::Client, c, s)
        },
    );
    let icmp = ForgedIcmp {
        from: Host::Server,
        src: s.ip(),
        quoted,
    };
    t.inject_icmp(&mut client, &icmp)?;
    client.socket()?.set_nonblocking(true)?;
    client.poll(Events::IN | Events::OUT | Events::RDHUP, Duration::ZERO);
    client.read(64);
    if recverr {
        client.recv_errqueue(64);
    }
    client.so_error();
    probe(t, &mut client, &mut server, Direction::ServerToClient)
}

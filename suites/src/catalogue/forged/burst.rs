//! A burst of forged in-window resets at one ESTABLISHED connection, and the challenge ACKs
//! its host sends back under the two limits Linux puts on them (RFC 5961 §3.2 and §10, the
//! rate limit CVE-2016-5696 abused): tcp_invalid_ratelimit, the least time between two
//! challenge ACKs of one socket, and tcp_challenge_ack_limit, the challenge ACKs a network
//! namespace sends per second.

use sockerr_harness::trial::Host;
use sockerr_harness::trial::inject::{Forged, flag};
use sockerr_harness::{Direction, Need, ScriptResult, Trial};

use super::{RFC5961, ends, half_window, sent, survival};
use crate::scenario::Scenario;

/// Resets in one burst.
const BURST: u32 = 8;

const INVALID_RATELIMIT: &str = "net.ipv4.tcp_invalid_ratelimit";
const CHALLENGE_ACK_LIMIT: &str = "net.ipv4.tcp_challenge_ack_limit";

/// The per-namespace limit's value that turns it off: tcp_send_challenge_ack skips the
/// per-second count when it is INT_MAX (the default since Linux 6.0).
const NO_NAMESPACE_LIMIT: &str = "2147483647";

const NEEDS: &[Need] = &[
    Need::PacketCapture,
    Need::ProtocolCounters,
    Need::Sysctl(INVALID_RATELIMIT),
    Need::Sysctl(CHALLENGE_ACK_LIMIT),
];

const GUIDANCE: &str = "Nothing reaches the program: the connection survives every forged reset that is not exactly at RCV.NXT. The limits only decide how many challenge ACKs go out; an attacker who can count them learns about the connection (CVE-2016-5696), which is why the per-namespace count was made random and then turned off by default.";

const SOURCES: &[&str] = &[
    RFC5961,
    "RFC 5961 §10 (a challenge ACK limit, configurable)",
    "tcp_send_challenge_ack (net/ipv4/tcp_input.c): __tcp_oow_rate_limited per socket, then the per-namespace count unless tcp_challenge_ack_limit is INT_MAX",
    "ip-sysctl.rst: tcp_invalid_ratelimit (default 500 ms), tcp_challenge_ack_limit (default INT_MAX since 6.0)",
];

pub fn scenarios() -> Vec<Scenario> {
    let base = Scenario {
        sources: SOURCES,
        ..super::family(GUIDANCE, NEEDS)
    };
    vec![
        Scenario {
            id: "forged.challenge_ack.burst",
            claim: "Eight forged resets in the window, back to back, with tcp_invalid_ratelimit = 500 ms and tcp_challenge_ack_limit = INT_MAX set in the trial's namespaces: one challenge ACK answers the first, the other seven come within 500 ms of it and are not answered, and the connection survives.",
            script: burst_at_defaults,
            ..base.clone()
        },
        Scenario {
            id: "forged.challenge_ack.burst.unlimited",
            claim: "Eight forged resets in the window, back to back, with tcp_invalid_ratelimit = 0 and tcp_challenge_ack_limit = INT_MAX set in the trial's namespaces: each is answered with a challenge ACK, and the connection survives.",
            script: burst_unlimited,
            ..base.clone()
        },
        Scenario {
            id: "forged.challenge_ack.burst.namespace_limit",
            claim: "Eight forged resets in the window, back to back, with tcp_invalid_ratelimit = 0 and tcp_challenge_ack_limit = 1 set in the trial's namespaces: one challenge ACK answers the first, the namespace's count for that second is then spent and the other seven are not answered, and the connection survives.",
            script: burst_namespace_limit,
            ..base
        },
    ]
}

/// The kernel's defaults, pinned: a run may override them with `--sysctl` (the knobs then
/// say so), so that the same trial shows what another setting changes.
fn burst_at_defaults(t: &mut Trial) -> ScriptResult {
    t.sysctl_baseline(Host::Client, INVALID_RATELIMIT, "500")?;
    t.sysctl_baseline(Host::Client, CHALLENGE_ACK_LIMIT, NO_NAMESPACE_LIMIT)?;
    burst(t)
}

fn burst_unlimited(t: &mut Trial) -> ScriptResult {
    t.sysctl(Host::Client, INVALID_RATELIMIT, "0")?;
    t.sysctl(Host::Client, CHALLENGE_ACK_LIMIT, NO_NAMESPACE_LIMIT)?;
    burst(t)
}

/// A limit of 1 makes the per-second count exactly 1 (tcp_send_challenge_ack draws it from
/// ack_limit/2 to ack_limit*3/2 - 1, rounded up: 1 to 1). The trial's namespaces are its own,
/// so no other connection spends it; a burst that crossed a second of the kernel's clock
/// would get a new count, but the burst lasts well under a millisecond.
fn burst_namespace_limit(t: &mut Trial) -> ScriptResult {
    t.sysctl(Host::Client, INVALID_RATELIMIT, "0")?;
    t.sysctl(Host::Client, CHALLENGE_ACK_LIMIT, "1")?;
    burst(t)
}

/// A connected pair; [`BURST`] resets from the server, each one further into the client's
/// window (RCV.NXT+win/2+i), sent as one step (inject#1, which waits until the client's host
/// has taken them all); then [`survival`].
fn burst(t: &mut Trial) -> ScriptResult {
    let (mut client, mut server, _listener) = t.connected_pair()?;
    let (c, s) = ends(t, &client)?;
    let (server_sent, client_sent) = (sent(t, s, c)?, sent(t, c, s)?);
    let start = server_sent.snd_nxt.wrapping_add(half_window(&client_sent));
    let resets: Vec<Forged> = (0..BURST)
        .map(|i| Forged {
            flags: flag::RST,
            seq: start.wrapping_add(i),
            numbers: "seq=RCV.NXT+win/2+i (in window)".into(),
            ..Forged::from(Host::Server, s, c)
        })
        .collect();
    t.inject_all(&mut client, &resets)?;
    survival(t, &mut client, &mut server, Direction::ServerToClient)
}

//! keepalive: an idle connection whose peer went silent or lost its state, found out by
//! keepalive probes.

use sockerr_harness::{Endpoint, Events, Need, ScriptResult, SockOpt, Trial};

use super::common::{after_drop, silence_server};
use super::stray::lose_state;
use crate::scenario::Scenario;

const KEEPALIVE_SOURCES: &[&str] = &[
    "RFC 1122 §4.2.3.6 (TCP keep-alives)",
    "RFC 9293 §3.8.4 (TCP keep-alives)",
    "tcp(7): TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_KEEPCNT; socket(7): SO_KEEPALIVE",
];

pub fn scenarios() -> Vec<Scenario> {
    vec![
        Scenario {
            id: "keepalive.dead_peer",
            claim: "On an idle connection whose peer went silent, keepalive probes go unanswered and the kernel drops the connection, sending a reset as it gives up: poll reports POLLERR and read fails with ETIMEDOUT.",
            sources: KEEPALIVE_SOURCES,
            situations: &[5, 6],
            guidance: "ETIMEDOUT on an idle connection with keepalive: the peer or the path is gone. Close it and reconnect when there is work; nothing was in flight, so nothing is lost. Keepalive defaults (2 hours idle) are too slow for most uses: set TCP_KEEPIDLE, TCP_KEEPINTVL and TCP_KEEPCNT, or use application-level heartbeats.",
            timer: Some(
                "TCP_KEEPIDLE 1 s, TCP_KEEPINTVL 1 s, TCP_KEEPCNT 1: the minimums the kernel accepts (whole seconds)",
            ),
            needs: &[Need::Nftables],
            script: keepalive_dead_peer,
            ..Scenario::BASE
        },
        Scenario {
            id: "keepalive.rebooted_peer",
            claim: "On an idle connection whose peer lost its state, the first keepalive probe is answered with a reset, so the client learns ECONNRESET without sending any data.",
            sources: KEEPALIVE_SOURCES,
            situations: &[5, 6],
            guidance: "ECONNRESET on an idle connection: the peer forgot it (restarted, or a middlebox dropped it). Nothing was in flight: close it and reconnect when needed. Keepalive (or a heartbeat) finds such connections before a request is lost on them.",
            timer: Some("TCP_KEEPIDLE 1 s: the minimum the kernel accepts (whole seconds)"),
            needs: &[Need::Nftables],
            script: keepalive_rebooted_peer,
            ..Scenario::BASE
        },
    ]
}

/// Keepalive with the shortest timers the kernel accepts: the first probe after 1 s idle,
/// then one probe a second, and the connection is dropped after one unanswered probe.
fn keepalive_on(client: &mut Endpoint) {
    client.tune(SockOpt::TcpKeepidle, 1);
    client.tune(SockOpt::TcpKeepintvl, 1);
    client.tune(SockOpt::TcpKeepcnt, 1);
    client.tune(SockOpt::SoKeepalive, 1);
}

fn keepalive_dead_peer(t: &mut Trial) -> ScriptResult {
    let (mut client, _server, _listener) = t.connected_pair()?;
    silence_server(t)?;
    keepalive_on(&mut client);
    t.wait_for_events(
        &client,
        Events::NONE,
        "the client's kernel gives the connection up after its probes (POLLERR or POLLHUP)",
    );
    after_drop(&mut client);
    Ok(())
}

fn keepalive_rebooted_peer(t: &mut Trial) -> ScriptResult {
    let (mut client, mut server, _listener) = t.connected_pair()?;
    // Keepalive only once the server has lost the connection: the first probe (1 s later)
    // must meet the cleared firewall, however long the firewall changes took.
    lose_state(t, &mut server)?;
    keepalive_on(&mut client);
    t.wait_for_events(
        &client,
        Events::NONE,
        "the client's socket has the answer to its first probe (POLLERR or POLLHUP)",
    );
    after_drop(&mut client);
    Ok(())
}

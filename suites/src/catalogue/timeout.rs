//! timeouts and liveness: a peer that goes silent, found out by retransmissions running out
//! (TCP_USER_TIMEOUT or the kernel's retry limit) or by keepalive probes.

use std::time::Duration;

use sockerr_harness::sys::POLL_ALL;
use sockerr_harness::trial::{Host, SERVER_PORT};
use sockerr_harness::{Endpoint, Hook, ScriptResult, Skip, Trial};

use super::stray::lose_state;
use crate::scenario::{BOTH_FAMILIES, BOTH_TOPOLOGIES, Scenario};

/// TCP_USER_TIMEOUT in milliseconds. The kernel accepts 1 ms; 100 ms leaves room for several
/// retransmissions at the shortened RTO, which is what the scenario shows on the wire.
const USER_TIMEOUT_MS: libc::c_int = 100;

const RETRANSMIT_SOURCES: &[&str] = &[
    "article situation 6 (lost ACKs: retransmissions run out and the connection is dropped)",
    "RFC 9293 §3.8.3 (R1 and R2 thresholds; the connection is closed after R2)",
    "RFC 1122 §4.2.3.5 (TCP connection failures)",
    "RFC 5482 (the TCP User Timeout Option)",
    "tcp(7): TCP_USER_TIMEOUT, tcp_retries2, tcp_rto_min_us",
];

const KEEPALIVE_SOURCES: &[&str] = &[
    "article situations 5 and 6 (a peer that lost its state; a peer that went silent)",
    "RFC 1122 §4.2.3.6 (TCP keep-alives)",
    "RFC 9293 §3.8.4 (TCP keep-alives)",
    "tcp(7): TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_KEEPCNT; socket(7): SO_KEEPALIVE",
];

pub fn scenarios() -> Vec<Scenario> {
    vec![
        Scenario {
            id: "timeout.retransmit.user_timeout",
            claim: "When the peer goes silent while data is unacknowledged, TCP_USER_TIMEOUT ends the connection: poll reports POLLERR, the next call fails with ETIMEDOUT and later writes with EPIPE, and no reset is sent.",
            sources: RETRANSMIT_SOURCES,
            guidance: "ETIMEDOUT on an established connection: the peer or the path went silent and nothing was acknowledged in time; whether the request was processed is unknown. Close, reconnect (maybe to another address), and replay only idempotent requests. Set TCP_USER_TIMEOUT to bound how long unacknowledged data may wait; the default limit is about 15 minutes.",
            timer: Some(
                "TCP_USER_TIMEOUT 100 ms (the kernel accepts 1 ms; 100 ms leaves room for retransmissions), and the retransmission timeout floor net.ipv4.tcp_rto_min_us 1 µs (one jiffy) where the kernel has it (6.11+)",
            ),
            families: BOTH_FAMILIES,
            topologies: BOTH_TOPOLOGIES,
            script: retransmit_user_timeout,
        },
        Scenario {
            id: "timeout.retransmit.default",
            claim: "When the peer goes silent while data is unacknowledged, the kernel's retry limit (tcp_retries2) ends the connection with ETIMEDOUT, as TCP_USER_TIMEOUT does, and no reset is sent.",
            sources: RETRANSMIT_SOURCES,
            guidance: "ETIMEDOUT: nothing was acknowledged before the kernel gave up; the request's fate is unknown. Close, reconnect and replay only idempotent requests. The default limit (tcp_retries2 = 15) is about 15 minutes of silence: applications that need to know sooner set TCP_USER_TIMEOUT or their own deadline.",
            timer: Some(
                "net.ipv4.tcp_retries2 0 on the client's host, which the kernel turns into 200 ms of retransmission (tcp_model_timeout from TCP_RTO_MIN), and net.ipv4.tcp_rto_min_us 1 µs (one jiffy) where the kernel has it (6.11+)",
            ),
            families: BOTH_FAMILIES,
            topologies: BOTH_TOPOLOGIES,
            script: retransmit_default,
        },
        Scenario {
            id: "keepalive.dead_peer",
            claim: "On an idle connection whose peer went silent, keepalive probes go unanswered and the kernel drops the connection: poll reports POLLERR and read fails with ETIMEDOUT.",
            sources: KEEPALIVE_SOURCES,
            guidance: "ETIMEDOUT on an idle connection with keepalive: the peer or the path is gone. Close it and reconnect when there is work; nothing was in flight, so nothing is lost. Keepalive defaults (2 hours idle) are too slow for most uses: set TCP_KEEPIDLE, TCP_KEEPINTVL and TCP_KEEPCNT, or use application-level heartbeats.",
            timer: Some(
                "TCP_KEEPIDLE 1 s, TCP_KEEPINTVL 1 s, TCP_KEEPCNT 1: the minimums the kernel accepts (whole seconds)",
            ),
            families: BOTH_FAMILIES,
            topologies: BOTH_TOPOLOGIES,
            script: keepalive_dead_peer,
        },
        Scenario {
            id: "keepalive.rebooted_peer",
            claim: "On an idle connection whose peer lost its state, the first keepalive probe is answered with a reset, so the client learns ECONNRESET without sending any data.",
            sources: KEEPALIVE_SOURCES,
            guidance: "ECONNRESET on an idle connection: the peer forgot it (restarted, or a middlebox dropped it). Nothing was in flight: close it and reconnect when needed. Keepalive (or a heartbeat) finds such connections before a request is lost on them.",
            timer: Some("TCP_KEEPIDLE 1 s: the minimum the kernel accepts (whole seconds)"),
            families: BOTH_FAMILIES,
            topologies: BOTH_TOPOLOGIES,
            script: keepalive_rebooted_peer,
        },
    ]
}

/// Lowers the retransmission timeout floor of `host` to the kernel's minimum (1 µs, rounded up
/// to one jiffy) before any socket exists: tcp_init_sock copies it into each new socket. A
/// kernel without the per-namespace sysctl (before 6.11) keeps its 200 ms floor; the trial
/// still runs, only slower, and the missing knob shows in its record.
fn shorten_rto(t: &mut Trial, host: Host) -> ScriptResult {
    match t.sysctl(host, "net.ipv4.tcp_rto_min_us", "1") {
        Err(e) if e.is::<Skip>() => Ok(()),
        other => other,
    }
}

/// The server goes silent for the connection's port: its firewall drops every segment in
/// and out, so the client hears nothing, not even a reset.
fn silence_server(t: &mut Trial) -> ScriptResult {
    t.firewall(Host::Server, Hook::Input, &format!("tcp dport {SERVER_PORT} drop"))?;
    t.firewall(Host::Server, Hook::Output, &format!("tcp sport {SERVER_PORT} drop"))
}

fn retransmit_user_timeout(t: &mut Trial) -> ScriptResult {
    shorten_rto(t, Host::Client)?;
    let (mut client, _server, _listener) = t.connected_pair()?;
    client.tune(
        libc::IPPROTO_TCP,
        libc::TCP_USER_TIMEOUT,
        "TCP_USER_TIMEOUT",
        USER_TIMEOUT_MS,
    );
    retransmit_until_dropped(t, &mut client)
}

fn retransmit_default(t: &mut Trial) -> ScriptResult {
    shorten_rto(t, Host::Client)?;
    t.sysctl(Host::Client, "net.ipv4.tcp_retries2", "0")?;
    let (mut client, _server, _listener) = t.connected_pair()?;
    retransmit_until_dropped(t, &mut client)
}

/// write#1 goes unacknowledged; once the client's kernel gives up: poll#1, read#1, write#2,
/// read#2.
fn retransmit_until_dropped(t: &mut Trial, client: &mut Endpoint) -> ScriptResult {
    silence_server(t)?;
    client.write(b"request");
    t.wait_for_events(
        client,
        0,
        "the client's kernel gives the connection up (POLLERR or POLLHUP)",
    );
    after_drop(client);
    Ok(())
}

/// What a program sees once the kernel dropped the connection: poll#1 (no wait), read#1,
/// write#2, read#2, close.
fn after_drop(client: &mut Endpoint) {
    client.poll(POLL_ALL, Duration::ZERO);
    client.read(64);
    client.write(b"request");
    client.read(64);
    client.close();
}

/// Keepalive with the shortest timers the kernel accepts: the first probe after 1 s idle,
/// then one probe a second, and the connection is dropped after one unanswered probe.
fn keepalive_on(client: &mut Endpoint) {
    client.tune(libc::IPPROTO_TCP, libc::TCP_KEEPIDLE, "TCP_KEEPIDLE", 1);
    client.tune(libc::IPPROTO_TCP, libc::TCP_KEEPINTVL, "TCP_KEEPINTVL", 1);
    client.tune(libc::IPPROTO_TCP, libc::TCP_KEEPCNT, "TCP_KEEPCNT", 1);
    client.tune(libc::SOL_SOCKET, libc::SO_KEEPALIVE, "SO_KEEPALIVE", 1);
}

fn keepalive_dead_peer(t: &mut Trial) -> ScriptResult {
    let (mut client, _server, _listener) = t.connected_pair()?;
    silence_server(t)?;
    keepalive_on(&mut client);
    t.wait_for_events(
        &client,
        0,
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
        0,
        "the client's socket has the answer to its first probe (POLLERR or POLLHUP)",
    );
    after_drop(&mut client);
    Ok(())
}

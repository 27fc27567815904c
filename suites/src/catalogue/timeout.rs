//! timeouts and liveness: a peer that goes silent, found out by retransmissions running out
//! (TCP_USER_TIMEOUT or the kernel's retry limit) or by keepalive probes.

use sockerr_harness::{Endpoint, Events, Host, Need, ScriptResult, SockOpt, Trial};

use super::common::{after_drop, silence_server};
use crate::scenario::Scenario;

/// TCP_USER_TIMEOUT in milliseconds. The kernel accepts 1 ms; 100 ms leaves room for several
/// retransmissions at the shortened RTO, which is what the scenario shows on the wire.
const USER_TIMEOUT_MS: i32 = 100;

const RETRANSMIT_SOURCES: &[&str] = &[
    "RFC 9293 §3.8.3 (R1 and R2 thresholds; the connection is closed after R2)",
    "RFC 1122 §4.2.3.5 (TCP connection failures)",
    "RFC 5482 (the TCP User Timeout Option)",
    "tcp(7): TCP_USER_TIMEOUT, tcp_retries2, tcp_rto_min_us",
];

pub fn scenarios() -> Vec<Scenario> {
    vec![
        Scenario {
            id: "timeout.retransmit.user_timeout",
            claim: "When the peer goes silent while data is unacknowledged, TCP_USER_TIMEOUT ends the connection: poll reports POLLERR, the next call fails with ETIMEDOUT and later writes with EPIPE, and no reset is sent.",
            sources: RETRANSMIT_SOURCES,
            situations: &[6],
            guidance: "ETIMEDOUT on an established connection: the peer or the path went silent and nothing was acknowledged in time; whether the request was processed is unknown. Close, reconnect (maybe to another address), and replay only idempotent requests. Set TCP_USER_TIMEOUT to bound how long unacknowledged data may wait; the default limit is about 15 minutes.",
            timer: Some(
                "TCP_USER_TIMEOUT 100 ms (the kernel accepts 1 ms; 100 ms leaves room for retransmissions), and the retransmission timeout floor net.ipv4.tcp_rto_min_us 1 µs (one jiffy) where the kernel has it (6.11+)",
            ),
            needs: &[Need::Nftables],
            script: retransmit_user_timeout,
            ..Scenario::BASE
        },
        Scenario {
            id: "timeout.retransmit.default",
            claim: "When the peer goes silent while data is unacknowledged, the kernel's retry limit (tcp_retries2) ends the connection with ETIMEDOUT, as TCP_USER_TIMEOUT does, and no reset is sent.",
            sources: RETRANSMIT_SOURCES,
            situations: &[6],
            guidance: "ETIMEDOUT: nothing was acknowledged before the kernel gave up; the request's fate is unknown. Close, reconnect and replay only idempotent requests. The default limit (tcp_retries2 = 15) is about 15 minutes of silence: applications that need to know sooner set TCP_USER_TIMEOUT or their own deadline.",
            timer: Some(
                "net.ipv4.tcp_retries2 0 on the client's host, which the kernel turns into 200 ms of retransmission (tcp_model_timeout from TCP_RTO_MIN), and net.ipv4.tcp_rto_min_us 1 µs (one jiffy) where the kernel has it (6.11+)",
            ),
            needs: &[Need::Nftables, Need::Sysctl("net.ipv4.tcp_retries2")],
            runtimes: true,
            script: retransmit_default,
            ..Scenario::BASE
        },
    ]
}

/// Lowers the retransmission timeout floor of `host` to the kernel's minimum (1 µs, rounded up
/// to one jiffy) before any socket exists: tcp_init_sock copies it into each new socket. A
/// kernel without the per-namespace sysctl (before 6.11) keeps its 200 ms floor; the trial
/// still runs, only slower, and the missing knob shows in its record.
fn shorten_rto(t: &mut Trial, host: Host) -> ScriptResult {
    t.sysctl_where_present(host, "net.ipv4.tcp_rto_min_us", "1")
}

fn retransmit_user_timeout(t: &mut Trial) -> ScriptResult {
    shorten_rto(t, Host::Client)?;
    let (mut client, _server, _listener) = t.connected_pair()?;
    client.tune(SockOpt::TcpUserTimeout, USER_TIMEOUT_MS);
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
        Events::NONE,
        "the client's kernel gives the connection up (POLLERR or POLLHUP)",
    );
    after_drop(client);
    Ok(())
}

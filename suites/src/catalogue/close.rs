//! close and linger: how a connection ends when the application closes it.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use sockerr_harness::trial::actors::accept_as;
use sockerr_harness::trial::{Host, SERVER_PORT};
use sockerr_harness::{Direction, Endpoint, Events, Hook, Need, ScriptResult, Segment, SetupError, Shut, SockOpt, Trial};

use super::peer_close::{fin_ack_on_wire, fin_acked};
use crate::scenario::Scenario;

const TIME_WAIT_RST_SOURCES: &[&str] = &[
    "RFC 1337 (TIME-WAIT assassination hazards; fix F1: ignore a reset in TIME-WAIT)",
    "RFC 9293 §3.10.7.4 (a reset in TIME-WAIT closes the connection) and §3.10.7.3 (SYN-SENT: an unacceptable ACK is answered with a reset)",
    "ip-sysctl.rst: tcp_rfc1337",
];

pub fn scenarios() -> Vec<Scenario> {
    vec![
        Scenario {
            id: "close.orderly",
            claim: "When both sides close normally the connection ends with a FIN each way and no reset, and the side that closed first keeps the connection in TIME_WAIT, out of reach of its descriptor.",
            sources: &[
                "RFC 9293 §3.6 (closing a connection; TIME-WAIT on the side that closes first)",
                "RFC 1122 §4.2.2.13 (graceful close)",
                "shutdown(2): SHUT_WR; tcp(7): tcp_fin_timeout, TIME_WAIT",
            ],
            situations: &[8],
            guidance: "Close by shutdown(SHUT_WR), read until end of file, then close: nothing is lost and no reset is sent. The side that closes first holds TIME_WAIT (60 s on Linux) for that address pair; let servers close first only when they can afford it, and set SO_REUSEADDR on listeners so a restart can bind.",
            needs: &[Need::PacketCapture, Need::TcpTable],
            script: orderly,
            ..Scenario::BASE
        },
        Scenario {
            id: "close.linger_timeout",
            claim: "With SO_LINGER {on, 1 s} and data the peer never acknowledges, close blocks for the linger time and then returns 0 as if all went well, and the kernel goes on retransmitting the orphaned connection without a reset.",
            sources: &[
                "socket(7): SO_LINGER \"close() ... will not return until all queued messages for the socket have been successfully sent or the linger timeout has been reached\"",
                "RFC 1122 §4.2.2.13 (a graceful close goes on delivering queued data)",
            ],
            situations: &[8],
            guidance: "A lingering close does not tell whether the peer got the data: close returns 0 on timeout too. To know, shut down the write side, read until end of file (or an application-level acknowledgement) with a deadline, and only then close; abort (linger 0) if the deadline passes.",
            timer: Some(
                "SO_LINGER 1 s (the option counts in whole seconds, so 1 s is the floor), and the client's retransmission timeout, raised to 2 s (route metric rto_min) so that the data stays corked until the close and is sent again only after close returned",
            ),
            needs: &[Need::Nftables, Need::PacketCapture, Need::TcpTable],
            script: linger_timeout,
            ..Scenario::BASE
        },
        Scenario {
            id: "close.time_wait.rst.rfc1337_off",
            claim: "With tcp_rfc1337 = 0 a reset that reaches a connection in TIME_WAIT ends it, as RFC 9293 §3.10.7.4 prescribes (the assassination RFC 1337 warns of), so the server's reconnect from the same port is then refused by the client's host.",
            sources: TIME_WAIT_RST_SOURCES,
            situations: &[8],
            guidance: "TIME_WAIT protects a new connection on the same address pair from old segments; a stray reset can end it early (Linux default). Nothing is reported to any program: the closed socket has no descriptor. Servers that reconnect from their service port meet the old TIME_WAIT: bind an ephemeral port instead.",
            timer: Some(
                "the SYN retransmission the kernel schedules right after an unacceptable ACK in SYN_SENT (TCP_TIMEOUT_MIN, 2 jiffies): fixed by the kernel",
            ),
            needs: &[
                Need::Sysctl("net.ipv4.tcp_rfc1337"),
                Need::PacketCapture,
                Need::TcpTable,
            ],
            script: time_wait_rst_rfc1337_off,
            ..Scenario::BASE
        },
        Scenario {
            id: "close.time_wait.rst.rfc1337_on",
            claim: "With tcp_rfc1337 = 1 Linux departs from RFC 9293 as RFC 1337 recommends: a reset that reaches a connection in TIME_WAIT is ignored, so the TIME_WAIT keeps answering the server's reconnect from the same port with an ACK and the connect never completes.",
            sources: TIME_WAIT_RST_SOURCES,
            situations: &[8],
            guidance: "With tcp_rfc1337 = 1 TIME_WAIT survives stray resets, as RFC 1337 recommends: a peer that reconnects from the same port is stalled until TIME_WAIT ends (60 s on Linux). Servers that open connections should not bind their service port; clients should let the kernel choose ports.",
            timer: Some(
                "the SYN retransmission the kernel schedules right after an unacceptable ACK in SYN_SENT (TCP_TIMEOUT_MIN, 2 jiffies): fixed by the kernel",
            ),
            needs: &[
                Need::Sysctl("net.ipv4.tcp_rfc1337"),
                Need::PacketCapture,
                Need::TcpTable,
            ],
            script: time_wait_rst_rfc1337_on,
            ..Scenario::BASE
        },
    ]
}

fn orderly(t: &mut Trial) -> ScriptResult {
    let (mut client, mut server, _listener) = t.connected_pair()?;
    let local: Option<SocketAddr> = client.local_addr();
    // The client closes first, as a half-close, so that its socket can still be asked for
    // its state at each stage; close() would leave no descriptor to ask.
    client.shutdown(Shut::Write);
    fin_acked(t, &server, Direction::ClientToServer)?;
    t.wait_for_state(&client, "FIN_WAIT2");
    client.poll(Events::IN | Events::OUT | Events::RDHUP, std::time::Duration::ZERO);
    server.read(64);
    server.close();
    // The client, in FIN_WAIT2, acknowledges the server's FIN at once (tcp_fin) and its
    // connection enters TIME_WAIT.
    fin_ack_on_wire(t, Direction::ServerToClient, "the client's ACK of the server's FIN");
    client.read(64);
    t.wait_for_tcp_table(
        Host::Client,
        "the client's host holds the connection in TIME_WAIT (/proc/net/tcp)",
        |table| table.iter().any(|e| Some(e.local) == local && e.state == "TIME_WAIT"),
    )?;
    client.close();
    Ok(())
}

/// setsockopt#1 sets the linger time; write#1 is never acknowledged (the server's firewall
/// drops everything the client sends); close#1 blocks for the linger time. Then the client's
/// host still holds the orphaned connection and retransmits it. setsockopt#2 (TCP_CORK)
/// holds the data until the close, which sends it with the FIN: sent alone, the data's own
/// retransmission would come before or after the FIN as the scheduler lets the close follow
/// the write. The cork lets go when the zero-window probe timer fires, after the RTO, so the
/// client's RTO floor is raised to [`LINGER_RTO_MIN`]: the cork then holds for 2 s whatever
/// the load, and the first retransmission after the close comes 1 s after close returns.
fn linger_timeout(t: &mut Trial) -> ScriptResult {
    t.rto_min(Host::Client, LINGER_RTO_MIN)?;
    let (mut client, _server, _listener) = t.connected_pair()?;
    let local = client.local_addr();
    client.linger(1);
    client.setsockopt(SockOpt::TcpCork, 1);
    t.firewall(Host::Server, Hook::Input, &format!("tcp dport {SERVER_PORT} drop"))?;
    client.write(b"request");
    let closed = client.close();
    let returned_at = closed.t_us + closed.elapsed_us;
    t.wait_for_wire("a retransmission by the client after close returned", |segments| {
        segments
            .iter()
            .any(|s| s.dir == Direction::ClientToServer && s.t_us > returned_at)
    });
    t.wait_for_tcp_table(
        Host::Client,
        "the client's host still holds the orphaned connection (/proc/net/tcp)",
        |table| table.iter().any(|e| Some(e.local) == local && e.state != "TIME_WAIT"),
    )?;
    Ok(())
}

/// The client's RTO floor in `close.linger_timeout`: twice the linger time.
const LINGER_RTO_MIN: Duration = Duration::from_secs(2);

fn time_wait_rst_rfc1337_off(t: &mut Trial) -> ScriptResult {
    time_wait_rst(t, "0")
}

fn time_wait_rst_rfc1337_on(t: &mut Trial) -> ScriptResult {
    time_wait_rst(t, "1")
}

/// The client closes first and holds TIME_WAIT. The server then connects from its service
/// port to the client's old port: the TIME_WAIT answers the SYN with an ACK for the old
/// connection, the connecting socket (SYN_SENT) answers that unacceptable ACK with a reset
/// whose sequence number is the ACK's, exactly what TIME_WAIT expects, and retransmits its
/// SYN almost at once. The answer to that second SYN shows whether the reset ended the
/// TIME_WAIT; server2's connect#1, poll#1 and so_error#1 show what the connecting program
/// learnt. Where the reset ends the TIME_WAIT the exchange ends by itself two jiffies later
/// (the refusal), so connect blocks until then: a non-blocking connect's readiness and state,
/// read right after it returned, would race that 2-jiffy timer. Where the TIME_WAIT survives
/// the exchange never ends, so connect does not block and the state stays SYN_SENT.
fn time_wait_rst(t: &mut Trial, rfc1337: &str) -> ScriptResult {
    t.sysctl(Host::Client, "net.ipv4.tcp_rfc1337", rfc1337)?;
    let (mut client, mut server, mut listener) = pair_from_fixed_port(t)?;
    let Some(client_addr) = client.local_addr() else {
        return Err("the client's socket has no address".into());
    };
    enter_time_wait(t, &mut client, &mut server)?;
    listener.close();
    let service = t.server_addr(SERVER_PORT).port();
    // The server's side leaves LAST_ACK when the client's last ACK is processed, which may
    // be after that ACK is on the wire; until then the port is taken (bind: EADDRINUSE).
    t.wait_for_tcp_table(
        Host::Server,
        "the server's host holds nothing on its service port any more (/proc/net/tcp)",
        |table| !table.iter().any(|e| e.local.port() == service),
    )?;
    let mut again = t.server_socket("server2")?;
    again.bind(&t.server_addr(SERVER_PORT));
    if rfc1337 == "1" {
        again.socket()?.set_nonblocking(true)?;
    }
    again.connect(&client_addr);
    t.wait_for_wire(
        "the server's second SYN and the client host's answer to it",
        |segments| answer_to_second_syn(segments).is_some(),
    );
    again.poll(Events::REQUESTABLE, Duration::ZERO);
    again.so_error();
    again.close();
    Ok(())
}

/// The port the client binds in the TIME_WAIT scenarios, so that the server's connect to it
/// reads the same in every run (an ephemeral port would not).
const CLIENT_PORT: u16 = 40000;

/// connected_pair, with the client bound to [`CLIENT_PORT`] first (step `client.bind#1`).
fn pair_from_fixed_port(t: &mut Trial) -> Result<(Endpoint, Endpoint, Endpoint), SetupError> {
    let server_addr = t.server_addr(SERVER_PORT);
    let any: IpAddr = match server_addr {
        SocketAddr::V4(_) => Ipv4Addr::UNSPECIFIED.into(),
        SocketAddr::V6(_) => Ipv6Addr::UNSPECIFIED.into(),
    };
    let mut listener = t.listener(16)?;
    let mut client = t.client()?;
    client.bind(&SocketAddr::new(any, CLIENT_PORT));
    if let Some(errno) = client.connect(&server_addr).result.errno {
        return Err(SetupError::step("connect", errno));
    }
    accept_as(&mut listener, "server").map(|server| (client, server, listener))
}

/// An orderly close with the client closing first; returns once the client's host lists the
/// connection in TIME_WAIT. The client closes outright (no shutdown, whose TCP state read
/// afterwards would race with the server's delayed ACK of the FIN): these trials only need
/// the TIME_WAIT it leaves behind.
pub(super) fn enter_time_wait(t: &mut Trial, client: &mut Endpoint, server: &mut Endpoint) -> ScriptResult {
    let local = client.local_addr();
    client.close();
    fin_acked(t, server, Direction::ClientToServer)?;
    server.read(64);
    server.close();
    fin_ack_on_wire(t, Direction::ServerToClient, "the client's ACK of the server's FIN");
    t.wait_for_tcp_table(
        Host::Client,
        "the client's host holds the connection in TIME_WAIT (/proc/net/tcp)",
        |table| table.iter().any(|e| Some(e.local) == local && e.state == "TIME_WAIT"),
    )?;
    Ok(())
}

/// The first client-to-server segment after the server's second SYN.
fn answer_to_second_syn(segments: &[Segment]) -> Option<&Segment> {
    let second = segments
        .iter()
        .enumerate()
        .filter(|(_, s)| s.dir == Direction::ServerToClient && s.flags == "S")
        .nth(1)?
        .0;
    segments[second..].iter().find(|s| s.dir == Direction::ClientToServer)
}

//! backlog: more clients than the listener's queue holds, and a listener closed with
//! connections still queued. Every client is an actor of its own (`client1` ...) and its
//! outcome is recorded; the wire holds all their connections.

use std::time::Duration;

use sockerr_harness::{Direction, Events, Hook, Host, Need, ScriptResult, Trial};

use super::common::{connect_client, of_port, start_connect};
use crate::scenario::Scenario;

const BACKLOG_SOURCES: &[&str] = &[
    "listen(2): the backlog bounds the queue of completely established sockets waiting to be accepted",
    "tcp(7): tcp_abort_on_overflow, tcp_max_syn_backlog",
    "RFC 9293 §3.5 (the three-way handshake) and §3.8.1 (retransmission)",
];

/// The protocol timer these trials wait out (default: client4's data is sent again).
const SYN_TIMER: Option<&str> = Some(
    "client4's retransmission timeout, raised from the kernel's 200 ms floor (TCP_RTO_MIN) to 500 ms (route metric rto_min): the trial ends half a second before the next retransmission and before the 1 s SYN and SYN-ACK retransmission timeouts (TCP_TIMEOUT_INIT) run out",
);

/// The clients' RTO floor: client4's data is sent again after it, and the trial must end
/// before the next retransmission (one more floor later at least) and before the 1 s SYN and
/// SYN-ACK timers; 500 ms leaves about half a second to each, where the kernel's 200 ms left a
/// loaded machine 200 ms before a third transmission.
const CLIENT_RTO_MIN: Duration = Duration::from_millis(500);

pub fn scenarios() -> Vec<Scenario> {
    vec![
        Scenario {
            id: "backlog.full.default",
            claim: "With the accept queue full the listener silently drops a handshake's final ACK (the client believes it is connected, its data goes unanswered and is sent again) and drops new SYNs, and no client is told anything.",
            sources: BACKLOG_SOURCES,
            situations: &[6],
            guidance: "A full backlog is silent: connect may succeed with the server never accepting, or hang in SYN retransmissions. Bound every connect and every first response with an application deadline; on timeout close and retry with backoff (the request may not have reached the server).",
            timer: SYN_TIMER,
            needs: &[Need::Nftables, Need::PacketCapture, Need::TcpTable],
            script: full_default,
            ..Scenario::BASE
        },
        Scenario {
            id: "backlog.full.abort_on_overflow",
            claim: "With net.ipv4.tcp_abort_on_overflow=1 the listener answers the segment that would complete a handshake it has no room for (client4's data) with a reset, so that client's SO_ERROR returns ECONNRESET and its next read end of file, while a SYN that meets a full queue is still dropped silently.",
            sources: BACKLOG_SOURCES,
            situations: &[6],
            guidance: "ECONNRESET on a connection that just succeeded, before any reply: the server was overloaded and refused it (tcp_abort_on_overflow); the request was not processed, so retrying after a backoff is safe. A connect that hangs is the same overload seen earlier: bound it with a deadline.",
            timer: SYN_TIMER,
            needs: &[
                Need::Nftables,
                Need::Sysctl("net.ipv4.tcp_abort_on_overflow"),
                Need::PacketCapture,
                Need::TcpTable,
            ],
            script: full_abort_on_overflow,
            ..Scenario::BASE
        },
    ]
}

/// The listener's backlog: Linux queues backlog + 1 connections (sk_acceptq_is_full is
/// `sk_ack_backlog > sk_max_ack_backlog`), so three fit.
const BACKLOG: i32 = 2;

/// Both backlog scenarios: two clients fill the queue up to one place; two more clients
/// complete the handshake on their side while the server's firewall drops their final ACK
/// (a pure ACK; data segments pass), so they wait as requests in SYN_RECV. client3's data
/// then completes its connection and fills the queue; client5's SYN meets the full queue,
/// and so does client4's data. The firewall only orders events that could happen in any
/// order: it never touches the segments whose fate is observed.
fn overflow(t: &mut Trial) -> ScriptResult {
    t.rto_min(Host::Client, CLIENT_RTO_MIN)?;
    let mut listener = t.listener(BACKLOG)?;
    let (mut client1, _) = connect_client(t, "client1")?;
    let (mut client2, _) = connect_client(t, "client2")?;
    t.firewall(Host::Server, Hook::Input, "tcp dport 4000 tcp flags == ack drop")?;
    let (mut client3, port3) = connect_client(t, "client3")?;
    let (mut client4, port4) = connect_client(t, "client4")?;
    client3.write(b"3");
    t.wait_for_wire("the server's ACK of client3's data", |segments| {
        of_port(segments, port3).any(|s| s.dir == Direction::ServerToClient && s.flags == "." && s.ack > 1)
    });
    let (mut client5, port5) = start_connect(t, "client5")?;
    t.wait_for_wire("client5's SYN on the wire", |segments| {
        of_port(segments, port5).any(|s| s.dir == Direction::ClientToServer && s.flags == "S")
    });
    client4.write(b"4");
    t.wait_for_wire(
        "the server's reset of client4, or client4's data sent again",
        |segments| {
            let mut seen = of_port(segments, port4);
            let data = seen
                .clone()
                .filter(|s| s.dir == Direction::ClientToServer && s.len > 0)
                .count();
            data >= 2 || seen.any(|s| s.dir == Direction::ServerToClient && s.flags.contains('R'))
        },
    );
    client5.poll(Events::REQUESTABLE, Duration::ZERO);
    for client in [&mut client1, &mut client2, &mut client3, &mut client4] {
        client.so_error();
        client.read(64);
    }
    client5.so_error();
    // Aborts, one at a time, end every connection with at most one reset each and no answer;
    // the listener closes once the server has none left, so that closing it sends nothing.
    for client in [&mut client1, &mut client2, &mut client3, &mut client4, &mut client5] {
        client.abort();
    }
    t.wait_for_tcp_table(Host::Server, "the server holds nothing but its listener", |entries| {
        entries.iter().all(|e| e.state == "LISTEN")
    })?;
    listener.close();
    Ok(())
}

fn full_default(t: &mut Trial) -> ScriptResult {
    overflow(t)
}

fn full_abort_on_overflow(t: &mut Trial) -> ScriptResult {
    t.sysctl(Host::Server, "net.ipv4.tcp_abort_on_overflow", "1")?;
    overflow(t)
}

//! udp: what a UDP program is told when its datagrams meet a closed port or an unreachable
//! host: the ICMP error comes back, and whether the socket reports it depends on whether it
//! is connected and on IP_RECVERR (ip(7), ipv6(7)).

use sockerr_harness::{
    Direction, Endpoint, Events, Family, Hook, Host, Need, Proto, ScriptResult, SockOpt, Topology, Trial,
};

use crate::scenario::Scenario;

const PAYLOAD: &[u8] = b"ping";

pub fn scenarios() -> Vec<Scenario> {
    vec![
        Scenario {
            id: "udp.connected.port_unreachable",
            claim: "A connected UDP socket whose datagram meets a closed port gets ECONNREFUSED once, from whichever call comes next (recv, send or SO_ERROR), after the server's ICMP port unreachable; the datagram's send itself succeeded.",
            sources: &[
                "RFC 1122 §4.1.3.3 (UDP must pass ICMP errors up to the application)",
                "RFC 1122 §3.2.2.1 (destination unreachable, port unreachable)",
                "ip(7): IP_RECVERR, \"for connected sockets ... the error is passed ... in the next call\"",
                "udp(7): ECONNREFUSED \"no receiver was associated with the destination address\"",
            ],
            guidance: "ECONNREFUSED on a UDP socket is a report about an earlier datagram, not about the call that returned it: nothing listens on that port of the server right now. The call that returned it did nothing else (a send that returns it sent nothing): treat it as a hint, retry the request after a backoff, and give up or try another address after a few tries.",
            needs: &[
                Need::PacketCapture,
                Need::ProtocolCounters,
            ],
            script: connected_port_unreachable,
            ..Scenario::BASE
        },
        Scenario {
            id: "udp.unconnected.port_unreachable",
            claim: "An unconnected UDP socket is told nothing when its datagram meets a closed port: the ICMP port unreachable reaches the client's stack and is dropped there.",
            sources: &[
                "RFC 1122 §4.1.3.3 (UDP must pass ICMP errors up to the application)",
                "ip(7): IP_RECVERR, \"for unconnected sockets ... errors are not reported\" without it",
                "net/ipv4/udp.c __udp4_lib_err and net/ipv6/udp.c __udp6_lib_err (without recverr, only a hard error on a connected socket is reported)",
            ],
            guidance: "An unconnected UDP socket never learns that a datagram went nowhere: use a timeout on the reply and retransmit with backoff (RFC 8085 §3.1.3), or connect the socket (or set IP_RECVERR) to hear about ICMP errors.",
            needs: &[
                Need::PacketCapture,
                Need::ProtocolCounters,
            ],
            script: unconnected_port_unreachable,
            ..Scenario::BASE
        },
        Scenario {
            id: "udp.unconnected.recverr",
            claim: "With IP_RECVERR (IPV6_RECVERR) an unconnected UDP socket gets the port unreachable both as a pending ECONNREFUSED that the next recv or send returns and as an extended error in its error queue (MSG_ERRQUEUE) naming the ICMP error and its sender.",
            sources: &[
                "ip(7): IP_RECVERR, MSG_ERRQUEUE, struct sock_extended_err, SO_EE_OFFENDER",
                "ipv6(7): IPV6_RECVERR",
                "RFC 1122 §4.1.3.3 (UDP must pass ICMP errors up to the application)",
            ],
            guidance: "With IP_RECVERR every call may return the error of an earlier datagram to any destination: read the error queue (recvmsg with MSG_ERRQUEUE) to learn which destination and which ICMP error, drop or back off that destination, and go on using the socket for the others.",
            needs: &[
                Need::PacketCapture,
                Need::ProtocolCounters,
                Need::ErrorQueue,
            ],
            script: unconnected_recverr,
            ..Scenario::BASE
        },
        Scenario {
            id: "udp.connected.host_unreachable",
            claim: "A connected UDP socket is told nothing when a router answers its datagram with ICMP host unreachable (a soft error), unless IP_RECVERR (IPV6_RECVERR) is set, when the next recv returns EHOSTUNREACH and the error queue names the router.",
            sources: &[
                "RFC 1122 §4.1.3.3 (UDP must pass ICMP errors up to the application)",
                "RFC 1122 §4.2.3.9 (host unreachable is a soft error for TCP)",
                "ip(7): IP_RECVERR",
                "net/ipv4/icmp.c icmp_err_convert (host unreachable: EHOSTUNREACH, not fatal); net/ipv4/udp.c __udp4_lib_err",
            ],
            guidance: "A router's host unreachable is not reported to a UDP socket by default: a reply timeout with retransmission is the only reliable signal. Set IP_RECVERR (IPV6_RECVERR) to hear soft errors too, and treat EHOSTUNREACH as transient (routes change): back off and retry, or try another address.",
            topologies: &[Topology::Routed],
            needs: &[
                Need::Nftables,
                Need::PacketCapture,
                Need::ProtocolCounters,
                Need::ErrorQueue,
            ],
            script: connected_host_unreachable,
            ..Scenario::BASE
        },
    ]
}

/// The error-queue option of the trial's family (ip(7) IP_RECVERR, ipv6(7) IPV6_RECVERR).
fn recverr(t: &Trial, client: &mut Endpoint) {
    match t.family() {
        Family::V6 => client.setsockopt(SockOpt::Ipv6Recverr, 1),
        _ => client.setsockopt(SockOpt::IpRecverr, 1),
    };
}

/// Lets `host` answer every datagram with an ICMP error: the per-destination rate limit
/// (1 s by default) would otherwise be allowed to swallow the second one. A stack without the
/// sysctl (gVisor's netstack has none) keeps whatever limit it has; the trial still runs, and
/// the missing knob shows in its record.
fn lift_icmp_ratelimit(t: &mut Trial, host: Host) -> ScriptResult {
    match t.family() {
        Family::V6 => t.sysctl_where_present(host, "net.ipv6.icmp.ratelimit", "0"),
        _ => t.sysctl_where_present(host, "net.ipv4.icmp_ratelimit", "0"),
    }
}

/// The client stack's count of destination-unreachable errors received.
fn dest_unreach_counter(t: &Trial) -> &'static str {
    match t.family() {
        Family::V6 => "Icmp6InDestUnreachs",
        _ => "Icmp.InDestUnreachs",
    }
}

/// Waits until the `n`th ICMP error from `dir` is on the wire and the client's stack has
/// taken it (its ICMP counter moved). The waits are recorded.
fn await_icmp(t: &mut Trial, dir: Direction, n: usize) -> ScriptResult {
    t.wait_for_wire(
        &format!("ICMP error #{n} from the {} on the wire", who(dir)),
        |segments| {
            segments
                .iter()
                .filter(|s| s.dir == dir && s.proto == Proto::Icmp)
                .count()
                >= n
        },
    );
    let counter = dest_unreach_counter(t);
    t.wait_for_counter(
        Host::Client,
        counter,
        n as u64,
        &format!("the client's stack received ICMP error #{n} ({counter})"),
    )?;
    Ok(())
}

fn who(dir: Direction) -> &'static str {
    match dir {
        Direction::RouterToClient | Direction::RouterToServer => "router",
        _ => "server",
    }
}

/// send#1 reaches the closed port; recv#1 and recv#2 after its ICMP; send#2 and send#3 after
/// the second; send#4, then SO_ERROR twice after the third.
fn connected_port_unreachable(t: &mut Trial) -> ScriptResult {
    lift_icmp_ratelimit(t, Host::Server)?;
    let addr = t.closed_port();
    let mut client = t.udp_client()?;
    client.connect(&addr);
    for round in 1..=3 {
        client.send_nosignal(PAYLOAD);
        await_icmp(t, Direction::ServerToClient, round)?;
        t.wait_for_events(&client, Events::NONE, "the client's socket has the error (POLLERR)");
        match round {
            1 => {
                client.recv_nowait(64);
                client.recv_nowait(64);
            }
            2 => {
                client.send_nosignal(PAYLOAD);
            }
            _ => {
                client.so_error();
                client.so_error();
            }
        }
    }
    client.close();
    Ok(())
}

/// sendto#1, recv#1 after its ICMP; sendto#2 after that, SO_ERROR after the second ICMP.
fn unconnected_port_unreachable(t: &mut Trial) -> ScriptResult {
    lift_icmp_ratelimit(t, Host::Server)?;
    let addr = t.closed_port();
    let mut client = t.udp_client()?;
    client.sendto(&addr, PAYLOAD);
    await_icmp(t, Direction::ServerToClient, 1)?;
    client.recv_nowait(64);
    client.sendto(&addr, PAYLOAD);
    await_icmp(t, Direction::ServerToClient, 2)?;
    client.so_error();
    client.close();
    Ok(())
}

/// As the unconnected scenario with IP_RECVERR: after ICMP #1 a plain recv, then the error
/// queue until empty, then a plain recv; after ICMP #2 a sendto, the queue, SO_ERROR.
fn unconnected_recverr(t: &mut Trial) -> ScriptResult {
    lift_icmp_ratelimit(t, Host::Server)?;
    let addr = t.closed_port();
    let mut client = t.udp_client()?;
    recverr(t, &mut client);
    client.sendto(&addr, PAYLOAD);
    await_icmp(t, Direction::ServerToClient, 1)?;
    t.wait_for_events(&client, Events::NONE, "the client's socket has the error (POLLERR)");
    client.recv_nowait(64);
    client.recv_errqueue(64);
    client.recv_errqueue(64);
    client.recv_nowait(64);
    client.sendto(&addr, PAYLOAD);
    await_icmp(t, Direction::ServerToClient, 2)?;
    t.wait_for_events(&client, Events::NONE, "the client's socket has the error (POLLERR)");
    client.sendto(&addr, PAYLOAD);
    client.recv_errqueue(64);
    client.so_error();
    client.close();
    Ok(())
}

/// The router rejects the datagram with host unreachable: recv#1 and SO_ERROR without
/// IP_RECVERR; then with it, send#2, recv#2 and the error queue.
fn connected_host_unreachable(t: &mut Trial) -> ScriptResult {
    lift_icmp_ratelimit(t, Host::Router)?;
    t.firewall(
        Host::Router,
        Hook::Forward,
        "udp dport 9 reject with icmpx type host-unreachable",
    )?;
    let addr = t.closed_port();
    let mut client = t.udp_client()?;
    client.connect(&addr);
    client.send_nosignal(PAYLOAD);
    await_icmp(t, Direction::RouterToClient, 1)?;
    client.recv_nowait(64);
    client.so_error();
    recverr(t, &mut client);
    client.send_nosignal(PAYLOAD);
    await_icmp(t, Direction::RouterToClient, 2)?;
    t.wait_for_events(&client, Events::NONE, "the client's socket has the error (POLLERR)");
    client.recv_nowait(64);
    client.recv_errqueue(64);
    client.so_error();
    client.close();
    Ok(())
}

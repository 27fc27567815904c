//! connect: what a client is told when nobody listens, a firewall or router answers for the
//! server, nothing answers at all, or the client gives up first.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use sockerr_harness::sandbox::{UNROUTED_V4, UNROUTED_V6};
use sockerr_harness::trial::{SERVER_PORT, WAIT_DEADLINE};
use sockerr_harness::{Direction, Events, Family, Hook, Host, Need, ScriptResult, SockOpt, Topology, Trial};

use crate::scenario::Scenario;

/// ICMP errors need a router between client and server.
const ROUTED: &[Topology] = &[Topology::Routed];

/// The router's first ICMP error arrives while connect still holds the socket, so it is
/// only noted (sk_err_soft); the error for the retransmitted SYN ends the connect.
const ICMP_TIMER: &str = "the initial SYN retransmission timeout, 1 s (TCP_TIMEOUT_INIT): fixed by the kernel; the error for the first SYN is only a soft one when it arrives while connect holds the socket";

/// How long the application of `connect.syn_dropped.app_timeout` waits for its connect.
const APP_CONNECT_DEADLINE: Duration = Duration::from_millis(100);

pub fn scenarios() -> Vec<Scenario> {
    vec![
        Scenario {
            id: "connect.closed_port.blocking",
            claim: "A blocking connect to a port where nothing listens fails with ECONNREFUSED as soon as the server's kernel answers the SYN with a reset.",
            sources: &[
                "RFC 9293 §3.10.7.1 (a segment for a CLOSED connection is answered with a reset)",
                "RFC 9293 §3.10.7.3 (a reset in SYN-SENT: connection refused)",
                "connect(2): ECONNREFUSED",
            ],
            situations: &[1],
            guidance: "ECONNREFUSED: nothing listens on that address and port (or a firewall answers with a reset); the request never reached a server, so retrying is safe. Try the next address getaddrinfo returned, else back off (exponential, with jitter) and retry a bounded number of times, then report the service as down.",
            needs: &[Need::PacketCapture],
            runtimes: true,
            script: closed_port_blocking,
            ..Scenario::BASE
        },
        Scenario {
            id: "connect.closed_port.nonblocking",
            claim: "A non-blocking connect to a closed port returns EINPROGRESS, poll then reports the failure, SO_ERROR holds ECONNREFUSED once, and a second connect then fails with ECONNABORTED.",
            sources: &[
                "connect(2): EINPROGRESS, \"use getsockopt SO_ERROR to determine whether connect() completed successfully\"",
                "socket(7): SO_ERROR \"get and clear the pending socket error\"",
                "poll(2): POLLERR, POLLHUP",
            ],
            situations: &[1],
            guidance: "EINPROGRESS is not a failure: wait until poll reports the socket writable (treat POLLHUP and POLLERR as ready too), then read SO_ERROR once: 0 means connected, ECONNREFUSED that nothing listens (try the next address or back off). Never call connect again to learn the result, the error is consumed by then: close the socket and retry with a new one.",
            needs: &[Need::PacketCapture],
            script: closed_port_nonblocking,
            ..Scenario::BASE
        },
        Scenario {
            id: "connect.abandoned.late_synack",
            claim: "A client that closes a pending non-blocking connect sends nothing, and its kernel answers the server's late SYN-ACK with a reset, so the server never sees the connection.",
            sources: &[
                "RFC 9293 §3.10.7.1 (a segment for a CLOSED connection is answered with a reset)",
                "RFC 9293 §3.10.4 (CLOSE in SYN-SENT: delete the TCB, send nothing)",
                "connect(2): EINPROGRESS",
            ],
            situations: &[2],
            guidance: "Giving up on a pending connect is safe: close the socket; nothing was sent to the application on the other side, and a late SYN-ACK is reset by the kernel. Retry on a new socket with backoff; a server that logs resets from half-opened connections is seeing clients that gave up.",
            timer: Some("the listener's SYN-ACK retransmission timeout, 1 s (TCP_TIMEOUT_INIT): fixed by the kernel"),
            needs: &[Need::Nftables, Need::PacketCapture],
            script: abandoned_late_synack,
            ..Scenario::BASE
        },
        Scenario {
            id: "connect.firewall.reject_tcp_reset",
            claim: "A server firewall rule that rejects the SYN with a TCP reset makes connect fail with ECONNREFUSED although a listener is there, exactly like a closed port.",
            sources: &[
                "RFC 9293 §3.10.7.3 (a reset in SYN-SENT: connection refused)",
                "nft(8): reject with tcp reset",
                "connect(2): ECONNREFUSED",
            ],
            situations: &[1],
            guidance: "ECONNREFUSED does not prove that nothing listens: a firewall may answer for the server. Treat it like a closed port (try the next address, back off, retry a bounded number of times) and, when it persists while the service is up, check the firewall.",
            needs: &[Need::Nftables, Need::PacketCapture],
            runtimes: true,
            script: firewall_reject_tcp_reset,
            ..Scenario::BASE
        },
        Scenario {
            id: "connect.icmp.port_unreachable",
            claim: "A router that answers the SYN with an ICMP port unreachable makes a blocking connect fail with ECONNREFUSED, a hard error as RFC 1122 §4.2.3.9 has it.",
            sources: &[
                "RFC 1122 §4.2.3.9 (port unreachable is a hard error: abort the connection)",
                "RFC 792 (destination unreachable, code 3) / RFC 4443 §3.1 (code 4)",
                "RFC 5461 §4 (stacks that abort connection attempts on soft errors)",
                "connect(2): ECONNREFUSED",
            ],
            guidance: "ECONNREFUSED here came from a router or firewall on the path, not from the server: handle it like a closed port (next address, backoff, bounded retries) and suspect the path when the server is known to be up.",
            timer: Some(ICMP_TIMER),
            topologies: ROUTED,
            needs: &[Need::Nftables, Need::PacketCapture],
            runtimes: true,
            script: |t| router_rejects_syn(t, "port-unreachable", "port-unreachable"),
            ..Scenario::BASE
        },
        Scenario {
            id: "connect.icmp.host_unreachable",
            claim: "A router that answers the SYN with an ICMP host unreachable (ICMPv6 address unreachable) makes a blocking connect fail with EHOSTUNREACH: Linux aborts a connection attempt on this error, which RFC 1122 §4.2.3.9 counts as soft (it must not abort a connection).",
            sources: &[
                "RFC 1122 §4.2.3.9 (codes 0, 1 and 5 are soft errors: TCP must not abort the connection)",
                "RFC 792 (destination unreachable, code 1) / RFC 4443 §3.1 (code 3)",
                "RFC 5461 §4 (stacks that abort connection attempts on soft errors)",
                "connect(2): EHOSTUNREACH",
            ],
            guidance: "EHOSTUNREACH: a router could not reach the server's host. Try the next address getaddrinfo returned; otherwise back off and retry later, since the path or the host may come back.",
            timer: Some(ICMP_TIMER),
            topologies: ROUTED,
            needs: &[Need::Nftables, Need::PacketCapture],
            runtimes: true,
            script: |t| router_rejects_syn(t, "host-unreachable", "addr-unreachable"),
            ..Scenario::BASE
        },
        Scenario {
            id: "connect.icmp.net_unreachable",
            claim: "A router that answers the SYN with an ICMP network unreachable (ICMPv6 no route) makes a blocking connect fail with ENETUNREACH: Linux aborts a connection attempt on this error, which RFC 1122 §4.2.3.9 counts as soft (it must not abort a connection).",
            sources: &[
                "RFC 1122 §4.2.3.9 (codes 0, 1 and 5 are soft errors: TCP must not abort the connection)",
                "RFC 792 (destination unreachable, code 0) / RFC 4443 §3.1 (code 0)",
                "RFC 5461 §4 (stacks that abort connection attempts on soft errors)",
                "connect(2): ENETUNREACH",
            ],
            guidance: "ENETUNREACH from a router: the path to the server's network is broken somewhere beyond this host. Try the next address (another family may have a route), else back off and retry later.",
            timer: Some(ICMP_TIMER),
            topologies: ROUTED,
            needs: &[Need::Nftables, Need::PacketCapture],
            runtimes: true,
            script: |t| router_rejects_syn(t, "net-unreachable", "no-route"),
            ..Scenario::BASE
        },
        Scenario {
            id: "connect.icmp.admin_unreachable",
            claim: "A router that answers the SYN with an ICMP administratively prohibited makes a blocking connect fail, with EHOSTUNREACH over IPv4 but EACCES over IPv6.",
            sources: &[
                "RFC 1812 §5.2.7.1 (communication administratively prohibited, code 13)",
                "RFC 4443 §3.1 (communication with destination administratively prohibited, code 1)",
                "RFC 5461 §4 (stacks that abort connection attempts on soft errors)",
                "connect(2): EACCES, EHOSTUNREACH",
            ],
            guidance: "A firewall on the path forbids the connection: retrying will not help until its policy changes. Report it as blocked (not as the server being down), try another address, and expect EACCES or EHOSTUNREACH depending on the family.",
            timer: Some(ICMP_TIMER),
            topologies: ROUTED,
            needs: &[Need::Nftables, Need::PacketCapture],
            runtimes: true,
            script: |t| router_rejects_syn(t, "admin-prohibited", "admin-prohibited"),
            ..Scenario::BASE
        },
        Scenario {
            id: "connect.icmp.proto_unreachable",
            claim: "A router that answers the SYN with an ICMP protocol unreachable makes a blocking IPv4 connect fail with ENOPROTOOPT (ICMPv6 has no such destination-unreachable code, so IPv4 only).",
            sources: &[
                "RFC 1122 §4.2.3.9 (protocol unreachable is a hard error: abort the connection)",
                "RFC 792 (destination unreachable, code 2); RFC 4443 §3.4 signals an unknown next header with a parameter problem instead, which nft cannot send",
                "RFC 5461 §4 (stacks that abort connection attempts on soft errors)",
                "connect(2); errno(3): ENOPROTOOPT",
            ],
            guidance: "ENOPROTOOPT from connect is the kernel's name for an ICMP protocol unreachable: something on the path does not speak TCP to that address. It will not go away by retrying soon: try the next address and report the path as broken.",
            timer: Some(ICMP_TIMER),
            families: &[Family::V4],
            topologies: ROUTED,
            needs: &[Need::Nftables, Need::PacketCapture],
            runtimes: true,
            script: |t| router_rejects_syn(t, "prot-unreachable", "none"),
            ..Scenario::BASE
        },
        Scenario {
            id: "connect.no_route",
            claim: "A connect to an address the client has no route to fails at once with ENETUNREACH, and no SYN goes on the wire.",
            sources: &[
                "connect(2): ENETUNREACH, \"network is unreachable\"",
                "ip-route(8): no route matches the destination",
                "RFC 1122 §3.3.1 (routing outbound datagrams)",
            ],
            guidance: "ENETUNREACH straight from connect: this host has no route to that address (no default route, interface down, or a family without connectivity). Try the next address getaddrinfo returned, typically the other family; retrying the same address only helps once the network configuration changes.",
            topologies: &[Topology::TwoHosts],
            runtimes: true,
            script: no_route,
            ..Scenario::BASE
        },
        Scenario {
            id: "connect.syn_dropped.timeout",
            claim: "When the server's firewall silently drops every SYN, the kernel retransmits the SYN until the time budget TCP_SYNCNT implies runs out, then a blocking connect fails with ETIMEDOUT.",
            sources: &[
                "RFC 9293 §3.8.1 (retransmission timeout) and RFC 6298 §2.1 (an initial RTO of 1 s); Linux 6.12 and later space the first SYN retransmissions 1 s apart (tcp_syn_linear_timeouts) instead of doubling the timeout (RFC 6298 §5.5)",
                "RFC 1122 §4.2.3.5 (R2 for a SYN: at least 3 minutes, by default)",
                "tcp(7): TCP_SYNCNT, tcp_syn_retries",
                "connect(2): ETIMEDOUT",
            ],
            guidance: "ETIMEDOUT: nobody answered (a firewall dropping packets, a host that is down). Defaults make this take over two minutes, so set your own deadline (non-blocking connect and poll) rather than waiting for the kernel; then try the next address and back off.",
            timer: Some(
                "SYN retransmissions, shortened with TCP_SYNCNT=1 (its minimum): a budget of (2^2 - 1) x 1 s = 3 s (tcp_model_timeout), the SYNs 1 s apart (tcp_syn_linear_timeouts); TCP_USER_TIMEOUT would end it at the first RTO, 1 s, but skips the retries shown here",
            ),
            needs: &[Need::Nftables],
            script: syn_dropped_timeout,
            ..Scenario::BASE
        },
        Scenario {
            id: "connect.syn_dropped.app_timeout",
            claim: "When the application gives up on a pending connect whose SYNs are dropped, poll times out with nothing ready, SO_ERROR holds no error, and close sends nothing on the wire.",
            sources: &[
                "RFC 9293 §3.10.4 (CLOSE in SYN-SENT: delete the TCB, send nothing)",
                "poll(2): a return of 0 means the timeout expired",
                "connect(2): EINPROGRESS",
            ],
            situations: &[2],
            guidance: "Your own connect deadline is the way to bound the wait: on poll's timeout close the socket (nothing is sent, so the server is not disturbed) and retry with backoff or try the next address. Report a timeout, not a refusal: the server may be up behind a dropping firewall.",
            needs: &[Need::Nftables, Need::PacketCapture],
            script: syn_dropped_app_timeout,
            ..Scenario::BASE
        },
    ]
}

/// connect#1 blocks until the reset arrives.
fn closed_port_blocking(t: &mut Trial) -> ScriptResult {
    let addr = t.closed_port();
    let mut client = t.client()?;
    client.connect(&addr);
    t.wait_for_segment(Direction::ServerToClient, 'R');
    client.close();
    Ok(())
}

/// connect#1 returns at once; poll#1 waits for the outcome; SO_ERROR twice; connect#2.
fn closed_port_nonblocking(t: &mut Trial) -> ScriptResult {
    let addr = t.closed_port();
    let mut client = t.client()?;
    client.socket()?.set_nonblocking(true)?;
    client.connect(&addr);
    client.poll(Events::REQUESTABLE, WAIT_DEADLINE);
    client.so_error();
    client.so_error();
    client.connect(&addr);
    t.wait_for_segment(Direction::ServerToClient, 'R');
    client.close();
    Ok(())
}

/// The server's SYN-ACK is dropped at the client's input, so the client's connect stays
/// pending; the client closes, the rule goes, and the listener's own retransmission of the
/// SYN-ACK reaches a client that has forgotten the connection. Not at the server's output:
/// a SYN-ACK retransmission that the local firewall refuses makes the listener drop the
/// request (`reqsk_timer_handler` when `inet_rtx_syn_ack` fails), so a rule still in place
/// at the first retransmission (1 s; nft is that slow under emulation) would end the trial's
/// story there.
fn abandoned_late_synack(t: &mut Trial) -> ScriptResult {
    let mut listener = t.listener(16)?;
    listener.socket()?.set_nonblocking(true)?;
    t.firewall(
        Host::Client,
        Hook::Input,
        "tcp sport 4000 tcp flags & (syn | ack) == syn | ack drop",
    )?;
    let mut client = t.client()?;
    client.socket()?.set_nonblocking(true)?;
    client.connect(&t.server_addr(SERVER_PORT));
    t.wait_for_segment(Direction::ClientToServer, 'S');
    client.close();
    t.firewall_clear(Host::Client)?;
    t.wait_for_wire("the late SYN-ACK and the client's answer on the wire", |segments| {
        let synack = segments
            .iter()
            .position(|s| s.dir == Direction::ServerToClient && s.flags == "S.");
        synack.is_some_and(|at| {
            segments[at..]
                .iter()
                .any(|s| s.dir == Direction::ClientToServer && s.flags.contains('R'))
        })
    });
    listener.accept("server");
    listener.close();
    Ok(())
}

/// A listener is there, but the firewall in front of it answers the SYN with a reset.
fn firewall_reject_tcp_reset(t: &mut Trial) -> ScriptResult {
    let mut listener = t.listener(16)?;
    listener.socket()?.set_nonblocking(true)?;
    t.firewall(Host::Server, Hook::Input, "tcp dport 4000 reject with tcp reset")?;
    let mut client = t.client()?;
    client.connect(&t.server_addr(SERVER_PORT));
    t.wait_for_segment(Direction::ServerToClient, 'R');
    listener.accept("server");
    client.close();
    listener.close();
    Ok(())
}

/// The router's forward chain answers every SYN with the ICMP error `v4` (nft's `icmp type`
/// name) or `v6` (its `icmpv6 type` name), by the trial's family.
fn router_rejects_syn(t: &mut Trial, v4: &str, v6: &str) -> ScriptResult {
    let rule = match t.family() {
        Family::V6 => format!("tcp flags syn reject with icmpv6 type {v6}"),
        _ => format!("tcp flags syn reject with icmp type {v4}"),
    };
    t.firewall(Host::Router, Hook::Forward, &rule)?;
    let mut listener = t.listener(16)?;
    let mut client = t.client()?;
    client.connect(&t.server_addr(SERVER_PORT));
    t.wait_for_wire("the router's ICMP error on the wire", |segments| {
        segments.iter().any(|s| s.dir == Direction::RouterToClient)
    });
    client.close();
    listener.close();
    Ok(())
}

/// The client connects to an address no route of its host covers.
fn no_route(t: &mut Trial) -> ScriptResult {
    t.closed_port();
    let unrouted = match t.family() {
        Family::V6 => IpAddr::V6(UNROUTED_V6),
        _ => IpAddr::V4(UNROUTED_V4),
    };
    let mut client = t.client()?;
    client.connect(&SocketAddr::new(unrouted, SERVER_PORT));
    client.close();
    Ok(())
}

/// Every SYN is dropped at the server; TCP_SYNCNT=1 lets the kernel give up after one
/// retransmission.
fn syn_dropped_timeout(t: &mut Trial) -> ScriptResult {
    let mut listener = t.listener(16)?;
    t.firewall(Host::Server, Hook::Input, "tcp dport 4000 drop")?;
    let mut client = t.client()?;
    client.tune(SockOpt::TcpSyncnt, 1);
    client.connect(&t.server_addr(SERVER_PORT));
    client.close();
    listener.close();
    Ok(())
}

/// Every SYN is dropped at the server; the application's own deadline ends the wait.
fn syn_dropped_app_timeout(t: &mut Trial) -> ScriptResult {
    let mut listener = t.listener(16)?;
    t.firewall(Host::Server, Hook::Input, "tcp dport 4000 drop")?;
    let mut client = t.client()?;
    client.socket()?.set_nonblocking(true)?;
    client.connect(&t.server_addr(SERVER_PORT));
    t.wait_for_segment(Direction::ClientToServer, 'S');
    client.poll(Events::OUT, APP_CONNECT_DEADLINE);
    client.so_error();
    client.close();
    listener.close();
    Ok(())
}

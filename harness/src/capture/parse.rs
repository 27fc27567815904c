//! Frames to segments: decoding one Ethernet frame (possibly cut short by the snap length)
//! with etherparse's lax slicer into a TCP segment, a UDP datagram or an ICMP error,
//! tcpdump's flag notation, and relative sequence numbers per connection.
//!
//! One concept in one file, longer than 600 lines only by the tests that follow the code.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};

use etherparse::{IpNumber, LaxIpSlice, LaxNetSlice, LaxSlicedPacket, TransportSlice};

use crate::record::{Direction, Proto, Segment};

/// Length of the Ethernet header in front of every frame captured on `lo` and veth.
pub(crate) const ETH_HLEN: usize = 14;

/// TCP flag bits (byte 13 of the header).
pub(crate) mod flag {
    pub const FIN: u8 = 0x01;
    pub const SYN: u8 = 0x02;
    pub const RST: u8 = 0x04;
    pub const PSH: u8 = 0x08;
    pub const ACK: u8 = 0x10;
    pub const URG: u8 = 0x20;
    pub const ECE: u8 = 0x40;
    pub const CWR: u8 = 0x80;
}

/// The TCP header of one frame, with absolute numbers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TcpPacket {
    pub src: SocketAddr,
    pub dst: SocketAddr,
    pub seq: u32,
    pub ack: u32,
    /// Flag bits, see [`flag`].
    pub flags: u8,
    pub win: u16,
    /// Payload length, from the IP header's length field (not from the captured bytes).
    pub len: u32,
}

/// A UDP datagram.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct UdpPacket {
    pub src: SocketAddr,
    pub dst: SocketAddr,
    /// Payload length, from the UDP header.
    pub len: u32,
}

/// An ICMP or ICMPv6 error, with the addresses of the packet it quotes (the one it is
/// about). Informational messages (echo, neighbour discovery) are not errors and not kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct IcmpError {
    /// Who sent the error: a router on the path, or the destination host itself.
    pub from: IpAddr,
    /// `ICMP port-unreachable`, `ICMP6 admin-prohibited` (see [`icmp_name`]).
    pub name: String,
    /// Source and destination of the quoted packet.
    pub about_src: SocketAddr,
    pub about_dst: SocketAddr,
}

/// One decoded frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Packet {
    Tcp(TcpPacket),
    Udp(UdpPacket),
    Icmp(IcmpError),
}

/// The name nft(8) gives an ICMP error in `reject with icmp type ...` (and tcpdump's words
/// for the others), so that the wire reads like the rule that caused it.
pub(crate) fn icmp_name(v6: bool, kind: u8, code: u8) -> String {
    let name = match (v6, kind, code) {
        (false, 3, 0) => "net-unreachable",
        (false, 3, 1) => "host-unreachable",
        (false, 3, 2) => "prot-unreachable",
        (false, 3, 3) => "port-unreachable",
        (false, 3, 4) => "frag-needed",
        (false, 3, 9) => "net-prohibited",
        (false, 3, 10) => "host-prohibited",
        (false, 3, 13) => "admin-prohibited",
        (false, 11, _) => "time-exceeded",
        (false, 12, _) => "parameter-problem",
        (true, 1, 0) => "no-route",
        (true, 1, 1) => "admin-prohibited",
        (true, 1, 2) => "beyond-scope",
        (true, 1, 3) => "addr-unreachable",
        (true, 1, 4) => "port-unreachable",
        (true, 1, 5) => "policy-fail",
        (true, 1, 6) => "reject-route",
        (true, 2, _) => "packet-too-big",
        (true, 3, _) => "time-exceeded",
        (true, 4, 1) => "unrecognized-next-header",
        (true, 4, _) => "parameter-problem",
        _ => "",
    };
    let family = if v6 { "ICMP6" } else { "ICMP" };
    if name.is_empty() {
        format!("{family} type {kind} code {code}")
    } else {
        format!("{family} {name}")
    }
}

/// Whether an ICMP type is an error (RFC 792, RFC 4443 §2.1: ICMPv6 errors are types 0-127).
fn is_icmp_error(v6: bool, kind: u8) -> bool {
    if v6 {
        kind < 128
    } else {
        matches!(kind, 3 | 4 | 5 | 11 | 12)
    }
}

/// The bytes after the IP header (and any extension headers) of an Ethernet frame, as far as
/// captured: what [`crate::capture::Capture::mark_injected`] compares with the segments a
/// trial forged. The IP header is left out because the kernel may fill in parts of it (an
/// IPv4 identification of 0).
pub(crate) fn ip_payload(frame: &[u8]) -> Option<&[u8]> {
    let packet = LaxSlicedPacket::from_ethernet(frame).ok()?;
    match packet.net? {
        LaxNetSlice::Ipv4(ip) => Some(ip.payload().payload),
        LaxNetSlice::Ipv6(ip) => Some(ip.payload().payload),
        LaxNetSlice::Arp(_) => None,
    }
}

/// Decodes any frame the suite records: TCP, UDP, or an ICMP error. `None` for the rest
/// (ARP, neighbour discovery, echo).
pub(crate) fn parse_packet(frame: &[u8], orig_len: u32) -> Option<Packet> {
    if let Some(tcp) = parse_tcp(frame, orig_len) {
        return Some(Packet::Tcp(tcp));
    }
    let packet = LaxSlicedPacket::from_ethernet(frame).ok()?;
    let (src_ip, dst_ip): (IpAddr, IpAddr) = match packet.net.as_ref()? {
        LaxNetSlice::Ipv4(ip) => (ip.header().source_addr().into(), ip.header().destination_addr().into()),
        LaxNetSlice::Ipv6(ip) => (ip.header().source_addr().into(), ip.header().destination_addr().into()),
        LaxNetSlice::Arp(_) => return None,
    };
    let (v6, kind, code, quoted) = match packet.transport.as_ref()? {
        TransportSlice::Udp(udp) => {
            return Some(Packet::Udp(UdpPacket {
                src: SocketAddr::new(src_ip, udp.source_port()),
                dst: SocketAddr::new(dst_ip, udp.destination_port()),
                len: u32::from(udp.length()).saturating_sub(8),
            }));
        }
        TransportSlice::Icmpv4(icmp) => (false, icmp.type_u8(), icmp.code_u8(), icmp.payload()),
        TransportSlice::Icmpv6(icmp) => (true, icmp.type_u8(), icmp.code_u8(), icmp.payload()),
        _ => return None,
    };
    if !is_icmp_error(v6, kind) {
        return None;
    }
    // ICMPv4 errors carry 4 unused bytes, then the quoted packet; etherparse's ICMPv4 payload
    // starts after the 8-byte header, as does its ICMPv6 payload.
    let (ip, _) = LaxIpSlice::from_slice(quoted).ok()?;
    let ports = ip.payload().payload;
    let port = |at: usize| Some(u16::from_be_bytes([*ports.get(at)?, *ports.get(at + 1)?]));
    let (sport, dport) = match ip.payload().ip_number {
        IpNumber::TCP | IpNumber::UDP => (port(0)?, port(2)?),
        _ => (0, 0),
    };
    Some(Packet::Icmp(IcmpError {
        from: src_ip,
        name: icmp_name(v6, kind, code),
        about_src: SocketAddr::new(ip.source_addr(), sport),
        about_dst: SocketAddr::new(ip.destination_addr(), dport),
    }))
}

/// The length the frame had on the wire, from its IP header: 14 + IPv4 total length, or
/// 14 + 40 + IPv6 payload length. `None` for non-IP frames and for a length field of 0
/// (IPv4 GSO "BIG TCP" packets and IPv6 jumbograms above 64 KiB leave it 0).
pub(crate) fn ip_wire_len(frame: &[u8]) -> Option<u32> {
    let ethertype = u16::from_be_bytes([*frame.get(12)?, *frame.get(13)?]);
    let field = |at: usize| Some(u16::from_be_bytes([*frame.get(at)?, *frame.get(at + 1)?]) as u32);
    let ip_len = match ethertype {
        0x0800 => field(ETH_HLEN + 2)?,
        0x86dd => match field(ETH_HLEN + 4)? {
            0 => 0,
            payload => 40 + payload,
        },
        _ => return None,
    };
    (ip_len > 0).then_some(ETH_HLEN as u32 + ip_len)
}

/// Decodes the TCP header of an Ethernet frame cut to any length that still holds the TCP
/// header. `orig_len` is the frame's length on the wire; it is used only when the IP header
/// does not carry the length (see [`ip_wire_len`]). `None` for anything that is not TCP.
pub(crate) fn parse_tcp(frame: &[u8], orig_len: u32) -> Option<TcpPacket> {
    let packet = LaxSlicedPacket::from_ethernet(frame).ok()?;
    let (src_ip, dst_ip): (IpAddr, IpAddr) = match packet.net.as_ref()? {
        LaxNetSlice::Ipv4(ip) => (ip.header().source_addr().into(), ip.header().destination_addr().into()),
        LaxNetSlice::Ipv6(ip) => (ip.header().source_addr().into(), ip.header().destination_addr().into()),
        LaxNetSlice::Arp(_) => return None,
    };
    let Some(TransportSlice::Tcp(tcp)) = packet.transport.as_ref() else {
        return None;
    };
    // Where the TCP header starts in the frame (after any IP options or extension headers).
    let tcp_start = tcp.slice().as_ptr() as usize - frame.as_ptr() as usize;
    let wire_len = ip_wire_len(frame).unwrap_or(orig_len) as usize;
    let len = wire_len.saturating_sub(tcp_start + tcp.header_slice().len());
    Some(TcpPacket {
        src: SocketAddr::new(src_ip, tcp.source_port()),
        dst: SocketAddr::new(dst_ip, tcp.destination_port()),
        seq: tcp.sequence_number(),
        ack: tcp.acknowledgment_number(),
        flags: tcp.header_slice()[13],
        win: tcp.window_size(),
        len: len as u32,
    })
}

/// Flags as tcpdump prints them between brackets: its order is F S R P . U E W (print-tcp.c
/// `tcp_flag_values`), so `S`, `S.`, `.`, `P.`, `F.`, `FP.`, `R`, `R.`, and with ECN `SEW`
/// and `S.E`.
pub(crate) fn flags_notation(flags: u8) -> String {
    const ORDER: [(u8, char); 8] = [
        (flag::FIN, 'F'),
        (flag::SYN, 'S'),
        (flag::RST, 'R'),
        (flag::PSH, 'P'),
        (flag::ACK, '.'),
        (flag::URG, 'U'),
        (flag::ECE, 'E'),
        (flag::CWR, 'W'),
    ];
    let s: String = ORDER
        .iter()
        .filter(|(bit, _)| flags & bit != 0)
        .map(|&(_, c)| c)
        .collect();
    if s.is_empty() { "none".to_string() } else { s }
}

/// Whether `addr` is the server's endpoint. An unspecified server address (a socket bound
/// to `0.0.0.0` or `::`) matches any address with the port; IPv4-mapped IPv6 addresses match
/// their IPv4 address, as a dual-stack server's peer shows up as IPv4 on the wire.
fn is_server(server: SocketAddr, addr: SocketAddr) -> bool {
    server.port() == addr.port()
        && (server.ip().is_unspecified() || server.ip().to_canonical() == addr.ip().to_canonical())
}

/// The direction of a packet between `src` and `dst` relative to the server, or `None` if it
/// is not to or from it.
fn direction_between(server: SocketAddr, src: SocketAddr, dst: SocketAddr) -> Option<Direction> {
    if is_server(server, src) {
        Some(Direction::ServerToClient)
    } else if is_server(server, dst) {
        Some(Direction::ClientToServer)
    } else {
        None
    }
}

/// Whether `packet` goes to or from `server`, or is an ICMP error about such a packet.
pub(crate) fn concerns(packet: &Packet, server: SocketAddr) -> bool {
    match packet {
        Packet::Tcp(p) => direction_between(server, p.src, p.dst).is_some(),
        Packet::Udp(u) => direction_between(server, u.src, u.dst).is_some(),
        Packet::Icmp(icmp) => direction_between(server, icmp.about_src, icmp.about_dst).is_some(),
    }
}

/// The direction of a TCP packet relative to the server, or `None` if it is not to or from it.
pub(crate) fn direction(server: SocketAddr, p: &TcpPacket) -> Option<Direction> {
    direction_between(server, p.src, p.dst)
}

/// `value` relative to the base it lies closest after: the first sequence number of the
/// incarnation of the connection it belongs to. A segment that belongs to an earlier
/// incarnation of the same 4-tuple (a TIME_WAIT answering a new SYN with the old numbers, and
/// the reset that answers it) keeps its old relative numbers instead of showing the distance
/// between two random initial sequence numbers.
fn relative(bases: &[u32], value: u32) -> u32 {
    bases
        .iter()
        .map(|&base| value.wrapping_sub(base))
        .min()
        .unwrap_or(value)
}

/// A decoded frame and where it was tapped.
pub(crate) struct Tapped<'a> {
    /// Microseconds since the start of the trial.
    pub t_us: u64,
    /// Tapped in a namespace that forwards packets (a router): of its frames only the ICMP
    /// errors it sends itself are its own; the rest are other hosts' packets passing through,
    /// already tapped where they were sent.
    pub forwarder: bool,
    /// Forged by the trial (see [`crate::capture::Capture::mark_injected`]).
    pub injected: bool,
    pub packet: &'a Packet,
}

/// Turns packets, in time order, into segments with relative numbers, keeping those to or
/// from `server` and the ICMP errors about them.
///
/// Relative numbers are per direction of a connection (its 4-tuple): `seq` is relative to
/// the first sequence number seen in that direction; `ack` to the first one seen in the
/// opposite direction, or absolute when that direction has not been seen yet. A segment
/// without the ACK flag gets `ack` 0, as its acknowledgement field means nothing (tcpdump
/// does not print it). A SYN that starts a new connection on a 4-tuple already seen (a
/// different ISN) starts a new incarnation, numbered from its own ISN, as tcpdump does; a
/// later segment of the earlier incarnation keeps its old numbers (see [`relative`]).
///
/// An ICMP error goes the opposite way of the packet it quotes; one sent by a router is
/// `router>client` (or `router>server`).
pub(crate) fn to_segments<'a>(packets: impl IntoIterator<Item = Tapped<'a>>, server: SocketAddr) -> Vec<Segment> {
    // Per direction of a 4-tuple, the first sequence number of each incarnation seen.
    let mut bases: HashMap<(SocketAddr, SocketAddr), Vec<u32>> = HashMap::new();
    let mut out = Vec::new();
    for Tapped {
        t_us,
        forwarder,
        injected,
        packet,
    } in packets
    {
        let p = match packet {
            Packet::Tcp(p) if !forwarder => p,
            Packet::Udp(u) if !forwarder => {
                if let Some(dir) = direction_between(server, u.src, u.dst) {
                    out.push(Segment {
                        dir,
                        proto: Proto::Udp,
                        flags: "UDP".into(),
                        seq: 0,
                        ack: 0,
                        len: u.len,
                        t_us,
                        src: u.src.to_string(),
                        dst: u.dst.to_string(),
                        win: 0,
                        injected,
                    });
                }
                continue;
            }
            Packet::Icmp(icmp) => {
                let own = !forwarder || (icmp.from != icmp.about_src.ip() && icmp.from != icmp.about_dst.ip());
                let Some(about) = direction_between(server, icmp.about_src, icmp.about_dst).filter(|_| own) else {
                    continue;
                };
                let dir = match (about, forwarder) {
                    (Direction::ClientToServer, true) => Direction::RouterToClient,
                    (Direction::ClientToServer, false) => Direction::ServerToClient,
                    (_, true) => Direction::RouterToServer,
                    (_, false) => Direction::ClientToServer,
                };
                out.push(Segment {
                    dir,
                    proto: Proto::Icmp,
                    flags: icmp.name.clone(),
                    seq: 0,
                    ack: 0,
                    len: 0,
                    t_us,
                    src: icmp.from.to_string(),
                    dst: icmp.about_src.ip().to_string(),
                    win: 0,
                    injected,
                });
                continue;
            }
            _ => continue,
        };
        let fwd = (p.src, p.dst);
        let rev = (p.dst, p.src);
        let known = bases.entry(fwd).or_default();
        if known.is_empty() || (p.flags & flag::SYN != 0 && !known.contains(&p.seq)) {
            known.push(p.seq);
        }
        let Some(dir) = direction(server, p) else {
            continue;
        };
        // A reset answering a segment that had no ACK carries sequence number 0 (RFC 9293
        // §3.10.7.1, <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>): shown as sent, not relative
        // to an earlier incarnation's numbers it has nothing to do with.
        let seq = if p.flags & flag::RST != 0 && p.seq == 0 {
            0
        } else {
            relative(&bases[&fwd], p.seq)
        };
        let ack = if p.flags & flag::ACK == 0 {
            0
        } else {
            bases.get(&rev).map_or(p.ack, |b| relative(b, p.ack))
        };
        out.push(Segment {
            dir,
            proto: Proto::Tcp,
            flags: flags_notation(p.flags),
            seq,
            ack,
            len: p.len,
            t_us,
            src: p.src.to_string(),
            dst: p.dst.to_string(),
            win: p.win,
            injected,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use etherparse::PacketBuilder;

    const CLIENT: [u8; 4] = [10, 0, 0, 1];
    const SERVER: [u8; 4] = [10, 0, 0, 2];
    const CPORT: u16 = 40000;
    const SPORT: u16 = 8080;

    /// A frame from client to server (or back, with `reply`), with the given flags.
    fn frame(reply: bool, seq: u32, ack: Option<u32>, flags: u8, payload: &[u8]) -> Vec<u8> {
        let (s, d, sp, dp) = if reply {
            (SERVER, CLIENT, SPORT, CPORT)
        } else {
            (CLIENT, SERVER, CPORT, SPORT)
        };
        let mut b = PacketBuilder::ethernet2([2; 6], [4; 6])
            .ipv4(s, d, 64)
            .tcp(sp, dp, seq, 64240);
        if flags & flag::SYN != 0 {
            b = b.syn();
        }
        if flags & flag::FIN != 0 {
            b = b.fin();
        }
        if flags & flag::RST != 0 {
            b = b.rst();
        }
        if flags & flag::PSH != 0 {
            b = b.psh();
        }
        if let Some(a) = ack {
            b = b.ack(a);
        }
        let mut out = Vec::new();
        b.write(&mut out, payload).unwrap();
        out
    }

    fn tapped(t_us: u64, packet: &Packet) -> Tapped<'_> {
        Tapped {
            t_us,
            forwarder: false,
            injected: false,
            packet,
        }
    }

    fn flags_of(f: &[u8]) -> String {
        flags_notation(parse_tcp(f, f.len() as u32).unwrap().flags)
    }

    #[test]
    fn flags_are_written_in_tcpdump_notation() {
        use flag::*;
        assert_eq!(flags_of(&frame(false, 1, None, SYN, &[])), "S");
        assert_eq!(flags_of(&frame(true, 1, Some(2), SYN, &[])), "S.");
        assert_eq!(flags_of(&frame(true, 0, None, RST, &[])), "R");
        assert_eq!(flags_of(&frame(true, 0, Some(2), RST, &[])), "R.");
        assert_eq!(flags_of(&frame(false, 1, Some(2), FIN, &[])), "F.");
        assert_eq!(flags_of(&frame(false, 1, Some(2), PSH, b"hi")), "P.");
        assert_eq!(flags_of(&frame(false, 1, Some(2), FIN | PSH, b"hi")), "FP.");
        assert_eq!(flags_of(&frame(false, 1, Some(2), 0, &[])), ".");
        // tcpdump's own order puts ECN flags after the dot.
        assert_eq!(flags_notation(SYN | ECE | CWR), "SEW");
        assert_eq!(flags_notation(SYN | ACK | ECE), "S.E");
    }

    #[test]
    fn payload_length_comes_from_the_ip_header_of_a_truncated_frame() {
        let full = frame(false, 1, Some(1), flag::PSH, &[0x55; 1500 - 40]);
        assert_eq!(full.len(), 14 + 1500);
        let cut = &full[..256];
        assert_eq!(ip_wire_len(cut), Some(1514));
        let p = parse_tcp(cut, 256).unwrap();
        assert_eq!(p.len, 1460);
        assert_eq!(
            (p.src, p.dst),
            ("10.0.0.1:40000".parse().unwrap(), "10.0.0.2:8080".parse().unwrap())
        );
    }

    #[test]
    fn payload_length_of_an_ipv6_frame_counts_from_the_tcp_header() {
        let b = PacketBuilder::ethernet2([2; 6], [4; 6])
            .ipv6([0xfd; 16], [0xfe; 16], 64)
            .tcp(1, 2, 3, 4)
            .ack(5);
        let mut full = Vec::new();
        b.write(&mut full, &[7; 3000]).unwrap();
        let p = parse_tcp(&full[..256], 256).unwrap();
        assert_eq!(p.len, 3000);
        assert_eq!(p.src.to_string(), "[fdfd:fdfd:fdfd:fdfd:fdfd:fdfd:fdfd:fdfd]:1");
    }

    #[test]
    fn a_zero_ip_length_falls_back_to_the_original_length() {
        let mut full = frame(false, 1, Some(1), 0, &[1; 100]);
        full[16] = 0; // IPv4 total length 0, as for a BIG TCP GSO packet
        full[17] = 0;
        assert_eq!(ip_wire_len(&full), None);
        assert_eq!(parse_tcp(&full, full.len() as u32).unwrap().len, 100);
    }

    /// RFC 792: a destination-unreachable message quotes the IP header and the first 8 bytes
    /// of the datagram it is about; the segment goes the other way, and a router's own
    /// error is told apart from an error it merely forwards.
    #[test]
    fn an_icmp_error_is_a_segment_about_the_packet_it_quotes() {
        let syn = frame(false, 1, None, flag::SYN, &[]);
        let quoted = &syn[ETH_HLEN..ETH_HLEN + 28];
        let router = [10, 0, 1, 254];
        let icmp_from = |src: [u8; 4]| {
            let b = PacketBuilder::ethernet2([2; 6], [4; 6]).ipv4(src, CLIENT, 64).icmpv4(
                etherparse::Icmpv4Type::DestinationUnreachable(etherparse::icmpv4::DestUnreachableHeader::Host),
            );
            let mut out = Vec::new();
            b.write(&mut out, quoted).unwrap();
            parse_packet(&out, out.len() as u32).unwrap()
        };
        let server: SocketAddr = "10.0.0.2:8080".parse().unwrap();
        let (from_router, from_server) = (icmp_from(router), icmp_from(SERVER));
        let at_router = |p| Tapped {
            t_us: 0,
            forwarder: true,
            injected: false,
            packet: p,
        };
        let segs = to_segments([at_router(&from_router), at_router(&from_server)], server);
        assert_eq!(segs.len(), 1, "a forwarded error is the sender's, not the router's");
        assert_eq!(
            (segs[0].dir, segs[0].proto, segs[0].flags.as_str()),
            (Direction::RouterToClient, Proto::Icmp, "ICMP host-unreachable")
        );
        assert_eq!((segs[0].src.as_str(), segs[0].dst.as_str()), ("10.0.1.254", "10.0.0.1"));
        let segs = to_segments([tapped(0, &from_server)], server);
        assert_eq!(segs[0].dir, Direction::ServerToClient);
        assert_eq!(
            segs[0].to_string(),
            "     0.000ms server>client [ICMP host-unreachable] len 0"
        );
    }

    #[test]
    fn icmp_errors_are_named_as_nft_names_them() {
        assert_eq!(icmp_name(false, 3, 13), "ICMP admin-prohibited");
        assert_eq!(icmp_name(true, 1, 4), "ICMP6 port-unreachable");
        assert_eq!(icmp_name(false, 3, 7), "ICMP type 3 code 7");
        assert!(is_icmp_error(true, 1) && !is_icmp_error(true, 135) && !is_icmp_error(false, 8));
    }

    #[test]
    fn a_udp_datagram_is_a_segment_with_its_payload_length() {
        let b = PacketBuilder::ethernet2([2; 6], [4; 6])
            .ipv4(CLIENT, SERVER, 64)
            .udp(CPORT, SPORT);
        let mut udp = Vec::new();
        b.write(&mut udp, b"xyz").unwrap();
        let p = parse_packet(&udp, udp.len() as u32).unwrap();
        let segs = to_segments([tapped(5, &p)], "10.0.0.2:8080".parse().unwrap());
        assert_eq!(
            (segs[0].dir, segs[0].proto, segs[0].len),
            (Direction::ClientToServer, Proto::Udp, 3)
        );
    }

    #[test]
    fn non_tcp_frames_are_not_segments() {
        let b = PacketBuilder::ethernet2([2; 6], [4; 6])
            .ipv4(CLIENT, SERVER, 64)
            .udp(1, 2);
        let mut udp = Vec::new();
        b.write(&mut udp, b"x").unwrap();
        assert_eq!(parse_tcp(&udp, udp.len() as u32), None);
        assert_eq!(parse_tcp(&[0; 10], 10), None);
    }

    #[test]
    fn sequence_numbers_are_relative_per_direction_of_each_connection() {
        use flag::*;
        let server: SocketAddr = "10.0.0.2:8080".parse().unwrap();
        let (c, s) = (1_000_000u32, 4_000_000_000u32); // the server's ISN wraps around
        let frames = [
            frame(false, c, None, SYN, &[]),
            frame(true, s, Some(c + 1), SYN, &[]),
            frame(false, c + 1, Some(s.wrapping_add(1)), 0, &[]),
            frame(false, c + 1, Some(s.wrapping_add(1)), PSH, b"hello"),
            frame(true, s.wrapping_add(1), Some(c + 6), 0, &[]),
            frame(true, s.wrapping_add(1), Some(c + 6), FIN, &[]),
        ];
        let packets: Vec<Packet> = frames
            .iter()
            .map(|f| parse_packet(f, f.len() as u32).unwrap())
            .collect();
        let segs = to_segments(packets.iter().enumerate().map(|(i, p)| tapped(i as u64, p)), server);
        let got: Vec<(Direction, &str, u32, u32, u32)> = segs
            .iter()
            .map(|s| (s.dir, s.flags.as_str(), s.seq, s.ack, s.len))
            .collect();
        use Direction::*;
        assert_eq!(
            got,
            [
                (ClientToServer, "S", 0, 0, 0),
                (ServerToClient, "S.", 0, 1, 0),
                (ClientToServer, ".", 1, 1, 0),
                (ClientToServer, "P.", 1, 1, 5),
                (ServerToClient, ".", 1, 6, 0),
                (ServerToClient, "F.", 1, 6, 0),
            ]
        );
        assert_eq!(segs[0].src, "10.0.0.1:40000");
        assert_eq!(segs[1].win, 64240);
    }

    /// RFC 9293 §3.10.7.4 / RFC 1337: a TIME_WAIT answers a new SYN on its 4-tuple with an
    /// ACK in the old connection's numbers, and the reset that answers it carries them too;
    /// both keep the old incarnation's relative numbers, and a reset with SEQ=0 shows 0.
    #[test]
    fn segments_of_an_earlier_incarnation_keep_their_own_relative_numbers() {
        use flag::*;
        let server: SocketAddr = "10.0.0.2:8080".parse().unwrap();
        let (c, s, s2) = (1_000u32, 3_000_000u32, 2_000_000_000u32);
        let frames = [
            frame(false, c, None, SYN, &[]),
            frame(true, s, Some(c + 1), SYN, &[]),
            frame(false, c + 1, Some(s + 1), FIN, &[]),
            frame(true, s2, None, SYN, &[]), // a new incarnation from the server's side
            frame(false, c + 2, Some(s + 2), 0, &[]), // TIME_WAIT's ACK, old numbers
            frame(true, s + 2, None, RST, &[]), // the reset answering it
            frame(false, 0, Some(s2 + 1), RST, &[]), // a reset to the SYN: SEQ=0
        ];
        let packets: Vec<Packet> = frames
            .iter()
            .map(|f| parse_packet(f, f.len() as u32).unwrap())
            .collect();
        let segs = to_segments(packets.iter().map(|p| tapped(0, p)), server);
        let got: Vec<(&str, u32, u32)> = segs.iter().map(|s| (s.flags.as_str(), s.seq, s.ack)).collect();
        assert_eq!(
            got,
            [
                ("S", 0, 0),
                ("S.", 0, 1),
                ("F.", 1, 1),
                ("S", 0, 0),
                (".", 2, 2),
                ("R", 2, 0),
                ("R.", 0, 1)
            ]
        );
    }

    #[test]
    fn an_ack_with_no_reverse_direction_seen_is_absolute() {
        let server: SocketAddr = "10.0.0.2:8080".parse().unwrap();
        let f = frame(true, 77, Some(12345), flag::RST, &[]);
        let p = parse_packet(&f, f.len() as u32).unwrap();
        let segs = to_segments([tapped(0, &p)], server);
        assert_eq!((segs[0].flags.as_str(), segs[0].seq, segs[0].ack), ("R.", 0, 12345));
    }

    #[test]
    fn segments_of_two_connections_are_numbered_apart_and_others_ignored() {
        let server: SocketAddr = "10.0.0.2:8080".parse().unwrap();
        let a = frame(false, 100, None, flag::SYN, &[]);
        let mut b = frame(false, 900, None, flag::SYN, &[]);
        b[ETH_HLEN + 20..ETH_HLEN + 22].copy_from_slice(&40001u16.to_be_bytes()); // other client port
        let mut other = frame(false, 5, None, flag::SYN, &[]);
        other[ETH_HLEN + 22..ETH_HLEN + 24].copy_from_slice(&9u16.to_be_bytes()); // not the server
        let packets: Vec<Packet> = [&a, &b, &other].iter().map(|f| parse_packet(f, 0).unwrap()).collect();
        let segs = to_segments(packets.iter().map(|p| tapped(0, p)), server);
        assert_eq!(segs.len(), 2);
        assert!(segs.iter().all(|s| s.seq == 0 && s.flags == "S"));
        assert_eq!(segs[1].src, "10.0.0.1:40001");
        // A dual-stack server given as an unspecified or IPv4-mapped address still matches.
        for server in ["[::]:8080", "[::ffff:10.0.0.2]:8080", "0.0.0.0:8080"] {
            assert_eq!(
                to_segments(packets.iter().map(|p| tapped(0, p)), server.parse().unwrap()).len(),
                2
            );
        }
    }
}

//! Frames to TCP segments: decoding one Ethernet frame (possibly cut short by the snap
//! length) with etherparse's lax slicer, tcpdump's flag notation, and relative sequence
//! numbers per connection.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};

use etherparse::{LaxNetSlice, LaxSlicedPacket, TransportSlice};

use crate::record::{Direction, Segment};

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

/// The direction of a packet relative to the server, or `None` if it is not to or from it.
pub(crate) fn direction(server: SocketAddr, p: &TcpPacket) -> Option<Direction> {
    if is_server(server, p.src) {
        Some(Direction::ServerToClient)
    } else if is_server(server, p.dst) {
        Some(Direction::ClientToServer)
    } else {
        None
    }
}

/// Turns packets, in time order and with their time since the start of the trial in µs,
/// into segments with relative numbers, keeping those to or from `server`.
///
/// Relative numbers are per direction of a connection (its 4-tuple): `seq` is relative to
/// the first sequence number seen in that direction; `ack` to the first one seen in the
/// opposite direction, or absolute when that direction has not been seen yet. A segment
/// without the ACK flag gets `ack` 0, as its acknowledgement field means nothing (tcpdump
/// does not print it). A SYN that starts a new connection on a 4-tuple already seen (a
/// different ISN) starts over, as tcpdump does.
pub(crate) fn to_segments<'a>(
    packets: impl IntoIterator<Item = (u64, &'a TcpPacket)>,
    server: SocketAddr,
) -> Vec<Segment> {
    let mut first_seq: HashMap<(SocketAddr, SocketAddr), u32> = HashMap::new();
    let mut out = Vec::new();
    for (t_us, p) in packets {
        let fwd = (p.src, p.dst);
        let rev = (p.dst, p.src);
        if p.flags & flag::SYN != 0 && first_seq.get(&fwd).is_some_and(|&s| s != p.seq) {
            // A new incarnation of the connection (or a new SYN-ACK): start over.
            if p.flags & flag::ACK == 0 {
                first_seq.remove(&rev);
            }
            first_seq.insert(fwd, p.seq);
        }
        let base = *first_seq.entry(fwd).or_insert(p.seq);
        let Some(dir) = direction(server, p) else {
            continue;
        };
        let ack = if p.flags & flag::ACK == 0 {
            0
        } else {
            first_seq.get(&rev).map_or(p.ack, |&b| p.ack.wrapping_sub(b))
        };
        out.push(Segment {
            dir,
            flags: flags_notation(p.flags),
            seq: p.seq.wrapping_sub(base),
            ack,
            len: p.len,
            t_us,
            src: p.src.to_string(),
            dst: p.dst.to_string(),
            win: p.win,
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
        let packets: Vec<TcpPacket> = frames.iter().map(|f| parse_tcp(f, f.len() as u32).unwrap()).collect();
        let segs = to_segments(packets.iter().enumerate().map(|(i, p)| (i as u64, p)), server);
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

    #[test]
    fn an_ack_with_no_reverse_direction_seen_is_absolute() {
        let server: SocketAddr = "10.0.0.2:8080".parse().unwrap();
        let f = frame(true, 77, Some(12345), flag::RST, &[]);
        let p = parse_tcp(&f, f.len() as u32).unwrap();
        let segs = to_segments([(0, &p)], server);
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
        let packets: Vec<TcpPacket> = [&a, &b, &other].iter().map(|f| parse_tcp(f, 0).unwrap()).collect();
        let segs = to_segments(packets.iter().map(|p| (0, p)), server);
        assert_eq!(segs.len(), 2);
        assert!(segs.iter().all(|s| s.seq == 0 && s.flags == "S"));
        assert_eq!(segs[1].src, "10.0.0.1:40001");
        // A dual-stack server given as an unspecified or IPv4-mapped address still matches.
        for server in ["[::]:8080", "[::ffff:10.0.0.2]:8080", "0.0.0.0:8080"] {
            assert_eq!(
                to_segments(packets.iter().map(|p| (0, p)), server.parse().unwrap()).len(),
                2
            );
        }
    }
}

//! Forged segments: a third party's TCP segment or ICMP error, built with etherparse and sent
//! from the namespace of the host it impersonates through a raw IP socket, with numbers
//! derived from the trial's own capture of the connection. The frame that carries it is
//! marked injected in the wire and in the pcapng; the step that sent it is recorded on the
//! endpoint it is aimed at (`client.inject#1`).

use std::net::{IpAddr, SocketAddr};
use std::time::Instant;

use etherparse::{Icmpv4Type, Icmpv6Type, PacketBuilder, PacketBuilderStep, icmpv4, icmpv6};

use super::{Host, SetupError, Trial, lock};
use crate::capabilities::Need;
use crate::endpoint::Endpoint;
use crate::record::Step;
use crate::sys;
use crate::verb::Verb;

/// TCP flag bits of a forged segment (byte 13 of the header).
pub mod flag {
    pub const FIN: u8 = 0x01;
    pub const SYN: u8 = 0x02;
    pub const RST: u8 = 0x04;
    pub const PSH: u8 = 0x08;
    pub const ACK: u8 = 0x10;
}

/// What one side of a connection sent, as the capture saw it: the numbers a forged segment
/// is derived from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sent {
    /// Its first sequence number (ISS).
    pub iss: u32,
    /// SND.NXT: the sequence number after everything it sent (a SYN and a FIN count one).
    pub snd_nxt: u32,
    /// The acknowledgement number it last sent (its RCV.NXT then), if it sent an ACK.
    pub ack: Option<u32>,
    /// The window it last advertised, unscaled as on the wire.
    pub win: u16,
}

/// `a` is after `b` in sequence space (RFC 9293 §3.4, modulo 2^32).
fn after(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) > 0
}

/// One forged TCP segment. Scripts write it as an update of [`Forged::from`], saying only
/// what differs (`Forged { flags: flag::RST, seq, ..Forged::from(Host::Server, server, client) }`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Forged {
    /// The host it impersonates: the namespace it is sent from.
    pub from: Host,
    pub src: SocketAddr,
    pub dst: SocketAddr,
    /// Bits of [`flag`].
    pub flags: u8,
    pub seq: u32,
    /// Sent only with [`flag::ACK`].
    pub ack: u32,
    pub win: u16,
    pub payload: &'static [u8],
    /// How the numbers were chosen from the captured connection, for the step's text:
    /// `seq=RCV.NXT (exact)`, `seq=RCV.NXT+win/2 (in window)`.
    pub numbers: String,
}

impl Forged {
    /// The template: no flags, zero numbers, a window of 512, no payload.
    pub fn from(from: Host, src: SocketAddr, dst: SocketAddr) -> Forged {
        Forged {
            from,
            src,
            dst,
            flags: 0,
            seq: 0,
            ack: 0,
            win: 512,
            payload: b"",
            numbers: String::new(),
        }
    }

    /// Flags in tcpdump's notation, as the wire shows them (`R`, `S.`, `none`).
    pub fn flags_notation(&self) -> String {
        crate::capture::flags_notation(self.flags)
    }

    /// The IP packet, built with etherparse (checksums included).
    fn packet(&self) -> Result<Vec<u8>, SetupError> {
        let mut tcp =
            ip_builder(self.src.ip(), self.dst.ip())?.tcp(self.src.port(), self.dst.port(), self.seq, self.win);
        if self.flags & flag::SYN != 0 {
            tcp = tcp.syn();
        }
        if self.flags & flag::FIN != 0 {
            tcp = tcp.fin();
        }
        if self.flags & flag::RST != 0 {
            tcp = tcp.rst();
        }
        if self.flags & flag::PSH != 0 {
            tcp = tcp.psh();
        }
        if self.flags & flag::ACK != 0 {
            tcp = tcp.ack(self.ack);
        }
        let mut out = Vec::with_capacity(tcp.size(self.payload.len()));
        tcp.write(&mut out, self.payload)
            .map_err(|e| SetupError::Other(format!("building a forged segment: {e}")))?;
        Ok(out)
    }
}

fn ip_builder(src: IpAddr, dst: IpAddr) -> Result<PacketBuilderStep<etherparse::IpHeaders>, SetupError> {
    match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => Ok(PacketBuilder::ipv4(s.octets(), d.octets(), 64)),
        (IpAddr::V6(s), IpAddr::V6(d)) => Ok(PacketBuilder::ipv6(s.octets(), d.octets(), 64)),
        _ => Err(SetupError::Other(format!(
            "a forged packet from {src} to {dst} mixes families"
        ))),
    }
}

/// Length of the IP header etherparse writes (no options, no extension headers).
fn ip_header_len(packet: &[u8]) -> usize {
    if packet.first().is_some_and(|b| b >> 4 == 6) {
        40
    } else {
        20
    }
}

/// An ICMP "destination unreachable: host" error (ICMPv6: address unreachable) sent by
/// `from` about `quoted`, a segment it claims it could not deliver; the error quotes its IP
/// header and its whole TCP header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForgedIcmp {
    pub from: Host,
    /// The address the error comes from.
    pub src: IpAddr,
    pub quoted: Forged,
}

impl ForgedIcmp {
    fn packet(&self) -> Result<Vec<u8>, SetupError> {
        let quoted = self.quoted.packet()?;
        let dst = self.quoted.src.ip();
        let builder = ip_builder(self.src, dst)?;
        let mut out = Vec::new();
        let written = match dst {
            IpAddr::V4(_) => builder
                .icmpv4(Icmpv4Type::DestinationUnreachable(icmpv4::DestUnreachableHeader::Host))
                .write(&mut out, &quoted),
            IpAddr::V6(_) => builder
                .icmpv6(Icmpv6Type::DestinationUnreachable(icmpv6::DestUnreachableCode::Address))
                .write(&mut out, &quoted),
        };
        written.map_err(|e| SetupError::Other(format!("building a forged ICMP error: {e}")))?;
        Ok(out)
    }
}

impl Trial {
    /// What `from` has sent to `to` so far on the wire, with absolute numbers; `None` when
    /// the capture saw nothing from it.
    pub fn sent(&mut self, from: SocketAddr, to: SocketAddr) -> Option<Sent> {
        self.uses(Need::PacketCapture);
        let mut capture = lock(&self.capture);
        let _ = capture.poll_new();
        let mut sent: Option<Sent> = None;
        for p in capture.tcp_headers().iter().filter(|p| p.src == from && p.dst == to) {
            let counted = u32::from(p.flags & flag::SYN != 0) + u32::from(p.flags & flag::FIN != 0);
            let end = p.seq.wrapping_add(p.len).wrapping_add(counted);
            let s = sent.get_or_insert(Sent {
                iss: p.seq,
                snd_nxt: end,
                ack: None,
                win: p.win,
            });
            if after(end, s.snd_nxt) {
                s.snd_nxt = end;
            }
            if p.flags & flag::ACK != 0 {
                s.ack = Some(p.ack);
            }
            s.win = p.win;
        }
        sent
    }

    /// Sends `forged` from its host's namespace and records it as the next `inject` step of
    /// `victim` (the endpoint it is aimed at; its socket may be closed already), then waits
    /// until the victim's host has taken it (its `Tcp.InSegs` counter has counted it), so that
    /// whatever the kernel answers is on the wire before the script's next step.
    pub fn inject(&mut self, victim: &mut Endpoint, forged: &Forged) -> Result<Step, SetupError> {
        self.inject_all(victim, std::slice::from_ref(forged))
    }

    /// [`Trial::inject`] for several segments sent back to back (a burst), as one step.
    pub fn inject_all(&mut self, victim: &mut Endpoint, forged: &[Forged]) -> Result<Step, SetupError> {
        let Some(first) = forged.first() else {
            return Err(SetupError::Other("nothing to inject".into()));
        };
        let packets = forged.iter().map(Forged::packet).collect::<Result<Vec<_>, _>>()?;
        let op = match forged.len() {
            1 => format!("forged {}", describe(first)),
            n => format!("{n} x forged {}", describe(first)),
        };
        let dst = first.dst.ip();
        self.send_forged(victim, first.from, dst, "Tcp.InSegs", packets, op)
    }

    /// Sends a forged ICMP error and records it as [`Trial::inject`] does; the wait is on the
    /// victim host's `Icmp.InMsgs` (`Icmp6InMsgs`) counter.
    pub fn inject_icmp(&mut self, victim: &mut Endpoint, icmp: &ForgedIcmp) -> Result<Step, SetupError> {
        let packet = icmp.packet()?;
        let dst = icmp.quoted.src.ip();
        let counter = if dst.is_ipv4() { "Icmp.InMsgs" } else { "Icmp6InMsgs" };
        let op = format!(
            "forged ICMP {} unreachable from {} quoting {}",
            if dst.is_ipv4() { "host" } else { "address" },
            icmp.from.as_str(),
            describe(&icmp.quoted)
        );
        self.send_forged(victim, icmp.from, dst, counter, vec![packet], op)
    }

    fn send_forged(
        &mut self,
        victim: &mut Endpoint,
        from: Host,
        dst: IpAddr,
        counter: &str,
        packets: Vec<Vec<u8>>,
        op: String,
    ) -> Result<Step, SetupError> {
        self.uses(Need::PacketCapture);
        self.uses(Need::ProtocolCounters);
        let to = match from {
            Host::Client => Host::Server,
            _ => Host::Client,
        };
        self.enter(from)?;
        let sender = sys::RawIpSender::open(dst.is_ipv6());
        self.enter(to)?;
        let before = sys::protocol_counter(counter);
        self.enter(Host::Client)?;
        let sender = sender
            .map_err(|e| SetupError::Other(format!("a raw IP socket in the {} namespace: {e}", from.as_str())))?;
        {
            let mut capture = lock(&self.capture);
            for p in &packets {
                capture.mark_injected(p[ip_header_len(p)..].to_vec());
            }
        }
        let step = victim.record_aimed(Verb::Inject, op, || {
            let mut total = 0;
            for p in &packets {
                sender.send(p, dst)?;
                total += 1;
            }
            Ok(total as i64)
        });
        let what = format!("the {} host has taken what was injected ({counter})", to.as_str());
        match before {
            Some(before) if step.succeeded() => {
                self.wait_for_counter(to, counter, before + packets.len() as u64, &what)?;
            }
            _ => {
                self.record_wait(&what, Instant::now(), false);
            }
        }
        Ok(step)
    }
}

/// `server>client R seq=RCV.NXT (exact)`: the direction as the impersonated host, the flags,
/// how the numbers were chosen, and the payload length if any.
fn describe(f: &Forged) -> String {
    let dir = match f.from {
        Host::Client => "client>server",
        Host::Server => "server>client",
        Host::Router => "router>client",
    };
    let mut text = format!("{dir} [{}] {}", f.flags_notation(), f.numbers);
    if !f.payload.is_empty() {
        text.push_str(&format!(" len {}", f.payload.len()));
    }
    text.trim_end().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    /// RFC 9293 §3.1: a reset carries its sequence number and, with the ACK bit, the
    /// acknowledgement; etherparse writes the checksum over the pseudo-header.
    #[test]
    fn a_forged_reset_carries_the_numbers_and_flags_it_was_given() {
        let forged = Forged {
            flags: flag::RST | flag::ACK,
            seq: 1000,
            ack: 2000,
            ..Forged::from(Host::Server, addr("10.0.0.2:4000"), addr("10.0.0.1:40000"))
        };
        let packet = forged.packet().unwrap();
        let sliced = etherparse::SlicedPacket::from_ip(&packet).unwrap();
        let Some(etherparse::TransportSlice::Tcp(tcp)) = sliced.transport else {
            panic!("not TCP");
        };
        assert_eq!((tcp.sequence_number(), tcp.acknowledgment_number()), (1000, 2000));
        assert!(tcp.rst() && tcp.ack() && !tcp.syn());
        assert_eq!(forged.flags_notation(), "R.");
        assert_eq!(ip_header_len(&packet), 20);
    }

    /// RFC 792 and RFC 4443 §3.1: an unreachable error quotes the packet it is about.
    #[test]
    fn a_forged_icmp_error_quotes_the_segment_it_claims_to_be_about() {
        let quoted = Forged {
            flags: flag::ACK,
            seq: 7,
            ..Forged::from(Host::Client, addr("[2001:2::1]:40000"), addr("[2001:2::2]:4000"))
        };
        let icmp = ForgedIcmp {
            from: Host::Server,
            src: "2001:2::2".parse().unwrap(),
            quoted: quoted.clone(),
        };
        let packet = icmp.packet().unwrap();
        assert_eq!(ip_header_len(&packet), 40);
        assert!(packet.ends_with(&quoted.packet().unwrap()));
    }

    #[test]
    fn sequence_numbers_compare_modulo_two_to_the_32() {
        assert!(after(1, u32::MAX));
        assert!(!after(u32::MAX, 1));
    }
}

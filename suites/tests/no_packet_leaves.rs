//! No packet of a run leaves the sandbox (README, "What the suite touches": packets flow only on
//! the namespaces' own `lo` and veth links).
//!
//! While the whole catalogue runs in-process, a packet socket opened in the host's network
//! namespace sees every frame of every host interface, both directions (packet(7): a socket of
//! protocol ETH_P_ALL that is not bound receives all frames of all interfaces of its namespace).
//! None may carry an address of the sandbox ranges (RFC 2544 198.18.0.0/15, RFC 5180
//! 2001:2::/48), nor be TCP or UDP on the host's `lo` to or from the suite's server ports: such
//! a frame would mean a veth end or a trial ran in the host's namespace.
//!
//! The checker ([`verdict`]) is shared with a test that sends such a datagram on purpose (on
//! `lo`, to 127.0.0.1 only) and one that feeds it hand-built frames, so a checker that sees
//! nothing cannot pass unnoticed.

// Linux only: it watches the host's interfaces with AF_PACKET.
#![cfg(target_os = "linux")]

use std::collections::BTreeMap;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, UdpSocket};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::net::UnixStream;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use etherparse::{EtherType, LaxNetSlice, LaxSlicedPacket, TransportSlice};
use sockerr::catalogue;
use sockerr::expectations::Expectations;
use sockerr::runner::{self, RunConfig};
use sockerr_harness::trial::{CLOSED_PORT, SERVER_PORT};
use sockerr_reports::Status;

/// The ports trials use inside their namespaces: on the host's `lo` they would betray a trial
/// run in the host's namespace.
const SUITE_PORTS: [u16; 2] = [SERVER_PORT, CLOSED_PORT];

/// How long the whole run may take before the test gives up (it takes seconds).
const RUN_DEADLINE: Duration = Duration::from_secs(300);

/// How long the probe datagram may take to show up in the capture (it takes microseconds).
const PROBE_DEADLINE: Duration = Duration::from_secs(5);

/// The capturing tests run one at a time: the probe datagram of one must not land in the
/// capture of the other.
static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(PoisonError::into_inner)
}

// ---------------------------------------------------------------------------------------------
// The checker

/// One frame as a packet socket delivered it.
struct Frame<'a> {
    ifindex: i32,
    /// ARPHRD_* of the interface: how the frame starts.
    hatype: u16,
    data: &'a [u8],
}

/// What the checker concludes about one frame.
#[derive(Debug, PartialEq)]
enum Verdict {
    /// Nothing of the sandbox in it.
    Clean,
    /// Why the frame should never have been on the host.
    Leak(String),
    /// Neither Ethernet-framed nor IP: not judged (counted and shown).
    Unparsed,
}

fn in_sandbox_range(addr: IpAddr) -> bool {
    match addr {
        IpAddr::V4(a) => a.octets()[0] == 198 && a.octets()[1] & 0xfe == 18,
        IpAddr::V6(a) => a.segments()[..3] == [0x2001, 2, 0],
    }
}

/// The addresses of the IP or ARP header of `net`.
fn addresses(net: &LaxNetSlice<'_>) -> Vec<IpAddr> {
    match net {
        LaxNetSlice::Ipv4(ip) => vec![ip.header().source_addr().into(), ip.header().destination_addr().into()],
        LaxNetSlice::Ipv6(ip) => vec![ip.header().source_addr().into(), ip.header().destination_addr().into()],
        LaxNetSlice::Arp(arp) if arp.proto_addr_type() == EtherType::IPV4 => {
            [arp.sender_protocol_addr(), arp.target_protocol_addr()]
                .into_iter()
                .filter_map(|a| <[u8; 4]>::try_from(a).ok())
                .map(|a| Ipv4Addr::from(a).into())
                .collect()
        }
        LaxNetSlice::Arp(arp) if arp.proto_addr_type() == EtherType::IPV6 => {
            [arp.sender_protocol_addr(), arp.target_protocol_addr()]
                .into_iter()
                .filter_map(|a| <[u8; 16]>::try_from(a).ok())
                .map(|a| Ipv6Addr::from(a).into())
                .collect()
        }
        LaxNetSlice::Arp(_) => Vec::new(),
    }
}

/// `tcp 127.0.0.1:4000 > 127.0.0.1:51234`, for messages.
fn summary(packet: &LaxSlicedPacket<'_>) -> String {
    let (src, dst) = match &packet.net {
        Some(net @ (LaxNetSlice::Ipv4(_) | LaxNetSlice::Ipv6(_))) => {
            let a = addresses(net);
            (a[0].to_string(), a[1].to_string())
        }
        Some(LaxNetSlice::Arp(arp)) => {
            return format!(
                "arp {:?} {:?}",
                arp.operation(),
                addresses(&LaxNetSlice::Arp(arp.clone()))
            );
        }
        None => return "non-IP frame".into(),
    };
    match &packet.transport {
        Some(TransportSlice::Tcp(t)) => format!("tcp {src}:{} > {dst}:{}", t.source_port(), t.destination_port()),
        Some(TransportSlice::Udp(u)) => format!("udp {src}:{} > {dst}:{}", u.source_port(), u.destination_port()),
        Some(TransportSlice::Icmpv4(_)) => format!("icmp {src} > {dst}"),
        Some(TransportSlice::Icmpv6(_)) => format!("icmp6 {src} > {dst}"),
        _ => format!("ip {src} > {dst}"),
    }
}

/// The shared checker: does `frame`, captured in the host's namespace, show a packet of the
/// sandbox? `host_lo` is the interface index of the host's `lo`.
fn verdict(frame: &Frame<'_>, host_lo: i32) -> Verdict {
    let parsed = match frame.hatype {
        // lo frames carry an Ethernet header of zeros (drivers/net/loopback.c).
        libc::ARPHRD_ETHER | libc::ARPHRD_LOOPBACK => LaxSlicedPacket::from_ethernet(frame.data).ok(),
        _ => LaxSlicedPacket::from_ip(frame.data).ok(),
    };
    let Some(packet) = parsed else { return Verdict::Unparsed };
    let Some(net) = &packet.net else {
        return if packet.link.is_some() {
            Verdict::Clean
        } else {
            Verdict::Unparsed
        };
    };
    let mut why = Vec::new();
    if addresses(net).into_iter().any(in_sandbox_range) {
        why.push("an address of the sandbox ranges 198.18.0.0/15, 2001:2::/48".to_string());
    }
    // An ICMP error quotes the packet it is about: that packet's addresses count as well.
    let quoted = match &packet.transport {
        Some(TransportSlice::Icmpv4(icmp)) => Some(icmp.payload()),
        Some(TransportSlice::Icmpv6(icmp)) => Some(icmp.payload()),
        _ => None,
    };
    if let Some(inner) = quoted.and_then(|q| LaxSlicedPacket::from_ip(q).ok()) {
        if inner
            .net
            .as_ref()
            .is_some_and(|n| addresses(n).into_iter().any(in_sandbox_range))
        {
            why.push(format!("an ICMP error about a sandbox packet ({})", summary(&inner)));
        }
    }
    if frame.ifindex == host_lo {
        let ports = match &packet.transport {
            Some(TransportSlice::Tcp(t)) => Some((t.source_port(), t.destination_port())),
            Some(TransportSlice::Udp(u)) => Some((u.source_port(), u.destination_port())),
            _ => None,
        };
        if let Some((src, dst)) = ports.filter(|(s, d)| SUITE_PORTS.contains(s) || SUITE_PORTS.contains(d)) {
            why.push(format!(
                "port {} of the suite's servers on the host's lo",
                if SUITE_PORTS.contains(&src) { src } else { dst }
            ));
        }
    }
    if why.is_empty() {
        Verdict::Clean
    } else {
        Verdict::Leak(format!("{}: {}", summary(&packet), why.join("; ")))
    }
}

// ---------------------------------------------------------------------------------------------
// Capturing in the host's namespace (packet(7))

/// A packet socket of the calling thread's namespace, all interfaces, every protocol.
struct HostCapture(OwnedFd);

impl HostCapture {
    fn open() -> io::Result<HostCapture> {
        let protocol = (libc::ETH_P_ALL as u16).to_be() as libc::c_int;
        // SAFETY: plain socket(2) call; the result is checked.
        let fd = unsafe {
            libc::socket(
                libc::AF_PACKET,
                libc::SOCK_RAW | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
                protocol,
            )
        };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: a descriptor just returned to us, owned from here on.
        let capture = HostCapture(unsafe { OwnedFd::from_raw_fd(fd) });
        // A large buffer, so that a burst of host traffic is not dropped (dropped frames are
        // counted and fail the test): SO_RCVBUFFORCE as root, else what SO_RCVBUF allows.
        let size: libc::c_int = 32 << 20;
        for option in [libc::SO_RCVBUFFORCE, libc::SO_RCVBUF] {
            // SAFETY: an int option of the right size.
            let rc = unsafe {
                libc::setsockopt(
                    fd,
                    libc::SOL_SOCKET,
                    option,
                    (&raw const size).cast(),
                    size_of::<libc::c_int>() as u32,
                )
            };
            if rc == 0 {
                break;
            }
        }
        capture.dropped()?; // Resets the counters (packet(7): PACKET_STATISTICS).
        Ok(capture)
    }

    fn fd(&self) -> RawFd {
        self.0.as_raw_fd()
    }

    /// Hands every queued frame to `each`, without waiting.
    fn drain(&self, mut each: impl FnMut(&Frame<'_>)) -> io::Result<()> {
        let mut buf = vec![0u8; 1 << 18];
        loop {
            // SAFETY: sockaddr_ll is plain old data.
            let mut addr: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
            let mut len = size_of::<libc::sockaddr_ll>() as libc::socklen_t;
            // SAFETY: `buf` and `addr` are valid for writes of the lengths given.
            let n = unsafe {
                libc::recvfrom(
                    self.fd(),
                    buf.as_mut_ptr().cast(),
                    buf.len(),
                    0,
                    (&raw mut addr).cast(),
                    &mut len,
                )
            };
            if n < 0 {
                let e = io::Error::last_os_error();
                match e.kind() {
                    io::ErrorKind::WouldBlock => return Ok(()),
                    io::ErrorKind::Interrupted => continue,
                    _ => return Err(e),
                }
            }
            each(&Frame {
                ifindex: addr.sll_ifindex,
                hatype: addr.sll_hatype,
                data: &buf[..n as usize],
            });
        }
    }

    /// Frames the kernel dropped for want of room since the last call.
    fn dropped(&self) -> io::Result<u32> {
        // SAFETY: tpacket_stats is plain old data.
        let mut stats: libc::tpacket_stats = unsafe { std::mem::zeroed() };
        let mut len = size_of::<libc::tpacket_stats>() as libc::socklen_t;
        // SAFETY: `stats` is valid for writes of `len` bytes.
        let rc = unsafe {
            libc::getsockopt(
                self.fd(),
                libc::SOL_PACKET,
                libc::PACKET_STATISTICS,
                (&raw mut stats).cast(),
                &mut len,
            )
        };
        if rc == 0 {
            Ok(stats.tp_drops)
        } else {
            Err(io::Error::last_os_error())
        }
    }
}

/// poll(2) on `fds` for input until `deadline`: which of them are ready (input or hang-up).
fn wait_readable(fds: &[RawFd], deadline: Instant) -> Vec<bool> {
    let mut pfds: Vec<libc::pollfd> = fds
        .iter()
        .map(|&fd| libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        })
        .collect();
    loop {
        let left = deadline
            .saturating_duration_since(Instant::now())
            .as_millis()
            .min(i32::MAX as u128) as i32;
        // SAFETY: `pfds` is a valid array of pollfd.
        let rc = unsafe { libc::poll(pfds.as_mut_ptr(), pfds.len() as libc::nfds_t, left) };
        if rc < 0 && io::Error::last_os_error().kind() == io::ErrorKind::Interrupted {
            continue;
        }
        assert!(rc >= 0, "poll: {}", io::Error::last_os_error());
        return pfds.iter().map(|p| p.revents != 0).collect();
    }
}

/// The interface index of `name` in the calling thread's namespace.
fn if_index(name: &str) -> i32 {
    let c = std::ffi::CString::new(name).expect("no NUL");
    // SAFETY: a valid C string.
    let index = unsafe { libc::if_nametoindex(c.as_ptr()) };
    assert_ne!(index, 0, "if_nametoindex({name}): {}", io::Error::last_os_error());
    index as i32
}

fn if_name(index: i32) -> String {
    let mut buf = [0 as libc::c_char; libc::IF_NAMESIZE];
    // SAFETY: `buf` has IF_NAMESIZE bytes, as if_indextoname requires.
    let name = unsafe { libc::if_indextoname(index as u32, buf.as_mut_ptr()) };
    if name.is_null() {
        return format!("if#{index}");
    }
    // SAFETY: if_indextoname wrote a NUL-terminated name into `buf`.
    unsafe { std::ffi::CStr::from_ptr(buf.as_ptr()) }
        .to_string_lossy()
        .into_owned()
}

/// Packet counters of the host's non-loopback interfaces: `eth0 tx_packets` → count.
fn interface_counters() -> BTreeMap<String, u64> {
    let mut counters = BTreeMap::new();
    for entry in std::fs::read_dir("/sys/class/net").into_iter().flatten().flatten() {
        let dir = entry.path();
        let read = |file: &str| {
            std::fs::read_to_string(dir.join(file))
                .ok()
                .and_then(|s| s.trim().parse::<u64>().ok())
        };
        if read("type") == Some(u64::from(libc::ARPHRD_LOOPBACK)) {
            continue;
        }
        for counter in ["tx_packets", "rx_packets"] {
            if let Some(n) = read(&format!("statistics/{counter}")) {
                counters.insert(format!("{} {counter}", entry.file_name().to_string_lossy()), n);
            }
        }
    }
    counters
}

/// What the capture saw during a run.
#[derive(Default)]
struct Tally {
    frames: usize,
    unparsed: usize,
    per_interface: BTreeMap<String, usize>,
    leaks: Vec<String>,
}

/// The payload of the probe datagram of `a_packet_sent_from_the_host_with_a_sandbox_address_is_caught`.
/// A whole-run capture leaves frames carrying it out: under cargo-nextest that test may run in
/// another process at the same moment, and its probe is a planted leak, not one of the suite's.
const PROBE: &[u8] = b"sockerr leak probe";

fn is_probe(frame: &Frame<'_>) -> bool {
    frame.data.windows(PROBE.len()).any(|w| w == PROBE)
}

impl Tally {
    fn add(&mut self, frame: &Frame<'_>, host_lo: i32) {
        if is_probe(frame) {
            return;
        }
        self.frames += 1;
        *self.per_interface.entry(if_name(frame.ifindex)).or_default() += 1;
        match verdict(frame, host_lo) {
            Verdict::Clean => {}
            Verdict::Unparsed => self.unparsed += 1,
            Verdict::Leak(why) => self.leaks.push(format!("on {}: {why}", if_name(frame.ifindex))),
        }
    }
}

/// Why a capturing test cannot run here, if it cannot.
fn capture_unavailable() -> Option<String> {
    if !nix::unistd::geteuid().is_root() {
        return Some("a packet socket in the host's namespace needs root (CAP_NET_RAW)".into());
    }
    None
}

// ---------------------------------------------------------------------------------------------
// The tests

/// The frame check is the assertion. The host's interface counters, before and after, are only
/// printed as context: other processes of the machine may send and receive meanwhile, so a
/// change in them proves nothing either way.
#[test]
fn a_whole_run_puts_no_frame_with_a_sandbox_address_or_a_suite_port_on_any_host_interface() {
    // packet(7) ETH_P_ALL; README "What the suite touches"; RFC 2544, RFC 5180.
    if sockerr_harness::prerequisite::unmet(capture_unavailable().or_else(sockerr_harness::sys::namespaces_unavailable))
    {
        return;
    }
    let _serial = serial();
    // This thread never changes namespace (trials run on threads of their own): the capture
    // and the interface index are the host's.
    let host_lo = if_index("lo");
    let capture = HostCapture::open().expect("packet socket in the host's namespace");
    let counters_before = interface_counters();

    let (done, run_ended) = UnixStream::pair().expect("socket pair");
    let run = std::thread::spawn(move || {
        let _done = done; // Closed when the run returns: `run_ended` then reads end of file.
        let scenarios = catalogue::all();
        let planned = runner::plan(&scenarios);
        let config = RunConfig {
            expectations: Expectations::for_run(None, &catalogue::ids()).expect("built-in expectations"),
            pcap_dir: None,
            capabilities: runner::probe(&planned, None),
            ..RunConfig::default()
        };
        runner::run_all(&planned, &config, 2)
    });

    let mut tally = Tally::default();
    let deadline = Instant::now() + RUN_DEADLINE;
    loop {
        let ready = wait_readable(&[capture.fd(), run_ended.as_raw_fd()], deadline);
        capture
            .drain(|frame| tally.add(frame, host_lo))
            .expect("receive from the packet socket");
        if ready[1] {
            break;
        }
        assert!(Instant::now() < deadline, "the run did not end within {RUN_DEADLINE:?}");
    }
    let trials = run.join().expect("the run's thread panicked");
    capture
        .drain(|frame| tally.add(frame, host_lo))
        .expect("receive from the packet socket");
    let dropped = capture.dropped().expect("PACKET_STATISTICS");
    let counters_after = interface_counters();

    let counters: Vec<String> = counters_after
        .iter()
        .map(|(k, after)| {
            let before = counters_before.get(k).copied().unwrap_or(0);
            format!("{k}: {before} -> {after} (+{})", after.saturating_sub(before))
        })
        .collect();
    let context = format!(
        "captured {} frames on the host ({:?}), {} not parsed, {dropped} dropped; host interface counters \
         (other processes' traffic included): {}",
        tally.frames,
        tally.per_interface,
        tally.unparsed,
        counters.join(", ")
    );
    eprintln!("{context}");
    let skipped: Vec<&str> = trials
        .iter()
        .filter(|t| t.status == Status::Skip)
        .map(|t| t.id.as_str())
        .collect();
    assert!(
        skipped.is_empty(),
        "trials were skipped, so the capture proves nothing about them: {skipped:?}"
    );
    assert!(!trials.is_empty(), "the run ran no trial");
    assert!(
        tally.leaks.is_empty(),
        "frames of the sandbox on the host:\n  {}\n{context}",
        tally.leaks.join("\n  ")
    );
    assert_eq!(
        dropped, 0,
        "the capture dropped frames, which were not checked\n{context}"
    );
}

/// "Sandbox address" here is the address a trial run by mistake in the host's namespace would
/// use: its server's port 4000 on 127.0.0.1. The datagram goes to 127.0.0.1 only and so never
/// leaves the machine.
#[test]
fn a_packet_sent_from_the_host_with_a_sandbox_address_is_caught() {
    // packet(7): a packet socket sees outgoing and incoming frames of lo; ip(7) INADDR_LOOPBACK.
    if sockerr_harness::prerequisite::unmet(capture_unavailable()) {
        return;
    }
    let _serial = serial();
    let host_lo = if_index("lo");
    let capture = HostCapture::open().expect("packet socket in the host's namespace");
    let sender = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind to 127.0.0.1");
    let port = sender.local_addr().expect("local address").port();
    sender
        .send_to(PROBE, (Ipv4Addr::LOCALHOST, SERVER_PORT))
        .expect("send to 127.0.0.1");

    let deadline = Instant::now() + PROBE_DEADLINE;
    let mut verdicts = Vec::new();
    while verdicts.is_empty() && wait_readable(&[capture.fd()], deadline)[0] {
        capture
            .drain(|frame| {
                let probe = LaxSlicedPacket::from_ethernet(frame.data).ok().is_some_and(|p| {
                    matches!(&p.transport, Some(TransportSlice::Udp(u)) if u.source_port() == port && u.destination_port() == SERVER_PORT)
                });
                if probe && frame.ifindex == host_lo {
                    verdicts.push(verdict(frame, host_lo));
                }
            })
            .expect("receive from the packet socket");
    }
    assert!(
        !verdicts.is_empty(),
        "the probe datagram from port {port} was not captured within {PROBE_DEADLINE:?}"
    );
    for v in &verdicts {
        match v {
            Verdict::Leak(why) => assert!(
                why.contains(&format!("port {SERVER_PORT}")),
                "flagged for another reason: {why}"
            ),
            other => panic!("the probe datagram to 127.0.0.1:{SERVER_PORT} was not flagged: {other:?}"),
        }
    }
}

/// Frames built by hand, never sent: each rule of the checker fires on its own, and not on the
/// addresses just outside the ranges nor on the suite's ports off `lo`.
#[test]
fn a_frame_is_flagged_when_it_has_a_benchmarking_address_or_a_suite_port_on_lo_and_not_otherwise() {
    // RFC 2544 (198.18.0.0/15) and RFC 5180 (2001:2::/48): the sandbox's address ranges.
    use etherparse::{ArpHardwareId, ArpOperation, ArpPacket, PacketBuilder};
    const LO: i32 = 1;
    const ETH: i32 = 2;
    let mac = [2, 0, 0, 0, 0, 1];
    let v4 = |src: [u8; 4], dst: [u8; 4], sport: u16, dport: u16| {
        let mut out = Vec::new();
        let b = PacketBuilder::ethernet2(mac, mac)
            .ipv4(src, dst, 64)
            .tcp(sport, dport, 1, 1000);
        b.write(&mut out, &[]).unwrap();
        out
    };
    let v6 = |src: Ipv6Addr, dst: Ipv6Addr| {
        let mut out = Vec::new();
        PacketBuilder::ethernet2(mac, mac)
            .ipv6(src.octets(), dst.octets(), 64)
            .udp(5353, 5353)
            .write(&mut out, &[])
            .unwrap();
        out
    };
    let arp = |target: [u8; 4]| {
        let packet = ArpPacket::new(
            ArpHardwareId::ETHERNET,
            EtherType::IPV4,
            ArpOperation::REQUEST,
            &mac,
            &[192, 0, 2, 2],
            &[0; 6],
            &target,
        )
        .unwrap();
        let mut out = Vec::new();
        PacketBuilder::ethernet2(mac, [0xff; 6])
            .arp(packet)
            .write(&mut out)
            .unwrap();
        out
    };
    let icmp_about = |inner: &[u8]| {
        let mut out = Vec::new();
        PacketBuilder::ethernet2(mac, mac)
            .ipv4([192, 0, 2, 1], [192, 0, 2, 2], 64)
            .icmpv4_raw(3, 3, [0; 4])
            .write(&mut out, inner)
            .unwrap();
        out
    };
    let inner_v4 = v4([198, 18, 0, 1], [198, 18, 0, 2], 40000, 4000);
    let ip = |s: &str| s.parse::<Ipv6Addr>().unwrap();
    let cases: Vec<(&str, Vec<u8>, i32, bool)> = vec![
        (
            "198.18.0.1 on eth0",
            v4([198, 18, 0, 1], [192, 0, 2, 1], 40000, 80),
            ETH,
            true,
        ),
        (
            "198.19.255.255 (end of the /15)",
            v4([192, 0, 2, 1], [198, 19, 255, 255], 40000, 80),
            ETH,
            true,
        ),
        (
            "198.17.255.255 (just below)",
            v4([192, 0, 2, 1], [198, 17, 255, 255], 40000, 80),
            ETH,
            false,
        ),
        (
            "198.20.0.0 (just above)",
            v4([198, 20, 0, 0], [192, 0, 2, 1], 40000, 80),
            ETH,
            false,
        ),
        ("2001:2::2", v6(ip("2001:2::2"), ip("fd00::1")), ETH, true),
        (
            "2001:2:0:ffff::1 (in the /48)",
            v6(ip("fd00::1"), ip("2001:2:0:ffff::1")),
            ETH,
            true,
        ),
        (
            "2001:2:1::1 (outside the /48)",
            v6(ip("2001:2:1::1"), ip("fd00::1")),
            ETH,
            false,
        ),
        ("ARP for 198.18.0.2", arp([198, 18, 0, 2]), ETH, true),
        ("ARP for 192.0.2.1", arp([192, 0, 2, 1]), ETH, false),
        (
            "ICMP error quoting a sandbox packet",
            icmp_about(&inner_v4[14..]),
            ETH,
            true,
        ),
        (
            "tcp to 127.0.0.1:4000 on lo",
            v4([127, 0, 0, 1], [127, 0, 0, 1], 40000, SERVER_PORT),
            LO,
            true,
        ),
        (
            "tcp from 127.0.0.1:9 on lo",
            v4([127, 0, 0, 1], [127, 0, 0, 1], CLOSED_PORT, 40000),
            LO,
            true,
        ),
        (
            "tcp to 127.0.0.1:4000 off lo",
            v4([127, 0, 0, 1], [127, 0, 0, 1], 40000, SERVER_PORT),
            ETH,
            false,
        ),
        (
            "tcp to 127.0.0.1:4001 on lo",
            v4([127, 0, 0, 1], [127, 0, 0, 1], 40000, 4001),
            LO,
            false,
        ),
    ];
    let wrong: Vec<String> = cases
        .iter()
        .filter_map(|(what, data, ifindex, leak)| {
            let hatype = if *ifindex == LO {
                libc::ARPHRD_LOOPBACK
            } else {
                libc::ARPHRD_ETHER
            };
            let got = verdict(
                &Frame {
                    ifindex: *ifindex,
                    hatype,
                    data,
                },
                LO,
            );
            (matches!(got, Verdict::Leak(_)) != *leak).then(|| format!("{what}: expected leak={leak}, got {got:?}"))
        })
        .collect();
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

//! Packet capture: what went over the wire during a trial, as segments (TCP, UDP, ICMP
//! errors) and as a pcapng.
//!
//! A [`CaptureSource`] is a packet socket in one network namespace that keeps only the
//! frames that namespace *sends* (`PACKET_OUTGOING`). Every packet is sent by exactly one
//! namespace, so with one source per namespace the union of the sources holds each packet
//! exactly once: on `lo` a packet is not seen a second time as it comes back in, and across a
//! veth pair the server's copy of a client packet is not counted again. The outgoing tap runs
//! inside the sending call, so once a send (or connect, close ...) has returned, the frames it
//! sent directly are already queued on the source; frames sent later by the kernel (timers,
//! replies generated in softirq) are what [`Capture::wait_for`] is for.
//!
//! Frames are cut to [`SNAPLEN`] bytes in the kernel by a socket filter, so a trial that
//! sends megabytes costs a few hundred bytes per frame.
//!
//! Each source receives into a ring mapped from the kernel (PACKET_RX_RING, TPACKET_V2), which
//! stamps every frame with the wall-clock time it was tapped, inside the call that sent it,
//! however late it is read. (A plain packet socket stamps a tapped frame only while the host's
//! global `netstamp_needed` switch is on, which turns on late and off again as sockets asking
//! for timestamps come and go; otherwise it stamps the frame when it is read.) Within a source
//! frames keep the ring's order, which is the order they were tapped; frames of different
//! sources are merged by timestamp.
//!
//! Where the platform has no ring (gVisor's netstack refuses PACKET_VERSION), a source
//! receives frame by frame with recvmsg(2) and takes each frame's receive timestamp
//! (SO_TIMESTAMPNS, or SO_TIMESTAMP there): see [`Receiving`]. The kernel's filter may then
//! not know the packet type (gVisor passes every frame), so the outgoing frames are also
//! picked here, by the address recvmsg returns.

mod parse;
mod pcapng;
#[cfg(all(test, target_os = "linux"))]
mod tests;

use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::path::Path;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use crate::record::{Segment, Step};
use crate::sys;

/// Bytes kept of each frame (Ethernet header included); enough for every header of a TCP
/// segment, not for its payload.
pub const SNAPLEN: u32 = sys::packet_socket::SNAPLEN;

/// Frames a source holds between two drains ([`Capture::poll_new`], [`Capture::wait_for`],
/// [`Capture::finish`]); the kernel drops and counts those that find the ring full.
pub const RING_FRAMES: usize = sys::packet_socket::RING_FRAMES;

pub use crate::sys::packet_socket::Receiving;

/// Flags in tcpdump's notation (`S.`, `R`, `none`), as segments show them.
pub fn flags_notation(flags: u8) -> String {
    parse::flags_notation(flags)
}

/// Waits until the packet sockets of finished captures are closed (they are closed in the
/// background: releasing one waits for an RCU grace period), for at most `limit`; says
/// whether they all are. Call it before checking for leaked descriptors or namespaces.
pub fn settle_releases(limit: std::time::Duration) -> bool {
    sys::packet_socket::settle_releases(limit)
}

/// A packet socket in one network namespace: every IPv4 and IPv6 frame sent by any interface
/// of that namespace, cut to [`SNAPLEN`] bytes.
#[derive(Debug)]
pub struct CaptureSource {
    name: String,
    sock: sys::packet_socket::PacketSocket,
    /// `name:ifname` by interface index, looked up once per interface.
    interfaces: HashMap<i32, String>,
    /// Timestamp of the last frame taken, which the next one may not precede.
    last_ts_ns: u64,
    /// The namespace forwards packets (a router): see [`CaptureSource::forwarding`].
    forwarder: bool,
}

impl CaptureSource {
    /// Opens a source in the calling thread's current network namespace (enter the
    /// namespace first). `name` labels the namespace (`client`, `server`, `lo`) in interface
    /// names such as `client:veth0`. Needs CAP_NET_RAW in the namespace; fails with
    /// `Unsupported` on systems without AF_PACKET.
    pub fn open(name: &str) -> io::Result<CaptureSource> {
        let mut source = CaptureSource::prepare(name)?;
        source.sock.start()?;
        Ok(source)
    }

    /// Like [`CaptureSource::open`], but receiving nothing until [`Capture::start_sources`]: setting
    /// up a source's ring waits for an RCU grace period, and a capture starts all its
    /// prepared sources at once, so that they wait for one together.
    pub fn prepare(name: &str) -> io::Result<CaptureSource> {
        Ok(CaptureSource {
            name: name.to_string(),
            sock: sys::packet_socket::PacketSocket::open()?,
            interfaces: HashMap::new(),
            last_ts_ns: 0,
            forwarder: false,
        })
    }

    /// Like [`CaptureSource::open`], receiving with recvmsg(2) as where the platform has no
    /// ring.
    #[cfg(all(test, target_os = "linux"))]
    pub fn open_without_ring(name: &str) -> io::Result<CaptureSource> {
        let mut source = CaptureSource {
            name: name.to_string(),
            sock: sys::packet_socket::PacketSocket::open_without_ring()?,
            interfaces: HashMap::new(),
            last_ts_ns: 0,
            forwarder: false,
        };
        source.sock.start()?;
        Ok(source)
    }

    /// Marks the source's namespace as a router: the packets it forwards were already tapped
    /// where they were sent, so of its frames only the ICMP errors it sends itself become
    /// segments (every frame still goes to the pcapng).
    pub fn forwarding(mut self) -> CaptureSource {
        self.forwarder = true;
        self
    }

    /// How this source receives its frames (a ring, or recvmsg where the platform has no
    /// ring).
    pub fn receiving(&self) -> Receiving {
        self.sock.receiving()
    }

    /// Why this source receives without a ring, when it does (the call the platform refused,
    /// and its error).
    pub fn ring_refused(&self) -> Option<&str> {
        self.sock.ring_refused()
    }

    /// Frames dropped since the last look for want of room (PACKET_STATISTICS), or the error
    /// of a platform that does not count them.
    pub fn take_drops(&self) -> io::Result<u64> {
        self.sock.take_drops()
    }

    /// The namespace label given to [`CaptureSource::open`].
    pub fn name(&self) -> &str {
        &self.name
    }

    /// `name:ifname` of an interface. The name is asked of the socket itself, which answers
    /// for its own namespace whatever namespace the calling thread is in.
    fn interface(&mut self, ifindex: i32) -> String {
        if let Some(name) = self.interfaces.get(&ifindex) {
            return name.clone();
        }
        let ifname = self.sock.ifname(ifindex).unwrap_or_else(|_| format!("if{ifindex}"));
        let name = format!("{}:{ifname}", self.name);
        self.interfaces.insert(ifindex, name.clone());
        name
    }
}

/// One captured frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// Index of the source that captured it, in the order sources were added.
    pub source: usize,
    /// Interface index in that source's namespace.
    pub ifindex: i32,
    /// `source:interface`, e.g. `client:veth0`.
    pub interface: String,
    /// When the kernel tapped the frame, nanoseconds since the Unix epoch. The kernel takes a
    /// frame's slot in the ring and then its timestamp, so two frames tapped at once on two
    /// CPUs may be stamped out of slot order, by the time it takes to copy a frame; the later slot
    /// is then given the earlier slot's time, so that times never go back within a source.
    pub ts_ns: u64,
    /// Length of the frame as sent (for GSO packets on `lo` and veth, the whole
    /// super-packet, up to 64 KiB).
    pub orig_len: u32,
    /// The frame from its Ethernet header on, at most [`SNAPLEN`] bytes.
    pub data: Vec<u8>,
}

/// Everything a capture saw, once finished.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaptureResult {
    /// TCP segments to or from the server, in time order (see [`Capture::segments`]).
    pub segments: Vec<Segment>,
    /// Every frame, in time order, TCP or not, to or from the server or not.
    pub frames: Vec<Frame>,
    /// Frames the kernel dropped because a source's ring was full: 0 means the wire is
    /// complete. A source holds [`RING_FRAMES`] frames between two drains, whatever their
    /// size; a trial that sends more should call [`Capture::poll_new`] as it goes.
    pub drops: u64,
    /// Wall-clock time the trial's times count from, ns since the Unix epoch.
    pub start_ns: u64,
    /// What follows the IP header in each packet the trial forged.
    pub injected: Vec<Vec<u8>>,
}

impl CaptureResult {
    /// Writes the frames as pcapng; see [`Capture::write_pcapng`].
    pub fn write_pcapng(&self, path: &Path, steps: &[Step]) -> io::Result<()> {
        let injected = |frame: &Frame| is_injected(&self.injected, frame);
        pcapng::write_file(path, &self.frames, &call_notes(self.start_ns, steps), &injected)
    }
}

/// Whether `frame` carries one of the `injected` packets: its bytes after the IP header, as
/// far as captured, are theirs. (A frame is cut to [`SNAPLEN`]; a TCP or ICMP header with its
/// checksum is long enough to tell packets apart.)
fn is_injected(injected: &[Vec<u8>], frame: &Frame) -> bool {
    parse::ip_payload(&frame.data)
        .is_some_and(|payload| payload.len() >= 8 && injected.iter().any(|p| p.starts_with(payload)))
}

/// The steps as pcapng comments, on the frames' clock: a step's `t_us` counts from the same
/// start as the capture's.
fn call_notes(start_ns: u64, steps: &[Step]) -> Vec<pcapng::CallNote> {
    let mut notes: Vec<pcapng::CallNote> = steps
        .iter()
        .map(|step| pcapng::CallNote {
            ts_ns: start_ns + step.t_us * 1000,
            text: format!("{}: {} = {}", step.label, step.op, step.result.outcome()),
        })
        .collect();
    notes.sort_by_key(|note| note.ts_ns);
    notes
}

/// The capture of one trial: its sources, the frames they delivered, and what is needed to
/// turn frames into segments (the start of the trial and the server's address).
#[derive(Debug)]
pub struct Capture {
    start: Instant,
    /// Wall-clock time of `start`, ns since the Unix epoch (frame timestamps are wall-clock).
    start_ns: u64,
    server: Option<SocketAddr>,
    sources: Vec<CaptureSource>,
    /// In arrival order: each source's frames in the order they were tapped, sources
    /// interleaved as they were drained.
    frames: Vec<Frame>,
    /// Each frame decoded once on arrival (`None` when it is neither TCP, UDP nor an ICMP
    /// error).
    packets: Vec<Option<parse::Packet>>,
    /// What follows the IP header in each packet the trial forged (see
    /// [`Capture::mark_injected`]).
    injected: Vec<Vec<u8>>,
    /// Keep only frames to or from the server (and ICMP errors about them): on the host's own
    /// interfaces, where other programs' packets pass too.
    only_the_servers: bool,
    /// Why there is no capture at all, where there is none.
    not_captured: Option<String>,
}

fn now_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

impl Capture {
    /// A capture with no source yet, whose segment times count from `start`.
    pub fn new(start: Instant) -> Capture {
        let start_ns = now_ns().saturating_sub(start.elapsed().as_nanos() as u64);
        Capture {
            start,
            start_ns,
            server: None,
            sources: Vec::new(),
            frames: Vec::new(),
            packets: Vec::new(),
            injected: Vec::new(),
            only_the_servers: false,
            not_captured: None,
        }
    }

    /// Notes a packet the trial forged and is about to send, by what follows its IP header
    /// (the TCP segment or ICMP message, checksum included): the frame that carries it is
    /// recorded as injected, in the segments and in the pcapng's frame comments.
    pub fn mark_injected(&mut self, transport: Vec<u8>) {
        self.injected.push(transport);
    }

    /// Whether `frame` carries a packet the trial forged.
    fn is_injected(&self, frame: &Frame) -> bool {
        is_injected(&self.injected, frame)
    }

    /// The TCP headers taken so far, with absolute numbers, in time order (call
    /// [`Capture::poll_new`] first for the latest): what a forged segment's numbers are
    /// derived from.
    pub(crate) fn tcp_headers(&self) -> Vec<parse::TcpPacket> {
        self.time_order()
            .into_iter()
            .filter_map(|i| match &self.packets[i] {
                Some(parse::Packet::Tcp(p)) if !self.sources[self.frames[i].source].forwarder => Some(p.clone()),
                _ => None,
            })
            .collect()
    }

    /// Keeps only the frames of the trial's server (see [`Capture::set_server`]) from now on;
    /// the others are dropped as they are drained, never written anywhere.
    pub fn keep_only_the_servers(&mut self) {
        self.only_the_servers = true;
    }

    /// Records that this trial's wire cannot be captured, and why.
    pub fn not_captured(&mut self, why: String) {
        self.not_captured = Some(why);
    }

    /// Why the wire is not captured, where it is not.
    pub fn why_not_captured(&self) -> Option<&str> {
        self.not_captured.as_deref()
    }

    /// Makes segment times count from `start` (a capture built ahead of its trial starts
    /// counting when the trial starts); frames taken earlier count as time 0.
    pub fn restart_clock(&mut self, start: Instant) {
        self.start = start;
        self.start_ns = now_ns().saturating_sub(start.elapsed().as_nanos() as u64);
    }

    /// The instant segment times count from.
    pub fn start(&self) -> Instant {
        self.start
    }

    pub fn add_source(&mut self, source: CaptureSource) {
        self.sources.push(source);
    }

    /// Starts every source prepared with [`CaptureSource::prepare`], each on a thread of its
    /// own (a source receives in its own namespace, whatever thread starts it), and returns
    /// once all receive.
    pub fn start_sources(&mut self) -> io::Result<()> {
        std::thread::scope(|scope| {
            let started: Vec<_> = self
                .sources
                .iter_mut()
                .map(|source| scope.spawn(move || source.sock.start()))
                .collect();
            started
                .into_iter()
                .map(|t| {
                    t.join()
                        .unwrap_or_else(|_| Err(io::Error::other("starting a capture source panicked")))
                })
                .collect::<io::Result<Vec<()>>>()
        })?;
        Ok(())
    }

    /// Sets the server's address and port, which decides segment directions: from it is
    /// `ServerToClient`, to it `ClientToServer`, an ICMP error goes the other way of the
    /// packet it quotes, anything else is no segment (but stays in the frames). Until set,
    /// there are no segments.
    pub fn set_server(&mut self, server: SocketAddr) {
        self.server = Some(server);
    }

    /// Takes every frame queued on the sources, without blocking.
    pub fn poll_new(&mut self) -> io::Result<()> {
        self.drain().map(|_| ())
    }

    /// Drains the sources; returns how many frames were kept.
    fn drain(&mut self) -> io::Result<usize> {
        let mut buf = [0u8; SNAPLEN as usize];
        let before = self.frames.len();
        for (index, source) in self.sources.iter_mut().enumerate() {
            while let Some(info) = source.sock.recv(&mut buf)? {
                if !info.outgoing {
                    continue;
                }
                let data = buf[..info.len].to_vec();
                let orig_len = info.orig_len.max(info.len as u32);
                let packet = parse::parse_packet(&data, orig_len);
                if self.only_the_servers
                    && !packet
                        .as_ref()
                        .zip(self.server)
                        .is_some_and(|(p, server)| parse::concerns(p, server))
                {
                    continue;
                }
                source.last_ts_ns = source.last_ts_ns.max(info.ts_ns);
                self.packets.push(packet);
                self.frames.push(Frame {
                    source: index,
                    ifindex: info.ifindex,
                    interface: source.interface(info.ifindex),
                    ts_ns: source.last_ts_ns,
                    orig_len,
                    data,
                });
            }
        }
        Ok(self.frames.len() - before)
    }

    /// Frame indices in time order; ties keep their arrival order. Times never go back
    /// within a source, so each source's frames keep the order they were tapped in.
    fn time_order(&self) -> Vec<usize> {
        let mut order: Vec<usize> = (0..self.frames.len()).collect();
        order.sort_by_key(|&i| self.frames[i].ts_ns);
        order
    }

    /// The TCP segments to or from the server taken so far (call [`Capture::poll_new`]
    /// first for the latest), in time order, `t_us` counted from the start.
    pub fn segments(&self) -> Vec<Segment> {
        let Some(server) = self.server else {
            return Vec::new();
        };
        let order = self.time_order();
        let packets = order.iter().filter_map(|&i| {
            let frame = &self.frames[i];
            self.packets[i].as_ref().map(|packet| parse::Tapped {
                t_us: frame.ts_ns.saturating_sub(self.start_ns) / 1000,
                forwarder: self.sources[frame.source].forwarder,
                injected: self.is_injected(frame),
                packet,
            })
        });
        parse::to_segments(packets, server)
    }

    /// Every frame taken so far, in arrival order.
    pub fn frames(&self) -> &[Frame] {
        &self.frames
    }

    /// Waits until `what` holds for the segments, or until `deadline`; returns whether it
    /// held. `what` is tested at once and then each time new frames arrive, never on a timer:
    /// in between, the thread sleeps in poll(2) on the sources.
    pub fn wait_for(&mut self, deadline: Instant, mut what: impl FnMut(&[Segment]) -> bool) -> io::Result<bool> {
        let fds: Vec<crate::sys::RawHandle> = self.sources.iter().map(|s| s.sock.handle()).collect();
        let mut fresh = true;
        loop {
            fresh |= self.drain()? > 0;
            if fresh && what(&self.segments()) {
                return Ok(true);
            }
            fresh = false;
            let now = Instant::now();
            if now >= deadline || fds.is_empty() {
                return Ok(false);
            }
            match crate::sys::wait_readable(&fds, deadline - now) {
                Err(e) if e.kind() != io::ErrorKind::Interrupted => return Err(e),
                _ => {}
            }
        }
    }

    /// Drains the sources one last time and returns everything seen, frames in time order.
    pub fn finish(mut self) -> io::Result<CaptureResult> {
        self.drain()?;
        let mut drops = 0;
        for source in &self.sources {
            match source.sock.take_drops() {
                Ok(n) => drops += n,
                // A platform that counts no drops (gVisor's packet sockets refuse
                // PACKET_STATISTICS): none seen; the run's capabilities say it is not counted.
                Err(e) if e.raw_os_error() == Some(libc::ENOPROTOOPT) => {}
                Err(e) => return Err(e),
            }
        }
        let segments = self.segments();
        let order = self.time_order();
        let mut frames: Vec<Option<Frame>> = std::mem::take(&mut self.frames).into_iter().map(Some).collect();
        let frames = order.iter().filter_map(|&i| frames[i].take()).collect();
        Ok(CaptureResult {
            segments,
            frames,
            drops,
            start_ns: self.start_ns,
            injected: std::mem::take(&mut self.injected),
        })
    }

    /// Writes the frames taken so far, in time order, as pcapng to `path` (through a
    /// temporary file in the same directory, renamed into place). One interface per source
    /// and interface, named `client:veth0`; timestamps in nanoseconds. `steps`, the calls of
    /// the trial so far, go in comments: all of them in the section header's, and each frame's
    /// names the calls made since the frame before it.
    pub fn write_pcapng(&self, path: &Path, steps: &[Step]) -> io::Result<()> {
        let frames = self.time_order().into_iter().map(|i| &self.frames[i]);
        let injected = |frame: &Frame| self.is_injected(frame);
        pcapng::write_file(path, frames, &call_notes(self.start_ns, steps), &injected)
    }
}

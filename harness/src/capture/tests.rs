//! Captures of real traffic, each in fresh network namespaces on a thread of its own (the
//! host's network is never touched).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::fd::{AsFd, AsRawFd};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use super::*;
use crate::record::Direction::{self, ClientToServer, ServerToClient};
use crate::sys::NetNs;

/// Runs `f` on a new thread that first moves into a new network namespace with `lo` up.
fn in_fresh_netns<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::spawn(move || {
        let _ns = NetNs::create().expect("create a network namespace (run as root)");
        set_up("lo");
        f()
    })
    .join()
    .unwrap()
}

/// Brings an interface of the calling thread's namespace up.
fn set_up(ifname: &str) {
    crate::sys::netlink::Netlink::open()
        .and_then(|mut netlink| netlink.set_up(ifname))
        .unwrap_or_else(|e| panic!("{ifname} up: {e}"));
}

/// (direction, flags, seq, ack, len) of each segment.
fn summary(segments: &[Segment]) -> Vec<(Direction, String, u32, u32, u32)> {
    segments
        .iter()
        .map(|s| (s.dir, s.flags.clone(), s.seq, s.ack, s.len))
        .collect()
}

fn is_final_ack(segments: &[Segment]) -> bool {
    let server_fin = segments
        .iter()
        .position(|s| s.dir == ServerToClient && s.flags.contains('F'));
    server_fin.is_some_and(|i| {
        segments[i + 1..]
            .iter()
            .any(|s| s.dir == ClientToServer && s.flags == ".")
    })
}

/// Handshake, 5 bytes up, 6 bytes down, client closes, server closes; captured on `lo`.
fn loopback_conversation(server_ip: &str) -> CaptureResult {
    loopback_conversation_through(CaptureSource::open("lo").unwrap(), server_ip)
}

/// [`loopback_conversation`], captured by `source`.
fn loopback_conversation_through(source: CaptureSource, server_ip: &str) -> CaptureResult {
    let mut cap = Capture::new(Instant::now());
    cap.add_source(source);
    let listener = TcpListener::bind((server_ip, 0)).unwrap();
    cap.set_server(listener.local_addr().unwrap());
    let mut client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let (mut server, _) = listener.accept().unwrap();
    client.write_all(b"hello").unwrap();
    server.read_exact(&mut [0; 5]).unwrap();
    server.write_all(b"world!").unwrap();
    client.read_exact(&mut [0; 6]).unwrap();
    drop(client);
    assert_eq!(server.read(&mut [0; 1]).unwrap(), 0);
    drop(server);
    assert!(
        cap.wait_for(Instant::now() + Duration::from_secs(5), is_final_ack)
            .unwrap()
    );
    cap.finish().unwrap()
}

fn check_conversation(result: &CaptureResult, server_ip: &str) {
    let s = summary(&result.segments);
    let text: Vec<String> = result.segments.iter().map(|s| s.to_string()).collect();
    let text = text.join("\n");
    eprintln!("{text}");
    // The handshake and the first data segment, once each and in order.
    assert_eq!(
        s[..4],
        [
            (ClientToServer, "S".into(), 0, 0, 0),
            (ServerToClient, "S.".into(), 0, 1, 0),
            (ClientToServer, ".".into(), 1, 1, 0),
            (ClientToServer, "P.".into(), 1, 1, 5),
        ],
        "{text}"
    );
    // Seen twice, every count below would double.
    let count = |dir, flags: &str| s.iter().filter(|x| x.0 == dir && x.1 == flags).count();
    assert_eq!(
        (count(ClientToServer, "S"), count(ServerToClient, "S.")),
        (1, 1),
        "{text}"
    );
    assert_eq!(
        (count(ClientToServer, "F."), count(ServerToClient, "F.")),
        (1, 1),
        "{text}"
    );
    let bytes = |dir| s.iter().filter(|x| x.0 == dir).map(|x| x.4).sum::<u32>();
    assert_eq!((bytes(ClientToServer), bytes(ServerToClient)), (5, 6), "{text}");
    let mut unique = s.clone();
    unique.dedup();
    assert_eq!(unique.len(), s.len(), "a segment appears twice in a row:\n{text}");
    // The client's FIN follows its 5 bytes; the server's follows its 6.
    assert!(s.contains(&(ClientToServer, "F.".into(), 6, 7, 0)), "{text}");
    assert!(s.contains(&(ServerToClient, "F.".into(), 7, 7, 0)), "{text}");
    assert_eq!(s.last().unwrap(), &(ClientToServer, ".".into(), 7, 8, 0), "{text}");
    // Directions follow addresses; times are in order and within the trial.
    for seg in &result.segments {
        let server_side = if seg.dir == ServerToClient { &seg.src } else { &seg.dst };
        assert!(server_side.contains(server_ip), "{seg:?}");
    }
    assert!(result.segments.windows(2).all(|w| w[0].t_us <= w[1].t_us));
    assert!(result.segments.last().unwrap().t_us < 5_000_000);
    assert_eq!(result.drops, 0);
    assert!(
        result
            .frames
            .iter()
            .all(|f| f.interface == "lo:lo" && f.data.len() <= SNAPLEN as usize)
    );
}

#[test]
fn a_loopback_conversation_over_ipv4_is_captured_once_per_segment() {
    let result = in_fresh_netns(|| loopback_conversation("127.0.0.1"));
    check_conversation(&result, "127.0.0.1");
    assert!(result.segments[0].src.starts_with("127.0.0.1:"));
}

#[test]
fn a_loopback_conversation_over_ipv6_is_captured_once_per_segment() {
    let result = in_fresh_netns(|| loopback_conversation("::1"));
    check_conversation(&result, "[::1]");
    assert!(result.segments[0].src.starts_with("[::1]:"));
}

/// packet(7): without a ring, recvmsg gives each frame with its sockaddr_ll (the interface
/// and PACKET_OUTGOING) and, with SO_TIMESTAMPNS, its receive time: the same conversation,
/// once per segment, in order.
#[test]
fn a_source_without_a_ring_captures_the_same_conversation_with_recvmsg() {
    for server_ip in ["127.0.0.1", "::1"] {
        let (result, receiving) = in_fresh_netns(move || {
            let source = CaptureSource::open_without_ring("lo").unwrap();
            let receiving = source.receiving();
            (loopback_conversation_through(source, server_ip), receiving)
        });
        assert_eq!(receiving, Receiving::RecvmsgNanoseconds);
        let shown = if server_ip.contains(':') {
            "[::1]".to_string()
        } else {
            server_ip.to_string()
        };
        check_conversation(&result, &shown);
    }
}

#[test]
fn a_connect_to_a_closed_port_is_a_syn_and_a_reset() {
    for server in ["127.0.0.1:9", "[::1]:9"] {
        let server: SocketAddr = server.parse().unwrap();
        let (segments, left) = in_fresh_netns(move || {
            let mut cap = Capture::new(Instant::now());
            cap.add_source(CaptureSource::open("lo").unwrap());
            cap.set_server(server);
            let err = TcpStream::connect(server).unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused);
            let deadline = Instant::now() + Duration::from_secs(60);
            let seen = cap.wait_for(deadline, |s| s.iter().any(|s| s.flags == "R.")).unwrap();
            assert!(seen);
            (
                cap.finish().unwrap().segments,
                deadline.saturating_duration_since(Instant::now()),
            )
        });
        assert_eq!(
            summary(&segments),
            [
                (ClientToServer, "S".into(), 0, 0, 0),
                (ServerToClient, "R.".into(), 0, 1, 0)
            ],
            "{server}"
        );
        assert_eq!(segments[1].win, 0);
        assert!(
            !left.is_zero(),
            "wait_for ran into its deadline instead of waking on the reset"
        );
    }
}

#[test]
fn wait_for_wakes_when_a_segment_arrives_and_gives_up_at_the_deadline() {
    in_fresh_netns(|| {
        let mut cap = Capture::new(Instant::now());
        cap.add_source(CaptureSource::open("lo").unwrap());
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        cap.set_server(addr);
        let mut client = TcpStream::connect(addr).unwrap();
        let (_server, _) = listener.accept().unwrap();
        let has_data = |s: &[Segment]| s.iter().any(|s| s.len > 0);

        // Nothing is sent: false, and not before the deadline.
        let t = Instant::now();
        let deadline = t + Duration::from_millis(200);
        assert!(!cap.wait_for(deadline, has_data).unwrap());
        assert!(Instant::now() >= deadline, "gave up before its deadline");

        // Another thread in the same namespace sends once this thread sleeps in poll(2) inside
        // wait_for: the frame, not the deadline a minute away, must end the wait.
        let waiter = crate::sys::thread_id();
        let ns = NetNs::current().unwrap();
        let sender = std::thread::spawn(move || {
            ns.enter().unwrap();
            while !crate::sys::sleeping_in(waiter, crate::Verb::Poll) {
                std::thread::yield_now();
            }
            client.write_all(b"x").unwrap();
        });
        let deadline = Instant::now() + Duration::from_secs(60);
        assert!(cap.wait_for(deadline, has_data).unwrap());
        assert!(Instant::now() < deadline, "woke at the deadline, not on the frame");
        sender.join().unwrap();
    });
}

fn tool(name: &str) -> bool {
    Command::new(name).arg("-V").output().is_ok()
}

#[test]
fn the_pcapng_reads_back_in_tcpdump_with_the_same_packets_and_todays_date() {
    if crate::prerequisite::unmet((!tool("tcpdump")).then(|| "tcpdump is not installed".to_string())) {
        return;
    }
    for server_ip in ["127.0.0.1", "::1"] {
        let result = in_fresh_netns(move || loopback_conversation(server_ip));
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("trial.pcapng");
        result.write_pcapng(&path, &[]).unwrap();
        let out = Command::new("tcpdump")
            .args(["-r", path.to_str().unwrap(), "-nn", "-tttt"])
            .env("TZ", "UTC")
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let stdout = String::from_utf8(out.stdout).unwrap();
        eprintln!("{stdout}");
        let lines: Vec<&str> = stdout.lines().collect();
        let flags: Vec<&str> = lines
            .iter()
            .filter_map(|l| {
                l.split_once("Flags [")
                    .and_then(|(_, rest)| rest.split_once(']'))
                    .map(|f| f.0)
            })
            .collect();
        let ours: Vec<&str> = result.segments.iter().map(|s| s.flags.as_str()).collect();
        assert_eq!(flags, ours, "{stdout}");
        assert_eq!(lines.len(), result.frames.len(), "{stdout}");
        let year = Command::new("date").args(["-u", "+%Y"]).output().unwrap().stdout;
        let year = String::from_utf8(year).unwrap();
        assert!(
            lines.iter().all(|l| l.starts_with(&format!("{}-", year.trim()))),
            "{stdout}"
        );
        // The payload is cut off but its length is the original one.
        assert!(lines.iter().any(|l| l.contains("length 5")), "{stdout}");
    }
}

/// `ip` with arguments, in the calling thread's namespace (a child process inherits the
/// namespace of the thread that forks it).
fn ip(args: &str) {
    let out = Command::new("ip").args(args.split_whitespace()).output().unwrap();
    assert!(
        out.status.success(),
        "ip {args}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn over_a_veth_pair_each_segment_is_taken_once_from_the_namespace_that_sent_it() {
    if crate::prerequisite::unmet((!tool("ip")).then(|| "iproute2 (ip) is not installed".to_string())) {
        return;
    }
    let result = std::thread::spawn(|| {
        let client_ns = NetNs::create().unwrap();
        let server_ns = NetNs::create().unwrap();
        let mut cap = Capture::new(Instant::now());
        // In the server namespace (where the thread is now).
        cap.add_source(CaptureSource::open("server").unwrap());
        // The peer end goes to the client namespace, named by this process's descriptor.
        let client_path = format!("/proc/{}/fd/{}", std::process::id(), client_ns.as_fd().as_raw_fd());
        ip(&format!("link add veth1 type veth peer name veth0 netns {client_path}"));
        ip("addr add 10.9.0.2/24 dev veth1");
        ip("link set veth1 up");
        let listener = TcpListener::bind("10.9.0.2:0").unwrap();
        cap.set_server(listener.local_addr().unwrap());
        client_ns.enter().unwrap();
        cap.add_source(CaptureSource::open("client").unwrap());
        ip("addr add 10.9.0.1/24 dev veth0");
        ip("link set veth0 up");
        let mut client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (mut server, _) = listener.accept().unwrap();
        client.write_all(&[7; 100_000]).unwrap();
        server.read_exact(&mut [0; 100_000]).unwrap();
        drop(client);
        drop(server);
        assert!(
            cap.wait_for(Instant::now() + Duration::from_secs(5), is_final_ack)
                .unwrap()
        );
        server_ns.enter().unwrap();
        cap.finish().unwrap()
    })
    .join()
    .unwrap();
    let s = summary(&result.segments);
    let text: Vec<String> = result.segments.iter().map(|s| s.to_string()).collect();
    let text = text.join("\n");
    eprintln!("{text}");
    for f in &result.frames {
        eprintln!("{} {} bytes of {}", f.interface, f.data.len(), f.orig_len);
    }
    assert_eq!(s[0], (ClientToServer, "S".into(), 0, 0, 0), "{text}");
    assert_eq!(s[1], (ServerToClient, "S.".into(), 0, 1, 0), "{text}");
    let bytes: u32 = s.iter().filter(|x| x.0 == ClientToServer).map(|x| x.4).sum();
    assert_eq!(bytes, 100_000, "{text}");
    let count = |dir, flags: &str| s.iter().filter(|x| x.0 == dir && x.1 == flags).count();
    assert_eq!(
        (
            count(ClientToServer, "S"),
            count(ClientToServer, "F."),
            count(ServerToClient, "F.")
        ),
        (1, 1, 1)
    );
    // Client segments were taken on the client's veth, the server's on the server's.
    for (seg, frame) in result.segments.iter().zip(result.frames.iter().filter(|f| is_tcp(f))) {
        let want = if seg.dir == ClientToServer {
            "client:veth0"
        } else {
            "server:veth1"
        };
        assert_eq!(frame.interface, want, "{seg}");
    }
    assert!(result.frames.iter().all(|f| f.data.len() <= SNAPLEN as usize));
    assert_eq!(result.drops, 0);
}

fn is_tcp(f: &Frame) -> bool {
    parse::parse_tcp(&f.data, f.orig_len).is_some()
}

/// tcpdump's `Flags [...]` of each line of `tcpdump -r path -nn`.
fn tcpdump_flags(path: &Path) -> Vec<String> {
    let out = Command::new("tcpdump")
        .args(["-r", path.to_str().unwrap(), "-nn"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8(out.stdout).unwrap();
    eprintln!("{stdout}");
    stdout
        .lines()
        .filter_map(|l| {
            l.split_once("Flags [")
                .and_then(|(_, rest)| rest.split_once(']'))
                .map(|f| f.0.to_string())
        })
        .collect()
}

#[test]
fn ecn_and_reset_flags_are_written_as_tcpdump_writes_them() {
    if crate::prerequisite::unmet((!tool("tcpdump")).then(|| "tcpdump is not installed".to_string())) {
        return;
    }
    let result = in_fresh_netns(|| {
        crate::sys::write_sysctl("net.ipv4.tcp_ecn", "1").unwrap(); // this namespace only
        let mut cap = Capture::new(Instant::now());
        cap.add_source(CaptureSource::open("lo").unwrap());
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        cap.set_server(listener.local_addr().unwrap());
        let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (server, _) = listener.accept().unwrap();
        // Close with unread data: the server resets instead of a FIN.
        (&client).write_all(b"unread").unwrap();
        assert!(
            cap.wait_for(Instant::now() + Duration::from_secs(5), |s| s
                .iter()
                .any(|s| s.len == 6))
                .unwrap()
        );
        drop(server);
        assert!(
            cap.wait_for(Instant::now() + Duration::from_secs(5), |s| s
                .iter()
                .any(|s| s.flags == "R."))
                .unwrap()
        );
        drop(client);
        cap.finish().unwrap()
    });
    let ours: Vec<&str> = result.segments.iter().map(|s| s.flags.as_str()).collect();
    assert_eq!(ours[..2], ["SEW", "S.E"]);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ecn.pcapng");
    result.write_pcapng(&path, &[]).unwrap();
    assert_eq!(tcpdump_flags(&path), ours);
}

#[test]
fn frames_lost_to_a_full_buffer_are_counted_as_drops() {
    // A source's ring holds RING_FRAMES frames whatever their size; with no drain in between,
    // the kernel drops each frame that finds it full and counts it. Datagrams make the count
    // exact: one frame each, and nothing else goes over a fresh `lo`.
    const EXTRA: usize = 500;
    let (result, sent) = in_fresh_netns(|| {
        let mut cap = Capture::new(Instant::now());
        cap.add_source(CaptureSource::open("lo").unwrap());
        let sink = std::net::UdpSocket::bind("127.0.0.1:0").unwrap(); // never read
        let sender = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let mut sent = 0;
        for i in 0..(RING_FRAMES + EXTRA) as u32 {
            sent += sender.send_to(&i.to_be_bytes(), sink.local_addr().unwrap()).unwrap() / 4;
        }
        (cap.finish().unwrap(), sent)
    });
    assert_eq!(sent, RING_FRAMES + EXTRA);
    assert_eq!((result.frames.len(), result.drops), (RING_FRAMES, EXTRA as u64));
    // The ring keeps the oldest frames: the datagrams numbered 0 to RING_FRAMES - 1, in order.
    let numbers: Vec<u32> = result
        .frames
        .iter()
        .map(|f| u32::from_be_bytes(f.data[42..46].try_into().unwrap()))
        .collect();
    assert!(numbers.iter().copied().eq(0..RING_FRAMES as u32), "{numbers:?}");
}

#[test]
fn frames_sent_before_the_capture_is_read_keep_their_send_time_order() {
    // Nothing is read off the capture until every call below has returned, long after: a
    // frame stamped when it is read and not when it is sent lands outside the window of the
    // call that sent it, and out of order. (A plain packet socket stamped frames when they
    // were sent only while some socket of the host had asked for timestamps, which was not
    // yet so for the first capture of a fresh process. Tests share a process, so this one
    // checks the stamps against the calls instead of counting on being first.)
    const PAUSE: Duration = Duration::from_millis(30);
    // Longer than the longest delayed ACK (TCP_DELACK_MAX, 200 ms), so that the client has
    // acknowledged the server's FIN on its own before it closes.
    const DELACK_PAUSE: Duration = Duration::from_millis(250);
    // Before a call starts: only the error of converting between the monotonic and the wall
    // clock, much less than PAUSE.
    const EARLY_US: u64 = 50;
    let (segments, calls) = in_fresh_netns(|| {
        let mut cap = Capture::new(Instant::now());
        cap.add_source(CaptureSource::open("lo").unwrap());
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        cap.set_server(addr);
        let start = cap.start();
        let mut calls = Vec::new();
        let mut timed = |pause, f: &mut dyn FnMut()| {
            std::thread::sleep(pause);
            let t = Instant::now();
            f();
            let us = |t: Instant| (t - start).as_micros() as u64;
            calls.push((us(t), us(Instant::now())));
        };
        let mut client = None;
        // At once: the old failure needed the frames sent right after the capture opened.
        timed(Duration::ZERO, &mut || client = Some(TcpStream::connect(addr).unwrap()));
        let mut server = Some(listener.accept().unwrap().0);
        timed(PAUSE, &mut || drop(server.take()));
        timed(DELACK_PAUSE, &mut || drop(client.take()));
        std::thread::sleep(PAUSE);
        calls.push({
            let read = (Instant::now() - start).as_micros() as u64;
            (read, read)
        });
        assert!(
            cap.wait_for(Instant::now() + Duration::from_secs(5), is_final_ack)
                .unwrap()
        );
        (cap.finish().unwrap().segments, calls)
    });
    let text: Vec<String> = segments.iter().map(|s| s.to_string()).collect();
    let text = format!("{}\ncalls (start, end) in µs: {calls:?}", text.join("\n"));
    eprintln!("{text}");
    let [connect, server_close, client_close, read] = calls[..] else {
        unreachable!()
    };
    // Each segment is stamped after the call that caused it started and before the next call
    // started (the calls are PAUSE apart), and the last ones before the capture was read: a
    // frame stamped when read would land after `read`, whatever the machine's load.
    let between = |(start, _): (u64, u64), (next, _): (u64, u64)| (start.saturating_sub(EARLY_US), next);
    let expected = [
        (ClientToServer, "S", 0, 0, between(connect, server_close)),
        (ServerToClient, "S.", 0, 1, between(connect, server_close)),
        (ClientToServer, ".", 1, 1, between(connect, server_close)),
        (ServerToClient, "F.", 1, 1, between(server_close, client_close)),
        // The client acknowledges the FIN at once or on its delayed-ACK timer, before it closes.
        (ClientToServer, ".", 1, 2, between(server_close, client_close)),
        (ClientToServer, "F.", 1, 2, between(client_close, read)),
        (ServerToClient, ".", 2, 2, between(client_close, read)),
    ];
    assert_eq!(segments.len(), expected.len(), "{text}");
    for (seg, (dir, flags, seq, ack, (from, to))) in segments.iter().zip(expected) {
        assert_eq!(
            (seg.dir, seg.flags.as_str(), seg.seq, seg.ack),
            (dir, flags, seq, ack),
            "{text}"
        );
        assert!(
            (from..=to).contains(&seg.t_us),
            "{seg} not sent within {from}..={to} µs\n{text}"
        );
    }
    assert!(segments.windows(2).all(|w| w[0].t_us <= w[1].t_us), "{text}");
}

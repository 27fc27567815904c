//! What this platform offers the trials, probed once per run: packet capture (with a ring or
//! without), rtnetlink notifications, route lookups that name local addresses, nftables, the
//! sysctls a scenario shortens, what /proc says about a thread, and TCP_INFO's count of
//! bytes acknowledged. A Linux kernel offers all of them; gVisor's netstack, a stack of its
//! own behind Linux's system calls, offers some.
//!
//! Each probe is `Ok(())` or one line saying what was seen instead, so that a trial that
//! needs the capability can be skipped with that reason. Where a fallback exists the harness
//! uses it by itself, and the probe only says so: capture with recvmsg(2) when there is no
//! ring, asking again when there are no netlink notifications, the address dump when route
//! lookups do not name local addresses, the thread's state when /proc does not name its
//! system call.
//!
//! The probes run on a throw-away thread in a fresh network namespace of their own, so
//! nothing the host has is touched.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::netlink::{self, Netlink};
use crate::capture::{CaptureSource, Receiving};
use crate::sys::{self, NetNs};

/// A probe's answer: available, or what was seen instead (one line).
pub type Probe = Result<(), String>;

/// What the platform offers, each as a [`Probe`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Capabilities {
    /// An AF_PACKET socket in a namespace of the trial: without one no trial sees its wire.
    pub packet_capture: Probe,
    /// PACKET_RX_RING, whose frames are stamped when tapped. Fallback: recvmsg(2) with receive
    /// timestamps.
    pub packet_ring: Probe,
    /// PACKET_STATISTICS, the count of frames a capture dropped. Without it a wire's drop
    /// count stays 0 whatever was lost.
    pub packet_drop_count: Probe,
    /// rtnetlink multicast membership (link and route announcements). Fallback: asking for
    /// the state again, yielding between looks.
    pub netlink_notifications: Probe,
    /// Route lookups that answer RTN_LOCAL for a local address. Fallback: the address dump.
    pub local_route_lookups: Probe,
    /// The `nft` command and nf_tables in the kernel: firewalls inside a trial.
    pub nftables: Probe,
    /// `iptables-legacy` and `ip6tables-legacy` add a rule in a namespace. Used for the
    /// firewall where nftables is missing (gVisor implements the iptables socket options).
    pub iptables: Probe,
    /// /proc/<pid>/task/<tid>/syscall: which system call a blocked thread sleeps in.
    /// Fallback: its state (asleep) from /proc/<pid>/task/<tid>/stat.
    pub task_syscall: Probe,
    /// /proc/<pid>/task/<tid>/stat: whether a thread is asleep.
    pub task_state: Probe,
    /// TCP_INFO `tcpi_bytes_acked` counts the bytes the peer acknowledged (Linux 4.2 and
    /// later; gVisor leaves it 0).
    pub tcp_info_bytes_acked: Probe,
    /// /proc/net/tcp and tcp6 list the namespace's TCP sockets, those no descriptor holds any
    /// more (TIME_WAIT) included; gVisor lists only sockets with a descriptor.
    pub tcp_table: Probe,
    /// A peer's FIN wakes a poll(2) that asks for POLLRDHUP alone; gVisor wakes it only when
    /// POLLIN is asked too. Fallback: asking for POLLIN as well.
    pub poll_rdhup_wakeup: Probe,
    /// An unconnected UDP socket with IP_RECVERR is told of an ICMP port unreachable
    /// (POLLERR, its error queue); gVisor accepts the option and queues nothing.
    pub udp_error_queue: Probe,
    /// Bytes of TCP_INFO the platform fills (fewer on older kernels), 0 where it has none.
    pub tcp_info_len: usize,
    /// How a capture receives here, when it can.
    pub capture_method: Option<Receiving>,
}

/// One capability as a report shows it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct CapabilityRecord {
    /// What was probed (`packet_ring`, `sysctl net.ipv4.tcp_rfc1337`).
    pub name: String,
    pub available: bool,
    /// What was seen when it is not available, or how it is used when it is.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub detail: String,
}

impl Capabilities {
    /// The capabilities of this platform, probed on first use and kept for the rest of the
    /// process.
    pub fn get() -> &'static Capabilities {
        static PROBED: OnceLock<Capabilities> = OnceLock::new();
        PROBED.get_or_init(|| {
            std::thread::spawn(Capabilities::probe)
                .join()
                .unwrap_or_else(|_| Capabilities::none("the probe panicked"))
        })
    }

    /// Nothing available, for the reason given.
    fn none(why: &str) -> Capabilities {
        let no = || Err(why.to_string());
        Capabilities {
            packet_capture: no(),
            packet_ring: no(),
            packet_drop_count: no(),
            netlink_notifications: no(),
            local_route_lookups: no(),
            nftables: no(),
            iptables: no(),
            task_syscall: sys::probe_task_syscall(),
            task_state: sys::probe_task_state(),
            tcp_info_bytes_acked: no(),
            tcp_table: no(),
            udp_error_queue: no(),
            poll_rdhup_wakeup: no(),
            tcp_info_len: 0,
            capture_method: None,
        }
    }

    /// Runs every probe on the calling thread, which it moves into a new namespace: call it
    /// on a thread of its own.
    fn probe() -> Capabilities {
        if let Err(e) = NetNs::create() {
            return Capabilities::none(&format!("no network namespace to probe in ({e})"));
        }
        let mut found = Capabilities::none("not probed");
        found.netlink_notifications = netlink::notifications();
        found.local_route_lookups = netlink::local_route_lookups();
        found.nftables = probe_nftables();
        found.iptables = probe_iptables();
        let lo_up = Netlink::open()
            .and_then(|mut nl| {
                nl.set_up("lo")?;
                nl.wait_until_up("lo", Instant::now() + Duration::from_secs(5))
            })
            .map_err(|e| format!("lo did not come up: {e}"));
        match CaptureSource::open("probe") {
            Err(e) => {
                let why = format!("no packet socket: {e}");
                found.packet_capture = Err(why.clone());
                found.packet_ring = Err(why.clone());
                found.packet_drop_count = Err(why);
            }
            Ok(source) => {
                found.packet_capture = Ok(());
                found.capture_method = Some(source.receiving());
                found.packet_ring = match source.ring_refused() {
                    None => Ok(()),
                    Some(why) => Err(format!("refused ({why}): capturing with recvmsg(2)")),
                };
                found.packet_drop_count = source
                    .take_drops()
                    .map(|_| ())
                    .map_err(|e| format!("PACKET_STATISTICS: {e}"));
            }
        }
        match lo_up.and_then(|()| probe_tcp()) {
            Ok(tcp) => {
                found.tcp_info_len = tcp.info_len;
                found.tcp_info_bytes_acked = tcp.bytes_acked;
                found.tcp_table = tcp.table;
            }
            Err(why) => {
                found.tcp_info_bytes_acked = Err(why.clone());
                found.tcp_table = Err(why);
            }
        }
        found.udp_error_queue = probe_udp_error_queue();
        found.poll_rdhup_wakeup = probe_poll_rdhup_wakeup();
        found
    }

    /// Every capability as a report shows it, the sysctls probed so far included.
    pub fn records(&self) -> Vec<CapabilityRecord> {
        let record = |name: &str, probe: &Probe, used: String| CapabilityRecord {
            name: name.to_string(),
            available: probe.is_ok(),
            detail: match probe {
                Ok(()) => used,
                Err(why) => why.clone(),
            },
        };
        let method = self
            .capture_method
            .map(|m| m.describe().to_string())
            .unwrap_or_default();
        let mut records = vec![
            record("packet_capture", &self.packet_capture, method),
            record("packet_ring", &self.packet_ring, String::new()),
            record("packet_drop_count", &self.packet_drop_count, String::new()),
            record("netlink_notifications", &self.netlink_notifications, String::new()),
            record("local_route_lookups", &self.local_route_lookups, String::new()),
            record("nftables", &self.nftables, String::new()),
            record("iptables", &self.iptables, String::new()),
            record("task_syscall", &self.task_syscall, String::new()),
            record("task_state", &self.task_state, String::new()),
            record(
                "tcp_info_bytes_acked",
                &self.tcp_info_bytes_acked,
                format!("TCP_INFO is {} bytes", self.tcp_info_len),
            ),
            record("tcp_table", &self.tcp_table, String::new()),
            record("udp_error_queue", &self.udp_error_queue, String::new()),
            record("poll_rdhup_wakeup", &self.poll_rdhup_wakeup, String::new()),
        ];
        for (key, probe) in lock(sysctl_probes()).iter() {
            records.push(record(&format!("sysctl {key}"), probe, String::new()));
        }
        records
    }
}

fn sysctl_probes() -> &'static Mutex<BTreeMap<String, Probe>> {
    static PROBES: OnceLock<Mutex<BTreeMap<String, Probe>>> = OnceLock::new();
    PROBES.get_or_init(|| Mutex::new(BTreeMap::new()))
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Whether a network namespace may set sysctl `key` (`net.ipv4.tcp_rfc1337`): it exists
/// there and takes its own value back. Probed once per key, in a fresh namespace on a
/// throw-away thread. gVisor has no `net.ipv6.*` at all and refuses most writes (EACCES).
pub fn sysctl(key: &str) -> Probe {
    if let Some(known) = lock(sysctl_probes()).get(key) {
        return known.clone();
    }
    let owned = key.to_string();
    let probe = std::thread::spawn(move || {
        NetNs::create().map_err(|e| format!("no network namespace to try {owned} in ({e})"))?;
        let value = sys::read_sysctl(&owned).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => format!("this kernel has no {owned} in a network namespace"),
            _ => format!("{owned} cannot be read in a network namespace ({e})"),
        })?;
        sys::write_sysctl(&owned, &value).map_err(|e| format!("{owned} cannot be set in a network namespace ({e})"))
    })
    .join()
    .unwrap_or_else(|_| Err(format!("the probe of {key} panicked")));
    lock(sysctl_probes()).insert(key.to_string(), probe.clone());
    probe
}

/// Whether `nft` runs and the kernel has nf_tables: a table added in the probe's namespace.
fn probe_nftables() -> Probe {
    match sys::run_program("nft", &["-f", "-"], b"table inet sockerr_probe { }\n") {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            Err("the nft command is missing: install nftables (apt-get install nftables)".into())
        }
        Err(e) => Err(format!("could not run nft: {e}")),
        Ok((0, _)) => Ok(()),
        Ok((status, stderr)) => Err(format!(
            "nft exited with {status}: {}",
            stderr.lines().next().unwrap_or("").trim()
        )),
    }
}

/// Whether `iptables-legacy` and `ip6tables-legacy` add a rule in the probe's namespace.
fn probe_iptables() -> Probe {
    for program in ["iptables-legacy", "ip6tables-legacy"] {
        let rule = ["-w", "-A", "INPUT", "-p", "tcp", "--dport", "9", "-j", "DROP"];
        match sys::run_program(program, &rule, b"") {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(format!("the {program} command is missing"));
            }
            Err(e) => return Err(format!("could not run {program}: {e}")),
            Ok((0, _)) => {}
            Ok((status, stderr)) => {
                return Err(format!(
                    "{program} exited with {status}: {}",
                    stderr.lines().next().unwrap_or("").trim()
                ));
            }
        }
    }
    Ok(())
}

/// What one TCP exchange over loopback shows.
struct TcpProbe {
    info_len: usize,
    bytes_acked: Probe,
    table: Probe,
}

/// How long a probe looks for what loopback delivers at once (the TIME_WAIT a close leaves,
/// the error an ICMP port unreachable leaves): on Linux it is there before the call that
/// caused it returns, so this bounds only the look on a platform without it.
const PROMPT: Duration = Duration::from_millis(200);

/// One byte each way over 127.0.0.1. The server's byte carries the acknowledgement of the
/// client's, so once the client has read it, TCP_INFO must count 2 bytes acknowledged (the
/// SYN and the byte), where it counts at all. Then the client closes first, so its side
/// goes to TIME_WAIT once the server has closed too: the namespace's TCP table must list
/// that connection, which no descriptor holds any more.
fn probe_tcp() -> Result<TcpProbe, String> {
    let failed = |what: &str, e: std::io::Error| format!("a TCP exchange over 127.0.0.1 failed ({what}: {e})");
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).map_err(|e| failed("bind", e))?;
    let addr = listener.local_addr().map_err(|e| failed("getsockname", e))?;
    let mut client = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).map_err(|e| failed("connect", e))?;
    let (mut server, _) = listener.accept().map_err(|e| failed("accept", e))?;
    for stream in [&client, &server] {
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .map_err(|e| failed("SO_RCVTIMEO", e))?;
    }
    let mut byte = [0u8];
    client.write_all(b"?").map_err(|e| failed("write", e))?;
    server.read_exact(&mut byte).map_err(|e| failed("read", e))?;
    server.write_all(b"!").map_err(|e| failed("write", e))?;
    client.read_exact(&mut byte).map_err(|e| failed("read", e))?;
    let info_len = sys::tcp_info_len(client.as_raw_fd());
    let bytes_acked = match sys::tcp_bytes_acked(client.as_raw_fd()) {
        Some(acked) if acked >= 2 => Ok(()),
        Some(acked) => Err(format!(
            "tcpi_bytes_acked is {acked} after the peer acknowledged 2 bytes of sequence space"
        )),
        None => Err(format!(
            "TCP_INFO is {info_len} bytes, too short to hold tcpi_bytes_acked"
        )),
    };
    let local = client.local_addr().map_err(|e| failed("getsockname", e))?;
    drop(client);
    let _ = server.read(&mut byte);
    drop(server);
    let deadline = Instant::now() + PROMPT;
    let time_wait =
        |entries: &[crate::trial::TcpEntry]| entries.iter().any(|e| e.local == local && e.state == "TIME_WAIT");
    let table = loop {
        match crate::trial::tcp_table() {
            None => break Err("/proc/net/tcp cannot be read".to_string()),
            Some(entries) if time_wait(&entries) => break Ok(()),
            Some(_) if Instant::now() >= deadline => {
                break Err(format!(
                    "/proc/net/tcp does not list the connection from {local} in TIME_WAIT after its close"
                ));
            }
            Some(_) => std::thread::yield_now(),
        }
    };
    Ok(TcpProbe {
        info_len,
        bytes_acked,
        table,
    })
}

/// A datagram from an unconnected socket with IP_RECVERR to a closed port of 127.0.0.1: the
/// port unreachable must leave an error on the socket (POLLERR).
fn probe_udp_error_queue() -> Probe {
    use nix::sys::socket::{setsockopt, sockopt::Ipv4RecvErr};
    let failed = |what: &str, e: std::io::Error| format!("a datagram over 127.0.0.1 failed ({what}: {e})");
    let closed = std::net::UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).map_err(|e| failed("bind", e))?;
    let to = closed.local_addr().map_err(|e| failed("getsockname", e))?;
    drop(closed);
    let socket = std::net::UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).map_err(|e| failed("bind", e))?;
    setsockopt(&socket, Ipv4RecvErr, &true).map_err(|e| failed("IP_RECVERR", e.into()))?;
    socket.send_to(b"?", to).map_err(|e| failed("sendto", e))?;
    let deadline = Instant::now() + PROMPT;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match sys::poll_one(socket.as_raw_fd(), 0, Some(left)) {
            (Ok(_), revents) if revents & libc::POLLERR != 0 => return Ok(()),
            (Err(e), _) if e.kind() != std::io::ErrorKind::Interrupted => return Err(failed("poll", e)),
            _ if Instant::now() >= deadline => {
                return Err(format!(
                    "no error on the socket {PROMPT:?} after a datagram to the closed port {to}"
                ));
            }
            _ => {}
        }
    }
}

/// A thread polls a connected socket for POLLRDHUP alone; once it is asleep in the poll the
/// peer closes: its FIN must wake the poll, with POLLRDHUP.
fn probe_poll_rdhup_wakeup() -> Probe {
    let failed = |what: &str, e: std::io::Error| format!("a TCP exchange over 127.0.0.1 failed ({what}: {e})");
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).map_err(|e| failed("bind", e))?;
    let addr = listener.local_addr().map_err(|e| failed("getsockname", e))?;
    let client = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).map_err(|e| failed("connect", e))?;
    let (server, _) = listener.accept().map_err(|e| failed("accept", e))?;
    let (tid_tx, tid_rx) = std::sync::mpsc::channel();
    let poller = std::thread::spawn(move || {
        let _ = tid_tx.send(sys::thread_id());
        let (result, revents) = sys::poll_one(client.as_raw_fd(), libc::POLLRDHUP, Some(PROMPT));
        result.map(|n| n > 0 && revents & libc::POLLRDHUP != 0)
    });
    let tid = tid_rx
        .recv()
        .map_err(|_| "the polling thread did not start".to_string())?;
    let deadline = Instant::now() + PROMPT;
    while sys::thread_state(tid) != Some('S') && Instant::now() < deadline {
        std::thread::yield_now();
    }
    drop(server);
    match poller.join() {
        Ok(Ok(true)) => Ok(()),
        Ok(Ok(false)) => Err(format!(
            "a poll for POLLRDHUP alone was not woken by the peer's FIN within {PROMPT:?}: asking for POLLIN too"
        )),
        Ok(Err(e)) => Err(failed("poll", e)),
        Err(_) => Err("the polling thread panicked".to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// On the Linux kernels the suite runs on, every capability is there (nft aside, which
    /// a machine may lack) and a run needs no fallback.
    #[test]
    fn a_linux_kernel_offers_every_capability() {
        if let Some(why) = sys::namespaces_unavailable() {
            eprintln!("skipped: {why}");
            return;
        }
        let found = Capabilities::get();
        assert_eq!(found.packet_capture, Ok(()));
        assert_eq!(found.packet_ring, Ok(()));
        assert_eq!(found.capture_method, Some(Receiving::Ring));
        assert_eq!(found.packet_drop_count, Ok(()));
        assert_eq!(found.netlink_notifications, Ok(()));
        assert_eq!(found.local_route_lookups, Ok(()));
        assert_eq!(found.task_syscall, Ok(()));
        assert_eq!(found.task_state, Ok(()));
        assert_eq!(found.tcp_info_bytes_acked, Ok(()));
        assert_eq!(found.tcp_table, Ok(()));
        assert_eq!(found.udp_error_queue, Ok(()));
        assert_eq!(found.poll_rdhup_wakeup, Ok(()));
        assert!(found.tcp_info_len >= 120, "{}", found.tcp_info_len);
        let names: Vec<String> = found.records().into_iter().map(|r| r.name).collect();
        assert!(names.contains(&"nftables".to_string()), "{names:?}");
    }

    /// proc_sys(5): a per-namespace sysctl takes its own value back; one the kernel does not
    /// have is no file. Neither probe changes the host's value.
    #[test]
    fn a_sysctl_probe_tells_a_settable_key_from_a_missing_one() {
        if let Some(why) = sys::namespaces_unavailable() {
            eprintln!("skipped: {why}");
            return;
        }
        let before = sys::read_sysctl("net.ipv4.tcp_rfc1337").ok();
        assert_eq!(sysctl("net.ipv4.tcp_rfc1337"), Ok(()));
        let missing = sysctl("net.ipv4.no_such_knob").unwrap_err();
        assert!(missing.contains("has no net.ipv4.no_such_knob"), "{missing}");
        assert_eq!(sys::read_sysctl("net.ipv4.tcp_rfc1337").ok(), before);
        let names: Vec<String> = Capabilities::get().records().into_iter().map(|r| r.name).collect();
        assert!(names.contains(&"sysctl net.ipv4.no_such_knob".to_string()), "{names:?}");
    }
}

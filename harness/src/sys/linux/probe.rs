//! What this Linux offers a trial, probed in a throw-away namespace where a namespace is
//! involved, so that the probe touches nothing on the host.

use super::netlink::{self, Netlink};
use crate::capabilities::{Missing, Need, Offered};
use crate::capture::CaptureSource;
use crate::sys::linux::netns::in_fresh_namespace;

fn missing(what: impl Into<String>, remedy: impl Into<String>) -> Missing {
    Missing {
        what: what.into(),
        remedy: remedy.into(),
    }
}

/// Whether `need` can be met here, and if not, why and what to do.
pub fn probe(need: Need) -> Result<(), Missing> {
    match need {
        Need::Namespaces => match super::namespaces_unavailable() {
            None => Ok(()),
            Some(reason) => Err(missing("network namespaces", reason)),
        },
        Need::Nftables => probe_nftables(),
        Need::Sysctl(key) => probe_sysctl(key),
        Need::ProcTaskState => match super::can_see_sleeping_calls() {
            true => Ok(()),
            false => Err(missing(
                "/proc/<pid>/task/<tid>/syscall",
                "a kernel built with CONFIG_HAVE_ARCH_TRACEHOOK that shows it",
            )),
        },
        Need::TcpTable => readable_in_namespace("/proc/thread-self/net/tcp"),
        Need::ProtocolCounters => readable_in_namespace("/proc/thread-self/net/snmp"),
        Need::PacketCapture
        | Need::TcpInfoBytesAcked
        | Need::Epoll
        | Need::Fork
        | Need::ErrorQueue
        | Need::Runtime(_) => Ok(()),
    }
}

/// The `nft` program, and nf_tables in the kernel (`nft list ruleset` in a fresh namespace).
fn probe_nftables() -> Result<(), Missing> {
    let listed = in_fresh_namespace(|| super::run_program("nft", &["list", "ruleset"], b""));
    match listed {
        Ok(Ok((0, _))) => Ok(()),
        Ok(Err(e)) if e.kind() == std::io::ErrorKind::NotFound => {
            Err(missing("the nft program", "install it: apt-get install nftables"))
        }
        Ok(Ok((status, errors))) => Err(missing(
            "nf_tables in this kernel",
            format!(
                "`nft list ruleset` exited with {status} in a fresh namespace: {}",
                errors.lines().next().unwrap_or("no message")
            ),
        )),
        Ok(Err(e)) | Err(e) => Err(missing("the nft program", format!("it could not be run: {e}"))),
    }
}

/// A sysctl a trial writes: readable and writable in a fresh namespace (its value written
/// back unchanged).
fn probe_sysctl(key: &'static str) -> Result<(), Missing> {
    let written = in_fresh_namespace(move || {
        let value = super::read_sysctl(key)?;
        super::write_sysctl(key, &value)
    });
    match written {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) if e.kind() == std::io::ErrorKind::NotFound => Err(missing(
            format!("{key} in a network namespace"),
            "run on a kernel that has it",
        )),
        Ok(Err(e)) | Err(e) => Err(missing(
            format!("a writable {key} in a network namespace"),
            format!("the kernel refused to write it: {e}"),
        )),
    }
}

fn readable_in_namespace(path: &'static str) -> Result<(), Missing> {
    match in_fresh_namespace(move || std::fs::read_to_string(path)) {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) | Err(e) => Err(missing(path, format!("it cannot be read here: {e}"))),
    }
}

/// How long a probe looks for what loopback delivers at once (the TIME_WAIT a close leaves,
/// the error an ICMP port unreachable leaves, a poll's wake-up): on Linux it is there before
/// the call that caused it returns, so this bounds only the look on a platform without it.
const PROMPT: std::time::Duration = std::time::Duration::from_millis(200);

/// What one TCP exchange over 127.0.0.1 shows, in the calling thread's namespace (lo up).
pub struct TcpExchange {
    /// Bytes of TCP_INFO the platform filled.
    pub info_len: usize,
    /// TCP_INFO counts the bytes the peer acknowledged.
    pub bytes_acked: Result<(), String>,
    /// /proc/net/tcp lists a connection in TIME_WAIT, which no descriptor holds.
    pub time_wait_listed: Result<(), String>,
}

fn exchange_failed(what: &str, e: std::io::Error) -> String {
    format!("a TCP exchange over 127.0.0.1 failed ({what}: {e})")
}

/// A client and the connection a listener accepted from it, over 127.0.0.1.
fn loopback_pair() -> Result<(std::net::TcpStream, std::net::TcpStream), String> {
    use std::net::{Ipv4Addr, TcpListener, TcpStream};
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).map_err(|e| exchange_failed("bind", e))?;
    let addr = listener.local_addr().map_err(|e| exchange_failed("getsockname", e))?;
    let client = TcpStream::connect_timeout(&addr, std::time::Duration::from_secs(5))
        .map_err(|e| exchange_failed("connect", e))?;
    let (server, _) = listener.accept().map_err(|e| exchange_failed("accept", e))?;
    for stream in [&client, &server] {
        stream
            .set_read_timeout(Some(std::time::Duration::from_secs(5)))
            .map_err(|e| exchange_failed("SO_RCVTIMEO", e))?;
    }
    Ok((client, server))
}

/// One byte each way. The server's byte carries the acknowledgement of the client's, so once
/// the client has read it, TCP_INFO must count 2 bytes acknowledged (the SYN and the byte),
/// where it counts at all. Then the client closes first, so its side goes to TIME_WAIT once
/// the server has closed too: the namespace's TCP table must list that connection.
pub fn probe_tcp_exchange() -> Result<TcpExchange, String> {
    use std::io::{Read, Write};
    let (mut client, mut server) = loopback_pair()?;
    let mut byte = [0u8];
    client.write_all(b"?").map_err(|e| exchange_failed("write", e))?;
    server.read_exact(&mut byte).map_err(|e| exchange_failed("read", e))?;
    server.write_all(b"!").map_err(|e| exchange_failed("write", e))?;
    client.read_exact(&mut byte).map_err(|e| exchange_failed("read", e))?;
    let socket = socket2::SockRef::from(&client);
    let info_len = super::tcp_info_len(&socket);
    let bytes_acked = match super::tcp_bytes_acked(&socket) {
        Some(acked) if acked >= 2 => Ok(()),
        Some(acked) => Err(format!(
            "tcpi_bytes_acked is {acked} after the peer acknowledged 2 bytes of sequence space"
        )),
        None => Err(format!(
            "TCP_INFO is {info_len} bytes, too short to hold tcpi_bytes_acked"
        )),
    };
    let local = client.local_addr().map_err(|e| exchange_failed("getsockname", e))?;
    drop(client);
    let _ = server.read(&mut byte);
    drop(server);
    let deadline = std::time::Instant::now() + PROMPT;
    let time_wait_listed = loop {
        match super::tcp_table() {
            None => break Err("/proc/net/tcp cannot be read".to_string()),
            Some(entries) if entries.iter().any(|e| e.local == local && e.state == "TIME_WAIT") => break Ok(()),
            Some(_) if std::time::Instant::now() >= deadline => {
                break Err(format!(
                    "/proc/net/tcp does not list the connection from {local} in TIME_WAIT after its close"
                ));
            }
            Some(_) => std::thread::yield_now(),
        }
    };
    Ok(TcpExchange {
        info_len,
        bytes_acked,
        time_wait_listed,
    })
}

/// poll(2) on one descriptor for `events`, for at most `timeout`: the revents, or `None`
/// when nothing came.
fn poll_raw(fd: std::os::fd::RawFd, events: libc::c_short, timeout: std::time::Duration) -> Option<libc::c_short> {
    let deadline = std::time::Instant::now() + timeout;
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        let mut pfd = libc::pollfd { fd, events, revents: 0 };
        let ms = left.as_nanos().div_ceil(1_000_000).min(i32::MAX as u128) as i32;
        // SAFETY: one valid pollfd for the duration of the call.
        let rc = unsafe { libc::poll(&mut pfd, 1, ms) };
        match rc {
            n if n > 0 => return Some(pfd.revents),
            0 => return None,
            _ if std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted => continue,
            _ => return None,
        }
    }
}

/// A datagram from an unconnected socket with IP_RECVERR to a closed port of 127.0.0.1: the
/// port unreachable must leave an error on the socket (POLLERR).
pub fn probe_udp_error_queue() -> Result<(), String> {
    use std::net::{Ipv4Addr, UdpSocket};
    use std::os::fd::AsRawFd;
    let failed = |what: &str, e: std::io::Error| format!("a datagram over 127.0.0.1 failed ({what}: {e})");
    let closed = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).map_err(|e| failed("bind", e))?;
    let to = closed.local_addr().map_err(|e| failed("getsockname", e))?;
    drop(closed);
    let socket = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).map_err(|e| failed("bind", e))?;
    nix::sys::socket::setsockopt(&socket, nix::sys::socket::sockopt::Ipv4RecvErr, &true)
        .map_err(|e| failed("IP_RECVERR", e.into()))?;
    socket.send_to(b"?", to).map_err(|e| failed("sendto", e))?;
    match poll_raw(socket.as_raw_fd(), 0, PROMPT) {
        Some(revents) if revents & libc::POLLERR != 0 => Ok(()),
        _ => Err(format!(
            "no error on the socket {PROMPT:?} after a datagram to the closed port {to}"
        )),
    }
}

/// A thread polls a connected socket for POLLRDHUP alone; once it is asleep in the poll, the
/// peer closes: its FIN must wake the poll, with POLLRDHUP.
pub fn probe_poll_rdhup_wakeup() -> Result<(), String> {
    use std::os::fd::AsRawFd;
    let (client, server) = loopback_pair()?;
    let (tid_tx, tid_rx) = std::sync::mpsc::channel();
    let poller = std::thread::spawn(move || {
        let _ = tid_tx.send(super::thread_id());
        poll_raw(client.as_raw_fd(), libc::POLLRDHUP, PROMPT).is_some_and(|r| r & libc::POLLRDHUP != 0)
    });
    let tid = tid_rx
        .recv()
        .map_err(|_| "the polling thread did not start".to_string())?;
    let deadline = std::time::Instant::now() + PROMPT;
    while !super::is_asleep(tid) && std::time::Instant::now() < deadline {
        std::thread::yield_now();
    }
    drop(server);
    match poller.join() {
        Ok(true) => Ok(()),
        Ok(false) => Err(format!(
            "a poll for POLLRDHUP alone was not woken by the peer's FIN within {PROMPT:?}"
        )),
        Err(_) => Err("the polling thread panicked".to_string()),
    }
}

/// Whether `iptables-legacy` and `ip6tables-legacy` add a rule in the calling thread's
/// namespace.
pub fn probe_iptables() -> Result<(), String> {
    for program in ["iptables-legacy", "ip6tables-legacy"] {
        let rule = ["-w", "-A", "INPUT", "-p", "tcp", "--dport", "9", "-j", "DROP"];
        match super::run_program(program, &rule, b"") {
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

/// What the platform offers the trials ([`Offered`]), probed in the calling thread's
/// namespace, a fresh one.
pub fn probe_offered() -> Offered {
    let mut found = Offered::none("not probed");
    found.netlink_notifications = netlink::notifications();
    found.local_route_lookups = netlink::local_route_lookups();
    found.nftables = super::probe(Need::Nftables).map_err(|m| m.to_string());
    found.iptables = super::probe_iptables();
    found.task_syscall = match super::can_see_sleeping_calls() {
        true => Ok(()),
        false => Err(
            "`/proc/<pid>/task/<tid>/syscall` cannot be read: a blocked call is known by the thread's state alone"
                .into(),
        ),
    };
    found.task_state = match super::can_see_thread_states() {
        true => Ok(()),
        false => Err("`/proc/<pid>/task/<tid>/stat` gives no state".into()),
    };
    let lo_up = Netlink::open()
        .and_then(|mut nl| {
            nl.set_up("lo")?;
            nl.wait_until_up("lo", std::time::Instant::now() + std::time::Duration::from_secs(5))
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
    match lo_up.clone().and_then(|()| super::probe_tcp_exchange()) {
        Ok(tcp) => {
            found.tcp_info_len = tcp.info_len;
            found.tcp_info_bytes_acked = tcp.bytes_acked;
            found.tcp_table_time_wait = tcp.time_wait_listed;
        }
        Err(why) => {
            found.tcp_info_bytes_acked = Err(why.clone());
            found.tcp_table_time_wait = Err(why);
        }
    }
    found.udp_error_queue = lo_up.clone().and_then(|()| super::probe_udp_error_queue());
    found.poll_rdhup_wakeup = lo_up.and_then(|()| super::probe_poll_rdhup_wakeup());
    found
}

//! What only Linux offers the harness: network namespaces and their sysctls, /proc (thread
//! states, the TCP table, protocol counters, CPU of children), pidfds, the socket error queue,
//! epoll, and a forked peer that holds a socket. Elsewhere each answers that it is absent,
//! with the reason, so that the trials needing it skip and the `host` topology runs the rest.

use std::io;

use socket2::Socket;

use super::{ChildCpu, ChildWrite, Privilege, TcpEntry};
use crate::capabilities::{Missing, Need};
use crate::events::{Events, Revents};
use crate::sys::packet_socket::{Receiving, RecvInfo};
use crate::verb::Verb;

/// Why namespace trials cannot run here, and what to do instead.
pub const NO_NAMESPACES: &str = "network namespaces need Linux (run the host topology: sockerr run --topology host)";

fn absent(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::Unsupported, format!("{what} needs Linux"))
}

/// A network namespace, which this platform does not have: never constructed.
#[derive(Debug)]
pub enum NetNs {}

impl NetNs {
    pub fn create() -> io::Result<NetNs> {
        Err(io::Error::new(io::ErrorKind::Unsupported, NO_NAMESPACES))
    }
    pub fn current() -> io::Result<NetNs> {
        NetNs::create()
    }
    pub fn enter(&self) -> io::Result<()> {
        match *self {}
    }
    pub fn same_as(&self, _other: &NetNs) -> bool {
        match *self {}
    }
}

pub fn namespaces_unavailable() -> Option<String> {
    Some(NO_NAMESPACES.into())
}

/// Runs `probe` on a thread of its own; there is no namespace to put it in, so it fails.
pub fn in_fresh_namespace<T: Send + 'static>(_probe: impl FnOnce() -> T + Send + 'static) -> io::Result<T> {
    Err(io::Error::new(io::ErrorKind::Unsupported, NO_NAMESPACES))
}

pub fn acquire_namespace_privilege() -> Privilege {
    Privilege::Unavailable(NO_NAMESPACES.into())
}

/// Sysctls are read and written only inside a trial's own namespace, which needs Linux; the
/// host's are never touched.
pub fn read_sysctl(key: &str) -> io::Result<String> {
    Err(absent(&format!("reading {key} in a namespace of the trial")))
}
pub fn write_sysctl(key: &str, _value: &str) -> io::Result<()> {
    Err(absent(&format!("writing {key} in a namespace of the trial")))
}

/// Route metrics are set only inside a trial's own namespace, which needs Linux.
pub fn set_route_rto_min(dst: std::net::IpAddr, _rto_min: std::time::Duration) -> io::Result<()> {
    Err(absent(&format!(
        "setting rto_min on the route to {dst} in a namespace of the trial"
    )))
}

/// What a need the harness meets only on Linux lacks here.
pub fn probe(need: Need) -> Result<(), Missing> {
    Err(Missing {
        what: need.to_string(),
        remedy: "it needs Linux: run this scenario there".into(),
    })
}

/// What one TCP exchange in a namespace of its own shows; never made here.
pub struct TcpExchange {
    pub info_len: usize,
    pub bytes_acked: Result<(), String>,
    pub time_wait_listed: Result<(), String>,
}

pub fn probe_tcp_exchange() -> Result<TcpExchange, String> {
    Err(NO_NAMESPACES.into())
}
pub fn probe_udp_error_queue() -> Result<(), String> {
    Err("the socket error queue (IP_RECVERR) needs Linux".into())
}
pub fn probe_poll_rdhup_wakeup() -> Result<(), String> {
    Err("POLLRDHUP is Linux's".into())
}
pub fn probe_iptables() -> Result<(), String> {
    Err("iptables needs Linux".into())
}

/// A thread's id, for the /proc look-ups that do not exist here.
pub type Tid = u64;
pub fn thread_id() -> Tid {
    0
}
pub fn is_asleep(_tid: Tid) -> bool {
    false
}
pub fn can_see_thread_states() -> bool {
    false
}
pub fn sleeping_in(_tid: Tid, _verb: Verb) -> bool {
    false
}
pub fn can_see_sleeping_calls() -> bool {
    false
}
pub fn tcp_table() -> Option<Vec<TcpEntry>> {
    None
}
pub fn protocol_counter(_name: &str) -> Option<u64> {
    None
}
pub fn is_child_of_this_process(_pid: u32) -> bool {
    false
}
pub fn children_cpu() -> Vec<ChildCpu> {
    Vec::new()
}

/// recvmsg(2) with MSG_ERRQUEUE: Linux's alone.
pub fn recv_errqueue(_socket: &Socket, _len: usize) -> (io::Result<i64>, Option<String>) {
    (Err(absent("the socket error queue (MSG_ERRQUEUE)")), None)
}

/// epoll(7): Linux's alone.
pub fn epoll_once(_socket: &Socket, _events: Events, _timeout: std::time::Duration) -> (io::Result<i64>, Revents) {
    (Err(absent("epoll")), Revents::default())
}

/// A child process holding a socket, which the harness forks only on Linux: never
/// constructed.
#[derive(Debug)]
pub enum HeldSocket {}

impl HeldSocket {
    pub fn kill(&mut self) -> io::Result<ChildEnd> {
        match *self {}
    }
}

/// How a killed child ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChildEnd {
    Signaled(String),
    Other(String),
}

pub fn hand_to_child(_socket: Socket) -> io::Result<HeldSocket> {
    Err(absent("a peer process holding the socket (fork with close_range)"))
}

pub fn write_in_child(_socket: &Socket, _data: &[u8]) -> io::Result<ChildWrite> {
    Err(absent("a write made by a forked child"))
}

/// Runs `program` with `args`, `input` on its standard input and its output discarded;
/// returns its exit status (-1 when it did not exit by itself) and what it wrote on its error
/// output. The spawn counts as a fork in progress until the child runs (see
/// [`super::forking`]).
pub fn run_program(program: &str, args: &[&str], input: &[u8]) -> io::Result<(i32, String)> {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let forking = super::forking();
    let spawned = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn();
    drop(forking);
    let mut child = spawned?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin.write_all(input)?;
    }
    let out = child.wait_with_output()?;
    Ok((
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    ))
}

/// Spawns `command`. Only Linux can tie a child to the thread that started it
/// (PR_SET_PDEATHSIG): here a child outlives a run killed with SIGKILL.
pub fn spawn_tied_to_this_thread(command: &mut std::process::Command) -> io::Result<std::process::Child> {
    command.spawn()
}

/// Raw IP sockets with the header included, through which a trial forges segments: a Linux
/// trial's tool, since the forged trials impersonate a host of the trial's own namespaces.
#[derive(Debug)]
pub enum RawIpSender {}

impl RawIpSender {
    pub fn open(_v6: bool) -> io::Result<RawIpSender> {
        Err(absent("forging segments from a namespace"))
    }
    pub fn send(&self, _packet: &[u8], _dst: std::net::IpAddr) -> io::Result<usize> {
        match *self {}
    }
}

/// The namespaces of the `loopback`, `two_hosts` and `routed` topologies, which need Linux.
pub fn build_namespaces(
    _topology: crate::variant::Topology,
    _family: crate::variant::Family,
    _sysctls: &[(String, String)],
    _capture: &mut crate::capture::Capture,
) -> io::Result<super::Namespaces> {
    Err(io::Error::new(io::ErrorKind::Unsupported, NO_NAMESPACES))
}

/// What the platform offers the trials: without namespaces there is nothing to probe them in.
pub fn probe_offered() -> crate::capabilities::Offered {
    crate::capabilities::Offered::none(NO_NAMESPACES)
}

/// Without packet sockets there is nothing to release.
pub fn settle_releases(_limit: std::time::Duration) -> bool {
    true
}

/// The capture's packet socket, which needs Linux: never constructed, `open` always fails.
#[derive(Debug)]
pub enum PacketSocket {}

impl PacketSocket {
    pub fn start(&mut self) -> io::Result<()> {
        match *self {}
    }
    pub fn open() -> io::Result<PacketSocket> {
        Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "packet capture needs Linux (AF_PACKET)",
        ))
    }
    pub fn recv(&mut self, _buf: &mut [u8]) -> io::Result<Option<RecvInfo>> {
        match *self {}
    }
    pub fn ifname(&self, _ifindex: i32) -> io::Result<String> {
        match *self {}
    }
    pub fn take_drops(&self) -> io::Result<u64> {
        match *self {}
    }
    pub fn receiving(&self) -> Receiving {
        match *self {}
    }
    pub fn ring_refused(&self) -> Option<&str> {
        match *self {}
    }
}

impl PacketSocket {
    pub fn handle(&self) -> crate::sys::RawHandle {
        match *self {}
    }
}

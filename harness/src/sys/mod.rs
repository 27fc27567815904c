//! Everything that differs between operating systems, selected in one place: every
//! `cfg(target_os)`, every `unsafe` call into the C library and every `/proc` read of the
//! harness is under this directory. The rest of the harness calls these functions with typed
//! values ([`crate::Events`], [`crate::SockOpt`], [`crate::Verb`]) and never tests
//! `target_os` itself.

mod fork_gate;
pub mod packet_socket;
pub use fork_gate::{Forking, exclusive_close, forking};

#[cfg(unix)]
mod unix;

#[cfg(target_os = "linux")]
mod linux;
#[cfg(target_os = "linux")]
pub use linux::*;

#[cfg(all(unix, not(target_os = "linux")))]
mod bsd;
#[cfg(all(unix, not(target_os = "linux")))]
pub use bsd::*;

#[cfg(windows)]
mod windows;
#[cfg(windows)]
pub use windows::*;

#[cfg(not(target_os = "linux"))]
mod without_linux;

#[cfg(unix)]
mod uname;
#[cfg(unix)]
pub use uname::kernel_release;

use std::net::SocketAddr;

/// The network namespaces of a trial's topology (see `sys::build_namespaces`): the client's
/// and the server's (the same one in the `loopback` topology), and the router's in the
/// `routed` one.
#[derive(Debug)]
pub struct Namespaces {
    pub client: NetNs,
    pub server: NetNs,
    pub router: Option<NetNs>,
}

/// What became of a write made by a child process.
#[derive(Debug)]
pub enum ChildWrite {
    /// write(2) returned this to the child.
    Returned(std::io::Result<i64>),
    /// The child was killed by this signal before write(2) returned.
    Killed(i32),
}

/// A child process of this process and the CPU time it has used so far (user and system, its
/// reaped children's included), for `sockerr bench`'s cost per runtime.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChildCpu {
    pub pid: u32,
    /// Its command name as the kernel keeps it (`java`, `python3`, `node`; at most 15 bytes).
    pub command: String,
    pub cpu: std::time::Duration,
}

/// How the process got the privileges namespace trials need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Privilege {
    /// Already root (or otherwise allowed): nothing was changed.
    Root,
    /// Entered a new user namespace in which this user is root; the host sees the real user.
    UserNamespace { uid: u32, gid: u32 },
    /// Neither: namespace trials will be skipped with this reason and remedy.
    Unavailable(String),
}

/// TCP state names by number, as Linux's `enum tcp_states` (include/net/tcp_states.h) numbers
/// them in TCP_INFO and /proc/net/tcp; 0 is not a state. Reports use these names on every
/// platform.
pub const TCP_STATES: [&str; 14] = [
    "UNKNOWN",
    "ESTABLISHED",
    "SYN_SENT",
    "SYN_RECV",
    "FIN_WAIT1",
    "FIN_WAIT2",
    "TIME_WAIT",
    "CLOSE",
    "CLOSE_WAIT",
    "LAST_ACK",
    "LISTEN",
    "CLOSING",
    "NEW_SYN_RECV",
    "BOUND_INACTIVE",
];

/// The name of TCP state number `state`.
pub fn tcp_state_name(state: u8) -> &'static str {
    TCP_STATES.get(usize::from(state)).copied().unwrap_or("UNKNOWN")
}

/// One socket of a namespace's TCP table (a line of `/proc/net/tcp` or `/proc/net/tcp6`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TcpEntry {
    pub local: SocketAddr,
    pub remote: SocketAddr,
    /// The state's name, as [`TCP_STATES`] gives it (`TIME_WAIT`).
    pub state: &'static str,
}

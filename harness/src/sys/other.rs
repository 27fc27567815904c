//! Platforms without network namespaces, AF_PACKET or TCP_INFO: the harness builds, and
//! every namespace trial is skipped with this reason.

use std::io;
use std::os::fd::RawFd;
use std::time::Duration;

use super::{ChildWrite, Privilege};

const UNSUPPORTED: &str = "network namespaces and AF_PACKET capture need Linux";

#[derive(Debug)]
pub struct NetNs(());

impl NetNs {
    pub fn create() -> io::Result<NetNs> {
        Err(io::Error::new(io::ErrorKind::Unsupported, UNSUPPORTED))
    }
    pub fn current() -> io::Result<NetNs> {
        Self::create()
    }
    pub fn enter(&self) -> io::Result<()> {
        Self::create().map(|_| ())
    }
    pub fn same_as(&self, _other: &NetNs) -> bool {
        true
    }
}

pub fn children_cpu() -> Vec<super::ChildCpu> {
    Vec::new()
}
pub fn process_cpu() -> Duration {
    Duration::ZERO
}
pub fn namespaces_unavailable() -> Option<String> {
    Some(UNSUPPORTED.into())
}
pub fn read_sysctl(_key: &str) -> io::Result<String> {
    Err(io::Error::new(io::ErrorKind::Unsupported, UNSUPPORTED))
}
pub fn write_sysctl(_key: &str, _value: &str) -> io::Result<()> {
    Err(io::Error::new(io::ErrorKind::Unsupported, UNSUPPORTED))
}
pub fn tcp_state(_fd: RawFd) -> Option<&'static str> {
    None
}
pub const POLL_ALL: libc::c_short = libc::POLLIN | libc::POLLPRI | libc::POLLOUT;
pub fn tcp_bytes_acked(_fd: RawFd) -> Option<u64> {
    None
}
pub fn poll_names(revents: libc::c_short) -> Vec<String> {
    vec![format!("0x{revents:x}")]
}
pub fn poll_one(fd: RawFd, events: libc::c_short, timeout: Option<Duration>) -> (io::Result<i32>, libc::c_short) {
    let mut pfd = libc::pollfd { fd, events, revents: 0 };
    let ms = timeout.map_or(-1, |t| t.as_millis().min(i32::MAX as u128) as i32);
    // SAFETY: one valid pollfd.
    let rc = unsafe { libc::poll(&mut pfd, 1, ms) };
    if rc < 0 {
        (Err(io::Error::last_os_error()), 0)
    } else {
        (Ok(rc), pfd.revents)
    }
}
pub fn errno_name(code: i32) -> String {
    format!("{:?}", nix::errno::Errno::from_raw(code))
}
pub fn signal_name(signo: i32) -> String {
    format!("signal {signo}")
}
pub fn block_watched_signals() -> io::Result<()> {
    Ok(())
}
pub fn take_signals() -> Vec<String> {
    Vec::new()
}

pub fn write_in_child(_fd: RawFd, _data: &[u8]) -> io::Result<ChildWrite> {
    Err(io::Error::new(io::ErrorKind::Unsupported, UNSUPPORTED))
}

/// Runs `program` with `args`, `input` on its standard input; returns its exit status (-1
/// when a signal ended it) and what it wrote on its error output.
pub fn run_program(program: &str, args: &[&str], input: &[u8]) -> io::Result<(i32, String)> {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let forking = super::forking();
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()?;
    drop(forking);
    if let Some(mut stdin) = child.stdin.take() {
        stdin.write_all(input)?;
    }
    let out = child.wait_with_output()?;
    Ok((
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    ))
}

pub fn acquire_namespace_privilege() -> Privilege {
    Privilege::Unavailable(UNSUPPORTED.into())
}

pub fn thread_id() -> libc::pid_t {
    0
}
pub fn sleeping_in_syscall(_tid: libc::pid_t) -> Option<libc::c_long> {
    None
}
pub fn poll_syscalls() -> Vec<libc::c_long> {
    Vec::new()
}
pub fn read_syscalls() -> Vec<libc::c_long> {
    Vec::new()
}

pub fn recv_errqueue(_fd: RawFd, _len: usize) -> (io::Result<i64>, Option<String>) {
    (Err(io::Error::from_raw_os_error(libc::ENOSYS)), None)
}

/// Raw IP sockets with the header included are a Linux trial's tool here.
#[derive(Debug)]
pub struct RawIpSender(());

impl RawIpSender {
    pub fn open(_v6: bool) -> io::Result<RawIpSender> {
        Err(io::Error::new(io::ErrorKind::Unsupported, UNSUPPORTED))
    }
    pub fn send(&self, _packet: &[u8], _dst: std::net::IpAddr) -> io::Result<usize> {
        Err(io::Error::new(io::ErrorKind::Unsupported, UNSUPPORTED))
    }
}

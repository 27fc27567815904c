//! Linux: network namespaces, TCP_INFO, raw poll revents, per-thread signals and sysctls.

use std::fs::File;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::time::{Duration, Instant};

use nix::sched::{CloneFlags, setns, unshare};

use super::{ChildWrite, Privilege, tcp_state_name};

/// A network namespace, held open by a file descriptor. The namespace lives as long as this
/// handle or anything inside it (a socket, a process) does; it has no name anywhere.
#[derive(Debug)]
pub struct NetNs(File);

impl NetNs {
    /// Moves the calling thread into a new, empty network namespace and returns it. Only
    /// the calling thread moves (namespaces are per thread), so call this on a thread that
    /// exists for one trial.
    pub fn create() -> io::Result<NetNs> {
        unshare(CloneFlags::CLONE_NEWNET).map_err(io::Error::from)?;
        Self::current()
    }

    /// The namespace the calling thread is in now.
    pub fn current() -> io::Result<NetNs> {
        File::open("/proc/thread-self/ns/net").map(NetNs)
    }

    /// Moves the calling thread into this namespace. Sockets and child processes created
    /// afterwards by this thread belong to it.
    pub fn enter(&self) -> io::Result<()> {
        setns(self.0.as_fd(), CloneFlags::CLONE_NEWNET).map_err(io::Error::from)
    }

    /// Whether two handles name the same namespace (same inode).
    pub fn same_as(&self, other: &NetNs) -> bool {
        use std::os::unix::fs::MetadataExt;
        match (self.0.metadata(), other.0.metadata()) {
            (Ok(a), Ok(b)) => a.ino() == b.ino() && a.dev() == b.dev(),
            _ => false,
        }
    }
}

impl AsFd for NetNs {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.0.as_fd()
    }
}

/// Why namespace trials cannot run here, or `None` when they can. Probed on a throw-away
/// thread so that the caller's namespace is untouched.
pub fn namespaces_unavailable() -> Option<String> {
    let probe = std::thread::spawn(|| unshare(CloneFlags::CLONE_NEWNET));
    match probe.join() {
        Ok(Ok(())) => None,
        Ok(Err(e)) => Some(format!(
            "cannot create a network namespace ({e}): run as root, or as a user allowed to create user namespaces"
        )),
        Err(_) => Some("namespace probe panicked".into()),
    }
}

/// Reads a sysctl as the calling thread's network namespace sees it (`net.ipv4.tcp_syn_retries`).
pub fn read_sysctl(key: &str) -> io::Result<String> {
    let path = format!("/proc/sys/{}", key.replace('.', "/"));
    Ok(std::fs::read_to_string(path)?.trim().to_string())
}

/// Writes a sysctl in the calling thread's network namespace. Only ever called on a thread
/// inside a trial's namespace: `net.*` sysctls written there do not touch the host.
pub fn write_sysctl(key: &str, value: &str) -> io::Result<()> {
    let path = format!("/proc/sys/{}", key.replace('.', "/"));
    std::fs::write(path, value)
}

/// TCP_INFO of a socket and how many bytes of it the kernel filled (fewer on older kernels),
/// or `None` if the socket is not TCP.
fn tcp_info(fd: RawFd) -> Option<(libc::tcp_info, usize)> {
    // SAFETY: tcp_info is plain old data; zeroed is a valid value.
    let mut info: libc::tcp_info = unsafe { std::mem::zeroed() };
    let mut len = std::mem::size_of::<libc::tcp_info>() as libc::socklen_t;
    // SAFETY: `info` and `len` are valid for writes of `len` bytes.
    let rc = unsafe { libc::getsockopt(fd, libc::IPPROTO_TCP, libc::TCP_INFO, (&raw mut info).cast(), &mut len) };
    (rc == 0).then_some((info, len as usize))
}

/// How many bytes of TCP_INFO the platform fills for a socket (fewer on older kernels), 0
/// where the socket has none.
pub fn tcp_info_len(fd: RawFd) -> usize {
    tcp_info(fd).map_or(0, |(_, len)| len)
}

/// The TCP state of a socket from TCP_INFO, by the kernel's name, or `None` if the socket is
/// not TCP. Only `tcpi_state`, the first byte, is read, so a short `tcp_info` from an older
/// kernel is fine.
pub fn tcp_state(fd: RawFd) -> Option<&'static str> {
    let (info, len) = tcp_info(fd)?;
    (len >= 1).then(|| tcp_state_name(info.tcpi_state))
}

/// How many bytes of sequence space the peer has acknowledged (TCP_INFO `tcpi_bytes_acked`,
/// Linux 4.2 and later; the SYN counts as one, as in the capture's relative numbers), or
/// `None` where TCP_INFO is missing or too short to hold it.
pub fn tcp_bytes_acked(fd: RawFd) -> Option<u64> {
    let (info, len) = tcp_info(fd)?;
    let needed = std::mem::offset_of!(libc::tcp_info, tcpi_bytes_acked) + std::mem::size_of::<u64>();
    (len >= needed).then_some(info.tcpi_bytes_acked)
}

/// poll(2) bits and their names, POLLRDHUP included (nix's `PollFlags` lacks it and drops
/// revents it cannot name, so the raw value is decoded here).
const POLL_BITS: &[(libc::c_short, &str)] = &[
    (libc::POLLIN, "POLLIN"),
    (libc::POLLPRI, "POLLPRI"),
    (libc::POLLOUT, "POLLOUT"),
    (libc::POLLRDHUP, "POLLRDHUP"),
    (libc::POLLERR, "POLLERR"),
    (libc::POLLHUP, "POLLHUP"),
    (libc::POLLNVAL, "POLLNVAL"),
];

/// Every event a program can ask poll for about a stream socket.
pub const POLL_ALL: libc::c_short = libc::POLLIN | libc::POLLPRI | libc::POLLOUT | libc::POLLRDHUP;

/// Decodes revents into names, in a fixed order.
pub fn poll_names(revents: libc::c_short) -> Vec<String> {
    let mut names: Vec<String> = POLL_BITS
        .iter()
        .filter(|(bit, _)| revents & bit != 0)
        .map(|(_, name)| name.to_string())
        .collect();
    let known = POLL_BITS.iter().fold(0, |acc, (bit, _)| acc | bit);
    if revents & !known != 0 {
        names.push(format!("0x{:x}", revents & !known));
    }
    names
}

/// Raw poll(2) on one descriptor: the call's result and the raw revents.
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

/// Blocks until `fd` is readable (true) or `deadline` passes (false), without sleeping in a
/// loop: one poll(2) per wake-up, with the time left rounded up to whole milliseconds.
pub fn wait_readable(fd: BorrowedFd<'_>, deadline: Instant) -> io::Result<bool> {
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let ms = left.as_nanos().div_ceil(1_000_000).min(i32::MAX as u128) as i32;
        let mut pfd = libc::pollfd {
            fd: fd.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd for the duration of the call.
        let rc = unsafe { libc::poll(&mut pfd, 1, ms) };
        if rc < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        if rc > 0 {
            return Ok(true);
        }
        if Instant::now() >= deadline {
            return Ok(false);
        }
    }
}

/// The errno's symbolic name (`ECONNRESET`).
pub fn errno_name(code: i32) -> String {
    format!("{:?}", nix::errno::Errno::from_raw(code))
}

/// The signal's symbolic name (`SIGPIPE`).
pub fn signal_name(signo: i32) -> String {
    nix::sys::signal::Signal::try_from(signo)
        .map(|s| s.as_str().to_string())
        .unwrap_or_else(|_| format!("signal {signo}"))
}

/// Signals a step can cause to be sent to its caller, and which are recorded per step.
const WATCHED_SIGNALS: &[libc::c_int] = &[libc::SIGPIPE, libc::SIGURG];

fn watched_set() -> libc::sigset_t {
    // SAFETY: sigemptyset/sigaddset initialise the set in place.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        for &s in WATCHED_SIGNALS {
            libc::sigaddset(&mut set, s);
        }
        set
    }
}

/// Blocks the watched signals on the calling thread. A blocked signal is queued even when its
/// disposition is "ignore" (as Rust sets SIGPIPE), so `take_signals` can tell which ones a
/// step caused, without a process-wide handler.
pub fn block_watched_signals() -> io::Result<()> {
    let set = watched_set();
    // SAFETY: valid set; the old mask is not needed.
    let rc = unsafe { libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut()) };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::from_raw_os_error(rc))
    }
}

/// Takes the watched signals pending on the calling thread, by name, without waiting.
pub fn take_signals() -> Vec<String> {
    let set = watched_set();
    let zero = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    let mut taken = Vec::new();
    loop {
        // SAFETY: valid set and timeout; the siginfo is not needed.
        let signo = unsafe { libc::sigtimedwait(&set, std::ptr::null_mut(), &zero) };
        if signo <= 0 {
            return taken;
        }
        taken.push(signal_name(signo));
    }
}

/// Closes every descriptor from 3 on except `a` and `b` (close_range(2)): for a forked child,
/// which must not keep other trials' sockets open. Async-signal-safe.
pub fn close_all_but(a: RawFd, b: RawFd) {
    let (low, high) = (a.min(b) as libc::c_uint, a.max(b) as libc::c_uint);
    let ranges = [
        (3, low.saturating_sub(1)),
        (low.max(2) + 1, high.saturating_sub(1)),
        (high.max(2) + 1, libc::c_uint::MAX),
    ];
    for (first, last) in ranges {
        if first <= last {
            // SAFETY: close_range only closes descriptors of this process.
            unsafe { libc::syscall(libc::SYS_close_range, first, last, 0u32) };
        }
    }
}

/// Forks a child that unblocks all signals, puts SIGPIPE back to its default disposition (as a
/// C program starts), writes `data` to `fd` and reports the result through a pipe. Between
/// fork and _exit the child only makes async-signal-safe calls, as a fork from a
/// multi-threaded process requires (fork(2), signal-safety(7)). The child never outlives a
/// killed run: it asks for SIGKILL when its parent dies, and exits at once if the parent died
/// before it asked (prctl(2) PR_SET_PDEATHSIG).
pub fn write_in_child(fd: RawFd, data: &[u8]) -> io::Result<ChildWrite> {
    let mut pipe = [0; 2];
    // SAFETY: `pipe` has room for two descriptors.
    if unsafe { libc::pipe2(pipe.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(io::Error::last_os_error());
    }
    let [read_end, write_end] = pipe;
    let parent = std::process::id() as libc::pid_t;
    // The child closes every descriptor but the two it uses before it writes: a socket of
    // another trial must not stay open in it after that trial closed it (see `forking`).
    let forking = super::forking();
    // SAFETY: the child below only calls async-signal-safe functions, then _exit.
    let pid = unsafe { libc::fork() };
    if pid == 0 {
        // SAFETY: async-signal-safe calls on valid arguments; the child never returns.
        unsafe {
            // prctl(2): the death signal is sent when the thread that forked us exits (it waits
            // for us below, so only when the run dies); a parent already gone is not signalled,
            // hence the getppid() check after setting it.
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
            if libc::getppid() != parent {
                libc::_exit(1);
            }
            let mut none: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut none);
            libc::sigprocmask(libc::SIG_SETMASK, &none, std::ptr::null_mut());
            libc::signal(libc::SIGPIPE, libc::SIG_DFL);
            close_all_but(fd, write_end);
            let rc = libc::write(fd, data.as_ptr().cast(), data.len()) as i64;
            let err: i32 = if rc < 0 { *libc::__errno_location() } else { 0 };
            let mut msg = [0u8; 12];
            msg[..8].copy_from_slice(&rc.to_ne_bytes());
            msg[8..].copy_from_slice(&err.to_ne_bytes());
            libc::write(write_end, msg.as_ptr().cast(), msg.len());
            libc::_exit(0);
        }
    }
    // SAFETY: closing our copy of the write end, owned here.
    unsafe { libc::close(write_end) };
    if pid < 0 {
        let e = io::Error::last_os_error();
        // SAFETY: owned descriptor.
        unsafe { libc::close(read_end) };
        return Err(e);
    }
    let mut msg = [0u8; 12];
    let mut got = 0;
    while got < msg.len() {
        // SAFETY: reading into the unfilled tail of `msg`.
        let n = unsafe { libc::read(read_end, msg[got..].as_mut_ptr().cast(), msg.len() - got) };
        if n < 0 && io::Error::last_os_error().kind() == io::ErrorKind::Interrupted {
            continue;
        }
        if n <= 0 {
            break;
        }
        got += n as usize;
    }
    // SAFETY: owned descriptor.
    unsafe { libc::close(read_end) };
    drop(forking);
    let mut status = 0;
    loop {
        // SAFETY: waiting for our own child.
        let rc = unsafe { libc::waitpid(pid, &mut status, 0) };
        if rc == pid {
            break;
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
    if libc::WIFSIGNALED(status) {
        return Ok(ChildWrite::Killed(libc::WTERMSIG(status)));
    }
    if got < msg.len() {
        return Err(io::Error::other(format!(
            "the child exited with status {status} without reporting its write"
        )));
    }
    let rc = i64::from_ne_bytes(msg[..8].try_into().expect("8 bytes"));
    let err = i32::from_ne_bytes(msg[8..].try_into().expect("4 bytes"));
    Ok(ChildWrite::Returned(if rc < 0 {
        Err(io::Error::from_raw_os_error(err))
    } else {
        Ok(rc)
    }))
}

/// For a run by an ordinary user: moves the whole process into a new user namespace, mapping
/// the user to root inside it, so that trials can create network namespaces, veth pairs and
/// packet sockets that belong to that user namespace (user_namespaces(7)). Must be called
/// before the process starts any thread: unshare(CLONE_NEWUSER) fails with EINVAL in a
/// multi-threaded process.
pub fn acquire_namespace_privilege() -> Privilege {
    let uid = nix::unistd::geteuid().as_raw();
    let gid = nix::unistd::getegid().as_raw();
    if uid == 0 {
        return Privilege::Root;
    }
    let remedy = "enable unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1 on Debian kernels, \
                  kernel.apparmor_restrict_unprivileged_userns=0 on Ubuntu 23.10 and later, user.max_user_namespaces > 0), \
                  or run as root";
    if let Err(e) = unshare(CloneFlags::CLONE_NEWUSER) {
        let why = if e == nix::errno::Errno::EINVAL {
            " (the process already has threads)"
        } else {
            ""
        };
        return Privilege::Unavailable(format!(
            "cannot create a user namespace as uid {uid}: {e}{why}; {remedy}"
        ));
    }
    let maps = [
        ("/proc/self/setgroups", "deny".to_string()),
        ("/proc/self/uid_map", format!("0 {uid} 1")),
        ("/proc/self/gid_map", format!("0 {gid} 1")),
    ];
    for (path, content) in maps {
        if let Err(e) = std::fs::write(path, content) {
            return Privilege::Unavailable(format!(
                "entered a user namespace but could not write {path}: {e}; {remedy}"
            ));
        }
    }
    Privilege::UserNamespace { uid, gid }
}

/// The calling thread's kernel id (gettid(2)), its directory under /proc/self/task.
pub fn thread_id() -> libc::pid_t {
    // SAFETY: gettid takes no arguments and cannot fail.
    unsafe { libc::gettid() }
}

/// The system call thread `tid` of this process is asleep in, if it is asleep in one: its
/// state in /proc/self/task/<tid>/stat is `S` and /proc/self/task/<tid>/syscall names the
/// call (proc_pid_stat(5), proc_pid_syscall(5)). `None` while it runs or has not yet slept.
pub fn sleeping_in_syscall(tid: libc::pid_t) -> Option<libc::c_long> {
    if thread_state(tid)? != 'S' {
        return None;
    }
    let syscall = std::fs::read_to_string(format!("/proc/self/task/{tid}/syscall")).ok()?;
    syscall.split_whitespace().next()?.parse().ok()
}

/// The scheduling state of thread `tid` of this process (`R` running, `S` asleep in an
/// interruptible wait, ...), from /proc/self/task/<tid>/stat (proc_pid_stat(5)).
pub fn thread_state(tid: libc::pid_t) -> Option<char> {
    let stat = std::fs::read_to_string(format!("/proc/self/task/{tid}/stat")).ok()?;
    // The state follows the command name, which is in parentheses and may contain spaces.
    stat.rsplit_once(')')?.1.split_whitespace().next()?.chars().next()
}

/// Whether /proc names the system call a thread is in (/proc/self/task/<tid>/syscall,
/// proc_pid_syscall(5), Linux 2.6.27 and later with CONFIG_HAVE_ARCH_TRACEHOOK); gVisor has
/// no such file. `Err` says what reading it gave.
pub fn probe_task_syscall() -> Result<(), String> {
    let path = format!("/proc/self/task/{}/syscall", thread_id());
    match std::fs::read_to_string(&path) {
        Ok(text) if !text.trim().is_empty() => Ok(()),
        Ok(_) => Err(format!("{path} is empty")),
        Err(e) => Err(format!("{path}: {e}")),
    }
}

/// Whether /proc gives a thread's scheduling state (/proc/self/task/<tid>/stat). `Err` says
/// what reading it gave.
pub fn probe_task_state() -> Result<(), String> {
    let tid = thread_id();
    match thread_state(tid) {
        Some(_) => Ok(()),
        None => Err(format!("/proc/self/task/{tid}/stat gives no state")),
    }
}

/// The system calls a blocked poll(2) sleeps in (glibc's poll is poll or ppoll).
pub fn poll_syscalls() -> Vec<libc::c_long> {
    #[allow(unused_mut)]
    let mut calls = vec![libc::SYS_ppoll];
    #[cfg(any(target_arch = "x86_64", target_arch = "x86"))]
    calls.push(libc::SYS_poll);
    calls
}

/// The system call a blocked read(2) sleeps in.
pub fn read_syscalls() -> Vec<libc::c_long> {
    vec![libc::SYS_read]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn poll_names_after_a_reset_include_pollrdhup() {
        // poll(2): POLLRDHUP (since Linux 2.6.17) "stream socket peer closed connection".
        let names = poll_names(libc::POLLIN | libc::POLLERR | libc::POLLHUP | libc::POLLRDHUP);
        assert_eq!(names, ["POLLIN", "POLLRDHUP", "POLLERR", "POLLHUP"]);
    }

    #[test]
    fn errno_names_are_symbolic() {
        assert_eq!(errno_name(libc::ECONNRESET), "ECONNRESET");
        assert_eq!(errno_name(libc::EPIPE), "EPIPE");
    }

    #[test]
    fn a_blocked_ignored_sigpipe_is_still_recorded() {
        // signal(7): a blocked signal stays pending; the kernel does not discard blocked
        // signals even when they are ignored (kernel/signal.c sig_ignored()).
        std::thread::spawn(|| {
            block_watched_signals().unwrap();
            // SAFETY: raising a blocked signal on this thread only.
            unsafe { libc::pthread_kill(libc::pthread_self(), libc::SIGPIPE) };
            assert_eq!(take_signals(), ["SIGPIPE"]);
            assert!(take_signals().is_empty());
        })
        .join()
        .unwrap();
    }
}

//! Everything that differs between operating systems, selected in one place. The rest of
//! the harness calls these functions and never tests `target_os` itself.

#[cfg(target_os = "linux")]
mod linux;
#[cfg(target_os = "linux")]
pub use linux::*;
#[cfg(target_os = "linux")]
mod linux_errqueue;
#[cfg(target_os = "linux")]
pub use linux_errqueue::*;
#[cfg(target_os = "linux")]
mod linux_pidfd;
#[cfg(target_os = "linux")]
pub use linux_pidfd::*;
#[cfg(target_os = "linux")]
mod linux_scm;
#[cfg(target_os = "linux")]
pub use linux_scm::*;
#[cfg(target_os = "linux")]
mod linux_spawn;
#[cfg(target_os = "linux")]
pub use linux_spawn::*;

#[cfg(not(target_os = "linux"))]
mod other;
#[cfg(not(target_os = "linux"))]
pub use other::*;

/// What became of a write made by a child process.
#[derive(Debug)]
pub enum ChildWrite {
    /// write(2) returned this to the child.
    Returned(std::io::Result<i64>),
    /// The child was killed by this signal before write(2) returned.
    Killed(i32),
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
/// them in TCP_INFO and /proc/net/tcp; 0 is not a state.
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

/// Forks kept out of the way of closes.
///
/// A child shares every open file of the process from fork until it has closed them itself
/// (fork(2); close-on-exec files are released only as the exec completes, after the parent
/// may have gone on). A socket another trial closes in that window is not released by its
/// close(2): its FIN or reset leaves only when the child lets go, and with SO_LINGER {on, N}
/// the close returns at once instead of lingering. So every child closes its sockets before
/// the fork counts as done, and a fork
/// ([`forking`]: an `nft` command, a child writer, a peer process) waits while a close is
/// starting, and a close ([`exclusive_close`]) waits for the forks in progress, then lets
/// forks go again once it returned, or once a lingering close sleeps inside close(2): by then
/// the socket has left the descriptor table, and a new child cannot share it.
struct ForkGate {
    /// Forks between fork and exec (or until the child dropped what it inherited).
    forks: usize,
    /// Closes under way (lingering ones until they sleep in close(2)).
    closes: usize,
}

static GATE: (std::sync::Mutex<ForkGate>, std::sync::Condvar) = (
    std::sync::Mutex::new(ForkGate { forks: 0, closes: 0 }),
    std::sync::Condvar::new(),
);

fn gate() -> std::sync::MutexGuard<'static, ForkGate> {
    GATE.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn wait_gate(
    guard: std::sync::MutexGuard<'static, ForkGate>,
    until: impl FnMut(&mut ForkGate) -> bool,
) -> std::sync::MutexGuard<'static, ForkGate> {
    GATE.1
        .wait_while(guard, until)
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Held from before a fork until the child no longer shares the process's descriptors.
pub struct Forking(());

/// Waits until no lingering close is starting, then counts a fork in progress until the
/// returned value is dropped.
pub fn forking() -> Forking {
    let mut g = wait_gate(gate(), |g| g.closes > 0);
    g.forks += 1;
    Forking(())
}

impl Drop for Forking {
    fn drop(&mut self) {
        gate().forks -= 1;
        GATE.1.notify_all();
    }
}

/// Runs `close` (a close(2) of a trial's socket) once no fork is in progress, keeping new
/// forks waiting until it returned, or, for a close that `lingers` (SO_LINGER {on, N}), until
/// the calling thread is asleep in close(2).
pub fn exclusive_close<T>(lingers: bool, close: impl FnOnce() -> T) -> T {
    {
        let mut g = gate();
        g.closes += 1;
        drop(wait_gate(g, |g| g.forks > 0));
    }
    let reopen = || {
        gate().closes -= 1;
        GATE.1.notify_all();
    };
    if !lingers {
        let result = close();
        reopen();
        return result;
    }
    let tid = thread_id();
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let release = {
        let done = std::sync::Arc::clone(&done);
        std::thread::spawn(move || {
            let deadline = std::time::Instant::now() + std::time::Duration::from_millis(200);
            while !done.load(std::sync::atomic::Ordering::Acquire)
                && sleeping_in_syscall(tid) != Some(libc::SYS_close)
                && std::time::Instant::now() < deadline
            {
                std::thread::yield_now();
            }
            reopen();
        })
    };
    let result = close();
    done.store(true, std::sync::atomic::Ordering::Release);
    let _ = release.join();
    result
}

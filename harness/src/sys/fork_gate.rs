//! Forks kept apart from closes, so that a child never holds another trial's socket past
//! its close. Portable logic; the platform only says whether a thread sleeps in close(2).

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
    let tid = super::thread_id();
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let release = {
        let done = std::sync::Arc::clone(&done);
        std::thread::spawn(move || {
            let deadline = std::time::Instant::now() + std::time::Duration::from_millis(200);
            while !done.load(std::sync::atomic::Ordering::Acquire)
                && !super::sleeping_in(tid, crate::Verb::Close)
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

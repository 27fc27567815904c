//! Signals a call raises in its caller (SIGPIPE, SIGURG), recorded per step without a
//! process-wide handler: trial threads keep them blocked and take them after each call.

use std::io;

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

#[cfg(target_os = "linux")]
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

#[cfg(not(target_os = "linux"))]
/// Takes the watched signals pending on the calling thread, by name, without waiting:
/// sigpending(2) says which are pending, and sigwait(3) takes each (macOS has no
/// sigtimedwait).
pub fn take_signals() -> Vec<String> {
    let mut taken = Vec::new();
    for &signo in WATCHED_SIGNALS {
        // SAFETY: sigemptyset/sigpending/sigismember/sigaddset work on sets in place.
        let pending = unsafe {
            let mut pending: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut pending);
            libc::sigpending(&mut pending) == 0 && libc::sigismember(&pending, signo) == 1
        };
        if !pending {
            continue;
        }
        // SAFETY: as above; sigwait returns at once, the signal being pending.
        let took = unsafe {
            let mut one: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut one);
            libc::sigaddset(&mut one, signo);
            let mut got = 0;
            libc::sigwait(&one, &mut got) == 0
        };
        if took {
            taken.push(signal_name(signo));
        }
    }
    taken
}

/// The signals that end a run from outside (a terminal's Ctrl-C, a service manager, a closed
/// terminal).
const TERMINATING: [libc::c_int; 3] = [libc::SIGINT, libc::SIGTERM, libc::SIGHUP];

/// On SIGINT, SIGTERM or SIGHUP: runs `cleanup`, then dies of that same signal (its default
/// action), so that whoever started the process still sees how it ended. The signals are
/// blocked in the calling thread, and so in every thread it starts afterwards, and taken by a
/// thread of their own with sigwait(3). Call it before the process starts any other thread.
pub fn on_termination(cleanup: fn()) -> io::Result<()> {
    // SAFETY: sigemptyset/sigaddset initialise the set in place.
    let set = unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        for &s in &TERMINATING {
            libc::sigaddset(&mut set, s);
        }
        set
    };
    // SAFETY: valid set; the old mask is not needed.
    let rc = unsafe { libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut()) };
    if rc != 0 {
        return Err(io::Error::from_raw_os_error(rc));
    }
    std::thread::Builder::new().name("termination".into()).spawn(move || {
        let mut signo: libc::c_int = 0;
        // SAFETY: valid set and out pointer.
        while unsafe { libc::sigwait(&set, &mut signo) } != 0 {}
        cleanup();
        // SAFETY: restoring the default action and unblocking the signal on this thread, then
        // sending it to the process: this thread takes it, and the process ends by it.
        unsafe {
            libc::signal(signo, libc::SIG_DFL);
            let mut one: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut one);
            libc::sigaddset(&mut one, signo);
            libc::pthread_sigmask(libc::SIG_UNBLOCK, &one, std::ptr::null_mut());
            libc::kill(libc::getpid(), signo);
        }
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

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

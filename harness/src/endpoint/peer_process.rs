//! A peer that is a process of its own: a forked child holds the socket, so that killing it
//! shows what the kernel does with the connections of a process that dies (it closes every
//! descriptor in do_exit, as if the program had called close).

use std::io;
use std::os::fd::{AsRawFd, IntoRawFd};
use std::time::Instant;

use nix::sys::signal::{self, Signal};
use nix::sys::wait::{WaitStatus, waitpid};
use nix::unistd::{ForkResult, Pid, fork};

use super::{Endpoint, call_result};
use crate::log::StepLog;
use crate::record::Step;
use crate::sys;

/// A child process holding one socket, asleep until it is killed.
pub struct PeerProcess {
    pid: Pid,
    actor: String,
    log: StepLog,
    reaped: bool,
}

impl Endpoint {
    /// Forks a child process (in the calling thread's network namespace) that keeps this
    /// socket and sleeps; this process's descriptor is closed without a step, so the
    /// connection lives on in the child alone. The child closes every other descriptor it
    /// inherited (other trials' sockets must not outlive their own close), and dies with the
    /// thread that forked it (prctl(2) PR_SET_PDEATHSIG), so it never outlives the run.
    pub fn hand_to_child_process(mut self, actor: &str) -> io::Result<PeerProcess> {
        let socket = self
            .socket
            .take()
            .ok_or_else(|| io::Error::other("socket already closed"))?;
        let fd = socket.into_raw_fd();
        let parent = nix::unistd::getpid();
        // The child reports on this pipe once it has closed every other descriptor; forks
        // count as in progress until then (see `sys::forking`).
        let (ready_read, ready_write) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)?;
        let ready_write_fd = ready_write.as_raw_fd();
        let forking = sys::forking();
        // SAFETY: between fork and death the child only makes async-signal-safe system calls
        // (prctl, getppid, close_range, write, close, pause), as a fork from a threaded process
        // requires.
        let forked = unsafe { fork() };
        match forked {
            Ok(ForkResult::Child) => unsafe {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                if libc::getppid() != parent.as_raw() {
                    libc::_exit(1);
                }
                sys::close_all_but(fd, ready_write_fd);
                libc::write(ready_write_fd, [1u8].as_ptr().cast(), 1);
                libc::close(ready_write_fd);
                loop {
                    libc::pause();
                }
            },
            Ok(ForkResult::Parent { child }) => {
                drop(ready_write);
                let mut byte = [0u8; 1];
                // Returns when the child has written, or died (end of file).
                while let Err(nix::errno::Errno::EINTR) = nix::unistd::read(&ready_read, &mut byte) {}
                drop(forking);
                // SAFETY: `fd` was released by its owner above and is closed exactly once.
                unsafe { libc::close(fd) };
                Ok(PeerProcess {
                    pid: child,
                    actor: actor.to_string(),
                    log: self.log.clone(),
                    reaped: false,
                })
            }
            Err(e) => {
                drop(forking);
                // SAFETY: as above; the fork failed, so this is the only copy.
                unsafe { libc::close(fd) };
                Err(e.into())
            }
        }
    }
}

impl PeerProcess {
    /// SIGKILL, then waitpid until the child is gone: by then the kernel has closed its
    /// descriptors (exit_files runs before the child becomes a zombie). Step `peer.kill#n`,
    /// `ok=0` when the child died of SIGKILL.
    pub fn kill(&mut self) -> Step {
        let started = Instant::now();
        let killed = signal::kill(self.pid, Signal::SIGKILL).map_err(io::Error::from);
        let (result, detail) = match killed.and_then(|()| self.reap()) {
            Ok(WaitStatus::Signaled(_, sig, _)) => (Ok(0), format!("the child died of {}", sig.as_str())),
            Ok(other) => (Ok(0), format!("the child ended otherwise: {other:?}")),
            Err(e) => (Err(e), "could not kill and reap the child".to_string()),
        };
        let elapsed = started.elapsed();
        let t_us = self.log.micros_since_start(started);
        let actor = self.actor.clone();
        self.log.push(&actor, "kill", |label| Step {
            label,
            actor: actor.clone(),
            op: "kill(SIGKILL); waitpid()".into(),
            result: call_result(result),
            revents: Vec::new(),
            tcp_state: None,
            signals: Vec::new(),
            t_us,
            elapsed_us: elapsed.as_micros() as u64,
            detail: Some(detail),
        })
    }

    fn reap(&mut self) -> io::Result<WaitStatus> {
        loop {
            match waitpid(self.pid, None) {
                Err(nix::errno::Errno::EINTR) => continue,
                Err(e) => return Err(e.into()),
                Ok(status) => {
                    self.reaped = true;
                    return Ok(status);
                }
            }
        }
    }
}

impl Drop for PeerProcess {
    /// A trial that ends before it kills its peer still leaves no process behind.
    fn drop(&mut self) {
        if !self.reaped {
            let _ = signal::kill(self.pid, Signal::SIGKILL);
            let _ = self.reap();
        }
    }
}

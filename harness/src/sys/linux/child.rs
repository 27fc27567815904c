//! Child processes made with fork(2): a writer whose SIGPIPE is at its default disposition,
//! and a peer process that holds a socket until it is killed. Between fork and exit a child
//! of this multi-threaded process makes only async-signal-safe calls (fork(2),
//! signal-safety(7)), closes every descriptor it does not use (another trial's socket must not
//! outlive its own close), and dies with the thread that forked it (prctl(2)
//! PR_SET_PDEATHSIG), so it never outlives the run.

use std::io;
use std::os::fd::{AsRawFd, IntoRawFd, RawFd};

use nix::sys::signal::{self, Signal};
use nix::sys::wait::{WaitStatus, waitpid};
use nix::unistd::{ForkResult, Pid, fork};
use socket2::Socket;

use crate::sys::ChildWrite;

/// Closes every descriptor from 3 on except `a` and `b` (close_range(2)): for a forked child,
/// which must not keep other trials' sockets open. Async-signal-safe.
fn close_all_but(a: RawFd, b: RawFd) {
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
/// C program starts), writes `data` to `socket` and reports the result through a pipe. Between
/// fork and _exit the child only makes async-signal-safe calls, as a fork from a
/// multi-threaded process requires (fork(2), signal-safety(7)). The child never outlives a
/// killed run: it asks for SIGKILL when its parent dies, and exits at once if the parent died
/// before it asked (prctl(2) PR_SET_PDEATHSIG).
pub fn write_in_child(socket: &Socket, data: &[u8]) -> io::Result<ChildWrite> {
    let fd = socket.as_raw_fd();
    let mut pipe = [0; 2];
    // SAFETY: `pipe` has room for two descriptors.
    if unsafe { libc::pipe2(pipe.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(io::Error::last_os_error());
    }
    let [read_end, write_end] = pipe;
    let parent = std::process::id() as libc::pid_t;
    // The child closes every descriptor but the two it uses before it writes: a socket of
    // another trial must not stay open in it after that trial closed it (see `forking`).
    let forking = crate::sys::forking();
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

/// A child process holding one socket, asleep until it is killed.
#[derive(Debug)]
pub struct HeldSocket {
    pid: Pid,
    reaped: bool,
}

/// How a killed child ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChildEnd {
    /// Killed by this signal (by name).
    Signaled(String),
    /// Ended otherwise, as waitpid(2) described it.
    Other(String),
}

/// Forks a child (in the calling thread's network namespace) that keeps `socket` and sleeps;
/// this process's descriptor is closed, so the connection lives on in the child alone.
pub fn hand_to_child(socket: Socket) -> io::Result<HeldSocket> {
    let fd = socket.into_raw_fd();
    let parent = nix::unistd::getpid();
    // The child reports on this pipe once it has closed every other descriptor; forks count
    // as in progress until then (see `sys::forking`).
    let (ready_read, ready_write) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)?;
    let ready_write_fd = ready_write.as_raw_fd();
    let forking = crate::sys::forking();
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
            close_all_but(fd, ready_write_fd);
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
            Ok(HeldSocket {
                pid: child,
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

impl HeldSocket {
    /// SIGKILL, then waitpid until the child is gone: by then the kernel has closed its
    /// descriptors (exit_files runs before the child becomes a zombie).
    pub fn kill(&mut self) -> io::Result<ChildEnd> {
        signal::kill(self.pid, Signal::SIGKILL).map_err(io::Error::from)?;
        Ok(match self.reap()? {
            WaitStatus::Signaled(_, sig, _) => ChildEnd::Signaled(sig.as_str().to_string()),
            other => ChildEnd::Other(format!("{other:?}")),
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

impl Drop for HeldSocket {
    /// A trial that ends before it kills its peer still leaves no process behind.
    fn drop(&mut self) {
        if !self.reaped {
            let _ = signal::kill(self.pid, Signal::SIGKILL);
            let _ = self.reap();
        }
    }
}

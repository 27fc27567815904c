//! Looking at a socket that another process holds: pidfd_open(2) and pidfd_getfd(2) (Linux
//! 5.6 and later) give this process a duplicate of the other's descriptor, so that poll(2)
//! and TCP_INFO can be read on the very socket a runtime client uses.

use std::io;
use std::os::fd::{FromRawFd, OwnedFd, RawFd};

/// A descriptor that refers to process `pid` (pidfd_open(2)).
pub fn pidfd_open(pid: libc::pid_t) -> io::Result<OwnedFd> {
    // SAFETY: plain system call; a non-negative return is a new descriptor owned here.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `fd` was just returned by the kernel and is owned by nobody else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as RawFd) })
}

/// A duplicate of descriptor `target` of the process `pidfd` refers to (pidfd_getfd(2)). The
/// duplicate shares the open socket: while it is open, the other process's close(2) does not
/// release the socket, so callers drop it before that process's next call.
pub fn pidfd_getfd(pidfd: &OwnedFd, target: RawFd) -> io::Result<OwnedFd> {
    use std::os::fd::AsRawFd;
    // SAFETY: plain system call on a valid pidfd; a non-negative return is a new descriptor.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_getfd, pidfd.as_raw_fd(), target, 0) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: as above.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as RawFd) })
}

/// Whether a process `pid` exists (its directory under /proc does).
pub fn process_exists(pid: u32) -> bool {
    std::path::Path::new(&format!("/proc/{pid}")).exists()
}

/// The file naming the calling thread's network namespace, as another process can open it
/// (`/proc/<pid>/task/<tid>/ns/net`): a client that enters it creates its sockets in the
/// same namespace as this thread (setns(2)).
pub fn thread_netns_path() -> String {
    format!("/proc/{}/task/{}/ns/net", std::process::id(), super::thread_id())
}

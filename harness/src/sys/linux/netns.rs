//! Network namespaces (network_namespaces(7)) and the user namespace an ordinary user needs to
//! create them (user_namespaces(7)).

use std::fs::File;
use std::io;
use std::os::fd::{AsFd, BorrowedFd};

use nix::sched::{CloneFlags, setns, unshare};

use crate::sys::Privilege;

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

/// Runs `probe` on a throw-away thread inside a fresh, empty network namespace, so that
/// nothing it does reaches the host: for probing what a trial's namespace offers, and for
/// starting a long-lived program that belongs to no trial (it neither keeps a trial's
/// namespace alive nor sees the host's network).
pub fn in_fresh_namespace<T: Send + 'static>(probe: impl FnOnce() -> T + Send + 'static) -> io::Result<T> {
    std::thread::spawn(move || {
        NetNs::create()?;
        Ok(probe())
    })
    .join()
    .unwrap_or_else(|_| Err(io::Error::other("the probe panicked")))
}

/// The user id this process has outside any user namespace it entered (`/proc/self/uid_map`
/// maps 0 inside to it): the one files it creates belong to.
pub fn user_id_outside() -> u32 {
    let inside = nix::unistd::geteuid().as_raw();
    std::fs::read_to_string("/proc/self/uid_map")
        .ok()
        .and_then(|map| {
            map.lines().find_map(|line| {
                let mut fields = line.split_whitespace().map(str::parse::<u32>);
                match (fields.next(), fields.next(), fields.next()) {
                    (Some(Ok(first)), Some(Ok(outside)), Some(Ok(count)))
                        if (first..first + count).contains(&inside) =>
                    {
                        Some(outside + (inside - first))
                    }
                    _ => None,
                }
            })
        })
        .unwrap_or(inside)
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

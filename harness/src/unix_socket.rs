//! AF_UNIX stream endpoints bound to filesystem paths, and the private directory those paths
//! live in.
//!
//! Paths, not the abstract namespace: the abstract namespace would need no files and is
//! private to the trial's network namespace, but a connect to an abstract name nobody bound
//! fails with ECONNREFUSED, so it cannot show what a program meets most often, a socket file
//! that does not exist (ENOENT), nor a file left behind by a listener that closed.

use std::io;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use socket2::{Domain, SockAddr, Socket, Type};

use crate::endpoint::{Endpoint, Returned};
use crate::record::Step;
use crate::trial::{Host, Trial};

/// A directory only this trial uses (mode 0700, under the system's temporary directory),
/// removed with everything in it when dropped.
pub struct SocketDir {
    path: PathBuf,
}

impl SocketDir {
    fn create() -> io::Result<SocketDir> {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!("sockerr-{}-{n}", std::process::id()));
        std::fs::DirBuilder::new().mode(0o700).create(&path)?;
        Ok(SocketDir { path })
    }

    /// The path of `name` inside the directory (nothing is created).
    pub fn path(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }
}

impl Drop for SocketDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

impl Endpoint {
    /// bind(2) to a socket file at `path`, without listening.
    pub fn bind_path(&mut self, path: &Path) -> Step {
        self.step("bind", format!("bind({})", file_name(path)), |s| {
            Returned::from_io(SockAddr::unix(path).and_then(|a| s.bind(&a)).map(|_| 0))
        })
    }

    /// bind(2) to a socket file at `path`, then listen(2) with `backlog`.
    pub fn listen_path(&mut self, path: &Path, backlog: i32) -> Step {
        let op = format!("bind({}); listen({backlog})", file_name(path));
        self.step("listen", op, |s| {
            let r = SockAddr::unix(path)
                .and_then(|a| s.bind(&a))
                .and_then(|_| s.listen(backlog));
            Returned::from_io(r.map(|_| 0))
        })
    }

    /// connect(2) to the socket file at `path`.
    pub fn connect_path(&mut self, path: &Path) -> Step {
        self.step("connect", format!("connect({})", file_name(path)), |s| {
            Returned::from_io(SockAddr::unix(path).and_then(|a| s.connect(&a)).map(|_| 0))
        })
    }
}

/// Steps show the socket file's name only: the directory differs between runs.
fn file_name(path: &Path) -> String {
    path.file_name()
        .map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned())
}

impl Trial {
    /// A private directory for this trial's socket files, removed when dropped.
    pub fn socket_dir(&self) -> io::Result<SocketDir> {
        SocketDir::create()
    }

    /// A new AF_UNIX stream socket for `actor`.
    pub fn unix_stream(&mut self, actor: &str) -> io::Result<Endpoint> {
        self.enter(Host::Client)?;
        let socket = Socket::new(Domain::UNIX, Type::STREAM, None)?;
        Endpoint::from_socket(self.log(), actor, socket)
    }
}

//! AF_UNIX stream endpoints bound to filesystem paths (the private directory those paths
//! live in is the trial's: [`crate::trial::SocketDir`]).
//!
//! Paths, not the abstract namespace: the abstract namespace would need no files and is
//! private to the trial's network namespace, but a connect to an abstract name nobody bound
//! fails with ECONNREFUSED, so it cannot show what a program meets most often, a socket file
//! that does not exist (ENOENT), nor a file left behind by a listener that closed.

use std::path::Path;

use socket2::SockAddr;

use super::{Endpoint, Returned};
use crate::record::Step;
use crate::verb::Verb;

impl Endpoint {
    /// bind(2) to a socket file at `path`, without listening.
    pub fn bind_path(&mut self, path: &Path) -> Step {
        self.step(Verb::Bind, format!("bind({})", file_name(path)), |s| {
            Returned::from_io(SockAddr::unix(path).and_then(|a| s.bind(&a)).map(|_| 0))
        })
    }

    /// bind(2) to a socket file at `path`, then listen(2) with `backlog`.
    pub fn listen_path(&mut self, path: &Path, backlog: i32) -> Step {
        let op = format!("bind({}); listen({backlog})", file_name(path));
        self.step(Verb::Listen, op, |s| {
            let r = SockAddr::unix(path)
                .and_then(|a| s.bind(&a))
                .and_then(|_| s.listen(backlog));
            Returned::from_io(r.map(|_| 0))
        })
    }

    /// connect(2) to the socket file at `path`.
    pub fn connect_path(&mut self, path: &Path) -> Step {
        self.step(Verb::Connect, format!("connect({})", file_name(path)), |s| {
            Returned::from_io(SockAddr::unix(path).and_then(|a| s.connect(&a)).map(|_| 0))
        })
    }
}

/// Steps show the socket file's name only: the directory differs between runs.
fn file_name(path: &Path) -> String {
    path.file_name()
        .map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned())
}

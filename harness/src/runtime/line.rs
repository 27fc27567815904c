//! One line out, one line back, with a deadline: the exchange of the protocol over a pipe
//! pair or a Unix stream socket.

use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::AsRawFd;
use std::time::Instant;

use crate::sys;

/// The two directions of a session: requests go to `tx`, answers come from `rx`.
pub(crate) struct Lines {
    tx: File,
    rx: File,
    /// Bytes read past the last answer.
    pending: Vec<u8>,
}

impl Lines {
    pub(crate) fn new(tx: File, rx: File) -> Lines {
        Lines {
            tx,
            rx,
            pending: Vec::new(),
        }
    }

    /// Sends `request` as one line and reads one line back, by `deadline`. A closed stream
    /// is `UnexpectedEof`, a deadline passed is `TimedOut`.
    pub(crate) fn exchange(&mut self, request: &str, deadline: Instant) -> io::Result<String> {
        self.tx.write_all(format!("{request}\n").as_bytes())?;
        self.tx.flush()?;
        self.read_line(deadline)
    }

    /// Reads one line (without its newline), by `deadline`.
    pub(crate) fn read_line(&mut self, deadline: Instant) -> io::Result<String> {
        loop {
            if let Some(end) = self.pending.iter().position(|&b| b == b'\n') {
                let line: Vec<u8> = self.pending.drain(..=end).collect();
                return Ok(String::from_utf8_lossy(&line[..end]).into_owned());
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(io::Error::new(io::ErrorKind::TimedOut, "no answer by the deadline"));
            }
            match sys::wait_readable(&[self.rx.as_raw_fd()], left) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
                Ok(()) => {}
            }
            let mut chunk = [0u8; 4096];
            match self.rx.read(&mut chunk) {
                Ok(0) => {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "the client closed its output",
                    ));
                }
                Ok(n) => self.pending.extend_from_slice(&chunk[..n]),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }
}

//! Passing a descriptor to another process over a Unix stream socket (SCM_RIGHTS, unix(7)).

use std::io;
use std::io::IoSlice;
use std::os::fd::{AsRawFd, BorrowedFd};

use nix::sys::socket::{ControlMessage, MsgFlags, sendmsg};

/// Sends all of `data` on `socket`, with `descriptor` attached to its first byte. The receiver
/// gets its own reference to the open file; the caller's stays the caller's to close.
pub fn send_with_descriptor(socket: BorrowedFd<'_>, data: &[u8], descriptor: BorrowedFd<'_>) -> io::Result<()> {
    let fds = [descriptor.as_raw_fd()];
    let control = [ControlMessage::ScmRights(&fds)];
    let mut sent = loop {
        match sendmsg::<()>(
            socket.as_raw_fd(),
            &[IoSlice::new(data)],
            &control,
            MsgFlags::MSG_NOSIGNAL,
            None,
        ) {
            Err(nix::errno::Errno::EINTR) => continue,
            other => break other?,
        }
    };
    while sent < data.len() {
        match nix::sys::socket::send(socket.as_raw_fd(), &data[sent..], MsgFlags::MSG_NOSIGNAL) {
            Err(nix::errno::Errno::EINTR) => continue,
            other => sent += other?,
        }
    }
    Ok(())
}

//! The calls on a socket that Linux and the BSDs make alike, as a C program makes them:
//! read(2) and write(2) themselves (socket2's `send` adds a flag of its own), recv(2) without
//! waiting, close(2) whose result is recorded, and the private directory of Unix sockets.

use std::io;
use std::os::fd::{AsRawFd, IntoRawFd};

use socket2::Socket;

pub(in crate::sys) fn cvt(rc: libc::ssize_t) -> io::Result<i64> {
    if rc < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(rc as i64)
    }
}

/// read(2) into `buf`.
pub fn read(socket: &Socket, buf: &mut [u8]) -> io::Result<i64> {
    // SAFETY: `buf` is valid for writes of its length.
    cvt(unsafe { libc::read(socket.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) })
}

/// write(2) of `data`: SIGPIPE is raised where the system raises it.
pub fn write(socket: &Socket, data: &[u8]) -> io::Result<i64> {
    // SAFETY: `data` is valid for reads of its length.
    cvt(unsafe { libc::write(socket.as_raw_fd(), data.as_ptr().cast(), data.len()) })
}

/// recv(2) with MSG_DONTWAIT into `buf`: a pending error, data, or EAGAIN.
pub fn recv_dontwait(socket: &Socket, buf: &mut [u8]) -> io::Result<i64> {
    // SAFETY: `buf` is valid for writes of its length.
    cvt(unsafe {
        libc::recv(
            socket.as_raw_fd(),
            buf.as_mut_ptr().cast(),
            buf.len(),
            libc::MSG_DONTWAIT,
        )
    })
}

/// close(2), its result as the program sees it. The socket is gone whatever it returns.
pub fn close(socket: Socket) -> io::Result<()> {
    let fd = socket.into_raw_fd();
    // SAFETY: `fd` was just released by its owner and is closed exactly once.
    cvt(unsafe { libc::close(fd) } as libc::ssize_t).map(|_| ())
}

/// The socket's descriptor number, for showing which one a call returned.
pub fn raw_handle(socket: &Socket) -> i64 {
    i64::from(socket.as_raw_fd())
}

/// Creates a directory only this user can enter (mode 0700).
pub fn create_private_dir(path: &std::path::Path) -> io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new().mode(0o700).create(path)
}

/// setsockopt(2) of an integer option by its level and name.
pub(in crate::sys) fn set_raw_option(
    socket: &Socket,
    level: libc::c_int,
    name: libc::c_int,
    value: libc::c_int,
) -> io::Result<()> {
    // SAFETY: `value` is a valid c_int for the duration of the call.
    let rc = unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            level,
            name,
            (&raw const value).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    cvt(rc as libc::ssize_t).map(|_| ())
}

/// getsockopt(2) of an integer option by its level and name.
pub(in crate::sys) fn raw_option(socket: &Socket, level: libc::c_int, name: libc::c_int) -> io::Result<i32> {
    let mut value: libc::c_int = 0;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: `value` and `len` are valid for writes of the sizes given.
    let rc = unsafe { libc::getsockopt(socket.as_raw_fd(), level, name, (&raw mut value).cast(), &mut len) };
    cvt(rc as libc::ssize_t).map(|_| value)
}

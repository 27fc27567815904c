//! epoll(7) readiness as a recorded step: event loops (tokio, libuv, Go's netpoller) learn
//! about a peer's reset from epoll_wait, not from poll, so the events it reports are part of
//! what a program is told.

use std::io;
use std::os::fd::AsRawFd;
use std::time::Duration;

use super::{Endpoint, Returned};
use crate::record::Step;

/// epoll event bits by name, in the order steps list them.
const EPOLL_BITS: &[(u32, &str)] = &[
    (libc::EPOLLIN as u32, "EPOLLIN"),
    (libc::EPOLLPRI as u32, "EPOLLPRI"),
    (libc::EPOLLOUT as u32, "EPOLLOUT"),
    (libc::EPOLLRDHUP as u32, "EPOLLRDHUP"),
    (libc::EPOLLERR as u32, "EPOLLERR"),
    (libc::EPOLLHUP as u32, "EPOLLHUP"),
];

/// Decodes epoll events into names, in a fixed order.
pub fn epoll_names(events: u32) -> Vec<String> {
    EPOLL_BITS
        .iter()
        .filter(|(bit, _)| events & bit != 0)
        .map(|(_, name)| name.to_string())
        .collect()
}

/// The system calls a blocked epoll_wait(2) sleeps in (glibc uses epoll_wait or epoll_pwait).
pub fn epoll_wait_syscalls() -> Vec<libc::c_long> {
    #[allow(unused_mut)]
    let mut calls = vec![libc::SYS_epoll_pwait, libc::SYS_epoll_pwait2];
    #[cfg(any(target_arch = "x86_64", target_arch = "x86"))]
    calls.push(libc::SYS_epoll_wait);
    calls
}

impl Endpoint {
    /// epoll_wait(2) on a fresh, level-triggered epoll instance that watches this socket for
    /// `events` (EPOLLERR and EPOLLHUP are always reported), with a timeout. The step's
    /// revents are the epoll events the call returned, by name (`EPOLLIN`, `EPOLLRDHUP`).
    pub fn epoll_wait(&mut self, events: u32, timeout: Duration) -> Step {
        let asked = epoll_names(events).join("|");
        let op = format!("epoll_wait({asked}, {} ms)", timeout.as_millis());
        self.step("epoll_wait", op, |s| {
            let (rc, got) = epoll_once(s.as_raw_fd(), events, timeout);
            let mut returned = Returned::from_io(rc);
            returned.revents = Some(epoll_names(got));
            returned
        })
    }
}

/// One epoll instance, one registration, one wait; the instance is closed afterwards.
fn epoll_once(fd: libc::c_int, events: u32, timeout: Duration) -> (io::Result<i64>, u32) {
    // SAFETY: epoll_create1 takes a flag and returns a new descriptor or -1.
    let ep = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
    if ep < 0 {
        return (Err(io::Error::last_os_error()), 0);
    }
    let mut interest = libc::epoll_event { events, u64: 0 };
    // SAFETY: valid descriptors and a valid event.
    let result = if unsafe { libc::epoll_ctl(ep, libc::EPOLL_CTL_ADD, fd, &mut interest) } < 0 {
        (Err(io::Error::last_os_error()), 0)
    } else {
        let mut ready = [libc::epoll_event { events: 0, u64: 0 }];
        let ms = timeout.as_millis().min(i32::MAX as u128) as i32;
        // SAFETY: `ready` has room for the one event asked for.
        let rc = unsafe { libc::epoll_wait(ep, ready.as_mut_ptr(), 1, ms) };
        if rc < 0 {
            (Err(io::Error::last_os_error()), 0)
        } else {
            let got = if rc > 0 { ready[0].events } else { 0 };
            (Ok(i64::from(rc)), got)
        }
    };
    // SAFETY: closing the instance made above, exactly once.
    unsafe { libc::close(ep) };
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoll_names_list_the_bits_in_a_fixed_order() {
        let events = (libc::EPOLLHUP | libc::EPOLLIN | libc::EPOLLRDHUP) as u32;
        assert_eq!(epoll_names(events), ["EPOLLIN", "EPOLLRDHUP", "EPOLLHUP"]);
    }
}

//! epoll(7) with its raw bits, mapped to and from [`Events`] (epoll has no NVAL).

use std::io;
use std::os::fd::AsRawFd;
use std::time::Duration;

use socket2::Socket;

use crate::events::{Events, Revents};
use crate::sys::unix::readiness::{from_bits, to_bits};

/// Each event and its epoll(7) bit.
const EPOLL_BITS: [(Events, u32); 6] = [
    (Events::IN, libc::EPOLLIN as u32),
    (Events::PRI, libc::EPOLLPRI as u32),
    (Events::OUT, libc::EPOLLOUT as u32),
    (Events::RDHUP, libc::EPOLLRDHUP as u32),
    (Events::ERR, libc::EPOLLERR as u32),
    (Events::HUP, libc::EPOLLHUP as u32),
];

/// epoll_wait(2) on a fresh, level-triggered epoll instance that watches `socket` for
/// `events`, with a timeout; the instance is closed afterwards. The call's result and what it
/// reported.
pub fn epoll_once(socket: &Socket, events: Events, timeout: Duration) -> (io::Result<i64>, Revents) {
    // SAFETY: epoll_create1 takes a flag and returns a new descriptor or -1.
    let ep = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
    if ep < 0 {
        return (Err(io::Error::last_os_error()), Revents::default());
    }
    let mut interest = libc::epoll_event {
        events: to_bits(events, &EPOLL_BITS),
        u64: 0,
    };
    // SAFETY: valid descriptors and a valid event.
    let result = if unsafe { libc::epoll_ctl(ep, libc::EPOLL_CTL_ADD, socket.as_raw_fd(), &mut interest) } < 0 {
        (Err(io::Error::last_os_error()), Revents::default())
    } else {
        let mut ready = [libc::epoll_event { events: 0, u64: 0 }];
        let ms = timeout.as_millis().min(i32::MAX as u128) as i32;
        // SAFETY: `ready` has room for the one event asked for.
        let rc = unsafe { libc::epoll_wait(ep, ready.as_mut_ptr(), 1, ms) };
        if rc < 0 {
            (Err(io::Error::last_os_error()), Revents::default())
        } else {
            let got = if rc > 0 { ready[0].events } else { 0 };
            (Ok(i64::from(rc)), from_bits(got, &EPOLL_BITS))
        }
    };
    // SAFETY: closing the instance made above, exactly once.
    unsafe { libc::close(ep) };
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::EventApi;

    #[test]
    fn epoll_bits_read_back_as_the_events_asked_for() {
        let asked = Events::IN | Events::RDHUP | Events::HUP;
        let revents = from_bits(to_bits(asked, &EPOLL_BITS), &EPOLL_BITS);
        assert_eq!(revents.names(EventApi::Epoll), ["EPOLLIN", "EPOLLRDHUP", "EPOLLHUP"]);
        assert_eq!(revents.unknown, 0);
    }
}

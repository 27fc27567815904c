//! poll(2) and epoll(7) with their raw bits: nix's `PollFlags` lacks POLLRDHUP and drops
//! revents it cannot name, so the bits are mapped here, to and from [`Events`].

use std::io;
use std::os::fd::{AsRawFd, RawFd};
use std::time::Duration;

use socket2::Socket;

use crate::events::{Events, Revents};

/// Each event and its poll(2) bit.
const POLL_BITS: [(Events, libc::c_short); 7] = [
    (Events::IN, libc::POLLIN),
    (Events::PRI, libc::POLLPRI),
    (Events::OUT, libc::POLLOUT),
    (Events::RDHUP, libc::POLLRDHUP),
    (Events::ERR, libc::POLLERR),
    (Events::HUP, libc::POLLHUP),
    (Events::NVAL, libc::POLLNVAL),
];

/// Each event and its epoll(7) bit (epoll has no NVAL).
const EPOLL_BITS: [(Events, u32); 6] = [
    (Events::IN, libc::EPOLLIN as u32),
    (Events::PRI, libc::EPOLLPRI as u32),
    (Events::OUT, libc::EPOLLOUT as u32),
    (Events::RDHUP, libc::EPOLLRDHUP as u32),
    (Events::ERR, libc::EPOLLERR as u32),
    (Events::HUP, libc::EPOLLHUP as u32),
];

fn to_bits<B: Copy + Default + std::ops::BitOr<Output = B>>(events: Events, table: &[(Events, B)]) -> B {
    table
        .iter()
        .filter(|(e, _)| events.contains(*e))
        .fold(B::default(), |acc, (_, bit)| acc | *bit)
}

fn from_bits(raw: u32, table: &[(Events, u32)]) -> Revents {
    let mut revents = Revents::default();
    let mut known = 0;
    for &(event, bit) in table {
        known |= bit;
        if raw & bit != 0 {
            revents.events |= event;
        }
    }
    revents.unknown = raw & !known;
    revents
}

/// poll(2) on one socket for `events` with a timeout (`None`: no limit): the call's result and
/// what it reported.
pub fn poll_one(socket: &Socket, events: Events, timeout: Option<Duration>) -> (io::Result<i32>, Revents) {
    poll_fd(socket.as_raw_fd(), events, timeout)
}

fn poll_fd(fd: RawFd, events: Events, timeout: Option<Duration>) -> (io::Result<i32>, Revents) {
    let mut pfd = libc::pollfd {
        fd,
        events: to_bits(events, &POLL_BITS),
        revents: 0,
    };
    let ms = timeout.map_or(-1, |t| t.as_millis().min(i32::MAX as u128) as i32);
    // SAFETY: one valid pollfd.
    let rc = unsafe { libc::poll(&mut pfd, 1, ms) };
    if rc < 0 {
        return (Err(io::Error::last_os_error()), Revents::default());
    }
    let table = POLL_BITS.map(|(e, b)| (e, u32::from(b as u16)));
    (Ok(rc), from_bits(u32::from(pfd.revents as u16), &table))
}

/// Sleeps in poll(2) until one of `fds` is readable or `timeout` passes (rounded up to the
/// next millisecond, so as not to wake a fraction early and spin).
pub fn wait_readable(fds: &[RawFd], timeout: Duration) -> io::Result<()> {
    let mut pollfds: Vec<libc::pollfd> = fds
        .iter()
        .map(|&fd| libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        })
        .collect();
    let ms = timeout.as_micros().div_ceil(1000).min(i32::MAX as u128) as libc::c_int;
    // SAFETY: `pollfds` is a valid array of `pollfds.len()` pollfds.
    let rc = unsafe { libc::poll(pollfds.as_mut_ptr(), pollfds.len() as libc::nfds_t, ms) };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Blocks until `fd` is readable (true) or `deadline` passes (false), without sleeping in a
/// loop: one poll(2) per wake-up, with the time left rounded up to whole milliseconds.
pub fn readable_before(fd: RawFd, deadline: std::time::Instant) -> io::Result<bool> {
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        let ms = left.as_nanos().div_ceil(1_000_000).min(i32::MAX as u128) as i32;
        let mut pfd = libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd for the duration of the call.
        let rc = unsafe { libc::poll(&mut pfd, 1, ms) };
        if rc < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        if rc > 0 {
            return Ok(true);
        }
        if std::time::Instant::now() >= deadline {
            return Ok(false);
        }
    }
}

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
    fn poll_bits_after_a_reset_name_pollrdhup_and_keep_unknown_bits() {
        // poll(2): POLLRDHUP (since Linux 2.6.17) "stream socket peer closed connection".
        let table = POLL_BITS.map(|(e, b)| (e, u32::from(b as u16)));
        let raw = (libc::POLLIN | libc::POLLERR | libc::POLLHUP | libc::POLLRDHUP) as u16;
        let revents = from_bits(u32::from(raw) | 0x8000, &table);
        assert_eq!(
            revents.names(EventApi::Poll),
            ["POLLIN", "POLLRDHUP", "POLLERR", "POLLHUP", "0x8000"]
        );
    }

    #[test]
    fn epoll_bits_read_back_as_the_events_asked_for() {
        let asked = Events::IN | Events::RDHUP | Events::HUP;
        let revents = from_bits(to_bits(asked, &EPOLL_BITS), &EPOLL_BITS);
        assert_eq!(revents.names(EventApi::Epoll), ["EPOLLIN", "EPOLLRDHUP", "EPOLLHUP"]);
        assert_eq!(revents.unknown, 0);
    }
}

//! poll(2) with its raw bits, mapped to and from [`Events`]: nix's `PollFlags` lacks
//! POLLRDHUP and drops revents it cannot name. Of the platforms here only Linux and FreeBSD
//! (since 10.0) have POLLRDHUP; macOS builds poll on kqueue and reports a peer's FIN as
//! POLLHUP, and the BSDs set no POLLERR for a socket error (XNU `poll_callback`, FreeBSD
//! `sopoll_generic`): the bits are recorded as the kernel set them.

use std::io;
use std::os::fd::{AsRawFd, RawFd};
use std::time::Duration;

use socket2::Socket;

use crate::events::{Events, Revents};

/// Each event and its poll(2) bit, where the platform has one.
const POLL_BITS: &[(Events, libc::c_short)] = &[
    (Events::IN, libc::POLLIN),
    (Events::PRI, libc::POLLPRI),
    (Events::OUT, libc::POLLOUT),
    #[cfg(any(target_os = "linux", target_os = "freebsd"))]
    (Events::RDHUP, libc::POLLRDHUP),
    (Events::ERR, libc::POLLERR),
    (Events::HUP, libc::POLLHUP),
    (Events::NVAL, libc::POLLNVAL),
];

pub(in crate::sys) fn to_bits<B: Copy + Default + std::ops::BitOr<Output = B>>(
    events: Events,
    table: &[(Events, B)],
) -> B {
    table
        .iter()
        .filter(|(e, _)| events.contains(*e))
        .fold(B::default(), |acc, (_, bit)| acc | *bit)
}

pub(in crate::sys) fn from_bits(raw: u32, table: &[(Events, u32)]) -> Revents {
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
        events: to_bits(events, POLL_BITS),
        revents: 0,
    };
    let ms = timeout.map_or(-1, |t| t.as_millis().min(i32::MAX as u128) as i32);
    // SAFETY: one valid pollfd.
    let rc = unsafe { libc::poll(&mut pfd, 1, ms) };
    if rc < 0 {
        return (Err(io::Error::last_os_error()), Revents::default());
    }
    let table: Vec<(Events, u32)> = POLL_BITS.iter().map(|&(e, b)| (e, u32::from(b as u16))).collect();
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::EventApi;

    #[test]
    fn poll_bits_of_a_reset_keep_the_bits_without_a_name() {
        // poll(2): the revents bits are the kernel's; a bit with no name here is kept in hex.
        let table: Vec<(Events, u32)> = POLL_BITS.iter().map(|&(e, b)| (e, u32::from(b as u16))).collect();
        let raw = (libc::POLLIN | libc::POLLHUP) as u16;
        let revents = from_bits(u32::from(raw) | 0x8000, &table);
        assert_eq!(revents.names(EventApi::Poll), ["POLLIN", "POLLHUP", "0x8000"]);
        assert_eq!(
            from_bits(to_bits(Events::IN | Events::OUT, POLL_BITS) as u32, &table).events,
            Events::IN | Events::OUT
        );
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn poll_bits_after_a_reset_name_pollrdhup_and_keep_unknown_bits() {
        // poll(2): POLLRDHUP (since Linux 2.6.17) "stream socket peer closed connection".
        let table: Vec<(Events, u32)> = POLL_BITS.iter().map(|&(e, b)| (e, u32::from(b as u16))).collect();
        let raw = (libc::POLLIN | libc::POLLERR | libc::POLLHUP | libc::POLLRDHUP) as u16;
        let revents = from_bits(u32::from(raw) | 0x8000, &table);
        assert_eq!(
            revents.names(EventApi::Poll),
            ["POLLIN", "POLLRDHUP", "POLLERR", "POLLHUP", "0x8000"]
        );
    }
}

//! WSAPoll with its raw bits, mapped to and from [`Events`]. Winsock's POLLIN is POLLRDNORM |
//! POLLRDBAND; it has no POLLRDHUP, and refuses POLLPRI as a request, so PRI is never asked.
//! Before Windows 10 2004 it did not report a failed connect at all (WSAPoll documentation).

use std::io;
use std::os::windows::io::AsRawSocket;
use std::time::Duration;

use socket2::Socket;
use windows_sys::Win32::Networking::WinSock as ws;

use crate::events::{Events, Revents};

/// Each event and its WSAPoll bit.
const POLL_BITS: [(Events, i16); 6] = [
    (Events::IN, ws::POLLIN),
    (Events::PRI, ws::POLLPRI),
    (Events::OUT, ws::POLLOUT),
    (Events::ERR, ws::POLLERR),
    (Events::HUP, ws::POLLHUP),
    (Events::NVAL, ws::POLLNVAL),
];

fn to_bits(events: Events) -> i16 {
    POLL_BITS
        .iter()
        .filter(|(e, _)| *e != Events::PRI && events.contains(*e))
        .fold(0, |acc, (_, bit)| acc | *bit)
}

fn from_bits(raw: i16) -> Revents {
    let mut revents = Revents::default();
    let mut known: u16 = 0;
    for &(event, bit) in &POLL_BITS {
        known |= bit as u16;
        if raw & bit != 0 {
            revents.events |= event;
        }
    }
    revents.unknown = u32::from(raw as u16 & !known);
    revents
}

fn poll(fds: &mut [ws::WSAPOLLFD], timeout: Option<Duration>) -> io::Result<i32> {
    let ms = timeout.map_or(-1, |t| t.as_micros().div_ceil(1000).min(i32::MAX as u128) as i32);
    // SAFETY: `fds` is a valid array of `fds.len()` WSAPOLLFDs for the duration of the call.
    let rc = unsafe { ws::WSAPoll(fds.as_mut_ptr(), fds.len() as u32, ms) };
    if rc < 0 {
        // SAFETY: reads the calling thread's last Winsock error.
        Err(io::Error::from_raw_os_error(unsafe { ws::WSAGetLastError() }))
    } else {
        Ok(rc)
    }
}

/// WSAPoll on one socket for `events` with a timeout (`None`: no limit).
pub fn poll_one(socket: &Socket, events: Events, timeout: Option<Duration>) -> (io::Result<i32>, Revents) {
    let mut fds = [ws::WSAPOLLFD {
        fd: socket.as_raw_socket() as ws::SOCKET,
        events: to_bits(events),
        revents: 0,
    }];
    match poll(&mut fds, timeout) {
        Ok(rc) => (Ok(rc), from_bits(fds[0].revents)),
        Err(e) => (Err(e), Revents::default()),
    }
}

/// Sleeps in WSAPoll until one of `sockets` is readable or `timeout` passes.
pub fn wait_readable(sockets: &[super::RawHandle], timeout: Duration) -> io::Result<()> {
    let mut fds: Vec<ws::WSAPOLLFD> = sockets
        .iter()
        .map(|&s| ws::WSAPOLLFD {
            fd: s as ws::SOCKET,
            events: ws::POLLIN,
            revents: 0,
        })
        .collect();
    poll(&mut fds, Some(timeout)).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::EventApi;

    #[test]
    fn a_failed_connect_reads_as_hup_err_and_wrnorm() {
        // WSAPOLLFD documentation: since Windows 10 2004 a failed connect reports
        // POLLHUP | POLLERR | POLLWRNORM (POLLWRNORM is POLLOUT).
        let revents = from_bits(ws::POLLHUP | ws::POLLERR | ws::POLLWRNORM);
        assert_eq!(revents.names(EventApi::Poll), ["POLLOUT", "POLLERR", "POLLHUP"]);
        assert_eq!(to_bits(Events::PRI), 0);
    }
}

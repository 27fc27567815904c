//! The `host` topology: the machine's own loopback (127.0.0.1 or ::1), no namespace, no
//! sysctl, no firewall. The ports the catalogue names ([`SERVER_PORT`], [`CLOSED_PORT`]) are
//! private to a trial's namespace elsewhere; on the host other programs use ports too, so each
//! trial takes ports the kernel picks instead.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use socket2::{Domain, Protocol, Socket, Type};

use crate::capture::{Capture, CaptureSource};
use crate::trial::{CLOSED_PORT, SERVER_PORT};
use crate::variant::Family;

/// The ports of one `host` trial.
#[derive(Debug)]
pub struct HostPorts {
    /// Stands for [`SERVER_PORT`]: a port the kernel picked as free, given back at once for
    /// the listener to bind (another program could take it in between: the listener's bind
    /// then fails and the trial with it, naming the address).
    server: u16,
    /// Stands for [`CLOSED_PORT`]: held, bound and never listening, for the whole trial, so
    /// that nothing can listen there and a SYN to it is answered with a reset (RFC 9293
    /// §3.10.7.1: a segment to a CLOSED connection gets a RST).
    closed: u16,
    _closed_holder: Socket,
}

fn loopback(family: Family) -> IpAddr {
    match family {
        Family::V6 => Ipv6Addr::LOCALHOST.into(),
        _ => Ipv4Addr::LOCALHOST.into(),
    }
}

/// A TCP socket bound to a port of the kernel's choice on the loopback of `family`.
fn bound_to_any_port(family: Family) -> io::Result<(Socket, u16)> {
    let addr = SocketAddr::new(loopback(family), 0);
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    socket.bind(&addr.into())?;
    let port = socket
        .local_addr()?
        .as_socket()
        .map(|a| a.port())
        .ok_or_else(|| io::Error::other("getsockname gave no IP address"))?;
    Ok((socket, port))
}

impl HostPorts {
    pub fn reserve(family: Family) -> io::Result<HostPorts> {
        let (closed_holder, closed) = bound_to_any_port(family)?;
        let (free, server) = bound_to_any_port(family)?;
        drop(free);
        Ok(HostPorts {
            server,
            closed,
            _closed_holder: closed_holder,
        })
    }

    /// The port that stands for the catalogue's `port`.
    pub fn port(&self, port: u16) -> u16 {
        match port {
            SERVER_PORT => self.server,
            CLOSED_PORT => self.closed,
            other => other,
        }
    }
}

/// Adds a capture on the host's interfaces where this process may open one without asking for
/// more (AF_PACKET as root on Linux: it only reads), keeping only the trial's own frames (see
/// [`Capture::keep_only_the_servers`]). Elsewhere the wire is not captured, and the reason is
/// kept for the report.
pub(super) fn add_capture(capture: &mut Capture) {
    capture.keep_only_the_servers();
    match CaptureSource::prepare("host") {
        Ok(source) => capture.add_source(source),
        Err(e) => capture.not_captured(format!("no packet capture on the host: {e}")),
    }
}

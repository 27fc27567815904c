//! A small synchronous rtnetlink client: just enough to build a trial's network (links,
//! addresses, routes) inside a namespace, without an async runtime and without running `ip`.
//!
//! Every call acts on the network namespace the netlink socket was opened in, which is the
//! namespace of the thread that called [`Netlink::open`]. A `Netlink` opened in namespace B
//! keeps configuring B even after its thread has moved elsewhere, which is how one thread can
//! configure both ends of a veth pair.
//!
//! Every request asks for an acknowledgement, so a refusal comes back as an `io::Error` that
//! names the operation and carries the kernel's errno (see [`NetlinkError`] and [`errno`]).
//!
//! One file per noun, as `ip` has one subcommand per noun: `link.rs` (`ip link`),
//! `address.rs` (`ip address`), `route.rs` (`ip route`); `socket.rs` holds the request and
//! acknowledgement machinery they share.

mod address;
mod link;
mod route;
mod socket;

#[cfg(test)]
mod fixtures;

pub use address::local_route_lookups;
pub use link::LinkStatus;
pub use route::set_route_rto_min;
pub use socket::{Netlink, notifications};

use std::fmt;
use std::io;
use std::net::IpAddr;
use std::time::Duration;

use netlink_packet_route::AddressFamily;

/// How long one request may wait for the kernel's answer. rtnetlink answers synchronously, so
/// this only keeps a lost reply from hanging a trial forever.
const REPLY_TIMEOUT: Duration = Duration::from_secs(10);

/// A request the kernel refused (or a local failure while talking to it): which operation on
/// which object, and the underlying error. Wrapped in an `io::Error` whose kind follows the
/// errno, so callers can match on `ErrorKind` and still read a useful message.
#[derive(Debug)]
pub struct NetlinkError {
    /// What was being done, naming the object ("add address 198.18.0.1/24 on veth0").
    pub operation: String,
    /// The errno-carrying error (`raw_os_error()` is set when the kernel sent an errno).
    pub error: io::Error,
    /// The kernel's extended-ack text, when it explained itself.
    pub kernel_message: Option<String>,
}

impl NetlinkError {
    fn into_io(self) -> io::Error {
        io::Error::new(self.error.kind(), self)
    }
}

impl fmt::Display for NetlinkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "netlink: {}: {}", self.operation, self.error)?;
        if let Some(message) = &self.kernel_message {
            write!(f, "; kernel says: {message}")?;
        }
        Ok(())
    }
}

impl std::error::Error for NetlinkError {}

/// The errno behind an error from this module (or any `io::Error` with a raw OS error), so a
/// caller can tell EEXIST from ENODEV without parsing messages.
pub fn errno(err: &io::Error) -> Option<i32> {
    err.raw_os_error().or_else(|| {
        err.get_ref()
            .and_then(|inner| inner.downcast_ref::<NetlinkError>())
            .and_then(|e| e.error.raw_os_error())
    })
}

/// Wraps a local failure (socket, send, recv, poll) with the operation it interrupted.
fn failed(operation: &str, error: io::Error) -> io::Error {
    NetlinkError {
        operation: operation.to_string(),
        error,
        kernel_message: None,
    }
    .into_io()
}

/// A reply the kernel sent that this client cannot make sense of.
fn garbled(operation: &str, what: impl fmt::Display) -> io::Error {
    failed(
        operation,
        io::Error::new(io::ErrorKind::InvalidData, format!("malformed reply: {what}")),
    )
}

fn family_of(addr: IpAddr) -> AddressFamily {
    match addr {
        IpAddr::V4(_) => AddressFamily::Inet,
        IpAddr::V6(_) => AddressFamily::Inet6,
    }
}

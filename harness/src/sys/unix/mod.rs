//! What Linux and the BSDs share, through the C library: errno names, poll(2) with its raw
//! bits, the signals a trial watches, the plain calls on a socket and what
//! the process costs.

pub mod errno;
pub mod readiness;
pub mod signals;
pub mod socket_io;
pub mod usage;

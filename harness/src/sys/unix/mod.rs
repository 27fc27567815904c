//! What Linux and the BSDs share, through the C library: errno names, poll(2) with its raw
//! bits, the signals a trial watches and the plain calls on a socket.

pub mod errno;
pub mod readiness;
pub mod signals;
pub mod socket_io;

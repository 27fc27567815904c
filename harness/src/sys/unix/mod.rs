//! What Linux and the BSDs share, through the C library: errno names, poll(2) with its raw
//! bits, and the signals a trial watches.

pub mod errno;
pub mod readiness;
pub mod signals;

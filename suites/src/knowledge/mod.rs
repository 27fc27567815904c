//! Interpretation, kept apart from the observations (DESIGN.md principle 2, raw before
//! interpreted): what an errno means for TCP, and how language runtimes show it.
//!
//! Two kinds of value live here, and each says which it is:
//!
//! - *live*: computed on this machine when asked (the errno's number and `strerror` text, the
//!   Rust `std::io::ErrorKind` that std gives that number). Nothing is tabled that the running
//!   system can answer itself.
//! - *documented*: what a runtime's documentation or source says it shows, each with its
//!   source. Never observed by this suite; never an expectation.

pub mod errno;
pub mod runtimes;

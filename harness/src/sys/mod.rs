//! Everything that differs between operating systems, selected in one place. The rest of
//! the harness calls these functions and never tests `target_os` itself.

#[cfg(target_os = "linux")]
mod linux;
#[cfg(target_os = "linux")]
pub use linux::*;

#[cfg(not(target_os = "linux"))]
mod other;
#[cfg(not(target_os = "linux"))]
pub use other::*;

//! The packet socket underneath a capture source ([`crate::capture`]): Linux AF_PACKET, and
//! elsewhere a stub whose `open` fails with `Unsupported`.
//!
//! A socket receives through a ring mapped from the kernel (PACKET_RX_RING) where the
//! platform has one, and otherwise frame by frame with recvmsg(2), each frame stamped by the
//! socket's receive timestamps (SO_TIMESTAMPNS, or SO_TIMESTAMP where nanoseconds are not
//! offered): gVisor's netstack, for one, refuses PACKET_VERSION and PACKET_RX_RING with
//! ENOPROTOOPT. [`Receiving`] says which one a socket uses.

/// Bytes kept of each frame; the rest is cut off in the kernel by the socket filter.
pub const SNAPLEN: u32 = 256;

/// What one `recv` returned besides the bytes.
#[derive(Debug, Clone, Copy)]
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
pub struct RecvInfo {
    /// Bytes written into the caller's buffer (at most `SNAPLEN`).
    pub len: usize,
    /// Interface the frame went through, in the socket's namespace.
    pub ifindex: i32,
    /// Whether the frame was sent by this namespace (`PACKET_OUTGOING`).
    pub outgoing: bool,
    /// When the kernel tapped the frame (inside the call that sent it), nanoseconds since
    /// the Unix epoch.
    pub ts_ns: u64,
    /// Length of the frame before the filter cut it.
    pub orig_len: u32,
}

/// Frames a source holds between two drains; more are dropped and counted as drops.
pub const RING_FRAMES: usize = 1024;

/// How a packet socket receives its frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
pub enum Receiving {
    /// From a PACKET_RX_RING, stamped when the kernel tapped each frame.
    Ring,
    /// With recvmsg(2), stamped by SO_TIMESTAMPNS (nanoseconds).
    RecvmsgNanoseconds,
    /// With recvmsg(2), stamped by SO_TIMESTAMP (microseconds): the platform accepts
    /// SO_TIMESTAMPNS but does not report it back as set, nor send its control message.
    RecvmsgMicroseconds,
}

impl Receiving {
    /// How the capture of this platform works, in words.
    pub fn describe(self) -> &'static str {
        match self {
            Receiving::Ring => "AF_PACKET with a PACKET_RX_RING (TPACKET_V2), frames stamped when tapped",
            Receiving::RecvmsgNanoseconds => "AF_PACKET with recvmsg(2), frames stamped by SO_TIMESTAMPNS",
            Receiving::RecvmsgMicroseconds => {
                "AF_PACKET with recvmsg(2), frames stamped by SO_TIMESTAMP (microseconds)"
            }
        }
    }
}

pub use super::{PacketSocket, settle_releases};

//! The machinery of sockerr: sandboxed namespaces, sockets whose every call is recorded, and
//! packet capture. It knows no scenario and no expected answer; scenarios live in `suites`.

pub mod capture;
pub mod counters;
pub mod datagram;
pub mod endpoint;
pub mod firewall;
pub mod linger;
pub mod log;
pub mod platform;
pub mod record;
pub mod sandbox;
pub mod server_socket;
pub mod sys;
pub mod trial;
pub mod unix_socket;
pub mod variant;

#[cfg(target_os = "linux")]
pub use endpoint::peer_process::PeerProcess;
pub use endpoint::{Background, Endpoint, Shut};
pub use firewall::Hook;
pub use record::{
    CallResult, Direction, Knob, Observation, Proto, RuntimeObservation, RuntimeOutcome, RuntimeStep, Segment, Step,
    Wait, Wire,
};
pub use trial::{Host, ScriptResult, Skip, Trial, TrialSpec};
pub use unix_socket::SocketDir;

pub use variant::{Family, Topology};

//! The machinery of sockerr: sandboxed namespaces, sockets whose every call is recorded, and
//! packet capture. It knows no scenario and no expected answer; scenarios live in `suites`.

pub mod atomic_file;
pub mod capabilities;
pub mod capture;
pub mod endpoint;
pub mod events;
pub mod log;
pub mod platform;
pub mod prerequisite;
pub mod record;
#[cfg(target_os = "linux")]
pub mod runtime;
#[cfg(not(target_os = "linux"))]
#[path = "runtime/elsewhere.rs"]
pub mod runtime;
pub mod sandbox;
pub mod sockopt;
pub mod sys;
pub mod trial;
pub mod variant;
pub mod verb;

pub use capabilities::{Capabilities, Missing, Need};
pub use endpoint::peer_process::PeerProcess;
pub use endpoint::stream::Shut;
pub use endpoint::{Background, Endpoint};
pub use events::{EventApi, Events, Revents};
pub use record::{
    Answer, CallResult, ClientInfo, Direction, Knob, Observation, Proto, RuntimeStep, Segment, Step, Wait, Wire,
};
pub use sockopt::SockOpt;
pub use trial::firewall::Hook;
pub use trial::{Context, Host, ScriptResult, SetupError, SocketDir, Trial, TrialSpec};
pub use variant::{Family, Topology};
pub use verb::Verb;

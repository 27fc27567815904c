//! The runtimes and their APIs by name, and why a client could not start: what the rest of
//! the harness and the catalogue name on every platform, whether or not clients run there.

/// A language runtime whose clients the harness can run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Runtime {
    Java,
    Python,
    Go,
    Node,
    Rust,
}

impl Runtime {
    pub const ALL: [Runtime; 5] = [
        Runtime::Java,
        Runtime::Python,
        Runtime::Go,
        Runtime::Node,
        Runtime::Rust,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Runtime::Java => "Java",
            Runtime::Python => "Python",
            Runtime::Go => "Go",
            Runtime::Node => "Node.js",
            Runtime::Rust => "Rust",
        }
    }
}

/// One API of a runtime: what a client session uses to make its calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Api {
    JavaSocket,
    JavaSocketChannel,
    PythonSocket,
    PythonAsyncio,
    GoNet,
    NodeNet,
    NodeNetAllowHalfOpen,
    RustStd,
    RustTokio,
}

impl Api {
    pub const ALL: [Api; 9] = [
        Api::JavaSocket,
        Api::JavaSocketChannel,
        Api::PythonSocket,
        Api::PythonAsyncio,
        Api::GoNet,
        Api::NodeNet,
        Api::NodeNetAllowHalfOpen,
        Api::RustStd,
        Api::RustTokio,
    ];

    /// The name the protocol and the reports use.
    pub fn id(self) -> &'static str {
        match self {
            Api::JavaSocket => "java.net.Socket",
            Api::JavaSocketChannel => "java.nio.channels.SocketChannel",
            Api::PythonSocket => "python.socket",
            Api::PythonAsyncio => "python.asyncio",
            Api::GoNet => "go.net",
            Api::NodeNet => "node.net",
            Api::NodeNetAllowHalfOpen => "node.net.allowHalfOpen",
            Api::RustStd => "rust.std",
            Api::RustTokio => "rust.tokio",
        }
    }

    pub fn runtime(self) -> Runtime {
        match self {
            Api::JavaSocket | Api::JavaSocketChannel => Runtime::Java,
            Api::PythonSocket | Api::PythonAsyncio => Runtime::Python,
            Api::GoNet => Runtime::Go,
            Api::NodeNet | Api::NodeNetAllowHalfOpen => Runtime::Node,
            Api::RustStd | Api::RustTokio => Runtime::Rust,
        }
    }
}

impl std::fmt::Display for Api {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.id())
    }
}

/// Whether every runtime must be present (`SOCKERR_REQUIRE_ALL=1`, as CI sets it): a missing
/// runtime then fails instead of skipping.
pub fn require_all() -> bool {
    std::env::var("SOCKERR_REQUIRE_ALL").is_ok_and(|v| v == "1")
}

/// Why a client could not start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StartError {
    /// The runtime is not installed: one line, naming the package (a skip).
    Missing(String),
    /// It is installed but the client could not be built or started, or did not answer.
    Failed(String),
}

impl std::fmt::Display for StartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StartError::Missing(why) | StartError::Failed(why) => f.write_str(why),
        }
    }
}

impl std::error::Error for StartError {}

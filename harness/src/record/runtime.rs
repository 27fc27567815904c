//! What a runtime client answered for one step, and the step as the trial records it: plain
//! data like the rest of the record, kept apart from the driver (`crate::runtime`, Linux) so
//! that reports and expectation files read it on every platform.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One observation line of the protocol, as the client wrote it (see the module doc).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Answer {
    /// `ok`, `error`, `unsupported`; the harness adds `lost` when no answer came.
    pub outcome: String,
    /// What the call returned (`ok`): a count, an address, `null` for a call that returns
    /// nothing. Bytes read are given as their count; Java's end of file is `-1`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<Value>,
    /// The exception's class or the error's type (`error`): `java.net.SocketException`,
    /// `ConnectionResetError`, `*net.OpError`, `Error`, `std::io::Error`.
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub error_type: Option<String>,
    /// Its message, exactly as the runtime gives it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The errno name or code the runtime exposes (Python's `errno`, Node's `code`, Go's
    /// `errors.Is` match, Rust's `raw_os_error`), `None` where it exposes none (Java).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// The number beside it, as the runtime gives it (Node's is negative).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub errno: Option<i64>,
    /// What else the runtime says about the error: Go's `*net.OpError` fields, Node's
    /// `syscall`, Rust's `io::ErrorKind`, a Java exception's cause.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub fields: BTreeMap<String, Value>,
    /// Node.js: the socket's events since the previous observation, in order (`error
    /// ECONNRESET: read ECONNRESET`, `end`, `close hadError=true`, `write callback`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub events: Vec<String>,
    /// Why the step is `unsupported` (or `lost`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub why: Option<String>,
    /// The hello's answer: the runtime and its version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runtime: Option<String>,
    /// The hello's answer: the client's process id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pid: Option<i64>,
    /// How the client's process ended, when it had ended by the time the step was answered
    /// (added by the harness; `None`: it survived the step).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended: Option<String>,
    /// The socket's descriptor in the client's process while it is open: how the harness
    /// finds it (pidfd_getfd). Not part of the record: descriptor numbers differ between runs.
    #[serde(default, skip_serializing)]
    #[schemars(skip)]
    pub fd: Option<i32>,
}

impl Answer {
    /// The outcome in the notation expectation files use: `ok` for a call that returned
    /// nothing, `ok=V` with what it returned (`ok=-1`, `ok="198.18.0.2:4000"`), `error`,
    /// `unsupported` or `lost`.
    pub fn outcome_text(&self) -> String {
        match (self.outcome.as_str(), &self.value) {
            ("ok", Some(value)) if !value.is_null() => format!("ok={value}"),
            (outcome, _) => outcome.to_string(),
        }
    }

    /// The outcome in one line: `ok=5`, `ok`, `java.net.SocketException: Connection reset`,
    /// `unsupported`, `lost`.
    pub fn summary(&self) -> String {
        match self.outcome.as_str() {
            "ok" => match &self.value {
                None | Some(Value::Null) => "ok".into(),
                Some(v) => format!("ok={v}"),
            },
            "error" => {
                let mut text = self.error_type.clone().unwrap_or_else(|| "error".into());
                if let Some(message) = &self.message {
                    text.push_str(": ");
                    text.push_str(message);
                }
                if let Some(code) = &self.code {
                    text.push_str(&format!(" [{code}]"));
                }
                text
            }
            other => other.to_string(),
        }
    }
}

/// One step of a runtime client, with what the harness saw of its socket right after it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RuntimeStep {
    /// `client.read#1`, numbered per verb as the native steps are.
    pub label: String,
    /// The API that made the call (`java.net.Socket`).
    pub api: String,
    /// The request, e.g. `read(64)`.
    pub op: String,
    pub answer: Answer,
    /// Whether the client's process was still alive after the step; `false` with how it
    /// ended in `ended`.
    pub survived: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended: Option<String>,
    /// poll(2) revents of the client's socket after the step, read by the harness on a
    /// duplicate of it (nothing consumed); empty when the socket is closed or out of reach.
    pub revents: Vec<String>,
    /// TCP state from TCP_INFO after the step, read the same way.
    pub tcp_state: Option<String>,
    /// Microseconds from the client's start to the request.
    pub t_us: u64,
    /// Microseconds from the request to the answer.
    pub elapsed_us: u64,
}

//! Why a scenario's script stopped before its end: the machine lacks something (a skip), or
//! the set-up the steps depend on failed (the trial fails with the reason). Outcomes under
//! test are never errors: they are steps.

use std::io;

/// What a script returns: `Ok`, or why it could not go on.
pub type ScriptResult = Result<(), SetupError>;

/// Why a script could not go on.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    /// This machine cannot run the scenario (the `nft` command, a sysctl of a newer kernel):
    /// the trial is skipped, not failed. One line that says how to get what is missing.
    #[error("{0}")]
    Skip(String),
    /// A set-up call the steps depend on failed (a listener that could not listen, a
    /// connection that could not be made): the trial fails with this reason.
    #[error("set-up {what} failed: {outcome}")]
    Step {
        /// The call, e.g. `connect`.
        what: String,
        /// What it returned, e.g. `ECONNREFUSED`.
        outcome: String,
    },
    /// The sandbox, a namespace change or another system call of the set-up failed.
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: io::Error,
    },
    /// Anything else a script reports, in its own words.
    #[error("{0}")]
    Other(String),
}

impl SetupError {
    /// Whether this error skips the trial rather than failing it.
    pub fn is_skip(&self) -> bool {
        matches!(self, SetupError::Skip(_))
    }

    /// A set-up call that failed with this outcome.
    pub fn step(what: impl Into<String>, outcome: impl Into<String>) -> SetupError {
        SetupError::Step {
            what: what.into(),
            outcome: outcome.into(),
        }
    }
}

impl From<io::Error> for SetupError {
    fn from(source: io::Error) -> SetupError {
        SetupError::Io {
            context: "set-up".into(),
            source,
        }
    }
}

impl From<&str> for SetupError {
    fn from(message: &str) -> SetupError {
        SetupError::Other(message.to_string())
    }
}

impl From<String> for SetupError {
    fn from(message: String) -> SetupError {
        SetupError::Other(message)
    }
}

/// Adds what was being done to an I/O error: `entering the server's namespace: EPERM`.
pub trait Context<T> {
    fn context(self, what: impl Into<String>) -> Result<T, SetupError>;
}

impl<T> Context<T> for io::Result<T> {
    fn context(self, what: impl Into<String>) -> Result<T, SetupError> {
        self.map_err(|source| SetupError::Io {
            context: what.into(),
            source,
        })
    }
}

//! A mismatch: one way a trial differed from its expectation, as a value. Judging produces
//! them, the report keeps them, and every renderer (console, JUnit, Markdown, HTML) shows them
//! through the one [`Display`](std::fmt::Display) below, so a test can check the fields and a
//! reader sees the same text everywhere.

use serde::{Deserialize, Serialize};

/// What a mismatch is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Aspect {
    /// The step's outcome (errno name, `ok=N`, `killed`) is not in the accepted set.
    Result,
    /// The step raised other signals than expected.
    Signals,
    /// The poll bits after the step differ from the expected set.
    Revents,
    /// The TCP state after the step is not in the accepted set.
    TcpState,
    /// No captured segment matches a pattern the wire must have.
    WireHas,
    /// A captured segment matches a pattern the wire must lack.
    WireLacks,
    /// What answered the injected segments differs from the expected list.
    WireAnswer,
    /// The expectation names a step the trial never took.
    MissingStep,
    /// The trial could not run to its end, so what it should have shown was never seen.
    TrialError,
    /// No expectation judged the trial, and the run was asked to judge every trial.
    Unjudged,
    /// A runtime's step ended otherwise than expected: ok, error, unsupported, lost.
    RuntimeOutcome,
    /// A runtime's error is of another type (exception class) than expected.
    RuntimeType,
    /// A runtime's error message does not match.
    RuntimeMessage,
    /// The error code a runtime exposes (errno name, `err.code`) is not in the accepted set.
    RuntimeCode,
    /// The runtime client's process survived the step, or did not, unlike expected.
    RuntimeSurvived,
    /// A mismatch read from a report of schema `sockerr-report/1`, where mismatches were text:
    /// the text is in `context`.
    Text,
}

impl Aspect {
    /// The name a reader sees after the step: `client.read#1 result`, `wire lacks`, `trial
    /// error`.
    pub fn as_str(self) -> &'static str {
        match self {
            Aspect::Result => "result",
            Aspect::Signals => "signals",
            Aspect::Revents => "revents",
            Aspect::TcpState => "tcp_state",
            Aspect::WireHas => "has",
            Aspect::WireLacks => "lacks",
            Aspect::WireAnswer => "answer",
            Aspect::MissingStep => "missing step",
            Aspect::TrialError => "error",
            Aspect::Unjudged => "unjudged",
            Aspect::RuntimeOutcome => "outcome",
            Aspect::RuntimeType => "type",
            Aspect::RuntimeMessage => "message",
            Aspect::RuntimeCode => "code",
            Aspect::RuntimeSurvived => "survived",
            Aspect::Text => "text",
        }
    }
}

impl std::fmt::Display for Aspect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One difference between what a trial was expected to show and what it showed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Mismatch {
    /// Where: a step label (`client.read#1`), `wire`, or `trial` for the trial as a whole.
    pub step: String,
    /// The API of the runtime client whose step this is (`java.net.Socket`), when the step ran
    /// in one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runtime: Option<String>,
    pub aspect: Aspect,
    /// What was expected, in the notation of expectation files: `EPIPE`, `one of {EPIPE,
    /// ECONNRESET}`, `[SIGPIPE]`, `POLLIN|POLLHUP`, `server>client R.`.
    pub expected: String,
    /// What was observed, in the same notation.
    pub observed: String,
    /// What else a reader needs to understand it: the call as made, the poll bits, TCP state
    /// and signals around it; the error of a trial that stopped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<String>,
    /// The expectation file that stated the expectation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<String>,
}

impl Mismatch {
    /// A mismatch kept as text (what `sockerr-report/1` recorded).
    pub fn text(text: impl Into<String>) -> Mismatch {
        Mismatch {
            step: String::new(),
            runtime: None,
            aspect: Aspect::Text,
            expected: String::new(),
            observed: String::new(),
            context: Some(text.into()),
            origin: None,
        }
    }

    /// Where, with the runtime's API: `client.read#1`, `client.read#1 [java.net.Socket]`.
    pub fn place(&self) -> String {
        match &self.runtime {
            Some(runtime) => format!("{} [{runtime}]", self.step),
            None => self.step.clone(),
        }
    }

    /// One line: `client.read#1 result: expected EPIPE, observed ECONNRESET`, for a place
    /// with room for one line only (a JUnit failure message, a table cell).
    pub fn headline(&self) -> String {
        if self.aspect == Aspect::Text {
            let text = self.context.as_deref().unwrap_or("");
            return text.lines().next().unwrap_or("").trim().to_string();
        }
        format!(
            "{} {}: expected {}, observed {}",
            self.place(),
            self.aspect,
            self.expected,
            self.observed
        )
    }
}

impl std::fmt::Display for Mismatch {
    /// ```text
    /// client.read#1 result
    ///     expected  EPIPE  (suites/expectations/linux.toml)
    ///     observed  ECONNRESET
    ///     context   read(64); revents POLLIN|POLLERR; state CLOSE; signals none
    /// ```
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.aspect == Aspect::Text {
            return f.write_str(self.context.as_deref().unwrap_or(""));
        }
        writeln!(f, "{} {}", self.place(), self.aspect)?;
        write!(f, "    expected  {}", self.expected)?;
        if let Some(origin) = &self.origin {
            write!(f, "  ({origin})")?;
        }
        write!(f, "\n    observed  {}", self.observed)?;
        if let Some(context) = &self.context {
            write!(f, "\n    context   {context}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_reset() -> Mismatch {
        Mismatch {
            step: "client.read#1".into(),
            runtime: None,
            aspect: Aspect::Result,
            expected: "EPIPE".into(),
            observed: "ECONNRESET".into(),
            context: Some("read(64); state CLOSE".into()),
            origin: Some("my.toml".into()),
        }
    }

    #[test]
    fn a_mismatch_shows_place_aspect_expected_observed_context_and_origin_on_their_own_lines() {
        assert_eq!(
            read_reset().to_string(),
            "client.read#1 result\n    expected  EPIPE  (my.toml)\n    observed  ECONNRESET\n    context   read(64); state CLOSE"
        );
        assert_eq!(
            read_reset().headline(),
            "client.read#1 result: expected EPIPE, observed ECONNRESET"
        );
    }

    #[test]
    fn a_runtime_step_is_named_with_its_runtime() {
        let m = Mismatch {
            runtime: Some("java-socket".into()),
            aspect: Aspect::RuntimeMessage,
            ..read_reset()
        };
        assert!(
            m.headline().starts_with("client.read#1 [java-socket] message: "),
            "{}",
            m.headline()
        );
    }

    #[test]
    fn a_text_mismatch_of_an_old_report_shows_its_text_unchanged() {
        let m = Mismatch::text("step client.read#1  read(64)\n    expected  EPIPE");
        assert_eq!(m.to_string(), "step client.read#1  read(64)\n    expected  EPIPE");
        assert_eq!(m.headline(), "step client.read#1  read(64)");
    }

    #[test]
    fn aspects_serialise_in_snake_case() {
        let json = serde_json::to_value(Aspect::WireLacks).unwrap();
        assert_eq!(json, "wire_lacks");
        let json = serde_json::to_value(read_reset()).unwrap();
        assert_eq!(json["aspect"], "result");
        assert!(json.get("runtime").is_none(), "{json}");
    }
}

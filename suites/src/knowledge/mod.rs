//! Interpretation, kept apart from the observations (docs/design.md principle 2, raw before
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

use std::collections::BTreeSet;

use sockerr_reports::{ErrnoNote, Report, RuntimeNote};

/// Notes for every errno the report's trials returned, in name order: what the report carries
/// so that a reader of the HTML or Markdown needs no other tool.
pub fn errno_notes(report: &Report) -> Vec<ErrnoNote> {
    let names: BTreeSet<&str> = report
        .trials
        .iter()
        .flat_map(|t| t.steps.iter().filter_map(|s| s.result.errno.as_deref()))
        .collect();
    names
        .into_iter()
        .filter_map(|name| {
            let code = errno::code(name)?;
            Some(ErrnoNote {
                name: name.to_string(),
                code,
                strerror: errno::strerror(code),
                meaning: errno::meaning(name).map(|m| format!("{} ({})", m.tcp, m.source)),
                rust_error_kind: format!("{:?}", runtimes::rust(code).kind),
                runtimes: runtimes::documented(name)
                    .into_iter()
                    .map(|s| RuntimeNote {
                        runtime: s.runtime.to_string(),
                        when: s.when.to_string(),
                        shows: s.shows,
                        source: s.source.to_string(),
                    })
                    .collect(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use sockerr_harness::platform::Platform;

    #[test]
    fn a_report_with_a_reset_carries_the_errno_its_rust_kind_and_documented_runtimes() {
        // std::io::ErrorKind::ConnectionReset: "The connection was reset by the remote server."
        let fixture = include_str!("../../../reports/tests/fixtures/report.json");
        let mut report: Report = serde_json::from_str(fixture).unwrap();
        report.platform = Platform::default();
        let notes = errno_notes(&report);
        let names: Vec<&str> = notes.iter().map(|n| n.name.as_str()).collect();
        assert!(
            names.contains(&"ECONNRESET") && names.contains(&"ECONNREFUSED"),
            "{names:?}"
        );
        let reset = notes.iter().find(|n| n.name == "ECONNRESET").unwrap();
        assert_eq!(reset.code, libc::ECONNRESET);
        assert_eq!(reset.rust_error_kind, "ConnectionReset");
        assert!(
            reset.runtimes.iter().any(|r| r.runtime == "Python"),
            "{:?}",
            reset.runtimes
        );
    }
}

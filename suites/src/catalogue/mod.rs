//! The scenario catalogue, one file per area: the first word of a scenario's id names its file
//! (`sockerr list` prints it; docs/adding-a-scenario.md says how a scenario is built).

mod common;

/// Declares each area's module (`<area>.rs`) and lists it with its name, in catalogue order,
/// so that an area's name is its file's by construction.
macro_rules! areas {
    ($($area:ident),* $(,)?) => {
        $(mod $area;)*
        /// Every area: its name (the first word of its scenarios' ids) and its scenarios.
        const AREAS: &[(&str, fn() -> Vec<Scenario>)] = &[$((stringify!($area), $area::scenarios)),*];
    };
}

areas!(
    connect, accept, backlog, listener, peer_close, abort, crash, stray, timeout, keepalive, close, forged, udp, unix,
);

use crate::scenario::Scenario;

/// The built-in catalogue, in catalogue order.
pub fn built_in() -> Vec<Scenario> {
    AREAS.iter().flat_map(|(_, scenarios)| scenarios()).collect()
}

/// Every scenario of this process's suite, in order: the built-in catalogue unless a suite of
/// one's own was installed ([`crate::suite`]).
pub fn all() -> Vec<Scenario> {
    crate::suite::current().scenarios()
}

/// The ids of every scenario of this process's suite.
pub fn ids() -> Vec<&'static str> {
    all().iter().map(|s| s.id).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scenario_ids_are_unique_and_their_area_names_the_file_that_holds_them() {
        let ids = ids();
        let mut sorted = ids.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), ids.len(), "duplicate scenario ids");
        for (area, scenarios) in AREAS {
            for s in scenarios() {
                assert!(s.id.split('.').count() >= 2, "{} is not area.situation[.twist]", s.id);
                assert_eq!(s.area(), *area, "{} lives in {area}.rs", s.id);
            }
        }
    }

    #[test]
    fn every_scenario_states_a_claim_and_its_sources() {
        for s in all() {
            assert!(s.claim.ends_with('.'), "{}: the claim is one sentence", s.id);
            assert!(!s.sources.is_empty(), "{}: no sources", s.id);
        }
    }

    fn linux_expectations() -> crate::expectations::ExpectationFile {
        let (origin, text) = crate::expectations::built_in().expect("a built-in expectation file for Linux");
        crate::expectations::ExpectationFile::parse(origin, text, &ids()).expect("linux.toml parses")
    }

    /// A scenario without an expectation would be judged `observed` and pass whatever the
    /// system does: every scenario of the catalogue states what Linux must show.
    #[test]
    fn every_scenario_has_an_expectation_on_linux() {
        let expectations = linux_expectations();
        for s in all() {
            let expected = expectations.scenarios.get(s.id);
            assert!(
                expected.is_some_and(|e| {
                    let wire = e
                        .wire
                        .as_ref()
                        .is_some_and(|w| !w.has.is_empty() || !w.lacks.is_empty());
                    !e.steps.is_empty() || wire
                }),
                "{}: no expectation in {}",
                s.id,
                expectations.origin
            );
        }
    }

    /// A claim is what users quote: an errno it names must be one that a step of its scenario
    /// is expected to return on Linux, or the claim says more than the trials measured.
    #[test]
    fn every_errno_a_claim_names_is_an_expected_outcome_of_its_scenario() {
        let expectations = linux_expectations();
        for s in all() {
            let expected: Vec<String> = expectations
                .scenarios
                .get(s.id)
                .map(|e| {
                    e.steps
                        .values()
                        .filter_map(|step| step.result.clone())
                        .flatten()
                        .collect()
                })
                .unwrap_or_default();
            let named = s
                .claim
                .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .filter(|word| crate::knowledge::errno::code(word).is_some());
            for errno in named {
                assert!(
                    expected.iter().any(|outcome| outcome == errno),
                    "{}: the claim names {errno}, which no step is expected to return (expected: {expected:?})",
                    s.id
                );
            }
        }
    }

    #[test]
    fn every_scenario_tells_the_client_what_to_do() {
        // The source article's question, per situation: "the server sent RST: how should the
        // client respond?" Guidance is short: a few sentences, not an essay.
        for s in all() {
            assert!(!s.guidance.trim().is_empty(), "{}: no guidance", s.id);
            assert!(s.guidance.ends_with('.'), "{}: guidance is sentences", s.id);
            assert!(
                s.guidance.len() <= 400,
                "{}: guidance of {} bytes is not short",
                s.id,
                s.guidance.len()
            );
        }
    }
}

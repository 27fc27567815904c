//! Prerequisites this machine lacks, told once each before any trial runs (by `sockerr run`,
//! `stress`, `bench` and the conformance target): what is missing, how many of the selected
//! trials it costs, and what to do about it; not the same reason once per trial.

use sockerr_harness::Need;

use crate::runner::{self, Planned, RunConfig};

/// One missing prerequisite and the selected trials it costs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Missing {
    pub need: Need,
    /// What is missing, in a few words: `the nft program`.
    pub what: String,
    /// What to do about it: `install it: apt-get install nftables`.
    pub remedy: String,
    /// The skip reason the trials it costs carry.
    pub reason: String,
    /// Ids of the trials it costs, in catalogue order.
    pub trials: Vec<String>,
}

/// What the trials of `selected` miss here, as the run's probe of their needs found
/// ([`RunConfig::capabilities`]), each with the trials it costs (a trial counts for the first
/// need it misses, the one its skip names).
pub fn before_run(selected: &[Planned<'_>], config: &RunConfig) -> Vec<Missing> {
    let mut missing: Vec<Missing> = Vec::new();
    for &planned in selected {
        let unmet = config.capabilities.first_missing(planned.needs());
        let (Some((need, lacking)), Some(reason)) = (unmet, runner::unmet_need(planned, config)) else {
            continue;
        };
        match missing.iter_mut().find(|m| m.need == need) {
            Some(m) => m.trials.push(planned.id()),
            None => missing.push(Missing {
                need,
                what: lacking.what.clone(),
                remedy: lacking.remedy.clone(),
                reason,
                trials: vec![planned.id()],
            }),
        }
    }
    missing
}

/// The line that tells one missing prerequisite: `the nft program: not available, so 59 of
/// 185 trials will be skipped; install it: apt-get install nftables`. `fate` is what becomes
/// of those trials: `be skipped`, `fail (--strict)`, `be ignored`.
pub fn line(missing: &Missing, selected: usize, fate: &str) -> String {
    let n = missing.trials.len();
    let trials = if n == selected {
        format!("every trial ({n}) will {fate}")
    } else {
        format!("{n} of {selected} trials will {fate}")
    };
    format!("{}: not available, so {trials}; {}", missing.what, missing.remedy)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue;
    use sockerr_harness::{Capabilities, Missing as Lacking};

    fn nft_missing() -> RunConfig {
        RunConfig {
            capabilities: Capabilities::with_missing([(
                Need::Nftables,
                Lacking {
                    what: "the nft program".into(),
                    remedy: "install it: apt-get install nftables".into(),
                },
            )]),
            ..RunConfig::default()
        }
    }

    #[test]
    fn a_missing_program_is_counted_once_against_every_trial_that_needs_it() {
        let scenarios = catalogue::all();
        let planned = runner::plan(&scenarios);
        let config = nft_missing();
        let missing = before_run(&planned, &config);
        assert_eq!(missing.len(), 1, "{missing:?}");
        let needing: Vec<String> = planned
            .iter()
            .filter(|p| p.needs().contains(&Need::Nftables))
            .map(|p| p.id())
            .collect();
        assert!(!needing.is_empty());
        assert_eq!(missing[0].trials, needing);
        let first = planned.iter().find(|p| p.id() == needing[0]).copied().unwrap();
        assert_eq!(Some(missing[0].reason.clone()), runner::unmet_need(first, &config));
        assert!(before_run(&planned, &RunConfig::default()).is_empty());
    }

    #[test]
    fn a_missing_prerequisite_is_told_with_the_trials_it_costs_and_the_remedy() {
        let missing = Missing {
            need: Need::Nftables,
            what: "the nft program".into(),
            remedy: "install it: apt-get install nftables".into(),
            reason: String::new(),
            trials: vec!["a.b.v4.loopback".into(), "a.b.v6.loopback".into()],
        };
        assert_eq!(
            line(&missing, 185, "be skipped"),
            "the nft program: not available, so 2 of 185 trials will be skipped; install it: apt-get install nftables"
        );
        assert_eq!(
            line(&missing, 2, "fail (--strict)"),
            "the nft program: not available, so every trial (2) will fail (--strict); install it: apt-get install nftables"
        );
    }
}

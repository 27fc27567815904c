//! Prerequisites this machine lacks, told once each before any trial runs: what is missing,
//! how many of the selected trials it costs, and what to do about it; not the same reason
//! once per trial.

use crate::runner::{Planned, RunConfig};

/// One missing prerequisite and the selected trials it costs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Missing {
    /// What is missing and what to do about it.
    pub reason: String,
    /// Ids of the trials it costs, in catalogue order.
    pub trials: Vec<String>,
}

/// What the trials of `selected` will miss here, known before they run, each with the trials
/// it costs.
pub fn before_run(selected: &[Planned<'_>], config: &RunConfig) -> Vec<Missing> {
    let mut missing: Vec<Missing> = Vec::new();
    for planned in selected {
        let Some(reason) = config.skip_reason.clone() else {
            continue;
        };
        match missing.iter_mut().find(|m| m.reason == reason) {
            Some(m) => m.trials.push(planned.id()),
            None => missing.push(Missing {
                reason,
                trials: vec![planned.id()],
            }),
        }
    }
    missing
}

/// The line that tells one missing prerequisite: `59 of 185 trials will be skipped: <what
/// is missing and the remedy>`; under `--strict`, they will fail.
pub fn line(missing: &Missing, selected: usize, strict: bool) -> String {
    let n = missing.trials.len();
    let fate = if strict { "fail (--strict)" } else { "be skipped" };
    let trials = if n == selected {
        format!("every trial ({n}) will {fate}")
    } else {
        format!("{n} of {selected} trials will {fate}")
    };
    format!("{trials}: {}", missing.reason)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_prerequisite_is_told_with_the_trials_it_costs() {
        let missing = Missing {
            reason: "the nft program is missing (apt-get install nftables)".into(),
            trials: vec!["a.b.v4.loopback".into(), "a.b.v6.loopback".into()],
        };
        assert_eq!(
            line(&missing, 185, false),
            "2 of 185 trials will be skipped: the nft program is missing (apt-get install nftables)"
        );
        assert_eq!(
            line(&missing, 2, true),
            "every trial (2) will fail (--strict): the nft program is missing (apt-get install nftables)"
        );
    }
}

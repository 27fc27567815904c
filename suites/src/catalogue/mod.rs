//! The scenario catalogue, one file per area (see SCENARIOS.md).

mod abort;
mod common;
mod connect;
mod peer_close;

use crate::scenario::Scenario;

/// Every scenario, in catalogue order.
pub fn all() -> Vec<Scenario> {
    [connect::scenarios(), peer_close::scenarios(), abort::scenarios()].into_iter().flatten().collect()
}

/// The ids of every scenario.
pub fn ids() -> Vec<&'static str> {
    all().iter().map(|s| s.id).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scenario_ids_are_unique_and_named_area_situation_twist() {
        let ids = ids();
        let mut sorted = ids.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), ids.len(), "duplicate scenario ids");
        for id in ids {
            assert!(id.split('.').count() >= 2, "{id} is not area.situation[.twist]");
        }
    }

    #[test]
    fn every_scenario_states_a_claim_and_its_sources() {
        for s in all() {
            assert!(s.claim.ends_with('.'), "{}: the claim is one sentence", s.id);
            assert!(!s.sources.is_empty(), "{}: no sources", s.id);
        }
    }
}

//! unix: see SCENARIOS.md.

use crate::scenario::Scenario;

pub fn scenarios() -> Vec<Scenario> {
    vec![]
}

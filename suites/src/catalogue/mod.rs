//! The scenario catalogue, one file per area (see SCENARIOS.md).

mod abort;
mod accept;
mod backlog;
mod close;
mod common;
mod connect;
mod crash;
mod peer_close;
mod stray;
mod timeout;
mod udp;
mod unix;

use crate::scenario::Scenario;

/// Every scenario, in catalogue order.
pub fn all() -> Vec<Scenario> {
    [
        connect::scenarios(),
        accept::scenarios(),
        backlog::scenarios(),
        peer_close::scenarios(),
        abort::scenarios(),
        crash::scenarios(),
        stray::scenarios(),
        timeout::scenarios(),
        close::scenarios(),
        udp::scenarios(),
        unix::scenarios(),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// Every sysctl a scenario sets in a trial's namespace (`Trial::sysctl`), which `sockerr
/// capabilities` tries in advance. A test checks it against the catalogue's sources until
/// scenarios declare what they need.
pub const SYSCTLS: &[&str] = &[
    "net.ipv4.icmp_ratelimit",
    "net.ipv4.tcp_abort_on_overflow",
    "net.ipv4.tcp_retries2",
    "net.ipv4.tcp_rfc1337",
    "net.ipv4.tcp_rto_min_us",
    "net.ipv6.icmp.ratelimit",
];

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
    fn every_sysctl_a_scenario_sets_is_listed() {
        let sources = [
            include_str!("abort.rs"),
            include_str!("accept.rs"),
            include_str!("backlog.rs"),
            include_str!("close.rs"),
            include_str!("common.rs"),
            include_str!("connect.rs"),
            include_str!("crash.rs"),
            include_str!("peer_close.rs"),
            include_str!("stray.rs"),
            include_str!("timeout.rs"),
            include_str!("udp.rs"),
            include_str!("unix.rs"),
        ];
        let mut set: Vec<&str> = sources
            .iter()
            .flat_map(|text| text.split(".sysctl(").skip(1))
            .filter_map(|call| call.split('"').nth(1))
            .collect();
        set.sort_unstable();
        set.dedup();
        assert_eq!(set, SYSCTLS);
    }

    #[test]
    fn every_scenario_states_a_claim_and_its_sources() {
        for s in all() {
            assert!(s.claim.ends_with('.'), "{}: the claim is one sentence", s.id);
            assert!(!s.sources.is_empty(), "{}: no sources", s.id);
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

//! The source article's eight situations ("the server sent [RST, ACK]: how should the client
//! respond?", listed in docs/design.md) and which scenarios answer each. A scenario declares
//! the situations it answers (`Scenario::situations`), so the mapping has one source of truth.

use sockerr_reports::ArticleSituation;

use crate::scenario::Scenario;

/// The situations, numbered as the article numbers them.
pub const SITUATIONS: [(u8, &str); 8] = [
    (
        1,
        "The port is not open: the server's kernel answers the SYN with a reset.",
    ),
    (
        2,
        "Request timeout: a non-blocking connect is abandoned and the client's kernel resets the late SYN-ACK.",
    ),
    (
        3,
        "Early close: the peer closes with data unread, so a reset replaces the FIN.",
    ),
    (4, "The peer crashes (its process is killed) during a conversation."),
    (
        5,
        "A segment arrives that belongs to no connection (the peer lost its state).",
    ),
    (6, "Lost ACKs: retransmissions run out and the connection is dropped."),
    (
        7,
        "\"Connection reset\" vs \"connection reset by peer\" vs \"broken pipe\": the error depends on the call order.",
    ),
    (
        8,
        "Orderly release (FIN) versus abortive release (SO_LINGER {on, 0}, RST).",
    ),
];

/// Every situation with the ids of the scenarios (of `scenarios`) that cite it.
pub fn mapping(scenarios: &[Scenario]) -> Vec<ArticleSituation> {
    SITUATIONS
        .iter()
        .map(|&(number, situation)| ArticleSituation {
            number,
            situation: situation.to_string(),
            scenarios: scenarios
                .iter()
                .filter(|s| s.situations.contains(&number))
                .map(|s| s.id.to_string())
                .collect(),
        })
        .collect()
}

/// The mapping as the markdown table README shows: situation, then scenario ids.
pub fn markdown_table(mapping: &[ArticleSituation]) -> String {
    let mut out = String::from("| # | the article's situation | scenarios that answer it |\n|---:|---|---|\n");
    for s in mapping {
        let ids: Vec<String> = s.scenarios.iter().map(|id| format!("`{id}`")).collect();
        out.push_str(&format!("| {} | {} | {} |\n", s.number, s.situation, ids.join(", ")));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue;

    #[test]
    fn every_scenario_names_only_situations_the_article_has() {
        for scenario in catalogue::all() {
            for n in scenario.situations {
                assert!((1..=8).contains(n), "{}: situation {n}", scenario.id);
            }
        }
    }

    /// A reader who arrives with any of the article's questions finds
    /// at least one scenario that answers it.
    #[test]
    fn every_situation_of_the_article_has_a_scenario_in_the_catalogue() {
        let mapping = mapping(&catalogue::all());
        let missing: Vec<u8> = mapping
            .iter()
            .filter(|s| s.scenarios.is_empty())
            .map(|s| s.number)
            .collect();
        assert!(missing.is_empty(), "situations without a scenario: {missing:?}");
    }
}

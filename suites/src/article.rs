//! The source article's eight situations ("the server sent [RST, ACK]: how should the client
//! respond?", listed in docs/design.md) and which scenarios answer each. A scenario
//! says which situation it reproduces where it cites its sources (`article situation 3`,
//! `article situations 7 and 8`), so the mapping has one source of truth.

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

/// The situations a scenario cites: the numbers after `article situation` or `article
/// situations` in its sources (`article situations 7 and 8 (...)` gives 7 and 8).
pub fn situations_of(scenario: &Scenario) -> Vec<u8> {
    let mut numbers = Vec::new();
    for source in scenario.sources {
        let lower = source.to_ascii_lowercase();
        let Some(rest) = lower
            .strip_prefix("article situations ")
            .or_else(|| lower.strip_prefix("article situation "))
        else {
            continue;
        };
        let list = rest.split(['(', ':']).next().unwrap_or("");
        for word in list.split([',', ' ']).filter(|w| !w.is_empty() && *w != "and") {
            match word.parse::<u8>() {
                Ok(n) if (1..=8).contains(&n) && !numbers.contains(&n) => numbers.push(n),
                _ => break,
            }
        }
    }
    numbers
}

/// Every situation with the ids of the scenarios (of `scenarios`) that cite it.
pub fn mapping(scenarios: &[Scenario]) -> Vec<ArticleSituation> {
    SITUATIONS
        .iter()
        .map(|&(number, situation)| ArticleSituation {
            number,
            situation: situation.to_string(),
            scenarios: scenarios
                .iter()
                .filter(|s| situations_of(s).contains(&number))
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

    fn with_sources(sources: &'static [&'static str]) -> Scenario {
        Scenario {
            id: "x.y",
            claim: "c.",
            sources,
            guidance: "",
            timer: None,
            families: &[],
            topologies: &[],
            script: |_| Ok(()),
        }
    }

    #[test]
    fn a_source_citing_one_or_several_situations_maps_to_each_of_them() {
        assert_eq!(
            situations_of(&with_sources(&["article situation 3 (early close)"])),
            [3]
        );
        assert_eq!(
            situations_of(&with_sources(&["article situations 7 and 8 (reset vs broken pipe)"])),
            [7, 8]
        );
        assert_eq!(situations_of(&with_sources(&["Article situations 1, 2: x"])), [1, 2]);
        assert!(situations_of(&with_sources(&["RFC 9293 §3.10.7.4", "situation 3"])).is_empty());
    }

    /// The promise: a reader who arrives with any of the article's questions finds
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

    /// README shows the table; it must be the catalogue's (regenerate it from the message).
    #[test]
    fn the_readme_table_is_the_catalogue_s_mapping() {
        let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md")).unwrap();
        let table = markdown_table(&mapping(&catalogue::all()));
        assert!(
            readme.contains(&table),
            "README.md should contain this table:\n\n{table}"
        );
    }
}

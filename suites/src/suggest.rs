//! Did-you-mean: the known names closest to one that was mistyped, by edit distance. Used
//! wherever a name is typed by a person: `explain`'s subject, and expectation files (errno
//! names, scenario ids, step verbs).

/// Levenshtein distance, by characters: the fewest insertions, deletions and substitutions
/// that turn `a` into `b`.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous + usize::from(ca != *cb);
            previous = row[j + 1];
            row[j + 1] = substitution.min(row[j] + 1).min(previous + 1);
        }
    }
    row[b.len()]
}

/// The `n` candidates closest to `typed`, closest first (ties in name order). Case is
/// ignored: `econnreste` is one edit from `ECONNRESET`'s neighbours as well as from itself.
pub fn closest<'c>(typed: &str, candidates: impl IntoIterator<Item = &'c str>, n: usize) -> Vec<&'c str> {
    let typed = typed.to_ascii_lowercase();
    let mut ranked: Vec<(usize, &str)> = candidates
        .into_iter()
        .map(|c| (edit_distance(&typed, &c.to_ascii_lowercase()), c))
        .collect();
    ranked.sort();
    ranked.dedup();
    ranked.into_iter().take(n).map(|(_, c)| c).collect()
}

/// `; did you mean ECONNRESET?` for a message, when a candidate is close enough to be a
/// likely typo: at most a third of the typed length in edits (at least 2). Candidates equally
/// close are all named (`A or B`); empty when none is close.
pub fn did_you_mean<'c>(typed: &str, candidates: impl IntoIterator<Item = &'c str>) -> String {
    let limit = (typed.chars().count() / 3).max(2);
    let typed = typed.to_ascii_lowercase();
    let mut ranked: Vec<(usize, &str)> = candidates
        .into_iter()
        .map(|c| (edit_distance(&typed, &c.to_ascii_lowercase()), c))
        .filter(|(d, _)| *d <= limit)
        .collect();
    ranked.sort();
    ranked.dedup();
    let Some(&(best, _)) = ranked.first() else {
        return String::new();
    };
    let near: Vec<&str> = ranked.iter().take_while(|(d, _)| *d == best).map(|(_, c)| *c).collect();
    format!("; did you mean {}?", near.join(" or "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edit_distance_counts_insertions_deletions_and_substitutions() {
        assert_eq!(edit_distance("EPIPE", "EPIPE"), 0);
        assert_eq!(edit_distance("EPIPE", "EPIP"), 1);
        assert_eq!(edit_distance("ECONNRESTE", "ECONNRESET"), 2);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("§3.10.7.4", "§3.10.7.3"), 1, "by characters, not bytes");
    }

    #[test]
    fn closest_ranks_by_distance_ignoring_case_then_by_name() {
        let names = ["ECONNREFUSED", "ECONNRESET", "EPIPE", "ECONNABORTED"];
        assert_eq!(closest("econnreste", names, 2), ["ECONNRESET", "ECONNREFUSED"]);
        assert_eq!(closest("EPIPE", names, 1), ["EPIPE"]);
        assert_eq!(closest("x", names, 10).len(), 4);
    }

    #[test]
    fn did_you_mean_names_only_candidates_close_enough_to_be_a_typo() {
        let ids = [
            "abort.linger0.read_first",
            "abort.linger0.write_first",
            "connect.no_route",
        ];
        assert_eq!(
            did_you_mean("abort.linger0.read_frist", ids),
            "; did you mean abort.linger0.read_first?"
        );
        assert_eq!(did_you_mean("tcp_rfc1337", ids), "", "nothing near: no suggestion");
        assert_eq!(did_you_mean("EPIP", ["EPIPE", "EPERM"]), "; did you mean EPIPE?");
        assert_eq!(
            did_you_mean("close.orderlx", ["close.orderly", "close.orderlz", "close.linger"]),
            "; did you mean close.orderly or close.orderlz?"
        );
    }
}

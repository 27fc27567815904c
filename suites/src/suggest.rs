//! Did-you-mean: the known names closest to one a user typed, by edit distance. One place for
//! every message that names the closest scenario ids, trial ids or errno names.

/// Levenshtein distance, by characters: the fewest insertions, deletions and substitutions
/// that turn `a` into `b`.
pub fn edit_distance(a: &str, b: &str) -> usize {
    distance(a, b, false)
}

/// The edit distance from `needle` to the closest part of `haystack` (Sellers' approximate
/// string matching): 0 when `needle` occurs in it. Fits names matched as substrings, where
/// `linger0.read_frist` is meant to be a part of `abort.linger0.read_first.v4.loopback`.
pub fn substring_distance(needle: &str, haystack: &str) -> usize {
    distance(needle, haystack, true)
}

/// Edit distance from `a` to `b`, or to the best-matching part of `b` when `within`: a match
/// may then start and end anywhere in `b` at no cost.
fn distance(a: &str, b: &str, within: bool) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = if within {
        vec![0; b.len() + 1]
    } else {
        (0..=b.len()).collect()
    };
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous + usize::from(ca != *cb);
            previous = row[j + 1];
            row[j + 1] = substitution.min(row[j] + 1).min(previous + 1);
        }
    }
    if within {
        row.into_iter().min().unwrap_or(0)
    } else {
        row[b.len()]
    }
}

/// The `n` candidates closest to `text` by `measure`, closest first; among equally close
/// ones the shorter first (a scenario id before its trial ids), then in the order given.
/// Each candidate appears once.
pub fn closest<'a>(
    text: &str,
    candidates: impl IntoIterator<Item = &'a str>,
    n: usize,
    measure: fn(&str, &str) -> usize,
) -> Vec<&'a str> {
    let mut scored: Vec<(usize, usize, usize, &str)> = Vec::new();
    for (order, candidate) in candidates.into_iter().enumerate() {
        if scored.iter().all(|(.., seen)| *seen != candidate) {
            scored.push((measure(text, candidate), candidate.len(), order, candidate));
        }
    }
    scored.sort();
    scored.into_iter().take(n).map(|(.., c)| c).collect()
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
    }

    #[test]
    fn substring_distance_is_zero_for_a_part_and_counts_edits_to_the_closest_part() {
        assert_eq!(substring_distance("linger0", "abort.linger0.read_first"), 0);
        assert_eq!(
            substring_distance("linger0.read_frist", "abort.linger0.read_first.v4.loopback"),
            2
        );
        assert_eq!(substring_distance("", "abc"), 0);
        assert_eq!(substring_distance("abcd", "ab"), 2);
    }

    #[test]
    fn the_closest_candidates_come_first_and_shorter_ones_win_ties() {
        let ids = [
            "abort.linger0.read_first.v4.loopback",
            "abort.linger0.read_first",
            "abort.linger0.write_first",
            "abort.linger0.read_first",
        ];
        assert_eq!(
            closest("linger0.read_frist", ids, 2, substring_distance),
            ["abort.linger0.read_first", "abort.linger0.read_first.v4.loopback"]
        );
        assert_eq!(closest("EPIPEE", ["EPIPE", "EPERM"], 1, edit_distance), ["EPIPE"]);
    }
}

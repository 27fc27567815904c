//! "Did you mean": the known names closest to a mistyped one, for every message that refuses
//! a name (errno names, scenario ids, step verbs, poll bits, keys of an expectation file).

/// Edit distance by characters: insertions, deletions, substitutions, and transpositions of
/// two neighbours (`raed` is one edit from `read`), each counting one (optimal string
/// alignment distance).
pub fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    // d[i][j]: distance between the first i characters of a and the first j of b.
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    d[0] = (0..=b.len()).collect();
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[i - 1][j] + 1).min(d[i][j - 1] + 1).min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = best;
        }
    }
    d[a.len()][b.len()]
}

/// The `n` candidates closest to `word`, closest first (ties in the candidates' order).
/// Letter case is ignored in the comparison.
pub fn closest<'a, S: AsRef<str> + ?Sized + 'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a S>,
    n: usize,
) -> Vec<&'a str> {
    let word = word.to_ascii_lowercase();
    let mut ranked: Vec<(usize, usize, &str)> = candidates
        .into_iter()
        .map(AsRef::as_ref)
        .enumerate()
        .map(|(i, c)| (edit_distance(&word, &c.to_ascii_lowercase()), i, c))
        .collect();
    ranked.sort();
    ranked.into_iter().take(n).map(|(_, _, c)| c).collect()
}

/// ` (did you mean "X"?)` when a candidate is close enough to be a likely typo of `word`
/// (at most a third of its length away, and at least 1 edit allowed), else nothing.
pub fn did_you_mean<'a, S: AsRef<str> + ?Sized + 'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a S>,
) -> String {
    let limit = (word.chars().count() / 3).max(1);
    match closest(word, candidates, 1).first() {
        Some(best) if edit_distance(&word.to_ascii_lowercase(), &best.to_ascii_lowercase()) <= limit => {
            format!(" (did you mean {best:?}?)")
        }
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edit_distance_counts_insertions_deletions_substitutions_and_swaps() {
        assert_eq!(edit_distance("EPIPE", "EPIPE"), 0);
        assert_eq!(edit_distance("EPIPE", "EPIP"), 1);
        assert_eq!(edit_distance("EPIPE", "EPIPA"), 1);
        assert_eq!(edit_distance("ECONNRESTE", "ECONNRESET"), 1);
        assert_eq!(edit_distance("raed", "read"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("abc", ""), 3);
    }

    #[test]
    fn the_closest_come_first_whatever_the_case() {
        let names = ["EPIPE", "ECONNRESET", "ECONNREFUSED"];
        assert_eq!(closest("econnreste", &names, 2), ["ECONNRESET", "ECONNREFUSED"]);
    }

    #[test]
    fn a_likely_typo_gets_a_suggestion_and_a_distant_word_none() {
        let verbs = ["read", "recv", "write"];
        assert_eq!(did_you_mean("reed", &verbs), " (did you mean \"read\"?)");
        assert_eq!(did_you_mean("frobnicate", &verbs), "");
    }
}

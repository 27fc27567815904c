//! Which trials a command works on: the names a user gives (`--filter` of run, stress, bench
//! and list) matched against scenario ids and trial ids. `explain` reads one subject with the
//! same spelling rules and globs ([`canonical_id`], [`glob_matches`]).
//!
//! One name for a trial everywhere: `<scenario id>.<family>.<topology>`
//! (`abort.linger0.read_first.v4.loopback`), and for a trial whose client steps a runtime
//! makes, that id and the runtime API (`abort.linger0.read_first.v4.loopback.python.socket`);
//! the scenario id is a prefix of them all. A pattern is
//! - a trial id: that trial;
//! - else a scenario id, or any part of an id (`linger0`, `v6.routed`, `python`): the trials
//!   whose id contains it (a scenario's native and runtime trials alike);
//! - a glob with `*` (any run of characters, dots included) and `?` (one character), matched
//!   against the whole trial id or the whole scenario id: `abort.linger0.*`, `*.v6.*`,
//!   `*.loopback` (native loopback trials only).
//!
//! The older spelling with `::` (`abort::linger0.read_first::v4::loopback`) is read as dots.
//! Letters are compared without case.

use std::fmt;

use crate::runner::Planned;

/// One name a user gave for trials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern {
    /// As the user typed it, for messages.
    given: String,
    /// Trimmed, lower case, `::` read as `.`.
    text: String,
}

impl Pattern {
    pub fn new(given: &str) -> Pattern {
        Pattern {
            given: given.to_string(),
            text: canonical_id(given.trim()).to_ascii_lowercase(),
        }
    }

    /// Whether it holds `*` or `?`, and so must match a whole id.
    pub fn is_glob(&self) -> bool {
        self.text.contains(['*', '?'])
    }

    /// Which of `ids` (scenario id, trial id; both as [`Ids::new`] makes them) this pattern
    /// names.
    fn names(&self, ids: &Ids) -> Vec<bool> {
        if self.is_glob() {
            return ids
                .0
                .iter()
                .map(|(scenario, trial)| glob_matches(&self.text, trial) || glob_matches(&self.text, scenario))
                .collect();
        }
        let exact = ids.0.iter().any(|(_, trial)| *trial == self.text);
        ids.0
            .iter()
            .map(|(_, trial)| {
                if exact {
                    *trial == self.text
                } else {
                    trial.contains(&self.text)
                }
            })
            .collect()
    }

    /// The pattern with its wildcards left out, for did-you-mean.
    fn literal(&self) -> String {
        self.text.replace(['*', '?'], "")
    }
}

impl fmt::Display for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.given)
    }
}

/// The ids patterns are matched against, one (scenario id, trial id) per planned trial: dotted
/// and in lower case.
struct Ids(Vec<(String, String)>);

impl Ids {
    fn new(planned: &[Planned<'_>]) -> Ids {
        Ids(planned
            .iter()
            .map(|p| {
                (
                    p.scenario.id.to_ascii_lowercase(),
                    canonical_id(&p.id()).to_ascii_lowercase(),
                )
            })
            .collect())
    }
}

/// A trial id in its dotted spelling: `abort::linger0.read_first::v4::loopback` becomes
/// `abort.linger0.read_first.v4.loopback`; a dotted id is returned as it is.
pub fn canonical_id(id: &str) -> String {
    id.replace("::", ".")
}

/// Whether `text` matches `glob` as a whole: `*` stands for any run of characters, `?` for
/// one character, anything else for itself.
pub fn glob_matches(glob: &str, text: &str) -> bool {
    let glob: Vec<char> = glob.chars().collect();
    let text: Vec<char> = text.chars().collect();
    let (mut g, mut t) = (0, 0);
    // Where the last `*` was, and the text position it currently stands in for.
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match glob.get(g) {
            Some('*') => {
                star = Some((g, t));
                g += 1;
            }
            Some(&c) if c == '?' || c == text[t] => {
                g += 1;
                t += 1;
            }
            _ => match star {
                // Let the last `*` take one more character and try again from there.
                Some((star_g, star_t)) => {
                    star = Some((star_g, star_t + 1));
                    g = star_g + 1;
                    t = star_t + 1;
                }
                None => return false,
            },
        }
    }
    glob[g..].iter().all(|&c| c == '*')
}

/// The trials a command works on, in plan (catalogue) order.
pub struct Selection<'a> {
    pub trials: Vec<Planned<'a>>,
    /// How many trials there were to choose from.
    pub of: usize,
}

impl Selection<'_> {
    /// Whether every trial was selected: a run of it makes the full report.
    pub fn is_whole(&self) -> bool {
        self.trials.len() == self.of
    }
}

/// A pattern that names no trial, with the ids closest to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoMatch {
    pub pattern: String,
    /// Scenario or trial ids, closest first.
    pub closest: Vec<String>,
}

impl fmt::Display for NoMatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "no trial matches {:?}", self.pattern)?;
        if !self.closest.is_empty() {
            write!(f, "; closest: {}", self.closest.join(", "))?;
        }
        f.write_str(" (every scenario and trial id: `sockerr list`)")
    }
}

impl std::error::Error for NoMatch {}

/// How many ids a [`NoMatch`] suggests.
const SUGGESTIONS: usize = 3;

/// The trials of `planned` that any of `patterns` names, in plan order; all of them when there
/// is no pattern. Each pattern must name at least one trial, so that a typo cannot make a run
/// that checks less than was asked for: the first that names none is the error.
pub fn select<'a>(planned: &[Planned<'a>], patterns: &[String]) -> Result<Selection<'a>, NoMatch> {
    let ids = Ids::new(planned);
    let mut chosen = vec![patterns.is_empty(); planned.len()];
    for pattern in patterns.iter().map(|p| Pattern::new(p)) {
        let named = pattern.names(&ids);
        if !named.contains(&true) {
            return Err(no_match(&pattern, planned));
        }
        for (chosen, named) in chosen.iter_mut().zip(named) {
            *chosen |= named;
        }
    }
    Ok(Selection {
        trials: planned
            .iter()
            .zip(chosen)
            .filter_map(|(p, chosen)| chosen.then_some(*p))
            .collect(),
        of: planned.len(),
    })
}

fn no_match(pattern: &Pattern, planned: &[Planned<'_>]) -> NoMatch {
    let trial_ids: Vec<String> = planned.iter().map(|p| canonical_id(&p.id())).collect();
    let candidates = planned
        .iter()
        .map(|p| p.scenario.id)
        .chain(trial_ids.iter().map(String::as_str));
    NoMatch {
        pattern: pattern.to_string(),
        closest: closest_parts(&pattern.literal(), candidates, SUGGESTIONS),
    }
}

/// The `n` candidates with a part closest to `text` ([`substring_distance`]), closest first;
/// among equally close ones the shorter first (a scenario id before its trial ids), then in
/// the order given. Each appears once.
fn closest_parts<'a>(text: &str, candidates: impl IntoIterator<Item = &'a str>, n: usize) -> Vec<String> {
    let mut scored: Vec<(usize, usize, usize, &str)> = Vec::new();
    for (order, candidate) in candidates.into_iter().enumerate() {
        if scored.iter().all(|(.., seen)| *seen != candidate) {
            scored.push((substring_distance(text, candidate), candidate.len(), order, candidate));
        }
    }
    scored.sort();
    scored.into_iter().take(n).map(|(.., c)| c.to_string()).collect()
}

/// The edit distance from `needle` to the closest part of `haystack` (Sellers' approximate
/// string matching: a match may start and end anywhere in `haystack` at no cost), 0 when
/// `needle` occurs in it. Fits names matched as parts of ids, where `linger0.read_frist` is
/// meant to be a part of `abort.linger0.read_first.v4.loopback`.
pub fn substring_distance(needle: &str, haystack: &str) -> usize {
    let haystack: Vec<char> = haystack.chars().collect();
    let mut row = vec![0; haystack.len() + 1];
    for (i, n) in needle.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, h) in haystack.iter().enumerate() {
            let substitution = previous + usize::from(n != *h);
            previous = row[j + 1];
            row[j + 1] = substitution.min(row[j] + 1).min(previous + 1);
        }
    }
    row.into_iter().min().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue;
    use crate::runner;

    fn selected(patterns: &[&str]) -> Result<Vec<String>, NoMatch> {
        let scenarios = catalogue::all();
        let planned = runner::plan(&scenarios);
        let patterns: Vec<String> = patterns.iter().map(|p| p.to_string()).collect();
        select(&planned, &patterns).map(|s| s.trials.iter().map(|p| canonical_id(&p.id())).collect())
    }

    #[test]
    fn a_scenario_id_selects_every_trial_of_that_scenario_native_and_runtime() {
        let ids = selected(&["abort.linger0.read_first"]).unwrap();
        let native: Vec<&String> = ids.iter().filter(|id| id.split('.').count() == 5).collect();
        assert_eq!(
            native,
            [
                "abort.linger0.read_first.v4.loopback",
                "abort.linger0.read_first.v4.two_hosts",
                "abort.linger0.read_first.v6.loopback",
                "abort.linger0.read_first.v6.two_hosts",
            ]
        );
        assert!(
            ids.iter().all(|id| id.starts_with("abort.linger0.read_first.")),
            "{ids:?}"
        );
        let scenarios = catalogue::all();
        let all = runner::plan(&scenarios)
            .iter()
            .filter(|p| p.scenario.id == "abort.linger0.read_first")
            .count();
        assert_eq!(ids.len(), all);
    }

    #[test]
    fn a_trial_id_selects_that_trial_in_the_dotted_and_the_older_spelling() {
        let dotted = selected(&["abort.linger0.read_first.v6.two_hosts"]).unwrap();
        assert_eq!(dotted, ["abort.linger0.read_first.v6.two_hosts"]);
        assert_eq!(selected(&["abort::linger0.read_first::v6::two_hosts"]).unwrap(), dotted);
    }

    /// A runtime trial's id extends its native trial's: naming the native trial names it alone.
    #[test]
    fn a_native_trial_id_leaves_out_the_runtime_trials_whose_ids_extend_it() {
        let scenarios = catalogue::all();
        let runtime = runner::plan(&scenarios)
            .into_iter()
            .find(|p| p.client.is_some())
            .expect("a runtime trial in the catalogue");
        let native = runner::Planned {
            client: None,
            ..runtime
        };
        assert_eq!(selected(&[&native.id()]).unwrap(), [native.id()]);
        assert_eq!(selected(&[&runtime.id()]).unwrap(), [runtime.id()]);
        assert_eq!(selected(&[&runtime.id().to_ascii_uppercase()]).unwrap(), [runtime.id()]);
        let both = selected(&[&format!("{}*", native.id())]).unwrap();
        assert!(both.len() > 1 && both.contains(&runtime.id()), "{both:?}");
    }

    #[test]
    fn a_glob_matches_whole_ids_with_stars_across_dots_and_a_question_mark_for_one_character() {
        let linger0 = selected(&["abort.linger0.*"]).unwrap();
        assert!(linger0.len() > 4, "{linger0:?}");
        assert!(linger0.iter().all(|id| id.starts_with("abort.linger0.")), "{linger0:?}");
        let v6 = selected(&["*.v6.*"]).unwrap();
        assert!(v6.iter().all(|id| id.contains(".v6.")), "{v6:?}");
        assert!(v6.iter().any(|id| id.starts_with("connect.")) && v6.iter().any(|id| id.starts_with("udp.")));
        // A glob names whole ids: without a trailing star it names the scenario id itself,
        // and `*.loopback` only trials whose id ends there (native ones).
        let whole = selected(&["abort.linger0.read_firs?"]).unwrap();
        assert_eq!(whole, selected(&["abort.linger0.read_first"]).unwrap());
        let loopback = selected(&["abort.linger0.read_first.*.loopback"]).unwrap();
        assert_eq!(
            loopback,
            [
                "abort.linger0.read_first.v4.loopback",
                "abort.linger0.read_first.v6.loopback"
            ]
        );
    }

    #[test]
    fn several_patterns_select_the_union_in_catalogue_order() {
        let ids = selected(&["unix.stream.no_such_path", "connect.closed_port.blocking.v4.two_hosts"]).unwrap();
        assert_eq!(
            ids,
            [
                "connect.closed_port.blocking.v4.two_hosts",
                "unix.stream.no_such_path.unix.loopback"
            ]
        );
    }

    #[test]
    fn no_pattern_selects_the_whole_catalogue() {
        let scenarios = catalogue::all();
        let planned = runner::plan(&scenarios);
        let selection = select(&planned, &[]).unwrap();
        assert!(selection.is_whole());
        assert_eq!(selection.trials.len(), planned.len());
        let some = select(&planned, &["linger0".to_string()]).unwrap();
        assert!(!some.is_whole());
    }

    #[test]
    fn a_pattern_that_names_nothing_is_refused_with_the_closest_ids() {
        let error = selected(&["abort.linger0.read_frist"]).unwrap_err();
        assert_eq!(error.pattern, "abort.linger0.read_frist");
        assert_eq!(error.closest[0], "abort.linger0.read_first");
        let trial = selected(&["abort.linger0.read_first.v7.loopback"]).unwrap_err();
        assert!(
            trial.closest[0].starts_with("abort.linger0.read_first.v"),
            "{:?}",
            trial.closest
        );
        // One good pattern does not excuse a bad one.
        let mixed = selected(&["linger0", "no_such_thing"]).unwrap_err();
        assert_eq!(mixed.pattern, "no_such_thing");
        assert!(mixed.to_string().contains("`sockerr list`"), "{mixed}");
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
    fn the_closest_ids_come_first_and_a_scenario_id_before_its_trials() {
        let ids = [
            "abort.linger0.read_first.v4.loopback",
            "abort.linger0.read_first",
            "abort.linger0.write_first",
            "abort.linger0.read_first",
        ];
        assert_eq!(
            closest_parts("linger0.read_frist", ids, 2),
            ["abort.linger0.read_first", "abort.linger0.read_first.v4.loopback"]
        );
    }

    #[test]
    fn globs_match_as_shells_do() {
        assert!(glob_matches("*", ""));
        assert!(glob_matches("a*c", "abbbc"));
        assert!(glob_matches("a*b*c", "axxbyyc"));
        assert!(!glob_matches("a*b*c", "axxbyy"));
        assert!(glob_matches("a?c", "abc"));
        assert!(!glob_matches("a?c", "ac"));
        assert!(glob_matches("*.v6.*", "connect.closed_port.blocking.v6.loopback"));
        assert!(!glob_matches("*.v6", "abort.linger0.read_first.v6.loopback"));
        assert!(glob_matches("abort.linger?.read_first", "abort.linger0.read_first"));
        assert!(!glob_matches("abort.linger?.read_first", "abort.linger.read_first"));
        assert!(!glob_matches("abort", "abort.linger0"));
    }
}

//! What `explain` was asked about: an errno (name in any case, or number), a scenario id, a
//! trial id (`abort.linger0.read_first.v4.loopback`, or the older
//! `abort::linger0.read_first::v4::loopback`), or a glob over scenario and trial ids
//! (`abort.linger0.*`, `*.v6.two_hosts`). Anything else is refused with the closest names.

use crate::knowledge::errno;
pub use crate::selection::{canonical_id as canonical, glob_matches};
use crate::suggest;

/// What `explain` was asked about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subject {
    Errno {
        name: String,
        code: i32,
    },
    /// Scenarios, in catalogue order, each with the trials to show.
    Scenarios(Vec<Chosen>),
}

/// One scenario to explain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chosen {
    pub scenario: String,
    /// The trial ids chosen, or `None` for every trial of the scenario.
    pub trials: Option<Vec<String>>,
}

/// The ids `explain` knows: the catalogue's and those of the report it reads.
#[derive(Debug, Clone, Default)]
pub struct Known {
    /// Scenario ids, in catalogue order.
    pub scenarios: Vec<String>,
    /// (trial id, its scenario id), in catalogue order.
    pub trials: Vec<(String, String)>,
}

impl Known {
    /// Adds a scenario id once.
    pub fn add_scenario(&mut self, id: &str) {
        if !self.scenarios.iter().any(|s| s == id) {
            self.scenarios.push(id.to_string());
        }
    }

    /// Adds a trial (and its scenario) once, by its canonical id.
    pub fn add_trial(&mut self, trial: &str, scenario: &str) {
        self.add_scenario(scenario);
        if !self.trials.iter().any(|(t, _)| canonical(t) == canonical(trial)) {
            self.trials.push((trial.to_string(), scenario.to_string()));
        }
    }
}

/// Reads the subject. Scenario and trial ids are matched exactly (a trial id in either
/// spelling), errno names in any case; a text with `*` or `?` is a glob over scenario and
/// trial ids. Unknown: a message naming the closest errno names, scenario and trial ids.
pub fn resolve(text: &str, known: &Known) -> Result<Subject, String> {
    let text = text.trim();
    if known.scenarios.iter().any(|id| id == text) {
        return Ok(Subject::Scenarios(vec![Chosen {
            scenario: text.to_string(),
            trials: None,
        }]));
    }
    if let Some((trial, scenario)) = known.trials.iter().find(|(t, _)| canonical(t) == canonical(text)) {
        return Ok(Subject::Scenarios(vec![Chosen {
            scenario: scenario.clone(),
            trials: Some(vec![trial.clone()]),
        }]));
    }
    let upper = text.to_ascii_uppercase();
    if let Some(code) = errno::code(&upper) {
        return Ok(Subject::Errno { name: upper, code });
    }
    if let Ok(code) = text.parse::<i32>() {
        let name = errno::name(code);
        if errno::code(&name) == Some(code) {
            return Ok(Subject::Errno { name, code });
        }
    }
    let is_glob = text.contains(['*', '?']);
    if is_glob {
        let chosen = glob(text, known);
        if !chosen.is_empty() {
            return Ok(Subject::Scenarios(chosen));
        }
    }
    let names = errno::names();
    let candidates = names
        .iter()
        .map(String::as_str)
        .chain(known.scenarios.iter().map(String::as_str))
        .chain(known.trials.iter().map(|(t, _)| t.as_str()));
    let closest = suggest::closest(text, candidates, 3).join(", ");
    Err(if is_glob {
        format!("no scenario or trial id matches {text:?}; closest: {closest} (scenario ids: `sockerr list`)")
    } else {
        format!(
            "{text:?} is neither an errno name of this platform nor a scenario or trial id; closest: {closest} \
             (scenario ids: `sockerr list`)"
        )
    })
}

/// The scenarios a glob names, whole where it matches the scenario id, else the trials it
/// matches.
fn glob(pattern: &str, known: &Known) -> Vec<Chosen> {
    let pattern = canonical(pattern);
    let mut chosen: Vec<Chosen> = Vec::new();
    for scenario in &known.scenarios {
        if glob_matches(&pattern, scenario) {
            chosen.push(Chosen {
                scenario: scenario.clone(),
                trials: None,
            });
            continue;
        }
        let trials: Vec<String> = known
            .trials
            .iter()
            .filter(|(t, s)| s == scenario && glob_matches(&pattern, &canonical(t)))
            .map(|(t, _)| t.clone())
            .collect();
        if !trials.is_empty() {
            chosen.push(Chosen {
                scenario: scenario.clone(),
                trials: Some(trials),
            });
        }
    }
    chosen
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{catalogue, runner};

    fn known() -> Known {
        let scenarios = catalogue::all();
        let mut known = Known::default();
        for planned in runner::plan(&scenarios) {
            known.add_trial(&planned.id(), planned.scenario.id);
        }
        known
    }

    fn whole(scenario: &str) -> Chosen {
        Chosen {
            scenario: scenario.into(),
            trials: None,
        }
    }

    #[test]
    fn an_errno_resolves_by_name_in_any_case_or_by_number() {
        let known = known();
        let reset = Subject::Errno {
            name: "ECONNRESET".into(),
            code: libc::ECONNRESET,
        };
        assert_eq!(resolve("ECONNRESET", &known), Ok(reset.clone()));
        assert_eq!(resolve("econnreset", &known), Ok(reset.clone()));
        assert_eq!(resolve(&libc::ECONNRESET.to_string(), &known), Ok(reset));
    }

    #[test]
    fn a_scenario_id_resolves_to_the_whole_scenario() {
        assert_eq!(
            resolve("abort.linger0.read_first", &known()),
            Ok(Subject::Scenarios(vec![whole("abort.linger0.read_first")]))
        );
    }

    /// The trial id in its dotted and its older `::` spelling names the same trial.
    #[test]
    fn a_trial_id_in_either_spelling_resolves_to_that_trial_of_its_scenario() {
        let known = known();
        let (trial, scenario) = known
            .trials
            .iter()
            .find(|(_, s)| s == "abort.linger0.read_first")
            .cloned()
            .expect("the catalogue plans abort.linger0.read_first");
        let expected = Ok(Subject::Scenarios(vec![Chosen {
            scenario,
            trials: Some(vec![trial.clone()]),
        }]));
        assert_eq!(resolve(&canonical(&trial), &known), expected);
        let legacy = canonical(&trial)
            .replacen('.', "::", 1)
            .replace(".v4.", "::v4::")
            .replace(".v6.", "::v6::");
        assert_eq!(resolve(&legacy, &known), expected, "{legacy}");
    }

    #[test]
    fn a_glob_takes_whole_scenarios_it_matches_and_else_the_trials_it_matches() {
        let known = known();
        let Ok(Subject::Scenarios(chosen)) = resolve("abort.linger0.*", &known) else {
            panic!("abort.linger0.* matches");
        };
        assert!(chosen.contains(&whole("abort.linger0.read_first")), "{chosen:?}");
        assert!(chosen.iter().all(|c| c.scenario.starts_with("abort.linger0.")));
        let Ok(Subject::Scenarios(chosen)) = resolve("connect.closed_port.blocking.v6.*", &known) else {
            panic!("a glob over one scenario's trials matches");
        };
        assert_eq!(chosen.len(), 1);
        let trials = chosen[0].trials.as_ref().expect("only some trials");
        assert!(!trials.is_empty());
        assert!(trials.iter().all(|t| canonical(t).contains(".v6.")), "{trials:?}");
    }

    #[test]
    fn an_unknown_subject_or_a_glob_that_matches_nothing_names_the_closest() {
        let known = known();
        let err = resolve("ECONNRESTE", &known).unwrap_err();
        assert!(err.contains("closest: ECONNRESET"), "{err}");
        let err = resolve("abort.linger0.read_frist", &known).unwrap_err();
        assert!(err.contains("closest: abort.linger0.read_first"), "{err}");
        assert!(err.contains("nor a scenario or trial id"), "{err}");
        let err = resolve("abort.*.v9.*", &known).unwrap_err();
        assert!(
            err.starts_with("no scenario or trial id matches \"abort.*.v9.*\""),
            "{err}"
        );
        assert!(resolve("ENOSUCH", &known).is_err());
    }
}

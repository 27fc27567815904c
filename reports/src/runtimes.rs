//! What each runtime saw. A *runtime trial* is a native trial's scenario and variant run with
//! its client steps made by a Java, Python, Go, Node.js or Rust client (its id is the native
//! trial's id plus `.<api>`, its `client` names the API and the runtime's version). The
//! renderers read such trials beside their native trial: one table per native trial whose
//! columns are the client's step labels, whose first row is what the system call returned
//! (the errno row) and whose other rows are what each runtime reported for the same step.
//!
//! This module pairs trials and builds that table; [`crate::markdown`], [`crate::html`] and
//! `sockerr explain` show it.

use sockerr_harness::record::Step;

use crate::model::{Status, TrialReport};

/// A native trial and the runtime trials of the same scenario and variant. `native` is `None`
/// for runtime trials whose native trial the report does not hold (a run filtered to them).
#[derive(Debug, Clone, PartialEq)]
pub struct WithRuntimes<'r> {
    pub native: Option<&'r TrialReport>,
    /// In the report's order (the catalogue's order of APIs).
    pub runtimes: Vec<&'r TrialReport>,
}

impl<'r> WithRuntimes<'r> {
    /// Every trial of the group, the native one first.
    pub fn trials(&self) -> impl Iterator<Item = &'r TrialReport> + '_ {
        self.native.into_iter().chain(self.runtimes.iter().copied())
    }
}

/// Whether a runtime client made the trial's client steps.
pub fn is_runtime(trial: &TrialReport) -> bool {
    trial.client.is_some()
}

/// The API of a runtime trial (`java.net.Socket`): the tail of its id.
pub fn api_of(trial: &TrialReport) -> Option<&str> {
    trial.client.as_ref().map(|c| c.api.as_str())
}

/// The id of the native trial a trial belongs to: its own id for a native trial, the id
/// without its `.<api>` tail for a runtime trial.
pub fn native_id(trial: &TrialReport) -> &str {
    api_of(trial)
        .and_then(|api| trial.id.strip_suffix(api))
        .and_then(|rest| rest.strip_suffix('.'))
        .unwrap_or(&trial.id)
}

/// `trials` (of one scenario) with each runtime trial attached to its native trial, native
/// trials in the order given. Runtime trials without a native trial in `trials` form groups of
/// their own, one per native id, after the others.
pub fn pair<'r>(trials: &[&'r TrialReport]) -> Vec<WithRuntimes<'r>> {
    let mut groups: Vec<WithRuntimes<'r>> = trials
        .iter()
        .filter(|t| !is_runtime(t))
        .map(|t| WithRuntimes {
            native: Some(t),
            runtimes: Vec::new(),
        })
        .collect();
    let mut orphans: Vec<(&str, WithRuntimes<'r>)> = Vec::new();
    for t in trials.iter().copied().filter(|t| is_runtime(t)) {
        let id = native_id(t);
        if let Some(group) = groups.iter_mut().find(|g| g.native.is_some_and(|n| n.id == id)) {
            group.runtimes.push(t);
        } else if let Some((_, group)) = orphans.iter_mut().find(|(i, _)| *i == id) {
            group.runtimes.push(t);
        } else {
            orphans.push((
                id,
                WithRuntimes {
                    native: None,
                    runtimes: vec![t],
                },
            ));
        }
    }
    groups.extend(orphans.into_iter().map(|(_, g)| g));
    groups
}

/// What each runtime saw in one variant of a scenario, aligned with the native steps.
#[derive(Debug, Clone, PartialEq)]
pub struct RuntimeTable {
    /// The native trial's id (or, without one, what it would be).
    pub native_id: String,
    /// The client's step labels the runtimes made (`client.connect#1`, `client.read#1`),
    /// in the native trial's step order: the columns.
    pub labels: Vec<String>,
    /// The errno row: the native call's outcome per label (`ECONNRESET`, `EPIPE +SIGPIPE`);
    /// `None` where the native trial has no such step (or the report no native trial).
    pub native: Vec<Option<String>>,
    /// One row per runtime trial, in the report's order.
    pub rows: Vec<RuntimeRow>,
}

/// One runtime trial's row.
#[derive(Debug, Clone, PartialEq)]
pub struct RuntimeRow {
    /// The runtime trial's id: where its row links to.
    pub trial: String,
    /// `java.net.Socket`.
    pub api: String,
    /// The runtime and its version as the client reported it (`OpenJDK 17.0.15`); empty when
    /// the client never answered (a skipped trial).
    pub runtime: String,
    pub status: Status,
    /// Why the trial did not run, when it was skipped.
    pub skip_reason: Option<String>,
    /// One per label; `None` where the runtime made no such step.
    pub cells: Vec<Option<RuntimeCell>>,
}

/// What a runtime reported for one step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuntimeCell {
    /// The answer in one line (`java.net.SocketException: Connection reset`, `ok=-1`,
    /// `unsupported`), as the step's outcome reads everywhere else.
    pub text: String,
    /// `ok`, `error`, `unsupported` or `lost`.
    pub outcome: String,
    /// What a reader needs besides the text: why the step is unsupported or lost, and how the
    /// client's process ended when it died at this step.
    pub note: Option<String>,
    /// Node.js: the socket's events since the step before, in order.
    pub events: Vec<String>,
}

impl RuntimeCell {
    fn of(step: &Step) -> RuntimeCell {
        let Some(answer) = &step.runtime else {
            return RuntimeCell {
                text: step.outcome_with_signals(),
                outcome: if step.succeeded() { "ok" } else { "error" }.into(),
                note: None,
                events: Vec::new(),
            };
        };
        let mut notes: Vec<String> = Vec::new();
        if let Some(why) = &answer.why {
            notes.push(why.clone());
        }
        if let Some(ended) = &answer.ended {
            notes.push(format!("the client's process ended: {ended}"));
        }
        RuntimeCell {
            text: answer.summary(),
            outcome: answer.outcome.clone(),
            note: (!notes.is_empty()).then(|| notes.join("; ")),
            events: answer.events.clone(),
        }
    }

    /// Whether the runtime reported something other than success.
    pub fn failed(&self) -> bool {
        self.outcome != "ok"
    }
}

impl RuntimeTable {
    /// The table of a group, or `None` when it has no runtime trial.
    pub fn of(group: &WithRuntimes<'_>) -> Option<RuntimeTable> {
        let first = group.runtimes.first()?;
        let native_steps: &[Step] = group.native.map_or(&[], |n| &n.steps);
        let mut labels: Vec<String> = Vec::new();
        for t in &group.runtimes {
            for s in t.steps.iter().filter(|s| s.runtime.is_some()) {
                if !labels.contains(&s.label) {
                    labels.push(s.label.clone());
                }
            }
        }
        // Native order; a label the native trial lacks keeps its place after the others.
        labels.sort_by_key(|l| native_steps.iter().position(|s| s.label == *l).unwrap_or(usize::MAX));
        let step_in = |steps: &[Step], label: &str| steps.iter().find(|s| s.label == label).cloned();
        Some(RuntimeTable {
            native_id: group
                .native
                .map_or_else(|| native_id(first).to_string(), |n| n.id.clone()),
            native: labels
                .iter()
                .map(|l| step_in(native_steps, l).map(|s| s.outcome_with_signals()))
                .collect(),
            rows: group
                .runtimes
                .iter()
                .map(|t| RuntimeRow {
                    trial: t.id.clone(),
                    api: api_of(t).unwrap_or_default().to_string(),
                    runtime: t.client.as_ref().map(|c| c.runtime.clone()).unwrap_or_default(),
                    status: t.status,
                    skip_reason: t.skip_reason.clone(),
                    cells: labels
                        .iter()
                        .map(|l| step_in(&t.steps, l).map(|s| RuntimeCell::of(&s)))
                        .collect(),
                })
                .collect(),
            labels,
        })
    }
}

impl RuntimeRow {
    /// `java.net.Socket (OpenJDK 17.0.15)`, or the API alone when no version was reported.
    pub fn heading(&self) -> String {
        if self.runtime.is_empty() {
            self.api.clone()
        } else {
            format!("{} ({})", self.api, self.runtime)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sockerr_harness::record::{Answer, CallResult, ClientInfo, Wire};
    use sockerr_harness::variant::{Family, Topology};

    fn step(label: &str, errno: Option<&str>, runtime: Option<Answer>) -> Step {
        Step {
            label: label.into(),
            actor: label.split('.').next().unwrap().into(),
            op: "op".into(),
            result: CallResult {
                ret: errno.is_none().then_some(0),
                errno: errno.map(String::from),
                errno_code: None,
            },
            revents: vec![],
            tcp_state: None,
            signals: vec![],
            t_us: 0,
            elapsed_us: 0,
            detail: None,
            runtime,
        }
    }

    fn trial(id: &str, api: Option<&str>, steps: Vec<Step>) -> TrialReport {
        TrialReport {
            id: id.into(),
            scenario: "abort.linger0.write_first".into(),
            family: Family::V4,
            topology: Topology::Loopback,
            client: api.map(|a| ClientInfo {
                api: a.into(),
                runtime: "OpenJDK 17.0.15".into(),
            }),
            status: Status::Pass,
            skip_reason: None,
            elapsed_ms: 0.0,
            script_ms: 0.0,
            setup_ms: 0.0,
            claim: String::new(),
            sources: vec![],
            guidance: None,
            steps,
            waits: vec![],
            wire: Wire::default(),
            knobs: vec![],
            timer: None,
            judged_by: vec![],
            mismatches: vec![],
            error: None,
        }
    }

    fn thrown(message: &str) -> Answer {
        Answer {
            outcome: "error".into(),
            error_type: Some("java.net.SocketException".into()),
            message: Some(message.into()),
            ..Answer::default()
        }
    }

    const NATIVE: &str = "abort.linger0.write_first.v4.loopback";

    #[test]
    fn a_runtime_trial_belongs_to_the_native_trial_its_id_extends() {
        let native = trial(NATIVE, None, vec![]);
        let java = trial(&format!("{NATIVE}.java.net.Socket"), Some("java.net.Socket"), vec![]);
        let other = trial(
            "abort.linger0.write_first.v6.loopback.java.net.Socket",
            Some("java.net.Socket"),
            vec![],
        );
        assert_eq!(native_id(&java), NATIVE);
        assert_eq!(native_id(&native), NATIVE);
        let groups = pair(&[&native, &java, &other]);
        assert_eq!(groups.len(), 2, "the v6 runtime trial has no native trial here");
        assert_eq!(groups[0].native.map(|t| t.id.as_str()), Some(NATIVE));
        assert_eq!(groups[0].runtimes, vec![&java]);
        assert_eq!(groups[1].native, None);
        assert_eq!(groups[1].runtimes, vec![&other]);
        assert_eq!(groups[0].trials().count(), 2);
    }

    #[test]
    fn the_table_has_the_client_steps_in_native_order_with_the_errno_row_first() {
        let native = trial(
            NATIVE,
            None,
            vec![
                step("listener.listen#1", None, None),
                step("client.connect#1", None, None),
                step("client.write#1", Some("ECONNRESET"), None),
                step("client.write#2", Some("EPIPE"), None),
            ],
        );
        let unsupported = Answer {
            outcome: "unsupported".into(),
            why: Some("java.net.Socket has no SO_ERROR".into()),
            ..Answer::default()
        };
        let java = trial(
            &format!("{NATIVE}.java.net.Socket"),
            Some("java.net.Socket"),
            vec![
                step("listener.listen#1", None, None),
                step("client.write#2", None, Some(thrown("Broken pipe"))),
                step(
                    "client.connect#1",
                    None,
                    Some(Answer {
                        outcome: "ok".into(),
                        ..Answer::default()
                    }),
                ),
                step("client.write#1", None, Some(thrown("Connection reset by peer"))),
                step("client.so_error#1", None, Some(unsupported)),
            ],
        );
        let table = RuntimeTable::of(&pair(&[&native, &java])[0]).expect("a table");
        assert_eq!(
            table.labels,
            [
                "client.connect#1",
                "client.write#1",
                "client.write#2",
                "client.so_error#1"
            ],
            "the listener's step is not the client's, and the native order wins"
        );
        assert_eq!(
            table.native,
            [
                Some("ok=0".to_string()),
                Some("ECONNRESET".into()),
                Some("EPIPE".into()),
                None
            ]
        );
        let row = &table.rows[0];
        assert_eq!(row.heading(), "java.net.Socket (OpenJDK 17.0.15)");
        let texts: Vec<&str> = row.cells.iter().flatten().map(|c| c.text.as_str()).collect();
        assert_eq!(
            texts,
            [
                "ok",
                "java.net.SocketException: Connection reset by peer",
                "java.net.SocketException: Broken pipe",
                "unsupported"
            ]
        );
        let so_error = row.cells[3].as_ref().unwrap();
        assert!(so_error.failed());
        assert_eq!(so_error.note.as_deref(), Some("java.net.Socket has no SO_ERROR"));
    }

    #[test]
    fn a_native_trial_without_runtime_trials_has_no_table() {
        let native = trial(NATIVE, None, vec![step("client.connect#1", None, None)]);
        assert_eq!(RuntimeTable::of(&pair(&[&native])[0]), None);
    }
}

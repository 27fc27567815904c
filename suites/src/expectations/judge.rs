//! Judging: comparing what a trial observed with what its expectations state, layer by layer,
//! into [`Mismatch`] values that name the step, the aspect, what was expected (and by which
//! file) and what was observed.
//!
//! One concept in one file, longer than 600 lines only by the tests that follow the code.

use std::collections::BTreeMap;

use sockerr_harness::{Answer, Observation, Segment, Step};
use sockerr_reports::{Aspect, Mismatch};

use sockerr_harness::record::answer_to_injection;

use super::{Expectations, RuntimeStepExpectation, StepExpectation, WireExpectation, vocabulary};

/// How one trial compared with its expectations.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Judgement {
    /// The files whose entries judged the trial, the lowest layer first.
    pub judged_by: Vec<String>,
    /// Every difference; none when the trial showed what was expected.
    pub mismatches: Vec<Mismatch>,
    /// Why the trial, or the part of it that matters, was judged by nothing: no file names the
    /// scenario, or none names the runtime that played its client.
    pub unjudged: Option<String>,
}

/// The `step` of a mismatch about the wire, and about the trial as a whole.
const WIRE: &str = "wire";
const TRIAL: &str = "trial";

/// An entry and the file that stated it.
type Stated<'a, T> = (&'a T, &'a str);

impl Expectations {
    /// Judges what a trial of scenario `scenario` observed. For each step (each wire fact,
    /// each runtime step) the highest layer that names it decides. A trial whose client ran
    /// in a runtime is judged by that runtime's table alone: what the rest of the trial does
    /// depends on what the runtime did (Node.js ends its side when the peer ends, and sends
    /// nothing more), so the native steps and wire facts are left out.
    pub fn judge(&self, scenario: &str, observation: &Observation) -> Judgement {
        let runtime = observation.client.as_ref().map(|c| c.api.as_str());
        let mut steps: BTreeMap<&str, Stated<StepExpectation>> = BTreeMap::new();
        let mut wire: Option<Stated<WireExpectation>> = None;
        let mut runtime_steps: BTreeMap<&str, Stated<RuntimeStepExpectation>> = BTreeMap::new();
        for file in self.layers() {
            let Some(expected) = file.for_scenario(scenario) else {
                continue;
            };
            let origin = file.origin.as_str();
            for (label, step) in &expected.steps {
                steps.insert(label, (step, origin));
            }
            if let Some(w) = &expected.wire {
                wire = Some((w, origin));
            }
            for (label, step) in runtime.and_then(|api| expected.runtimes.get(api)).into_iter().flatten() {
                runtime_steps.insert(label, (step, origin));
            }
        }
        if runtime.is_some() {
            steps.clear();
            wire = None;
        }

        let mut judgement = Judgement::default();
        if let Some(error) = &observation.error {
            judgement.mismatches.push(Mismatch {
                step: TRIAL.into(),
                runtime: None,
                aspect: Aspect::TrialError,
                expected: "the trial runs to its end".into(),
                observed: format!("it did not: {error}"),
                context: None,
                origin: None,
            });
        }
        for (label, (expected, origin)) in &steps {
            judge_step(label, expected, origin, &observation.steps, &mut judgement.mismatches);
        }
        if let Some((expected, origin)) = wire {
            judge_wire(expected, origin, observation, &mut judgement.mismatches);
        }
        if let Some(api) = runtime {
            for (label, (expected, origin)) in &runtime_steps {
                judge_runtime_step(
                    label,
                    expected,
                    origin,
                    api,
                    &observation.steps,
                    &mut judgement.mismatches,
                );
            }
        }

        let used = steps
            .values()
            .map(|(_, o)| *o)
            .chain(wire.map(|(_, o)| o))
            .chain(runtime_steps.values().map(|(_, o)| *o));
        for origin in used {
            if !judgement.judged_by.iter().any(|j| j == origin) {
                judgement.judged_by.push(origin.to_string());
            }
        }
        let layer = |origin: &String| self.layers().iter().position(|l| &l.origin == origin);
        judgement.judged_by.sort_by_key(layer);
        judgement.unjudged = match runtime {
            Some(api) if runtime_steps.is_empty() => {
                Some(format!("no expectation file names runtime {api} for {scenario}"))
            }
            _ if judgement.judged_by.is_empty() => Some(format!("no expectation file names {scenario}")),
            _ => None,
        };
        judgement
    }
}

/// `EPIPE`, or `one of {EPIPE, ECONNRESET}`.
fn set_text(items: &[String]) -> String {
    if items.len() == 1 {
        items[0].clone()
    } else {
        format!("one of {{{}}}", items.join(", "))
    }
}

/// `POLLIN|POLLHUP`, or `none`.
fn bits_text(bits: &[String]) -> String {
    if bits.is_empty() {
        "none".to_string()
    } else {
        bits.join("|")
    }
}

/// The call and what surrounded it: `read(64); revents POLLIN|POLLERR; state CLOSE; signals none`.
fn step_context(step: &Step) -> String {
    let signals = if step.signals.is_empty() {
        "none".to_string()
    } else {
        step.signals.join(",")
    };
    format!(
        "{}; revents {}; state {}; signals {signals}",
        step.op,
        bits_text(&step.revents),
        step.tcp_state.as_deref().unwrap_or("-")
    )
}

/// What an expected step states, in short, for a step the trial never took.
fn step_summary(expected: &StepExpectation) -> String {
    match &expected.result {
        Some(result) => set_text(result),
        None => "the step".to_string(),
    }
}

/// Whether an observed outcome is one of the expected ones.
fn outcome_matches(expected: &str, observed: &Step) -> bool {
    let outcome = observed.result.outcome();
    expected == outcome || (expected == "ok" && observed.result.ret.is_some() && observed.result.errno.is_none())
}

fn judge_step(label: &str, expected: &StepExpectation, origin: &str, steps: &[Step], out: &mut Vec<Mismatch>) {
    let mismatch = |aspect, expected: String, observed: String, context: Option<String>| Mismatch {
        step: label.to_string(),
        runtime: None,
        aspect,
        expected,
        observed,
        context,
        origin: Some(origin.to_string()),
    };
    let Some(step) = steps.iter().find(|s| s.label == label) else {
        out.push(mismatch(
            Aspect::MissingStep,
            step_summary(expected),
            "the trial has no such step".into(),
            None,
        ));
        return;
    };
    let context = || Some(step_context(step));
    if let Some(items) = &expected.result {
        if !items.iter().any(|e| outcome_matches(e, step)) {
            out.push(mismatch(
                Aspect::Result,
                set_text(items),
                step.result.outcome(),
                context(),
            ));
        }
    }
    if let Some(signals) = &expected.signals {
        if signals != &step.signals {
            out.push(mismatch(
                Aspect::Signals,
                format!("[{}]", signals.join(", ")),
                format!("[{}]", step.signals.join(", ")),
                context(),
            ));
        }
    }
    if let Some(revents) = &expected.revents {
        let mut want = revents.clone();
        let mut got = step.revents.clone();
        want.sort();
        got.sort();
        if want != got {
            out.push(mismatch(
                Aspect::Revents,
                bits_text(revents),
                bits_text(&step.revents),
                context(),
            ));
        }
    }
    if let Some(items) = &expected.tcp_state {
        let state = step.tcp_state.clone().unwrap_or_else(|| "-".into());
        if !items.contains(&state) {
            out.push(mismatch(Aspect::TcpState, set_text(items), state, context()));
        }
    }
}

/// `server>client R.` matches a segment with that direction and exactly those flags;
/// `server>client ICMP port-unreachable | ICMP6 port-unreachable` one with either, for a
/// fact that holds in both families under each family's name.
fn segment_matches(item: &str, segment: &Segment) -> bool {
    let (item, injected_only) = match item.strip_prefix(vocabulary::INJECTED) {
        Some(rest) => (rest, true),
        None => (item, false),
    };
    if injected_only && !segment.injected {
        return false;
    }
    match item.split_once(' ') {
        Some((dir, flags)) => segment.dir.as_str() == dir && flags.split('|').any(|f| segment.flags == f.trim()),
        None => false,
    }
}

/// `dir flags` of each segment, as expectation files write them.
fn notation(segments: &[&Segment]) -> String {
    let items: Vec<String> = segments.iter().map(|s| format!("{} {}", s.dir, s.flags)).collect();
    format!("[{}]", items.join(", "))
}

fn judge_wire(expected: &WireExpectation, origin: &str, observation: &Observation, out: &mut Vec<Mismatch>) {
    let segments = &observation.wire.segments;
    let mismatch = |aspect, expected: String, observed: String| Mismatch {
        step: WIRE.to_string(),
        runtime: None,
        aspect,
        expected,
        observed,
        context: None,
        origin: Some(origin.to_string()),
    };
    for item in &expected.has {
        if !segments.iter().any(|s| segment_matches(item, s)) {
            out.push(mismatch(
                Aspect::WireHas,
                format!("a segment {item}"),
                format!("none among {} captured", segments.len()),
            ));
        }
    }
    for item in &expected.lacks {
        if let Some(s) = segments.iter().find(|s| segment_matches(item, s)) {
            out.push(mismatch(
                Aspect::WireLacks,
                format!("no segment {item}"),
                s.to_string().trim().to_string(),
            ));
        }
    }
    if let Some(items) = &expected.answer {
        let expected_text = format!("[{}]", items.join(", "));
        match answer_to_injection(&observation.steps, segments) {
            None => out.push(mismatch(
                Aspect::WireAnswer,
                format!("an answer to injected segments: {expected_text}"),
                "nothing was injected".into(),
            )),
            Some(answer) => {
                let same =
                    answer.len() == items.len() && answer.iter().zip(items).all(|(s, item)| segment_matches(item, s));
                if !same {
                    out.push(mismatch(Aspect::WireAnswer, expected_text, notation(&answer)));
                }
            }
        }
    }
}

/// What the runtime reported, in one line: `error java.net.SocketException: "Connection
/// reset" (code ECONNRESET); survived`.
fn runtime_context(answer: &Answer) -> String {
    let mut text = answer.outcome_text();
    if let Some(kind) = &answer.error_type {
        text.push(' ');
        text.push_str(kind);
    }
    if let Some(message) = &answer.message {
        text.push_str(&format!(": {message:?}"));
    }
    if let Some(code) = &answer.code {
        text.push_str(&format!(" (code {code})"));
    }
    match &answer.ended {
        None => text.push_str("; survived"),
        Some(how) => text.push_str(&format!("; did not survive: {how}")),
    }
    text
}

/// `ok` accepts any return; every other outcome must equal the recorded one (`ok=-1`,
/// `error`).
fn runtime_outcome_matches(expected: &str, answer: &Answer) -> bool {
    expected == answer.outcome_text() || (expected == "ok" && answer.outcome == "ok")
}

/// Whether `observed` is one of `items`.
fn one_of(items: &[String], observed: Option<&String>) -> bool {
    observed.is_some_and(|o| items.contains(o))
}

fn judge_runtime_step(
    label: &str,
    expected: &RuntimeStepExpectation,
    origin: &str,
    api: &str,
    steps: &[Step],
    out: &mut Vec<Mismatch>,
) {
    let mismatch = |aspect, expected: String, observed: String, context: Option<String>| Mismatch {
        step: label.to_string(),
        runtime: Some(api.to_string()),
        aspect,
        expected,
        observed,
        context,
        origin: Some(origin.to_string()),
    };
    let Some(answer) = steps.iter().find(|s| s.label == label).and_then(|s| s.runtime.as_ref()) else {
        let summary = expected.outcome.as_deref().map_or("the step".to_string(), set_text);
        out.push(mismatch(
            Aspect::MissingStep,
            summary,
            format!("{api} reported no such step"),
            None,
        ));
        return;
    };
    let context = || Some(runtime_context(answer));
    let none = || "none".to_string();
    if let Some(items) = &expected.outcome {
        if !items.iter().any(|e| runtime_outcome_matches(e, answer)) {
            out.push(mismatch(
                Aspect::RuntimeOutcome,
                set_text(items),
                answer.outcome_text(),
                context(),
            ));
        }
    }
    if let Some(items) = &expected.error_type {
        if !one_of(items, answer.error_type.as_ref()) {
            let observed = answer.error_type.clone().unwrap_or_else(none);
            out.push(mismatch(Aspect::RuntimeType, set_text(items), observed, context()));
        }
    }
    if let Some(pattern) = &expected.message {
        if !answer.message.as_deref().is_some_and(|m| pattern.matches(m)) {
            let observed = answer.message.as_ref().map_or_else(none, |m| format!("{m:?}"));
            out.push(mismatch(
                Aspect::RuntimeMessage,
                pattern.to_string(),
                observed,
                context(),
            ));
        }
    }
    if let Some(items) = &expected.code {
        if !one_of(items, answer.code.as_ref()) {
            let observed = answer.code.clone().unwrap_or_else(none);
            out.push(mismatch(Aspect::RuntimeCode, set_text(items), observed, context()));
        }
    }
    if let Some(survived) = expected.survived {
        let observed = answer.ended.is_none();
        if survived != observed {
            out.push(mismatch(
                Aspect::RuntimeSurvived,
                survived.to_string(),
                observed.to_string(),
                context(),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expectations::ExpectationFile;
    use rstest::rstest;
    use sockerr_harness::{Answer, CallResult, Direction, Wire};

    const IDS: &[&str] = &["s.x", "s.y"];

    fn step(label: &str, errno: Option<&str>, ret: Option<i64>, signals: &[&str]) -> Step {
        Step {
            label: label.into(),
            actor: "client".into(),
            op: "read(64)".into(),
            result: CallResult {
                ret,
                errno: errno.map(Into::into),
                errno_code: errno.map(|_| 104),
            },
            revents: vec!["POLLIN".into(), "POLLERR".into()],
            tcp_state: Some("CLOSE".into()),
            signals: signals.iter().map(|s| s.to_string()).collect(),
            t_us: 0,
            elapsed_us: 1,
            detail: None,
            runtime: None,
        }
    }

    fn observation() -> Observation {
        Observation {
            steps: vec![
                step("client.read#1", Some("ECONNRESET"), None, &[]),
                step("client.write#1", Some("EPIPE"), None, &["SIGPIPE"]),
                step("client.read#2", None, Some(0), &[]),
            ],
            wire: Wire {
                captured: true,
                segments: vec![Segment {
                    dir: Direction::ServerToClient,
                    proto: Default::default(),
                    flags: "R.".into(),
                    seq: 1,
                    ack: 1,
                    len: 0,
                    t_us: 5,
                    src: "a".into(),
                    dst: "b".into(),
                    win: 0,
                    injected: false,
                }],
                drops: 0,
                pcap: None,
                not_captured: None,
            },
            ..Observation::default()
        }
    }

    fn file(origin: &str, text: &str) -> ExpectationFile {
        ExpectationFile::parse(origin, text, IDS).unwrap_or_else(|e| panic!("{e}"))
    }

    fn judge(text: &str, observation: &Observation) -> Judgement {
        Expectations::from(file("test.toml", text)).judge("s.x", observation)
    }

    #[rstest]
    #[case::exact_errno(r#""client.read#1" = "ECONNRESET""#)]
    #[case::errno_in_small_letters(r#""client.read#1" = "econnreset""#)]
    #[case::member_of_a_set(r#""client.read#1" = ["EPIPE", "ECONNRESET"]"#)]
    #[case::any_success(r#""client.read#2" = "ok""#)]
    #[case::exact_return(r#""client.read#2" = "ok=0""#)]
    #[case::signals_too(r#""client.write#1" = { result = "EPIPE", signals = ["SIGPIPE"] }"#)]
    #[case::revents_in_any_order(r#""client.read#1" = { revents = ["POLLERR", "POLLIN"], tcp_state = "CLOSE" }"#)]
    #[case::wire_fact("wire = { has = [\"server>client R.\"], lacks = [\"client>server R\"] }")]
    #[case::wire_fact_with_alternatives(
        "wire = { has = [\"server>client F. | R.\"], lacks = [\"server>client F. | S.\"] }"
    )]
    #[case::wire_alternatives(
        "wire = { has = [\"server>client P.|R.\"], lacks = [\"router>client ICMP host-unreachable|UDP\"] }"
    )]
    fn an_expectation_that_holds_gives_no_mismatch(#[case] entry: &str) {
        let judgement = judge(&format!("[\"s.x\"]\n{entry}\n"), &observation());
        assert_eq!(judgement.mismatches, []);
        assert_eq!(judgement.judged_by, ["test.toml"]);
        assert_eq!(judgement.unjudged, None);
    }

    #[test]
    fn a_wrong_errno_gives_a_mismatch_naming_step_aspect_expected_observed_and_file() {
        // The gate must fail when behaviour changes (docs/design.md principle 5).
        let judgement = judge(
            "[\"s.x\"]\n\"client.read#1\" = [\"EPIPE\", \"ETIMEDOUT\"]\n",
            &observation(),
        );
        assert_eq!(
            judgement.mismatches,
            [Mismatch {
                step: "client.read#1".into(),
                runtime: None,
                aspect: Aspect::Result,
                expected: "one of {EPIPE, ETIMEDOUT}".into(),
                observed: "ECONNRESET".into(),
                context: Some("read(64); revents POLLIN|POLLERR; state CLOSE; signals none".into()),
                origin: Some("test.toml".into()),
            }]
        );
    }

    /// A trial in which the server's reset was forged (RFC 5961 §3.2: in window, so the client
    /// answers with a challenge ACK before the next step).
    fn forged_observation() -> Observation {
        let segment = |dir, flags: &str, t_us, injected| Segment {
            dir,
            proto: sockerr_harness::Proto::Tcp,
            flags: flags.into(),
            seq: 1,
            ack: 1,
            len: 0,
            t_us,
            src: String::new(),
            dst: String::new(),
            win: 512,
            injected,
        };
        let mut inject = step("client.inject#1", None, Some(1), &[]);
        inject.t_us = 10;
        let mut poll = step("client.poll#1", None, Some(1), &[]);
        poll.t_us = 40;
        Observation {
            steps: vec![inject, poll],
            wire: Wire {
                captured: true,
                segments: vec![
                    segment(Direction::ServerToClient, "R", 20, true),
                    segment(Direction::ClientToServer, ".", 30, false),
                    segment(Direction::ServerToClient, "P.", 50, false),
                    segment(Direction::ClientToServer, ".", 60, false),
                ],
                ..Wire::default()
            },
            ..Observation::default()
        }
    }

    #[test]
    fn the_answer_to_a_forged_segment_is_what_its_receiver_sent_before_the_next_step() {
        let holds = "[\"s.x\"]\nwire = { has = [\"injected server>client R\"], answer = [\"client>server .\"] }\n";
        assert_eq!(judge(holds, &forged_observation()).mismatches, []);
    }

    /// The gate fails on a wrong expectation for a forged trial, and says what answered in
    /// the notation the file uses.
    #[test]
    fn a_wrong_answer_to_a_forged_segment_fails_with_a_readable_diff() {
        let wrong = "[\"s.x\"]\nwire = { has = [\"injected server>client R.\"], answer = [] }\n";
        let judgement = judge(wrong, &forged_observation());
        let text: Vec<String> = judgement.mismatches.iter().map(ToString::to_string).collect();
        assert_eq!(
            text,
            [
                "wire has\n    expected  a segment injected server>client R.  (test.toml)\n    observed  none among 4 captured",
                "wire answer\n    expected  []  (test.toml)\n    observed  [client>server .]",
            ]
        );
    }

    #[test]
    fn each_aspect_that_differs_is_a_mismatch_of_its_own() {
        let text = "[\"s.x\"]\n\"client.write#1\" = { result = \"ECONNRESET\", signals = [], revents = [\"POLLOUT\"], tcp_state = [\"ESTABLISHED\"] }\n\
                    wire = { has = [\"server>client F.\"], lacks = [\"server>client R.\"] }\n";
        let judgement = judge(text, &observation());
        let found: Vec<(&str, Aspect, &str, &str)> = judgement
            .mismatches
            .iter()
            .map(|m| (m.step.as_str(), m.aspect, m.expected.as_str(), m.observed.as_str()))
            .collect();
        assert_eq!(
            found,
            [
                ("client.write#1", Aspect::Result, "ECONNRESET", "EPIPE"),
                ("client.write#1", Aspect::Signals, "[]", "[SIGPIPE]"),
                ("client.write#1", Aspect::Revents, "POLLOUT", "POLLIN|POLLERR"),
                ("client.write#1", Aspect::TcpState, "ESTABLISHED", "CLOSE"),
                (
                    "wire",
                    Aspect::WireHas,
                    "a segment server>client F.",
                    "none among 1 captured"
                ),
                (
                    "wire",
                    Aspect::WireLacks,
                    "no segment server>client R.",
                    "0.005ms server>client [R.] seq 1 ack 1 win 0 len 0"
                ),
            ]
        );
    }

    #[test]
    fn an_expected_step_the_trial_never_took_is_a_mismatch() {
        let judgement = judge("[\"s.x\"]\n\"client.read#9\" = \"ok=0\"\n", &observation());
        assert_eq!(judgement.mismatches.len(), 1);
        let m = &judgement.mismatches[0];
        assert_eq!(
            (m.step.as_str(), m.aspect, m.expected.as_str()),
            ("client.read#9", Aspect::MissingStep, "ok=0")
        );
    }

    #[test]
    fn a_trial_that_stopped_is_a_mismatch_even_with_no_expectation() {
        let stopped = Observation {
            error: Some("sandbox: EPERM".into()),
            ..observation()
        };
        let judgement = Expectations::default().judge("s.x", &stopped);
        assert_eq!(judgement.mismatches.len(), 1);
        assert_eq!(judgement.mismatches[0].aspect, Aspect::TrialError);
        assert!(judgement.mismatches[0].observed.contains("sandbox: EPERM"));
        assert_eq!(judgement.unjudged.as_deref(), Some("no expectation file names s.x"));
    }

    #[test]
    fn a_scenario_no_file_names_is_unjudged() {
        let judgement = judge("[\"s.y\"]\n\"client.read#1\" = \"EPIPE\"\n", &observation());
        assert_eq!(judgement.mismatches, []);
        assert!(judgement.judged_by.is_empty());
        assert_eq!(judgement.unjudged.as_deref(), Some("no expectation file names s.x"));
    }

    #[test]
    fn a_users_layer_decides_for_the_steps_it_names_and_the_built_in_for_the_rest() {
        let built_in = file(
            "linux.toml",
            "[\"s.x\"]\n\"client.read#1\" = \"EPIPE\"\n\"client.read#2\" = \"ok=5\"\nwire = { has = [\"server>client F.\"] }\n\
             [\"s.y\"]\n\"client.read#1\" = \"EPIPE\"\n",
        );
        let mine = file("mine.toml", "[\"s.x\"]\n\"client.read#1\" = \"ECONNRESET\"\n");
        let layered = Expectations::from(built_in.clone()).layered(mine.clone());
        let judgement = layered.judge("s.x", &observation());
        // client.read#1: mine decides (and holds); client.read#2 and the wire: linux.toml.
        let found: Vec<(&str, Aspect, Option<&str>)> = judgement
            .mismatches
            .iter()
            .map(|m| (m.step.as_str(), m.aspect, m.origin.as_deref()))
            .collect();
        assert_eq!(
            found,
            [
                ("client.read#2", Aspect::Result, Some("linux.toml")),
                ("wire", Aspect::WireHas, Some("linux.toml")),
            ]
        );
        assert_eq!(judgement.judged_by, ["linux.toml", "mine.toml"]);
        // A scenario the user's file does not name is the built-in file's alone.
        let other = layered.judge("s.y", &observation());
        assert_eq!(other.judged_by, ["linux.toml"]);
        assert_eq!(other.mismatches.len(), 1);
        // The order of the layers decides, not the files: with linux.toml on top, it decides
        // for client.read#1 too.
        let reversed = Expectations::from(mine).layered(built_in).judge("s.x", &observation());
        assert_eq!(reversed.judged_by, ["linux.toml"]);
        assert_eq!(reversed.mismatches.len(), 3);
    }

    #[test]
    fn a_layer_may_drop_the_wire_facts_of_the_one_below() {
        let built_in = file("linux.toml", "[\"s.x\"]\nwire = { has = [\"server>client F.\"] }\n");
        let mine = file("mine.toml", "[\"s.x\"]\nwire = {}\n");
        let judgement = Expectations::from(built_in).layered(mine).judge("s.x", &observation());
        assert_eq!(judgement.mismatches, []);
        assert_eq!(judgement.judged_by, ["mine.toml"]);
    }

    /// A trial whose client the Java runtime played: its steps replace the native ones of the
    /// same labels.
    fn java(runtime_steps: Vec<Step>) -> Observation {
        let mut observed = observation();
        observed
            .steps
            .retain(|s| !runtime_steps.iter().any(|r| r.label == s.label));
        observed.steps.extend(runtime_steps);
        observed.client = Some(sockerr_harness::ClientInfo {
            api: "java.net.Socket".into(),
            runtime: "OpenJDK 17.0.15".into(),
        });
        observed
    }

    /// A step of the Java client as the trial records it.
    fn java_step(label: &str, answer: Answer) -> Step {
        Step {
            op: "java.net.Socket read(64)".into(),
            result: CallResult {
                ret: None,
                errno: None,
                errno_code: None,
            },
            revents: Vec::new(),
            tcp_state: None,
            runtime: Some(answer),
            ..step(label, None, None, &[])
        }
    }

    fn thrown(label: &str, message: &str) -> Step {
        java_step(
            label,
            Answer {
                outcome: "error".into(),
                error_type: Some("java.net.SocketException".into()),
                message: Some(message.into()),
                ..Answer::default()
            },
        )
    }

    fn returned(label: &str, value: serde_json::Value) -> Step {
        java_step(
            label,
            Answer {
                outcome: "ok".into(),
                value: Some(value),
                ..Answer::default()
            },
        )
    }

    const JAVA: &str = "[\"s.x\".runtimes.\"java.net.Socket\"]\n\
        \"client.read#1\" = { type = \"java.net.SocketException\", message = \"Connection reset\" }\n\
        \"client.write#1\" = { type = \"java.net.SocketException\", message = \"~Broken pipe\", survived = true }\n";

    #[test]
    fn a_runtime_that_reports_what_is_expected_passes_and_its_native_steps_are_left_out() {
        // The native entries (client.read#1 EPIPE, wrong) are not judged: Java played the client.
        let text = format!("[\"s.x\"]\n\"client.read#1\" = \"EPIPE\"\n\"client.read#2\" = \"ok=0\"\n{JAVA}");
        let observed = java(vec![
            thrown("client.read#1", "Connection reset"),
            thrown("client.write#1", "Broken pipe (Write failed)"),
        ]);
        let judgement = judge(&text, &observed);
        assert_eq!(judgement.mismatches, []);
        assert_eq!(judgement.unjudged, None);
    }

    #[test]
    fn a_wrong_runtime_message_type_outcome_or_survival_is_a_mismatch_per_aspect() {
        let mut wrong_type = thrown("client.read#1", "Connection reset by peer");
        if let Some(answer) = wrong_type.runtime.as_mut() {
            answer.error_type = Some("java.io.IOException".into());
        }
        let mut died = returned("client.write#1", serde_json::json!(1));
        if let Some(answer) = died.runtime.as_mut() {
            answer.ended = Some("killed by SIGKILL".into());
        }
        let judgement = judge(JAVA, &java(vec![wrong_type, died]));
        let found: Vec<(&str, Option<&str>, Aspect, &str, &str)> = judgement
            .mismatches
            .iter()
            .map(|m| {
                (
                    m.step.as_str(),
                    m.runtime.as_deref(),
                    m.aspect,
                    m.expected.as_str(),
                    m.observed.as_str(),
                )
            })
            .collect();
        let java = Some("java.net.Socket");
        assert_eq!(
            found,
            [
                (
                    "client.read#1",
                    java,
                    Aspect::RuntimeType,
                    "java.net.SocketException",
                    "java.io.IOException"
                ),
                (
                    "client.read#1",
                    java,
                    Aspect::RuntimeMessage,
                    "\"Connection reset\"",
                    "\"Connection reset by peer\""
                ),
                ("client.write#1", java, Aspect::RuntimeOutcome, "error", "ok=1"),
                (
                    "client.write#1",
                    java,
                    Aspect::RuntimeType,
                    "java.net.SocketException",
                    "none"
                ),
                (
                    "client.write#1",
                    java,
                    Aspect::RuntimeMessage,
                    "~\"Broken pipe\"",
                    "none"
                ),
                ("client.write#1", java, Aspect::RuntimeSurvived, "true", "false"),
            ]
        );
        assert_eq!(
            judgement.mismatches[0].headline(),
            "client.read#1 [java.net.Socket] type: expected java.net.SocketException, observed java.io.IOException"
        );
        assert_eq!(
            judgement.mismatches[5].context.as_deref(),
            Some("ok=1; did not survive: killed by SIGKILL")
        );
    }

    #[test]
    fn a_runtime_step_the_client_never_reported_is_a_mismatch() {
        let judgement = judge(JAVA, &java(vec![thrown("client.read#1", "Connection reset")]));
        assert_eq!(judgement.mismatches.len(), 1);
        let m = &judgement.mismatches[0];
        assert_eq!((m.step.as_str(), m.aspect), ("client.write#1", Aspect::MissingStep));
    }

    #[test]
    fn a_runtime_no_file_names_leaves_its_trial_unjudged() {
        let judgement = judge(
            "[\"s.x\"]\n\"client.read#2\" = \"ok=0\"\n",
            &java(vec![thrown("client.read#1", "Connection reset")]),
        );
        assert_eq!(judgement.mismatches, []);
        assert_eq!(
            judgement.unjudged.as_deref(),
            Some("no expectation file names runtime java.net.Socket for s.x")
        );
    }

    fn answer_of(step: Step) -> Answer {
        step.runtime.expect("a runtime step")
    }

    #[test]
    fn runtime_outcomes_match_by_kind_or_by_the_recorded_value() {
        let eof = answer_of(returned("client.read#1", serde_json::json!(-1)));
        assert!(runtime_outcome_matches("ok", &eof));
        assert!(runtime_outcome_matches("ok=-1", &eof));
        assert!(!runtime_outcome_matches("ok=0", &eof));
        let address = answer_of(returned("client.getpeername#1", serde_json::json!("198.18.0.2:4000")));
        assert!(runtime_outcome_matches("ok=\"198.18.0.2:4000\"", &address));
        let nothing = answer_of(returned("client.close#1", serde_json::Value::Null));
        assert!(runtime_outcome_matches("ok", &nothing));
        assert!(!runtime_outcome_matches("error", &nothing));
        assert!(runtime_outcome_matches(
            "error",
            &answer_of(thrown("client.read#1", "x"))
        ));
    }
}

//! Reading an expectation file: serde reads its shape (which table holds which keys, every key
//! with its position), then each value is checked against the vocabulary and turned into the
//! model. Values are read as found ([`Shape`]) rather than as the type they should have, so
//! that a wrong type is refused in the project's words, at the key that holds it.
//!
//! Positions: a problem with a value is reported at its key (`"client.read#1"` for the short
//! form, `evidence` inside a table, `documented` in `[_platform]`); a problem with a whole
//! entry (a documented value without evidence) at the entry's key.
//!
//! One concept in one file, longer than 600 lines only by the tests that follow the code.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use toml::Spanned;

use super::vocabulary;
use super::{
    ExpectationError, ExpectationFile, MessagePattern, PLATFORM_KEY, PlatformInfo, RuntimeStepExpectation,
    ScenarioExpectation, StepExpectation, WireExpectation,
};
use crate::suggest::did_you_mean;

/// A value as the file gives it, before it is checked. `T` is what a table there is read as.
#[derive(Debug)]
enum Shape<T> {
    Text(String),
    List(Vec<Found>),
    Bool(bool),
    Table(T),
    /// Another type, by its name for messages: `an integer`.
    Other(&'static str),
}

/// A value where no table belongs: a table there is read and dropped, then refused by name.
type Found = Shape<IgnoredAny>;

impl<T> Shape<T> {
    /// The value's type as a message names it: `a string`, `a table`.
    fn kind(&self) -> &'static str {
        match self {
            Shape::Text(_) => "a string",
            Shape::List(_) => "a list",
            Shape::Bool(_) => "a boolean",
            Shape::Table(_) => "a table",
            Shape::Other(kind) => kind,
        }
    }

    /// A string, or a list of strings, as a list.
    fn strings(&self, what: &str) -> Result<Vec<String>, String> {
        match self {
            Shape::Text(s) => Ok(vec![s.clone()]),
            Shape::List(items) => items
                .iter()
                .map(|i| match i {
                    Shape::Text(s) => Ok(s.clone()),
                    other => Err(format!("{what}: expected strings, found {}", other.kind())),
                })
                .collect(),
            other => Err(format!(
                "{what}: expected a string or a list of strings, found {}",
                other.kind()
            )),
        }
    }

    fn string(&self, what: &str) -> Result<String, String> {
        match self {
            Shape::Text(s) => Ok(s.clone()),
            other => Err(format!("{what}: expected a string, found {}", other.kind())),
        }
    }

    fn boolean(&self, what: &str) -> Result<bool, String> {
        match self {
            Shape::Bool(b) => Ok(*b),
            other => Err(format!("{what}: expected a boolean, found {}", other.kind())),
        }
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Shape<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ShapeVisitor(PhantomData))
    }
}

struct ShapeVisitor<T>(PhantomData<T>);

impl<'de, T: Deserialize<'de>> Visitor<'de> for ShapeVisitor<T> {
    type Value = Shape<T>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a TOML value")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Shape::Text(v.to_string()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(Shape::Text(v))
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
        Ok(Shape::Bool(v))
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
        Ok(Shape::Other("an integer"))
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
        Ok(Shape::Other("an integer"))
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Ok(Shape::Other("a float"))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Found>()? {
            items.push(item);
        }
        Ok(Shape::List(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        T::deserialize(de::value::MapAccessDeserializer::new(map)).map(Shape::Table)
    }
}

/// A table as the pairs it holds, in file order, each key with its position.
#[derive(Debug)]
struct Pairs<V>(Vec<(Spanned<String>, V)>);

/// How a table's value is read, given its key: most tables read every value alike; a
/// scenario's table reads `wire` and `runtimes` otherwise than its steps.
trait Entry<'de>: Sized {
    fn read<A: MapAccess<'de>>(key: &str, map: &mut A) -> Result<Self, A::Error>;
}

impl<'de, T: Deserialize<'de>> Entry<'de> for Shape<T> {
    fn read<A: MapAccess<'de>>(_: &str, map: &mut A) -> Result<Self, A::Error> {
        map.next_value()
    }
}

impl<'de, V: Entry<'de>> Deserialize<'de> for Pairs<V> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct PairsVisitor<V>(PhantomData<V>);
        impl<'de, V: Entry<'de>> Visitor<'de> for PairsVisitor<V> {
            type Value = Pairs<V>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a table")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Pairs<V>, A::Error> {
                let mut pairs = Vec::new();
                while let Some(key) = map.next_key::<Spanned<String>>()? {
                    let value = V::read(key.get_ref(), &mut map)?;
                    pairs.push((key, value));
                }
                Ok(Pairs(pairs))
            }
        }
        deserializer.deserialize_map(PairsVisitor(PhantomData))
    }
}

/// A table of values: a step's table, `wire`, `[_platform]`, a runtime step's table.
type Fields = Pairs<Found>;

/// A runtime's table: step labels to their entries.
type RuntimeTable = Pairs<Shape<Fields>>;

/// `runtimes`: runtime names to their tables.
type RuntimesTable = Pairs<Shape<RuntimeTable>>;

/// A value of a scenario's table.
#[derive(Debug)]
enum ScenarioEntry {
    Wire(Shape<Fields>),
    Runtimes(Shape<RuntimesTable>),
    Step(Shape<Fields>),
}

impl<'de> Entry<'de> for ScenarioEntry {
    fn read<A: MapAccess<'de>>(key: &str, map: &mut A) -> Result<Self, A::Error> {
        Ok(match key {
            "wire" => ScenarioEntry::Wire(map.next_value()?),
            "runtimes" => ScenarioEntry::Runtimes(map.next_value()?),
            _ => ScenarioEntry::Step(map.next_value()?),
        })
    }
}

/// One scenario's table: `wire`, `runtimes`, and step labels.
type ScenarioTable = Pairs<ScenarioEntry>;

/// A top-level value: `[_platform]` or a scenario's table.
#[derive(Debug)]
enum FileEntry {
    Platform(Shape<Fields>),
    Scenario(Shape<ScenarioTable>),
}

impl<'de> Entry<'de> for FileEntry {
    fn read<A: MapAccess<'de>>(key: &str, map: &mut A) -> Result<Self, A::Error> {
        Ok(if key == PLATFORM_KEY {
            FileEntry::Platform(map.next_value()?)
        } else {
            FileEntry::Scenario(map.next_value()?)
        })
    }
}

/// A whole file.
type FileTable = Pairs<FileEntry>;

/// A problem at a byte offset of the file.
type Problem = (usize, String);

/// The byte offset where a key starts.
fn at(key: &Spanned<String>) -> usize {
    key.span().start
}

impl ExpectationFile {
    /// Parses expectation text. Anything that could make a gate silently check less than its
    /// author meant is an error naming the file, line and column: an unknown scenario id
    /// (`known` lists the catalogue's), a malformed step label or verb, an unknown errno
    /// name, poll bit or TCP state, an unknown key, or a value of the wrong type. Each names
    /// the closest known name where one is close.
    pub fn parse(origin: &str, text: &str, known: &[&str]) -> Result<ExpectationFile, ExpectationError> {
        let syntax = |e: toml::de::Error| ExpectationError::Syntax {
            origin: origin.to_string(),
            message: e.to_string().trim_end().to_string(),
        };
        let invalid = |(offset, message): Problem| {
            let (line, column) = line_column(text, offset);
            ExpectationError::Invalid {
                origin: origin.to_string(),
                line,
                column,
                message,
            }
        };
        let deserializer = toml::Deserializer::parse(text).map_err(syntax)?;
        let file = FileTable::deserialize(deserializer).map_err(|e| match e.span() {
            // toml hands a date to serde as a table with one private key, which a table of
            // this format cannot take as a key with a position.
            Some(span) if e.message().contains("$__toml_private_datetime") => invalid((
                span.start,
                "a date or time is no value of this format (write a string)".to_string(),
            )),
            Some(span) => invalid((span.start, e.message().to_string())),
            None => syntax(e),
        })?;
        read_file(origin, file, known).map_err(invalid)
    }

    /// Reads and parses an expectation file.
    pub fn load(path: &std::path::Path, known: &[&str]) -> Result<ExpectationFile, ExpectationError> {
        let origin = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|error| ExpectationError::Io {
            origin: origin.clone(),
            error,
        })?;
        Self::parse(&origin, &text, known)
    }
}

/// 1-based line and column of a byte offset.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

fn read_file(origin: &str, file: FileTable, known: &[&str]) -> Result<ExpectationFile, Problem> {
    let mut platform = PlatformInfo::default();
    // `[_platform]` decides how the scenarios are read, wherever it stands in the file.
    for (key, entry) in &file.0 {
        if let FileEntry::Platform(table) = entry {
            platform = read_platform(key, table)?;
        }
    }
    let mut scenarios = std::collections::BTreeMap::new();
    for (id, entry) in file.0 {
        let FileEntry::Scenario(table) = entry else { continue };
        if !known.contains(&id.get_ref().as_str()) {
            return Err((
                at(&id),
                format!(
                    "unknown scenario id {:?} (see `sockerr list`){}",
                    id.get_ref(),
                    did_you_mean(id.get_ref(), known.iter().copied())
                ),
            ));
        }
        let Shape::Table(table) = table else {
            return Err((
                at(&id),
                format!(
                    "{:?} must be a table of step labels, found {}",
                    id.get_ref(),
                    table.kind()
                ),
            ));
        };
        scenarios.insert(id.into_inner(), read_scenario(table, platform.documented)?);
    }
    Ok(ExpectationFile {
        origin: origin.to_string(),
        platform,
        scenarios,
    })
}

/// Reads `[_platform]`: `documented` (a boolean), `name` (a string), `sources` (strings).
fn read_platform(key: &Spanned<String>, table: &Shape<Fields>) -> Result<PlatformInfo, Problem> {
    let Shape::Table(fields) = table else {
        return Err((
            at(key),
            format!(
                "{PLATFORM_KEY:?} must be a table {{documented = true, name = \"...\", sources = [...]}}, found {}",
                table.kind()
            ),
        ));
    };
    let mut platform = PlatformInfo::default();
    for (field, value) in &fields.0 {
        let problem = |message: String| (at(field), message);
        let what = format!("{PLATFORM_KEY}.{}", field.get_ref());
        match field.get_ref().as_str() {
            "documented" => platform.documented = value.boolean(&what).map_err(problem)?,
            "name" => platform.name = Some(value.string(&what).map_err(problem)?),
            "sources" => platform.sources = value.strings(&what).map_err(problem)?,
            other => vocabulary::key(&format!("{PLATFORM_KEY}: "), other, &["documented", "name", "sources"])
                .map_err(problem)?,
        }
    }
    Ok(platform)
}

fn read_scenario(table: ScenarioTable, documented: bool) -> Result<ScenarioExpectation, Problem> {
    let mut scenario = ScenarioExpectation::default();
    for (key, entry) in table.0 {
        match entry {
            ScenarioEntry::Wire(value) => scenario.wire = Some(read_wire(&key, &value, documented)?),
            ScenarioEntry::Runtimes(value) => scenario.runtimes = read_runtimes(&key, value, documented)?,
            ScenarioEntry::Step(value) => {
                vocabulary::check_label(key.get_ref()).map_err(|m| (at(&key), m))?;
                let step = read_step(&key, &value, documented)?;
                scenario.steps.insert(key.into_inner(), step);
            }
        }
    }
    Ok(scenario)
}

/// Checks each item of a list with `check`.
fn each(items: &[String], check: impl Fn(&str) -> Result<(), String>) -> Result<(), String> {
    items.iter().try_for_each(|i| check(i))
}

/// `evidence` and `source`, where any table may carry them.
fn provenance(field: &str, value: &Found) -> Option<Result<(&'static str, String), String>> {
    match field {
        "evidence" => Some(
            value
                .string("evidence")
                .and_then(|tag| vocabulary::evidence(&tag).map(|()| ("evidence", tag))),
        ),
        "source" => Some(value.string("source").and_then(|s| {
            if s.trim().is_empty() {
                Err("source: empty".to_string())
            } else {
                Ok(("source", s))
            }
        })),
        _ => None,
    }
}

/// In a documented file every entry says how it is known and where from.
fn require_evidence(documented: bool, evidence: &Option<String>, source: &Option<String>) -> Result<(), String> {
    if !documented {
        return Ok(());
    }
    match (evidence, source) {
        (Some(_), Some(_)) => Ok(()),
        (None, _) => Err("a documented value needs evidence = \"L|S|D|M|U|H\" and source = \"...\"".to_string()),
        (_, None) => Err("a documented value needs source = \"...\" (where it is documented)".to_string()),
    }
}

/// A step: an outcome, a list of outcomes, or a table {result, signals, revents, tcp_state,
/// evidence, source}.
fn read_step(label: &Spanned<String>, value: &Shape<Fields>, documented: bool) -> Result<StepExpectation, Problem> {
    let name = label.get_ref();
    let mut step = StepExpectation::default();
    let outcomes = |items: Vec<String>| -> Result<Vec<String>, String> {
        items
            .iter()
            .map(|t| vocabulary::outcome(t, documented))
            .collect::<Result<_, _>>()
    };
    match value {
        Shape::Table(fields) => {
            for (field, v) in &fields.0 {
                let problem = |message: String| (at(field), format!("{name:?}: {message}"));
                let key = field.get_ref().as_str();
                match key {
                    "result" => step.result = Some(v.strings("result").and_then(outcomes).map_err(problem)?),
                    "signals" => {
                        let signals = v.strings("signals").map_err(problem)?;
                        each(&signals, vocabulary::signal).map_err(problem)?;
                        step.signals = Some(signals);
                    }
                    "revents" => {
                        let bits = v.strings("revents").map_err(problem)?;
                        each(&bits, vocabulary::poll_bit).map_err(problem)?;
                        step.revents = Some(bits);
                    }
                    "tcp_state" => {
                        let states = v.strings("tcp_state").map_err(problem)?;
                        each(&states, vocabulary::tcp_state).map_err(problem)?;
                        step.tcp_state = Some(states);
                    }
                    _ => match provenance(key, v) {
                        Some(Ok(("evidence", tag))) => step.evidence = Some(tag),
                        Some(Ok((_, source))) => step.source = Some(source),
                        Some(Err(m)) => return Err(problem(m)),
                        None => vocabulary::key(
                            "",
                            key,
                            &["result", "signals", "revents", "tcp_state", "evidence", "source"],
                        )
                        .map_err(problem)?,
                    },
                }
            }
        }
        other => {
            let problem = |message: String| (at(label), format!("{name:?}: {message}"));
            let items = other.strings("outcome").map_err(|_| {
                problem(format!(
                    "expected an outcome, a list of outcomes or a table {{result, signals, revents, tcp_state}}, found {}",
                    other.kind()
                ))
            })?;
            step.result = Some(outcomes(items).map_err(problem)?);
        }
    }
    require_evidence(documented, &step.evidence, &step.source).map_err(|m| (at(label), format!("{name:?}: {m}")))?;
    Ok(step)
}

/// `wire = {has = [...], lacks = [...], evidence, source}`.
fn read_wire(key: &Spanned<String>, value: &Shape<Fields>, documented: bool) -> Result<WireExpectation, Problem> {
    let Shape::Table(fields) = value else {
        return Err((
            at(key),
            format!(
                "wire: expected a table {{has = [...], lacks = [...]}}, found {}",
                value.kind()
            ),
        ));
    };
    let mut wire = WireExpectation::default();
    for (field, v) in &fields.0 {
        let problem = |message: String| (at(field), format!("wire.{}: {message}", field.get_ref()));
        match field.get_ref().as_str() {
            name @ ("has" | "lacks" | "answer") => {
                let items = v.strings(name).map_err(|m| (at(field), format!("wire.{m}")))?;
                each(&items, vocabulary::segment_pattern).map_err(problem)?;
                match name {
                    "has" => wire.has = items,
                    "lacks" => wire.lacks = items,
                    _ => wire.answer = Some(items),
                }
            }
            other => match provenance(other, v) {
                Some(Ok(("evidence", tag))) => wire.evidence = Some(tag),
                Some(Ok((_, source))) => wire.source = Some(source),
                Some(Err(m)) => return Err((at(field), format!("wire: {m}"))),
                None => vocabulary::key("wire: ", other, &["has", "lacks", "answer", "evidence", "source"])
                    .map_err(|m| (at(field), m))?,
            },
        }
    }
    require_evidence(documented, &wire.evidence, &wire.source).map_err(|m| (at(key), format!("wire: {m}")))?;
    Ok(wire)
}

/// `runtimes."<api>"."actor.verb#n"`: what each runtime client must report per step.
type Runtimes = std::collections::BTreeMap<String, std::collections::BTreeMap<String, RuntimeStepExpectation>>;

fn read_runtimes(key: &Spanned<String>, value: Shape<RuntimesTable>, documented: bool) -> Result<Runtimes, Problem> {
    let Shape::Table(runtimes) = value else {
        return Err((
            at(key),
            format!(
                "runtimes: expected a table of runtime APIs ([\"scenario\".runtimes.\"java.net.Socket\"]), found {}",
                value.kind()
            ),
        ));
    };
    let mut out = Runtimes::new();
    for (runtime, table) in runtimes.0 {
        vocabulary::runtime_api(runtime.get_ref()).map_err(|m| (at(&runtime), format!("runtimes: {m}")))?;
        let Shape::Table(steps) = table else {
            return Err((
                at(&runtime),
                format!(
                    "runtimes.{:?}: expected a table of step labels, found {}",
                    runtime.get_ref(),
                    table.kind()
                ),
            ));
        };
        let mut expected = std::collections::BTreeMap::new();
        for (label, entry) in steps.0 {
            vocabulary::check_label(label.get_ref())
                .map_err(|m| (at(&label), format!("runtimes.{:?}: {m}", runtime.get_ref())))?;
            let step = read_runtime_step(runtime.get_ref(), &label, &entry, documented)?;
            expected.insert(label.into_inner(), step);
        }
        out.insert(runtime.into_inner(), expected);
    }
    Ok(out)
}

/// A runtime step: an outcome, a list of outcomes, or a table {outcome, type, message, code,
/// survived, evidence, source}.
fn read_runtime_step(
    runtime: &str,
    label: &Spanned<String>,
    value: &Shape<Fields>,
    documented: bool,
) -> Result<RuntimeStepExpectation, Problem> {
    let name = format!("runtimes.{runtime:?}.{:?}", label.get_ref());
    let mut step = RuntimeStepExpectation::default();
    match value {
        Shape::Table(fields) => {
            for (field, v) in &fields.0 {
                let problem = |message: String| (at(field), format!("{name}: {message}"));
                let key = field.get_ref().as_str();
                match key {
                    "outcome" => {
                        let outcomes = v.strings("outcome").map_err(problem)?;
                        each(&outcomes, vocabulary::runtime_outcome).map_err(problem)?;
                        step.outcome = Some(outcomes);
                    }
                    "type" => step.error_type = Some(v.strings("type").map_err(problem)?),
                    "message" => {
                        let text = v.string("message").map_err(problem)?;
                        step.message = Some(match text.strip_prefix('~') {
                            Some(part) => MessagePattern::Contains(part.to_string()),
                            None => MessagePattern::Exact(text),
                        });
                    }
                    "code" => {
                        let codes = v.strings("code").map_err(problem)?;
                        each(&codes, vocabulary::runtime_code).map_err(problem)?;
                        step.code = Some(codes);
                    }
                    "survived" => step.survived = Some(v.boolean("survived").map_err(problem)?),
                    _ => match provenance(key, v) {
                        Some(Ok(("evidence", tag))) => step.evidence = Some(tag),
                        Some(Ok((_, source))) => step.source = Some(source),
                        Some(Err(m)) => return Err(problem(m)),
                        None => vocabulary::key(
                            "",
                            key,
                            &["outcome", "type", "message", "code", "survived", "evidence", "source"],
                        )
                        .map_err(problem)?,
                    },
                }
            }
            if step.error_type.is_some() && step.outcome.is_none() {
                step.outcome = Some(vec!["error".to_string()]);
            }
        }
        other => {
            let problem = |message: String| (at(label), format!("{name}: {message}"));
            let outcomes = other.strings("outcome").map_err(|_| {
                problem(format!(
                    "expected an outcome, a list of outcomes or a table {{outcome, type, message, code, survived}}, found {}",
                    other.kind()
                ))
            })?;
            each(&outcomes, vocabulary::runtime_outcome).map_err(problem)?;
            step.outcome = Some(outcomes);
        }
    }
    require_evidence(documented, &step.evidence, &step.source).map_err(|m| (at(label), format!("{name}: {m}")))?;
    Ok(step)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    fn parse(text: &str) -> Result<ExpectationFile, String> {
        ExpectationFile::parse("f.toml", text, &["s.x", "abort.linger0.read_first"]).map_err(|e| e.to_string())
    }

    fn refused(text: &str) -> String {
        parse(text).expect_err("refused")
    }

    #[rstest]
    #[case::unknown_scenario(
        "[\"s.typo\"]\n\"client.read#1\" = \"EPIPE\"\n",
        "f.toml:1:2: unknown scenario id \"s.typo\""
    )]
    #[case::unknown_scenario_near_a_known_one(
        "[\"abort.linger0.read_frist\"]\n",
        "f.toml:1:2: unknown scenario id \"abort.linger0.read_frist\" (see `sockerr list`); did you mean abort.linger0.read_first?"
    )]
    #[case::malformed_label(
        "[\"s.x\"]\n\n\"client.read1\" = \"EPIPE\"\n",
        "f.toml:3:1: \"client.read1\" is not a step label"
    )]
    #[case::unknown_verb(
        "[\"s.x\"]\n\"client.recieve#1\" = \"EPIPE\"\n",
        "f.toml:2:1: \"client.recieve#1\": unknown verb \"recieve\""
    )]
    #[case::unknown_errno(
        "[\"s.x\"]\n\"client.read#1\" = \"ECONNRESETT\"\n",
        "f.toml:2:1: \"client.read#1\": unknown outcome \"ECONNRESETT\"; did you mean ECONNRESET?"
    )]
    #[case::wrong_type(
        "[\"s.x\"]\n\"client.read#1\" = 104\n",
        "f.toml:2:1: \"client.read#1\": expected an outcome, a list of outcomes or a table {result, signals, revents, tcp_state}, found an integer"
    )]
    #[case::a_list_of_other_things(
        "[\"s.x\"]\n\"client.read#1\" = { result = [\"EPIPE\", 3] }\n",
        "f.toml:2:21: \"client.read#1\": result: expected strings, found an integer"
    )]
    #[case::unknown_field(
        "[\"s.x\"]\n\"client.read#1\" = { reslt = \"EPIPE\" }\n",
        "f.toml:2:21: \"client.read#1\": unknown key \"reslt\"; did you mean result?"
    )]
    #[case::bad_poll_bit(
        "[\"s.x\"]\n\"client.poll#1\" = { revents = [\"POLLIN\", \"POLLRDHP\"] }\n",
        "f.toml:2:21: \"client.poll#1\": unknown poll bit \"POLLRDHP\"; did you mean POLLRDHUP?"
    )]
    #[case::bad_state(
        "[\"s.x\"]\n\"client.read#1\" = { tcp_state = \"CLOSED\" }\n",
        "unknown TCP state \"CLOSED\"; did you mean CLOSE?"
    )]
    #[case::bad_signal(
        "[\"s.x\"]\n\"client.write#1\" = { signals = [\"PIPE\"] }\n",
        "unknown signal \"PIPE\""
    )]
    #[case::bad_wire(
        "[\"s.x\"]\nwire = { has = [\"server client R\"] }\n",
        "f.toml:2:10: wire.has: \"server client R\" is not"
    )]
    #[case::wire_not_a_table("[\"s.x\"]\nwire = \"R.\"\n", "f.toml:2:1: wire: expected a table")]
    #[case::unknown_wire_key(
        "[\"s.x\"]\nwire = { hass = [\"server>client R.\"] }\n",
        "f.toml:2:10: wire: unknown key \"hass\"; did you mean has?"
    )]
    #[case::a_date(
        "[\"s.x\"]\n\"client.read#1\" = 1979-05-27\n",
        "f.toml:2:19: a date or time is no value of this format (write a string)"
    )]
    #[case::scenario_not_a_table(
        "\"s.x\" = \"EPIPE\"\n",
        "f.toml:1:1: \"s.x\" must be a table of step labels, found a string"
    )]
    fn a_malformed_expectation_is_refused_with_its_position(#[case] text: &str, #[case] message: &str) {
        let err = refused(text);
        assert!(err.contains(message), "{err}");
    }

    #[test]
    fn a_syntax_error_names_the_file_and_line() {
        let text = refused("[\"s.x\"]\n\"client.read#1\" = \n");
        assert!(text.starts_with("f.toml: "), "{text}");
        assert!(text.contains("line 2"), "{text}");
    }

    #[test]
    fn errno_names_in_any_case_are_kept_in_capitals() {
        let e = parse("[\"s.x\"]\n\"client.read#1\" = [\"econnreset\", \"Epipe\"]\n").unwrap();
        let step = &e.scenarios["s.x"].steps["client.read#1"];
        assert_eq!(step.result, Some(vec!["ECONNRESET".to_string(), "EPIPE".to_string()]));
    }

    #[test]
    fn every_form_of_a_step_reads_into_the_model() {
        let text = "[\"s.x\"]\nwire = { has = [\"server>client R.\"], lacks = [\"server>client F.\"] }\n\
                    \"client.read#1\" = \"ECONNRESET\"\n\
                    \"client.read#2\" = [\"ok=0\", \"ok\"]\n\
                    \"client.write#1\" = { result = \"EPIPE\", signals = [\"SIGPIPE\"], revents = [\"POLLOUT\"], tcp_state = [\"CLOSE\", \"-\"] }\n";
        let s = &parse(text).unwrap().scenarios["s.x"];
        assert_eq!(
            s.wire,
            Some(WireExpectation {
                has: vec!["server>client R.".into()],
                lacks: vec!["server>client F.".into()],
                ..WireExpectation::default()
            })
        );
        assert_eq!(s.steps["client.read#2"].result, Some(vec!["ok=0".into(), "ok".into()]));
        assert_eq!(
            s.steps["client.write#1"],
            StepExpectation {
                result: Some(vec!["EPIPE".into()]),
                signals: Some(vec!["SIGPIPE".into()]),
                revents: Some(vec!["POLLOUT".into()]),
                tcp_state: Some(vec!["CLOSE".into(), "-".into()]),
                ..StepExpectation::default()
            }
        );
    }

    #[rstest]
    #[case::reserved_table_with_a_scenario(
        "[_platform]\ndocumented = true\nname = \"X\"\nsources = [\"a\"]\n\n[\"s.x\"]\n\"client.read#1\" = { result = \"WSAECONNRESET\", evidence = \"D\", source = \"docs\" }\n"
    )]
    #[case::other_platforms_errno_forms(
        "[_platform]\ndocumented = true\n[\"s.x\"]\n\"client.write#1\" = { result = [\"EPROTOTYPE\", \"WSAECONNABORTED\", \"ok\"], evidence = \"M\", source = \"x\" }\n"
    )]
    #[case::wire_with_evidence(
        "[_platform]\ndocumented = true\n[\"s.x\"]\nwire = { lacks = [\"server>client F.\"], evidence = \"S\", source = \"x\" }\n"
    )]
    #[case::evidence_in_a_measured_file(
        "[\"s.x\"]\n\"client.read#1\" = { result = \"ECONNRESET\", evidence = \"L\", source = \"probe\" }\n"
    )]
    #[case::platform_after_the_scenarios(
        "[\"s.x\"]\n\"client.read#1\" = { result = \"WSAECONNRESET\", evidence = \"D\", source = \"docs\" }\n[_platform]\ndocumented = true\n"
    )]
    fn documented_forms_parse(#[case] text: &str) {
        parse(text).unwrap_or_else(|e| panic!("{e}"));
    }

    #[test]
    fn evidence_and_source_are_kept() {
        let text = "[_platform]\ndocumented = true\nname = \"P 1\"\n[\"s.x\"]\n\"client.read#1\" = { result = \"WSAECONNRESET\", evidence = \"D\", source = \"MS recv docs\" }\n";
        let e = parse(text).unwrap();
        assert_eq!(
            e.platform,
            PlatformInfo {
                documented: true,
                name: Some("P 1".into()),
                sources: vec![]
            }
        );
        let step = &e.scenarios["s.x"].steps["client.read#1"];
        assert_eq!(step.evidence.as_deref(), Some("D"));
        assert_eq!(step.source.as_deref(), Some("MS recv docs"));
        assert_eq!(step.result, Some(vec!["WSAECONNRESET".to_string()]));
    }

    #[rstest]
    #[case::bad_tag(
        "[\"s.x\"]\n\"client.read#1\" = { result = \"EPIPE\", evidence = \"X\", source = \"s\" }\n",
        "f.toml:2:39: \"client.read#1\": unknown evidence tag \"X\""
    )]
    #[case::foreign_errno_in_a_measured_file(
        "[\"s.x\"]\n\"client.read#1\" = \"WSAECONNRESET\"\n",
        "unknown outcome \"WSAECONNRESET\""
    )]
    #[case::malformed_errno_in_a_documented_file(
        "[_platform]\ndocumented = true\n[\"s.x\"]\n\"client.read#1\" = { result = \"ECONN-RESET\", evidence = \"S\", source = \"s\" }\n",
        "f.toml:4:21: \"client.read#1\": unknown outcome \"ECONN-RESET\""
    )]
    #[case::documented_without_evidence(
        "[_platform]\ndocumented = true\n[\"s.x\"]\n\"client.read#1\" = \"EPIPE\"\n",
        "f.toml:4:1: \"client.read#1\": a documented value needs evidence"
    )]
    #[case::documented_without_source(
        "[_platform]\ndocumented = true\n[\"s.x\"]\n\"client.read#1\" = { result = \"EPIPE\", evidence = \"S\" }\n",
        "a documented value needs source"
    )]
    #[case::documented_wire_without_evidence(
        "[_platform]\ndocumented = true\n[\"s.x\"]\nwire = { has = [\"server>client F.\"] }\n",
        "f.toml:4:1: wire: a documented value needs evidence"
    )]
    #[case::unknown_platform_key(
        "[_platform]\ndocumneted = true\n",
        "f.toml:2:1: _platform: unknown key \"documneted\"; did you mean documented?"
    )]
    #[case::platform_wrong_type(
        "[_platform]\ndocumented = \"yes\"\n",
        "f.toml:2:1: _platform.documented: expected a boolean, found a string"
    )]
    #[case::platform_not_a_table("_platform = 1\n", "f.toml:1:1: \"_platform\" must be a table")]
    #[case::empty_source(
        "[\"s.x\"]\n\"client.read#1\" = { result = \"EPIPE\", evidence = \"S\", source = \" \" }\n",
        "source: empty"
    )]
    fn a_malformed_documented_entry_is_refused(#[case] text: &str, #[case] message: &str) {
        let err = refused(text);
        assert!(err.contains(message), "{err}");
    }

    #[test]
    fn a_runtimes_table_reads_per_api_and_step() {
        let text = "[\"abort.linger0.read_first\".runtimes.\"java.net.Socket\"]\n\
                    \"client.read#1\" = { type = \"java.net.SocketException\", message = \"Connection reset\" }\n\
                    \"client.write#1\" = { type = \"java.net.SocketException\", message = \"~Broken pipe\", survived = true }\n\
                    \"client.read#2\" = \"ok=-1\"\n\
                    [\"abort.linger0.read_first\".runtimes.\"node.net\"]\n\
                    \"client.read#1\" = { outcome = [\"error\", \"lost\"], code = \"ECONNRESET\" }\n";
        let e = parse(text).unwrap();
        let runtimes = &e.scenarios["abort.linger0.read_first"].runtimes;
        assert_eq!(runtimes.keys().collect::<Vec<_>>(), ["java.net.Socket", "node.net"]);
        let java = &runtimes["java.net.Socket"];
        assert_eq!(
            java["client.read#1"],
            RuntimeStepExpectation {
                outcome: Some(vec!["error".into()]),
                error_type: Some(vec!["java.net.SocketException".into()]),
                message: Some(MessagePattern::Exact("Connection reset".into())),
                ..RuntimeStepExpectation::default()
            }
        );
        assert_eq!(
            java["client.write#1"].message,
            Some(MessagePattern::Contains("Broken pipe".into()))
        );
        assert_eq!(java["client.write#1"].survived, Some(true));
        assert_eq!(java["client.read#2"].outcome, Some(vec!["ok=-1".into()]));
        assert_eq!(
            runtimes["node.net"]["client.read#1"].code,
            Some(vec!["ECONNRESET".into()])
        );
    }

    #[rstest]
    #[case::bad_runtime_api(
        "[\"s.x\".runtimes.java-socket]\n\"client.read#1\" = \"ok\"\n",
        "f.toml:1:17: runtimes: \"java-socket\" is not a runtime API"
    )]
    #[case::bad_runtime_label(
        "[\"s.x\".runtimes.\"java.net.Socket\"]\n\"client.raed#1\" = \"ok\"\n",
        "f.toml:2:1: runtimes.\"java.net.Socket\": \"client.raed#1\": unknown verb \"raed\"; did you mean read?"
    )]
    #[case::bad_runtime_outcome(
        "[\"s.x\".runtimes.\"java.net.Socket\"]\n\"client.read#1\" = \"exception\"\n",
        "f.toml:2:1: runtimes.\"java.net.Socket\".\"client.read#1\": unknown runtime outcome \"exception\" (ok, ok=VALUE, error, unsupported or lost)"
    )]
    #[case::bad_runtime_key(
        "[\"s.x\".runtimes.\"java.net.Socket\"]\n\"client.read#1\" = { mesage = \"x\" }\n",
        "f.toml:2:21: runtimes.\"java.net.Socket\".\"client.read#1\": unknown key \"mesage\"; did you mean message?"
    )]
    #[case::survived_not_a_boolean(
        "[\"s.x\".runtimes.\"java.net.Socket\"]\n\"client.read#1\" = { survived = \"yes\" }\n",
        "survived: expected a boolean, found a string"
    )]
    #[case::runtimes_not_a_table(
        "[\"s.x\"]\nruntimes = 1\n",
        "f.toml:2:1: runtimes: expected a table of runtime APIs"
    )]
    #[case::documented_runtime_without_evidence(
        "[_platform]\ndocumented = true\n[\"s.x\".runtimes.\"java.net.Socket\"]\n\"client.read#1\" = \"ok\"\n",
        "f.toml:4:1: runtimes.\"java.net.Socket\".\"client.read#1\": a documented value needs evidence"
    )]
    fn a_malformed_runtime_expectation_is_refused_with_its_position(#[case] text: &str, #[case] message: &str) {
        let err = refused(text);
        assert!(err.contains(message), "{err}");
    }
}

//! Expectation files (`suites/expectations/<platform>.toml`): per scenario, per step label, the
//! set of accepted outcomes, plus facts about the wire. They are only ever compared with
//! observations; nothing else in the suite knows an expected answer.
//!
//! ```toml
//! ["abort.linger0.read_first"]
//! wire = { has = ["server>client R."] }               # a segment with exactly these flags
//! "client.read#1" = "ECONNRESET"                      # one outcome
//! "client.read#2" = ["ok=0"]                          # a set: any member is accepted
//! "client.write#1" = { result = "EPIPE", signals = ["SIGPIPE"] }
//! ```
//!
//! A wire item is a direction (`client>server`, `server>client`, `router>client`,
//! `router>server`) and the segment's flags: TCP flags, `UDP`, or an ICMP error as captured
//! (`ICMP host-unreachable`, `ICMP6 addr-unreachable`); `|` (spaces around it optional) joins alternatives, for a packet
//! that differs by family only.
//!
//! Outcomes: an errno name, `ok` (any success), `ok=N` (that return value), or `killed` (the
//! caller died before the call returned). `signals` is the exact list the step raised (`[]`
//! for none); `revents` the exact set of poll bits after the step; `tcp_state` a set of states.
//!
//! ## Documented platforms: `[_platform]`, `evidence`, `source`
//!
//! Files for platforms this suite has not measured (`macos.toml`, `freebsd.toml`,
//! `openbsd.toml`, `windows.toml`) hold *documented* values. Such a file describes itself in
//! the reserved top-level table `[_platform]`. Top-level keys are otherwise scenario ids,
//! which are `area.situation[.twist]` and never start with `_`, so the key cannot collide with
//! one (and a scenario id `_platform` could never pass the catalogue's id test):
//!
//! ```toml
//! [_platform]
//! documented = true                        # values come from documentation, not from runs
//! name = "macOS 15 (xnu-11417.101.15)"
//! sources = ["docs/platforms.md", "https://github.com/apple-oss-distributions/xnu"]
//!
//! ["abort.linger0.write_first"]
//! "client.write#1" = { result = "EPIPE", evidence = "S", source = "XNU bsd/kern/uipc_socket.c sosendcheck" }
//! ```
//!
//! `evidence` is one tag of docs/platforms.md#evidence-tags: `L` observed on Linux with quick probes,
//! `S` read in kernel or runtime source, `D` vendor documentation, `M` a maintainer's statement,
//! `U` a user's report with a reproducer, `H` hearsay or inference (measure first). `source`
//! says where. Both keys are allowed in any step table and in `wire`. In a documented file every
//! step and `wire` entry must carry both (so only the table form is accepted there), and errno
//! names are checked by their form only: `E` or `WSAE` followed by capitals and digits
//! (`EPROTOTYPE`, `WSAECONNRESET`), because they name another platform's errnos. In every other
//! file an errno name must be one of this platform's.

use std::collections::BTreeMap;
use std::path::Path;

use sockerr_harness::{Observation, Segment, Step};
use toml::Spanned;

/// The built-in expectations of the platform this binary was built for.
pub fn built_in() -> Option<(&'static str, &'static str)> {
    if cfg!(target_os = "linux") {
        Some((
            "suites/expectations/linux.toml",
            include_str!("../expectations/linux.toml"),
        ))
    } else {
        None
    }
}

/// The documented expectation files of other platforms: (origin, text). Their values come
/// from documentation and source reading (docs/platforms.md), never from runs here.
pub fn documented_files() -> [(&'static str, &'static str); 4] {
    [
        (
            "suites/expectations/macos.toml",
            include_str!("../expectations/macos.toml"),
        ),
        (
            "suites/expectations/freebsd.toml",
            include_str!("../expectations/freebsd.toml"),
        ),
        (
            "suites/expectations/openbsd.toml",
            include_str!("../expectations/openbsd.toml"),
        ),
        (
            "suites/expectations/windows.toml",
            include_str!("../expectations/windows.toml"),
        ),
    ]
}

/// The reserved top-level table that describes the file itself (see the module docs).
pub const PLATFORM_KEY: &str = "_platform";

/// Evidence tags of docs/platforms.md (#evidence-tags), strongest first.
pub const EVIDENCE_TAGS: &[&str] = &["L", "S", "D", "M", "U", "H"];

/// A whole expectation file.
#[derive(Debug, Clone, Default)]
pub struct Expectations {
    /// Where it came from, for messages and the report.
    pub origin: String,
    /// What the file says about itself (`[_platform]`); default: measured, unnamed.
    pub platform: PlatformInfo,
    pub scenarios: BTreeMap<String, ScenarioExpectation>,
}

/// The `[_platform]` table of an expectation file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PlatformInfo {
    /// The values are documented (from documentation and source), not measured by this suite.
    pub documented: bool,
    /// The platform and version the values describe, e.g. `macOS 15 (xnu-11417.101.15)`.
    pub name: Option<String>,
    /// Where the file's values come from, as a whole.
    pub sources: Vec<String>,
}

/// What one scenario is expected to show.
#[derive(Debug, Clone, Default)]
pub struct ScenarioExpectation {
    pub wire: WireExpectation,
    /// Step label to what that step must show.
    pub steps: BTreeMap<String, StepExpectation>,
}

#[derive(Debug, Clone, Default)]
pub struct WireExpectation {
    /// `dir flags` items that must each match at least one segment: `server>client R.`.
    pub has: Vec<String>,
    /// `dir flags` items that no segment may match.
    pub lacks: Vec<String>,
    /// Evidence tag of these wire facts (docs/platforms.md#evidence-tags), if given.
    pub evidence: Option<String>,
    /// Where these wire facts are documented, if given.
    pub source: Option<String>,
}

/// What one step must show; `None` leaves that aspect unchecked.
#[derive(Debug, Clone, Default)]
pub struct StepExpectation {
    /// Accepted outcomes; any member matches.
    pub result: Option<Vec<String>>,
    /// The exact signals the step raised.
    pub signals: Option<Vec<String>>,
    /// The exact set of poll bits after the step.
    pub revents: Option<Vec<String>>,
    /// Accepted TCP states.
    pub tcp_state: Option<Vec<String>>,
    /// Evidence tag of this expectation (docs/platforms.md#evidence-tags: L, S, D, M, U, H).
    pub evidence: Option<String>,
    /// Where this expectation is documented.
    pub source: Option<String>,
}

/// Why an expectation file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ExpectationError {
    #[error("{origin}: {error}")]
    Io { origin: String, error: std::io::Error },
    #[error("{origin}: {message}")]
    Syntax { origin: String, message: String },
    #[error("{origin}:{line}:{column}: {message}")]
    Invalid {
        origin: String,
        line: usize,
        column: usize,
        message: String,
    },
}

impl Expectations {
    /// Parses expectation text. Anything that could make a gate silently check less than its
    /// author meant is an error naming the file, line and column: an unknown scenario id
    /// (`known` lists the catalogue's), a malformed step label or verb, an unknown errno
    /// name, poll bit or TCP state, an unknown key, or a value of the wrong type.
    pub fn parse(origin: &str, text: &str, known: &[&str]) -> Result<Expectations, ExpectationError> {
        let syntax = |e: toml::de::Error| ExpectationError::Syntax {
            origin: origin.to_string(),
            message: e.to_string().trim_end().to_string(),
        };
        let tables: BTreeMap<Spanned<String>, Spanned<toml::Value>> = toml::from_str(text).map_err(syntax)?;
        let at = |offset: usize, message: String| {
            let (line, column) = line_column(text, offset);
            ExpectationError::Invalid {
                origin: origin.to_string(),
                line,
                column,
                message,
            }
        };
        let mut platform = PlatformInfo::default();
        let mut scenarios = BTreeMap::new();
        let (header, tables): (Vec<_>, Vec<_>) = tables.into_iter().partition(|(id, _)| id.get_ref() == PLATFORM_KEY);
        if let Some((id, table)) = header.into_iter().next() {
            platform = parse_platform(table.into_inner(), text, id.span().start)
                .map_err(|(offset, message)| at(offset, message))?;
        }
        for (id, table) in tables {
            let id_offset = id.span().start;
            if !known.contains(&id.get_ref().as_str()) {
                return Err(at(
                    id_offset,
                    format!("unknown scenario id {:?} (see `sockerr list`)", id.get_ref()),
                ));
            }
            let table_offset = table.span().start;
            let toml::Value::Table(entries) = table.into_inner() else {
                return Err(at(
                    table_offset,
                    format!("{:?} must be a table of step labels", id.get_ref()),
                ));
            };
            let scenario = parse_scenario(entries, text, id_offset, platform.documented)
                .map_err(|(offset, message)| at(offset, message))?;
            scenarios.insert(id.into_inner(), scenario);
        }
        Ok(Expectations {
            origin: origin.to_string(),
            platform,
            scenarios,
        })
    }

    /// Reads and parses an expectation file.
    pub fn load(path: &Path, known: &[&str]) -> Result<Expectations, ExpectationError> {
        let origin = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|error| ExpectationError::Io {
            origin: origin.clone(),
            error,
        })?;
        Self::parse(&origin, &text, known)
    }

    /// The expectations a run uses: `path` if given, else the file named by the
    /// `SOCKERR_EXPECT` environment variable, else the built-in file of this platform (none on
    /// a platform without one: every trial is then `observed`).
    pub fn for_run(path: Option<&Path>, known: &[&str]) -> Result<Expectations, ExpectationError> {
        let from_env = std::env::var_os("SOCKERR_EXPECT")
            .filter(|v| !v.is_empty())
            .map(std::path::PathBuf::from);
        match path.map(Path::to_path_buf).or(from_env) {
            Some(file) => Self::load(&file, known),
            None => match built_in() {
                Some((origin, text)) => Self::parse(origin, text, known),
                None => Ok(Expectations {
                    origin: "(no expectations for this platform)".into(),
                    ..Expectations::default()
                }),
            },
        }
    }

    pub fn for_scenario(&self, id: &str) -> Option<&ScenarioExpectation> {
        self.scenarios.get(id)
    }
}

/// 1-based line and column of a byte offset.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// Byte offset of the line that defines `key` (quoted or bare) at or after `from`, for error
/// positions: toml's `Value` keeps no spans inside a table.
fn key_offset(text: &str, key: &str, from: usize) -> usize {
    let quoted = format!("\"{key}\"");
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim_start();
        let bare = trimmed
            .strip_prefix(key)
            .is_some_and(|rest| rest.trim_start().starts_with(['=', '.']));
        if offset >= from && (trimmed.starts_with(&quoted) || bare) {
            return offset + (line.len() - trimmed.len());
        }
        offset += line.len();
    }
    from
}

/// Verbs the endpoint records (`Endpoint` in the harness): a label with another verb can
/// never match a step.
const VERBS: &[&str] = &[
    "listen",
    "bind",
    "connect",
    "accept",
    "read",
    "write",
    "send",
    "shutdown",
    "so_error",
    "getpeername",
    "setsockopt",
    "poll",
    "close",
    "abort",
    "epoll_wait",
    "kill",
    // UDP and Unix-domain endpoints (harness datagram.rs, unix_socket.rs).
    "sendto",
    "recv",
    "recv_errqueue",
    "bind",
    // A firewall change (harness firewall.rs): its outcome is nft's exit status.
    "nft",
];

const POLL_NAMES: &[&str] = &[
    "POLLIN",
    "POLLPRI",
    "POLLOUT",
    "POLLRDHUP",
    "POLLERR",
    "POLLHUP",
    "POLLNVAL",
    // epoll_wait steps record epoll's own names.
    "EPOLLIN",
    "EPOLLPRI",
    "EPOLLOUT",
    "EPOLLRDHUP",
    "EPOLLERR",
    "EPOLLHUP",
];

/// A problem at a byte offset of the file.
type Problem = (usize, String);

/// Reads `[_platform]`: `documented` (a boolean), `name` (a string), `sources` (strings).
fn parse_platform(value: toml::Value, text: &str, table_offset: usize) -> Result<PlatformInfo, Problem> {
    let toml::Value::Table(fields) = value else {
        return Err((
            table_offset,
            format!("{PLATFORM_KEY:?} must be a table {{documented = true, name = \"...\", sources = [...]}}"),
        ));
    };
    let mut platform = PlatformInfo::default();
    for (field, v) in fields {
        let offset = key_offset(text, &field, table_offset);
        let problem = |message: String| (offset, format!("{PLATFORM_KEY}.{field}: {message}"));
        match field.as_str() {
            "documented" => {
                platform.documented = v
                    .as_bool()
                    .ok_or_else(|| problem(format!("expected a boolean, found {}", type_name(&v))))?
            }
            "name" => {
                platform.name = Some(
                    v.as_str()
                        .ok_or_else(|| problem(format!("expected a string, found {}", type_name(&v))))?
                        .into(),
                )
            }
            "sources" => platform.sources = strings(&v, "sources").map_err(problem)?,
            other => {
                return Err((
                    offset,
                    format!("{PLATFORM_KEY}: unknown key {other:?} (documented, name, sources)"),
                ));
            }
        }
    }
    Ok(platform)
}

fn parse_scenario(
    entries: toml::Table,
    text: &str,
    table_offset: usize,
    documented: bool,
) -> Result<ScenarioExpectation, Problem> {
    let mut scenario = ScenarioExpectation::default();
    for (key, value) in entries {
        let offset = key_offset(text, &key, table_offset);
        let problem = |message: String| (offset, message);
        if key == "wire" {
            scenario.wire = parse_wire(&value, documented).map_err(problem)?;
            continue;
        }
        check_label(&key).map_err(problem)?;
        let step = parse_step(&value, documented).map_err(|m| problem(format!("{key:?}: {m}")))?;
        scenario.steps.insert(key, step);
    }
    Ok(scenario)
}

/// `evidence`: one tag of docs/platforms.md#evidence-tags.
fn parse_evidence(value: &toml::Value) -> Result<String, String> {
    match value.as_str() {
        Some(tag) if EVIDENCE_TAGS.contains(&tag) => Ok(tag.to_string()),
        Some(tag) => Err(format!(
            "unknown evidence tag {tag:?} (one of {}: docs/platforms.md#evidence-tags)",
            EVIDENCE_TAGS.join(", ")
        )),
        None => Err(format!("evidence: expected a string, found {}", type_name(value))),
    }
}

/// `source`: a non-empty string.
fn parse_source(value: &toml::Value) -> Result<String, String> {
    match value.as_str() {
        Some(s) if !s.trim().is_empty() => Ok(s.to_string()),
        Some(_) => Err("source: empty".to_string()),
        None => Err(format!("source: expected a string, found {}", type_name(value))),
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

fn check_label(label: &str) -> Result<(), String> {
    let bad = || format!("{label:?} is not a step label: write actor.verb#n, e.g. \"client.read#1\"");
    let (actor, rest) = label.split_once('.').ok_or_else(bad)?;
    let (verb, n) = rest.split_once('#').ok_or_else(bad)?;
    if actor.is_empty() || !actor.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(bad());
    }
    if !VERBS.contains(&verb) {
        return Err(format!(
            "{label:?}: unknown verb {verb:?} (one of {})",
            VERBS.join(", ")
        ));
    }
    match n.parse::<u32>() {
        Ok(n) if n >= 1 => Ok(()),
        _ => Err(bad()),
    }
}

fn type_name(value: &toml::Value) -> &'static str {
    match value {
        toml::Value::String(_) => "a string",
        toml::Value::Integer(_) => "an integer",
        toml::Value::Float(_) => "a float",
        toml::Value::Boolean(_) => "a boolean",
        toml::Value::Datetime(_) => "a date",
        toml::Value::Array(_) => "a list",
        toml::Value::Table(_) => "a table",
    }
}

/// A string or a list of strings.
fn strings(value: &toml::Value, what: &str) -> Result<Vec<String>, String> {
    match value {
        toml::Value::String(s) => Ok(vec![s.clone()]),
        toml::Value::Array(items) => items
            .iter()
            .map(|i| {
                i.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| format!("{what}: expected strings, found {}", type_name(i)))
            })
            .collect(),
        other => Err(format!(
            "{what}: expected a string or a list of strings, found {}",
            type_name(other)
        )),
    }
}

fn check_each(items: &[String], what: &str, valid: impl Fn(&str) -> bool, hint: &str) -> Result<(), String> {
    match items.iter().find(|i| !valid(i)) {
        Some(bad) => Err(format!("unknown {what} {bad:?} ({hint})")),
        None => Ok(()),
    }
}

fn is_outcome(token: &str, documented: bool) -> bool {
    token == "ok"
        || token == "killed"
        || token.strip_prefix("ok=").is_some_and(|n| n.parse::<i64>().is_ok())
        || if documented {
            has_errno_form(token)
        } else {
            is_errno_name(token)
        }
}

/// Whether `name` looks like an errno name of some platform: `E` or `WSAE` followed by capitals
/// and digits (`EPROTOTYPE`, `WSAECONNRESET`).
fn has_errno_form(name: &str) -> bool {
    let rest = name
        .strip_prefix("WSAE")
        .or_else(|| name.strip_prefix('E'))
        .unwrap_or("");
    !rest.is_empty() && rest.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
}

/// Whether `name` is an errno name of this platform (`ECONNRESET`).
fn is_errno_name(name: &str) -> bool {
    name.starts_with('E') && (1..4096).any(|code| sockerr_harness::sys::errno_name(code) == name)
}

fn parse_step(value: &toml::Value, documented: bool) -> Result<StepExpectation, String> {
    let mut step = StepExpectation::default();
    match value {
        toml::Value::Table(fields) => {
            for (field, v) in fields {
                match field.as_str() {
                    "result" => step.result = Some(strings(v, "result")?),
                    "signals" => step.signals = Some(strings(v, "signals")?),
                    "revents" => step.revents = Some(strings(v, "revents")?),
                    "tcp_state" => step.tcp_state = Some(strings(v, "tcp_state")?),
                    "evidence" => step.evidence = Some(parse_evidence(v)?),
                    "source" => step.source = Some(parse_source(v)?),
                    other => {
                        return Err(format!(
                            "unknown key {other:?} (result, signals, revents, tcp_state, evidence, source)"
                        ));
                    }
                }
            }
        }
        other => step.result = Some(strings(other, "outcome").map_err(|_| {
            format!(
                "expected an outcome, a list of outcomes or a table {{result, signals, revents, tcp_state}}, found {}",
                type_name(other)
            )
        })?),
    }
    require_evidence(documented, &step.evidence, &step.source)?;
    if let Some(r) = &step.result {
        let hint = if documented {
            "an errno name such as ECONNRESET or WSAECONNRESET, ok, ok=N or killed"
        } else {
            "an errno name of this platform such as ECONNRESET, ok, ok=N or killed"
        };
        check_each(r, "outcome", |t| is_outcome(t, documented), hint)?;
    }
    if let Some(s) = &step.signals {
        check_each(
            s,
            "signal",
            |n| n.starts_with("SIG") && n.len() > 3,
            "a signal name such as SIGPIPE",
        )?;
    }
    if let Some(r) = &step.revents {
        check_each(r, "poll bit", |n| POLL_NAMES.contains(&n), &POLL_NAMES.join(", "))?;
    }
    if let Some(t) = &step.tcp_state {
        // A state name TCP_INFO gives, or `-` for a socket that is gone.
        let states = &sockerr_harness::sys::TCP_STATES[1..];
        check_each(t, "TCP state", |n| n == "-" || states.contains(&n), &states.join(", "))?;
    }
    Ok(step)
}

fn parse_wire(value: &toml::Value, documented: bool) -> Result<WireExpectation, String> {
    let toml::Value::Table(fields) = value else {
        return Err(format!(
            "wire: expected a table {{has = [...], lacks = [...]}}, found {}",
            type_name(value)
        ));
    };
    let mut wire = WireExpectation::default();
    for (field, v) in fields {
        match field.as_str() {
            "evidence" => {
                wire.evidence = Some(parse_evidence(v).map_err(|m| format!("wire: {m}"))?);
                continue;
            }
            "source" => {
                wire.source = Some(parse_source(v).map_err(|m| format!("wire: {m}"))?);
                continue;
            }
            _ => {}
        }
        let items = strings(v, &format!("wire.{field}"))?;
        if let Some(bad) = items.iter().find(|i| !is_segment_pattern(i)) {
            return Err(format!(
                "wire.{field}: {bad:?} is not \"client>server FLAGS\" or \"server>client FLAGS\" (or router>client, router>server; FLAGS as tcpdump's, UDP, or ICMP NAME)"
            ));
        }
        match field.as_str() {
            "has" => wire.has = items,
            "lacks" => wire.lacks = items,
            other => return Err(format!("wire: unknown key {other:?} (has, lacks, evidence, source)")),
        }
    }
    require_evidence(documented, &wire.evidence, &wire.source).map_err(|m| format!("wire: {m}"))?;
    Ok(wire)
}

/// `dir flags`: a direction of the capture, then TCP flags in tcpdump's notation, `UDP`, or an
/// ICMP error as the capture names it (`ICMP host-unreachable`, `ICMP6 no-route`). Flags may
/// list alternatives joined by `|` (`ICMP host-unreachable|ICMP6 addr-unreachable`), for a fact
/// whose packet differs by family only.
fn is_segment_pattern(item: &str) -> bool {
    const DIRECTIONS: [&str; 4] = ["client>server", "server>client", "router>client", "router>server"];
    item.split_once(' ')
        .is_some_and(|(dir, flags)| DIRECTIONS.contains(&dir) && flags.split('|').map(str::trim).all(is_flags_pattern))
}

/// TCP flags in tcpdump's notation (`R.`), `UDP`, or an ICMP error as the capture names it
/// (`ICMP port-unreachable`, `ICMP6 addr-unreachable`).
fn is_flags_pattern(flags: &str) -> bool {
    let flags = flags.trim();
    let tcp = !flags.is_empty() && flags.chars().all(|c| "SFRPUEW.".contains(c));
    let icmp = ["ICMP ", "ICMP6 "]
        .iter()
        .any(|p| flags.strip_prefix(p).is_some_and(|n| !n.is_empty()));
    tcp || flags == "UDP" || icmp
}

/// Whether an observed outcome is one of the expected ones.
fn outcome_matches(expected: &str, observed: &Step) -> bool {
    let outcome = observed.outcome();
    expected == outcome || (expected == "ok" && observed.result.ret.is_some() && observed.result.errno.is_none())
}

fn set_text(items: &[String]) -> String {
    if items.len() == 1 {
        items[0].clone()
    } else {
        format!("one of {{{}}}", items.join(", "))
    }
}

fn step_context(step: &Step) -> String {
    let revents = if step.revents.is_empty() {
        "none".to_string()
    } else {
        step.revents.join("|")
    };
    let state = step.tcp_state.as_deref().unwrap_or("-");
    let signals = if step.signals.is_empty() {
        "none".to_string()
    } else {
        step.signals.join(",")
    };
    format!("revents {revents}; state {state}; signals {signals}")
}

impl ScenarioExpectation {
    /// Every way the observation differs from this expectation, one readable block each.
    pub fn compare(&self, observation: &Observation) -> Vec<String> {
        let mut differences = Vec::new();
        if let Some(error) = &observation.error {
            differences.push(format!("the trial did not run to its end: {error}"));
        }
        for (label, expected) in &self.steps {
            let Some(step) = observation.steps.iter().find(|s| &s.label == label) else {
                differences.push(format!("step {label}: expected, but the trial has no such step"));
                continue;
            };
            let mut lines = Vec::new();
            if let Some(items) = &expected.result {
                if !items.iter().any(|e| outcome_matches(e, step)) {
                    lines.push(format!(
                        "    expected  {}\n    observed  {}",
                        set_text(items),
                        step.outcome()
                    ));
                }
            }
            if let Some(signals) = &expected.signals {
                if signals != &step.signals {
                    lines.push(format!(
                        "    expected  signals [{}]\n    observed  signals [{}]",
                        signals.join(", "),
                        step.signals.join(", ")
                    ));
                }
            }
            if let Some(revents) = &expected.revents {
                let mut want = revents.clone();
                let mut got = step.revents.clone();
                want.sort();
                got.sort();
                if want != got {
                    lines.push(format!(
                        "    expected  revents {}\n    observed  revents {}",
                        revents.join("|"),
                        step.revents.join("|")
                    ));
                }
            }
            if let Some(items) = &expected.tcp_state {
                let state = step.tcp_state.clone().unwrap_or_else(|| "-".into());
                if !items.contains(&state) {
                    lines.push(format!(
                        "    expected  state {}\n    observed  state {state}",
                        set_text(items)
                    ));
                }
            }
            if !lines.is_empty() {
                differences.push(format!(
                    "step {label}  {}\n{}\n    context   {}",
                    step.op,
                    lines.join("\n"),
                    step_context(step)
                ));
            }
        }
        for item in &self.wire.has {
            if !observation.wire.segments.iter().any(|s| segment_matches(item, s)) {
                differences.push(format!("wire: expected a segment {item}, none was captured"));
            }
        }
        for item in &self.wire.lacks {
            if let Some(s) = observation.wire.segments.iter().find(|s| segment_matches(item, s)) {
                differences.push(format!("wire: expected no segment {item}, but captured {s}"));
            }
        }
        differences
    }
}

/// `server>client R.` matches a segment with that direction and exactly those flags;
/// `server>client ICMP port-unreachable | ICMP6 port-unreachable` one with either, for a
/// fact that holds in both families under each family's name.
fn segment_matches(item: &str, segment: &Segment) -> bool {
    match item.split_once(' ') {
        Some((dir, flags)) => segment.dir.as_str() == dir && flags.split('|').any(|f| segment.flags == f.trim()),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;
    use sockerr_harness::{CallResult, Direction, Segment, Wire};

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
                }],
                drops: 0,
                pcap: None,
            },
            ..Observation::default()
        }
    }

    fn parse(text: &str) -> ScenarioExpectation {
        let e = Expectations::parse("test.toml", text, &["s.x"]).unwrap_or_else(|e| panic!("{e}"));
        e.scenarios["s.x"].clone()
    }

    #[rstest]
    #[case::exact_errno(r#""client.read#1" = "ECONNRESET""#)]
    #[case::member_of_a_set(r#""client.read#1" = ["EPIPE", "ECONNRESET"]"#)]
    #[case::any_success(r#""client.read#2" = "ok""#)]
    #[case::exact_return(r#""client.read#2" = "ok=0""#)]
    #[case::signals_too(r#""client.write#1" = { result = "EPIPE", signals = ["SIGPIPE"] }"#)]
    #[case::wire_fact("wire = { has = [\"server>client R.\"], lacks = [\"client>server R\"] }")]
    #[case::wire_fact_with_alternatives(
        "wire = { has = [\"server>client F. | R.\"], lacks = [\"server>client F. | S.\"] }"
    )]
    #[case::wire_alternatives(
        "wire = { has = [\"server>client P.|R.\"], lacks = [\"router>client ICMP host-unreachable|UDP\"] }"
    )]
    fn an_expectation_that_holds_gives_no_difference(#[case] entry: &str) {
        let e = parse(&format!("[\"s.x\"]\n{entry}\n"));
        assert_eq!(e.compare(&observation()), Vec::<String>::new());
    }

    #[test]
    fn a_wrong_errno_gives_a_diff_naming_step_expected_and_observed() {
        // The gate must fail when behaviour changes (docs/design.md principle 5).
        let e = parse("[\"s.x\"]\n\"client.read#1\" = \"EPIPE\"\n");
        let diff = e.compare(&observation());
        assert_eq!(diff.len(), 1);
        assert!(diff[0].contains("step client.read#1  read(64)"), "{}", diff[0]);
        assert!(diff[0].contains("expected  EPIPE"), "{}", diff[0]);
        assert!(diff[0].contains("observed  ECONNRESET"), "{}", diff[0]);
    }

    #[test]
    fn a_missing_signal_and_a_missing_segment_are_both_reported() {
        let e = parse("[\"s.x\"]\n\"client.write#1\" = { signals = [] }\nwire = { has = [\"server>client F.\"] }\n");
        let diff = e.compare(&observation());
        assert_eq!(diff.len(), 2, "{diff:#?}");
        assert!(diff[1].contains("server>client F."));
    }

    #[test]
    fn an_expected_step_the_trial_never_took_is_a_difference() {
        let e = parse("[\"s.x\"]\n\"client.read#9\" = \"ok=0\"\n");
        assert!(e.compare(&observation())[0].contains("no such step"));
    }

    #[rstest]
    #[case::unknown_scenario(
        "[\"s.typo\"]\n\"client.read#1\" = \"EPIPE\"\n",
        "f.toml:1:2: unknown scenario id \"s.typo\""
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
        "f.toml:2:1: \"client.read#1\": unknown outcome \"ECONNRESETT\""
    )]
    #[case::wrong_type(
        "[\"s.x\"]\n\"client.read#1\" = 104\n",
        "f.toml:2:1: \"client.read#1\": expected an outcome, a list of outcomes or a table"
    )]
    #[case::unknown_field("[\"s.x\"]\n\"client.read#1\" = { reslt = \"EPIPE\" }\n", "unknown key \"reslt\"")]
    #[case::bad_poll_bit(
        "[\"s.x\"]\n\"client.poll#1\" = { revents = [\"POLLIN\", \"POLLRDHP\"] }\n",
        "unknown poll bit \"POLLRDHP\""
    )]
    #[case::bad_wire(
        "[\"s.x\"]\nwire = { has = [\"server client R\"] }\n",
        "f.toml:2:1: wire.has: \"server client R\" is not"
    )]
    fn a_malformed_expectation_is_refused_with_its_position(#[case] text: &str, #[case] message: &str) {
        let err = Expectations::parse("f.toml", text, &["s.x"]).unwrap_err().to_string();
        assert!(err.contains(message), "{err}");
    }

    #[test]
    fn a_syntax_error_names_the_file_and_line() {
        let err = Expectations::parse("f.toml", "[\"s.x\"]\n\"client.read#1\" = \n", &["s.x"]).unwrap_err();
        let text = err.to_string();
        assert!(text.starts_with("f.toml: "), "{text}");
        assert!(text.contains("line 2"), "{text}");
    }

    #[test]
    fn the_built_in_linux_expectations_parse() {
        let (origin, text) = built_in().expect("linux has built-in expectations");
        Expectations::parse(origin, text, &crate::catalogue::ids()).unwrap();
    }

    #[test]
    fn linux_toml_is_measured_and_parsed_strictly() {
        // Measured: no [_platform] table saying otherwise, so errno names must be this
        // platform's. The same file with another platform's errno name is refused.
        let (origin, text) = built_in().expect("linux has built-in expectations");
        let ids = crate::catalogue::ids();
        let linux = Expectations::parse(origin, text, &ids).unwrap();
        assert!(!linux.platform.documented);
        let foreign = text.replacen(
            "\"client.read#1\" = \"ok=0\"",
            "\"client.read#1\" = \"WSAECONNRESET\"",
            1,
        );
        assert_ne!(foreign, text, "the substitution must hit");
        let err = Expectations::parse(origin, &foreign, &ids).unwrap_err().to_string();
        assert!(err.contains("unknown outcome \"WSAECONNRESET\""), "{err}");
    }

    #[test]
    fn each_documented_file_parses_and_every_entry_has_evidence_and_a_source() {
        let ids = crate::catalogue::ids();
        for (origin, text) in documented_files() {
            let e = Expectations::parse(origin, text, &ids).unwrap_or_else(|e| panic!("{e}"));
            assert!(e.platform.documented, "{origin}: [_platform] documented = true");
            assert!(e.platform.name.is_some(), "{origin}: [_platform] name");
            assert!(!e.platform.sources.is_empty(), "{origin}: [_platform] sources");
            assert!(!e.scenarios.is_empty(), "{origin}: no scenario");
            for (id, scenario) in &e.scenarios {
                for (label, step) in &scenario.steps {
                    let tag = step
                        .evidence
                        .as_deref()
                        .unwrap_or_else(|| panic!("{origin} {id} {label}: no evidence"));
                    assert!(EVIDENCE_TAGS.contains(&tag), "{origin} {id} {label}: {tag}");
                    assert!(
                        step.source.as_deref().is_some_and(|s| !s.trim().is_empty()),
                        "{origin} {id} {label}: no source"
                    );
                    assert!(
                        step.result.is_some() || step.revents.is_some(),
                        "{origin} {id} {label}: states nothing"
                    );
                }
                let wire = &scenario.wire;
                if !wire.has.is_empty() || !wire.lacks.is_empty() {
                    assert!(
                        wire.evidence.is_some() && wire.source.is_some(),
                        "{origin} {id} wire: no evidence or source"
                    );
                }
            }
        }
    }

    #[test]
    fn documented_files_name_only_steps_the_measured_file_names() {
        // A label no scenario records could never be compared: catch typos such as
        // client.write#2 for a scenario that sends. linux.toml is checked against real runs.
        let linux = Expectations::parse("linux", built_in().unwrap().1, &crate::catalogue::ids()).unwrap();
        for (origin, text) in documented_files() {
            let e = Expectations::parse(origin, text, &crate::catalogue::ids()).unwrap();
            for (id, scenario) in &e.scenarios {
                for label in scenario.steps.keys() {
                    assert!(
                        linux.scenarios[id].steps.contains_key(label),
                        "{origin}: {id} {label} is in no measured file"
                    );
                }
            }
        }
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
    fn documented_forms_parse(#[case] text: &str) {
        Expectations::parse("f.toml", text, &["s.x"]).unwrap_or_else(|e| panic!("{e}"));
    }

    #[test]
    fn evidence_and_source_are_kept() {
        let text = "[_platform]\ndocumented = true\nname = \"P 1\"\n[\"s.x\"]\n\"client.read#1\" = { result = \"WSAECONNRESET\", evidence = \"D\", source = \"MS recv docs\" }\n";
        let e = Expectations::parse("f.toml", text, &["s.x"]).unwrap();
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
        "f.toml:2:1: \"client.read#1\": unknown evidence tag \"X\""
    )]
    #[case::foreign_errno_in_a_measured_file(
        "[\"s.x\"]\n\"client.read#1\" = \"WSAECONNRESET\"\n",
        "unknown outcome \"WSAECONNRESET\""
    )]
    #[case::malformed_errno_in_a_documented_file(
        "[_platform]\ndocumented = true\n[\"s.x\"]\n\"client.read#1\" = { result = \"Econnreset\", evidence = \"S\", source = \"s\" }\n",
        "f.toml:4:1: \"client.read#1\": unknown outcome \"Econnreset\""
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
        "wire: a documented value needs evidence"
    )]
    #[case::unknown_platform_key(
        "[_platform]\ndocumneted = true\n",
        "f.toml:2:1: _platform: unknown key \"documneted\""
    )]
    #[case::platform_wrong_type(
        "[_platform]\ndocumented = \"yes\"\n",
        "f.toml:2:1: _platform.documented: expected a boolean, found a string"
    )]
    #[case::platform_not_a_table("_platform = 1\n", "\"_platform\" must be a table")]
    #[case::empty_source(
        "[\"s.x\"]\n\"client.read#1\" = { result = \"EPIPE\", evidence = \"S\", source = \" \" }\n",
        "source: empty"
    )]
    fn a_malformed_documented_entry_is_refused(#[case] text: &str, #[case] message: &str) {
        let err = Expectations::parse("f.toml", text, &["s.x"]).unwrap_err().to_string();
        assert!(err.contains(message), "{err}");
    }
}

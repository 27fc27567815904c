//! The names an expectation file may use, and what to say about one it may not: step labels
//! and their verbs, outcomes and errno names, signals, poll bits, TCP states, wire patterns,
//! evidence tags, runtime names and outcomes. Every refusal suggests the closest known name.

use std::sync::OnceLock;

use sockerr_harness::{Events, Verb};

use super::EVIDENCE_TAGS;
use crate::suggest::did_you_mean;

/// Directions of the capture a wire item may name.
const DIRECTIONS: [&str; 4] = ["client>server", "server>client", "router>client", "router>server"];

/// Every errno name of this platform, looked up once.
fn errno_names() -> &'static [String] {
    static NAMES: OnceLock<Vec<String>> = OnceLock::new();
    NAMES.get_or_init(crate::knowledge::errno::names)
}

/// TCP state names TCP_INFO gives, and `-` for a socket that is gone.
fn tcp_states() -> Vec<&'static str> {
    let mut states = vec!["-"];
    states.extend_from_slice(&sockerr_harness::sys::TCP_STATES[1..]);
    states
}

/// `unknown poll bit "POLLRDHP"; did you mean POLLRDHUP?` when a known name is close, else
/// `unknown poll bit "X" (POLLIN, ...)` with `otherwise` saying what is accepted.
fn unknown<'a>(what: &str, name: &str, candidates: impl IntoIterator<Item = &'a str>, otherwise: &str) -> String {
    match did_you_mean(name, candidates) {
        suggestion if suggestion.is_empty() => format!("unknown {what} {name:?} ({otherwise})"),
        suggestion => format!("unknown {what} {name:?}{suggestion}"),
    }
}

/// Every verb's name, for messages.
fn verb_names() -> Vec<&'static str> {
    Verb::ALL.iter().map(|v| v.as_str()).collect()
}

/// `actor.verb#n`, `n` from 1, a verb some endpoint records (`sockerr_harness::Verb`).
pub fn check_label(label: &str) -> Result<(), String> {
    let bad = || format!("{label:?} is not a step label: write actor.verb#n, e.g. \"client.read#1\"");
    let (actor, rest) = label.split_once('.').ok_or_else(bad)?;
    let (verb, n) = rest.split_once('#').ok_or_else(bad)?;
    if actor.is_empty() || !actor.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(bad());
    }
    if verb.parse::<Verb>().is_err() {
        let names = verb_names();
        let otherwise = format!("one of {}", names.join(", "));
        return Err(format!(
            "{label:?}: {}",
            unknown("verb", verb, names.iter().copied(), &otherwise)
        ));
    }
    match n.parse::<u32>() {
        Ok(n) if n >= 1 => Ok(()),
        _ => Err(bad()),
    }
}

/// An outcome in its canonical spelling: errno names in capitals (`econnreset` is
/// `ECONNRESET`), `ok`, `ok=N`, `killed` as they are. In a documented file an errno name is
/// checked by its form only (another platform's names); elsewhere it must be this platform's.
pub fn outcome(token: &str, documented: bool) -> Result<String, String> {
    if token == "ok" || token == "killed" || token.strip_prefix("ok=").is_some_and(|n| n.parse::<i64>().is_ok()) {
        return Ok(token.to_string());
    }
    let upper = token.to_ascii_uppercase();
    let known = if documented {
        has_errno_form(&upper)
    } else {
        errno_names().contains(&upper)
    };
    if known {
        return Ok(upper);
    }
    Err(if documented {
        format!("unknown outcome {token:?} (an errno name such as ECONNRESET or WSAECONNRESET, ok, ok=N or killed)")
    } else {
        let otherwise = "an errno name of this platform such as ECONNRESET, ok, ok=N or killed";
        unknown("outcome", token, errno_names().iter().map(String::as_str), otherwise)
    })
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

pub fn signal(name: &str) -> Result<(), String> {
    if name.starts_with("SIG") && name.len() > 3 {
        Ok(())
    } else {
        Err(format!("unknown signal {name:?} (a signal name such as SIGPIPE)"))
    }
}

/// A readiness event as poll steps (`POLLIN`) or epoll steps (`EPOLLIN`) name it.
pub fn poll_bit(name: &str) -> Result<(), String> {
    let names = Events::all_names();
    if names.iter().any(|n| n == name) {
        return Ok(());
    }
    Err(unknown(
        "poll bit",
        name,
        names.iter().map(String::as_str),
        &names.join(", "),
    ))
}

pub fn tcp_state(name: &str) -> Result<(), String> {
    let states = tcp_states();
    if states.contains(&name) {
        return Ok(());
    }
    Err(unknown(
        "TCP state",
        name,
        states.iter().copied(),
        &states[1..].join(", "),
    ))
}

/// `evidence`: one tag of docs/platforms.md#evidence-tags.
pub fn evidence(tag: &str) -> Result<(), String> {
    if EVIDENCE_TAGS.contains(&tag) {
        return Ok(());
    }
    Err(format!(
        "unknown evidence tag {tag:?} (one of {}: docs/platforms.md#evidence-tags)",
        EVIDENCE_TAGS.join(", ")
    ))
}

/// The prefix of a segment pattern that matches only segments the trial forged.
pub const INJECTED: &str = "injected ";

/// `dir flags`: a direction of the capture, then TCP flags in tcpdump's notation, `UDP`, or an
/// ICMP error as the capture names it (`ICMP host-unreachable`, `ICMP6 no-route`). Flags may
/// list alternatives joined by `|` (`ICMP host-unreachable|ICMP6 addr-unreachable`), for a fact
/// whose packet differs by family only. `injected ` in front matches only segments the trial
/// forged (`injected server>client R`).
pub fn segment_pattern(item: &str) -> Result<(), String> {
    let item = item.strip_prefix(INJECTED).unwrap_or(item);
    let valid = item
        .split_once(' ')
        .is_some_and(|(dir, flags)| DIRECTIONS.contains(&dir) && flags.split('|').all(is_flags_pattern));
    if valid {
        return Ok(());
    }
    let direction = item.split(' ').next().unwrap_or("");
    let suggestion = if DIRECTIONS.contains(&direction) {
        String::new()
    } else {
        did_you_mean(direction, DIRECTIONS)
    };
    Err(format!(
        "{item:?} is not \"client>server FLAGS\" or \"server>client FLAGS\" (or router>client, router>server; \
         FLAGS as tcpdump's, UDP, or ICMP NAME){suggestion}"
    ))
}

/// TCP flags in tcpdump's notation (`R.`), `UDP`, or an ICMP error as the capture names it.
fn is_flags_pattern(flags: &str) -> bool {
    let flags = flags.trim();
    let tcp = !flags.is_empty() && flags.chars().all(|c| "SFRPUEW.".contains(c));
    let icmp = ["ICMP ", "ICMP6 "]
        .iter()
        .any(|p| flags.strip_prefix(p).is_some_and(|n| !n.is_empty()));
    tcp || flags == "UDP" || flags == "none" || icmp
}

/// A runtime client's API as the runtime protocol names it: words of letters and digits
/// joined by `.` (`java.net.Socket`, `node.net.allowHalfOpen`, `rust.tokio`).
pub fn runtime_api(name: &str) -> Result<(), String> {
    let valid = name
        .split('.')
        .all(|w| !w.is_empty() && w.chars().all(|c| c.is_ascii_alphanumeric()));
    if valid && name.contains('.') {
        Ok(())
    } else {
        Err(format!(
            "{name:?} is not a runtime API: write it as the runtime protocol names it, e.g. \"java.net.Socket\" or \"python.asyncio\""
        ))
    }
}

/// The outcomes a runtime step can have, as recorded.
const RUNTIME_OUTCOMES: [&str; 4] = ["ok", "error", "unsupported", "lost"];

/// A runtime step's outcome: `ok`, `ok=V` (the recorded return value), `error`,
/// `unsupported`, `lost`.
pub fn runtime_outcome(token: &str) -> Result<(), String> {
    if RUNTIME_OUTCOMES.contains(&token) || token.strip_prefix("ok=").is_some_and(|v| !v.is_empty()) {
        return Ok(());
    }
    Err(unknown(
        "runtime outcome",
        token,
        RUNTIME_OUTCOMES,
        "ok, ok=VALUE, error, unsupported or lost",
    ))
}

/// A code a runtime exposes: an errno name of any platform's form (`ECONNRESET`), or another
/// runtime code without spaces (`ERR_STREAM_DESTROYED`).
pub fn runtime_code(code: &str) -> Result<(), String> {
    if !code.is_empty() && !code.contains(char::is_whitespace) {
        Ok(())
    } else {
        Err(format!(
            "{code:?} is not a code (a name without spaces, e.g. ECONNRESET)"
        ))
    }
}

/// A known key, or a message naming the closest of `known`.
pub fn key(table: &str, key: &str, known: &[&str]) -> Result<(), String> {
    if known.contains(&key) {
        return Ok(());
    }
    Err(format!(
        "{table}{}",
        unknown("key", key, known.iter().copied(), &known.join(", "))
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errno_names_are_accepted_in_any_case_and_kept_in_capitals() {
        assert_eq!(outcome("econnreset", false), Ok("ECONNRESET".into()));
        assert_eq!(outcome("EConnReset", true), Ok("ECONNRESET".into()));
        assert_eq!(outcome("ok=0", false), Ok("ok=0".into()));
    }

    #[test]
    fn a_mistyped_name_is_answered_with_the_closest_known_one() {
        assert_eq!(
            outcome("ECONNRESTE", false),
            Err("unknown outcome \"ECONNRESTE\"; did you mean ECONNRESET?".into())
        );
        assert!(
            check_label("client.reed#1")
                .unwrap_err()
                .ends_with("; did you mean read?")
        );
        assert!(poll_bit("POLLRDHP").unwrap_err().ends_with("; did you mean POLLRDHUP?"));
        assert!(tcp_state("CLOSED").unwrap_err().ends_with("; did you mean CLOSE?"));
        assert!(runtime_outcome("eror").unwrap_err().ends_with("; did you mean error?"));
        let direction = segment_pattern("server>cleint R.").unwrap_err();
        assert!(direction.ends_with("; did you mean server>client?"), "{direction}");
    }

    #[test]
    fn a_documented_file_accepts_another_platforms_errno_form_only() {
        assert_eq!(outcome("WSAECONNRESET", true), Ok("WSAECONNRESET".into()));
        assert!(outcome("WSAECONNRESET", false).is_err());
        assert!(outcome("ECONN-RESET", true).is_err());
    }

    #[test]
    fn every_verb_and_readiness_event_of_the_harness_is_accepted() {
        for verb in Verb::ALL {
            assert_eq!(check_label(&format!("client.{verb}#1")), Ok(()));
        }
        for name in Events::all_names() {
            assert_eq!(poll_bit(&name), Ok(()));
        }
    }
}

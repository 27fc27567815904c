//! The comparable outcome of a trial: what a run observed, with everything that legitimately
//! changes from one run to the next left out.
//!
//! Two runs of the same trial on the same system should agree on every syscall outcome,
//! signal, poll revents, TCP state and segment. They will not agree on timings, on the
//! ephemeral port the client got, on descriptor numbers, or on absolute sequence numbers
//! (random initial sequence numbers). A [`TrialSignature`] keeps the former and drops the
//! latter, so that comparing signatures tells whether a trial behaved differently:
//! `sockerr stress` compares one trial over many runs, and a comparison of two saved reports
//! can use it the same way.
//!
//! What a signature holds, and what it leaves out:
//!
//! | kept | left out |
//! |---|---|
//! | status (pass, fail, skip, observed) | `elapsed_ms`, skip reason, mismatch texts |
//! | whether the trial ended with an error | the error text |
//! | per step: label, op, outcome (`ECONNRESET`, `ok=0`, `killed`), signals, revents, TCP state | `t_us`, `elapsed_us`, `detail` (it names descriptors and peer ports) |
//! | per unmet wait: what was awaited | waits that were met, all wait timings |
//! | whether the wire was captured | capture drops, the pcapng path |
//! | per segment: direction, flags, relative seq and ack, payload length | `t_us`, `src`/`dst` (ephemeral ports), the advertised window |
//!
//! A runtime trial (its client played by a Java, Python, Go, Node.js or Rust client) compares
//! what the runtime reported at each step, and the outcomes of the native steps of its other
//! actors; not its wire, nor any revents or TCP state the harness read after a step: a
//! runtime's own threads act on its socket whenever they see fit (Node.js ends its side, and
//! acknowledges a FIN, as soon as its event loop reads it), so the look at either end of the
//! connection races with them (the server's state after its shutdown is FIN_WAIT1 or, once
//! Node.js has answered, already CLOSE).
//!
//! A step's `op` names the server's address and port, which are fixed per variant (see
//! `sockerr_harness::trial::SERVER_PORT`), so it is stable. Relative sequence numbers are
//! stable too; see [`sockerr_harness::record::Segment`]. A runtime client's message may name
//! the client's ephemeral port (Go's `read tcp 127.0.0.1:36046->127.0.0.1:4000: ...`): in a
//! step's outcome a port of five digits is kept as `:*`.

use std::fmt;

use serde::{Deserialize, Serialize};
use sockerr_harness::record::{Direction, Segment, Step};

use crate::model::{Status, TrialReport};

/// The comparable outcome of one trial (see the module documentation for what it holds).
/// Equal signatures mean the trial behaved the same; its [`Display`](fmt::Display) form has
/// one line per item, so two signatures can be shown as a line diff ([`diff`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TrialSignature {
    pub status: Status,
    /// Whether the trial could not run to its end (its error text is left out).
    pub error: bool,
    pub steps: Vec<StepSignature>,
    /// What each wait that was not met before its deadline awaited, in trial order.
    pub unmet_waits: Vec<String>,
    /// Whether a capture ran for the whole trial.
    pub captured: bool,
    pub segments: Vec<SegmentSignature>,
}

/// The comparable part of one step.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct StepSignature {
    /// `actor.verb#n`.
    pub label: String,
    /// The call as made, e.g. `send(1 byte, MSG_NOSIGNAL)`.
    pub op: String,
    /// The errno name, `ok=N`, or `killed` ([`sockerr_harness::record::CallResult::outcome`]).
    pub outcome: String,
    pub signals: Vec<String>,
    pub revents: Vec<String>,
    pub tcp_state: Option<String>,
}

/// The comparable part of one segment: no time, addresses, ports or window.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SegmentSignature {
    pub dir: Direction,
    /// tcpdump notation: `S`, `S.`, `.`, `P.`, `F.`, `R`, `R.` ...
    pub flags: String,
    /// Relative sequence number.
    pub seq: u32,
    /// Relative acknowledgement number (0 without the ACK flag).
    pub ack: u32,
    /// Payload length in bytes.
    pub len: u32,
}

/// The comparable outcome of `trial`. A runtime trial compares what the runtime reported
/// (see the module documentation): its wire and the harness's looks at the runtime's socket
/// are left out.
pub fn signature(trial: &TrialReport) -> TrialSignature {
    let runtime_trial = trial.client.is_some();
    TrialSignature {
        status: trial.status,
        error: trial.error.is_some(),
        steps: trial
            .steps
            .iter()
            .map(|step| match runtime_trial {
                true => StepSignature::outcome_of(step),
                false => StepSignature::of(step),
            })
            .collect(),
        unmet_waits: trial.waits.iter().filter(|w| !w.met).map(|w| w.what.clone()).collect(),
        captured: trial.wire.captured,
        segments: match runtime_trial {
            true => Vec::new(),
            false => trial.wire.segments.iter().map(SegmentSignature::of).collect(),
        },
    }
}

impl StepSignature {
    /// The step without what the harness read after it (revents, TCP state): a step of a
    /// runtime trial, whose looks race with the runtime's own threads.
    pub fn outcome_of(step: &Step) -> StepSignature {
        StepSignature {
            revents: Vec::new(),
            tcp_state: None,
            ..StepSignature::of(step)
        }
    }

    pub fn of(step: &Step) -> StepSignature {
        StepSignature {
            label: step.label.clone(),
            op: step.op.clone(),
            outcome: without_ephemeral_ports(&step.outcome()),
            signals: step.signals.clone(),
            revents: match step.runtime {
                Some(_) => Vec::new(),
                None => step.revents.clone(),
            },
            tcp_state: match step.runtime {
                Some(_) => None,
                None => step.tcp_state.clone(),
            },
        }
    }
}

impl SegmentSignature {
    pub fn of(segment: &Segment) -> SegmentSignature {
        SegmentSignature {
            dir: segment.dir,
            flags: segment.flags.clone(),
            seq: segment.seq,
            ack: segment.ack,
            len: segment.len,
        }
    }
}

/// `text` with every port of five digits after a colon (an ephemeral port: the kernel hands
/// them out from 32768 up) written `:*`, so that outcomes of two runs compare.
pub fn without_ephemeral_ports(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(':') {
        out.push_str(&rest[..=at]);
        rest = &rest[at + 1..];
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 5 {
            out.push('*');
            rest = &rest[digits..];
        }
    }
    out.push_str(rest);
    out
}

fn names(list: &[String]) -> String {
    if list.is_empty() {
        "none".to_string()
    } else {
        list.join("|")
    }
}

impl fmt::Display for StepSignature {
    /// `step client.write#2  write(1 byte) -> EPIPE +SIGPIPE; revents POLLOUT|POLLERR; state CLOSE`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "step {}  {} -> {}", self.label, self.op, self.outcome)?;
        for s in &self.signals {
            write!(f, " +{s}")?;
        }
        write!(
            f,
            "; revents {}; state {}",
            names(&self.revents),
            self.tcp_state.as_deref().unwrap_or("-")
        )
    }
}

impl fmt::Display for SegmentSignature {
    /// `wire client>server [S.] seq 0 ack 1 len 0`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "wire {} [{}] seq {} ack {} len {}",
            self.dir, self.flags, self.seq, self.ack, self.len
        )
    }
}

impl fmt::Display for TrialSignature {
    /// One line per item: status, error, each step, each unmet wait, capture, each segment.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "status {}", self.status.as_str())?;
        writeln!(f, "error {}", if self.error { "yes" } else { "no" })?;
        for s in &self.steps {
            writeln!(f, "{s}")?;
        }
        for w in &self.unmet_waits {
            writeln!(f, "unmet wait: {w}")?;
        }
        writeln!(f, "captured {}", if self.captured { "yes" } else { "no" })?;
        for s in &self.segments {
            writeln!(f, "{s}")?;
        }
        Ok(())
    }
}

impl TrialSignature {
    /// A line diff from `self` to `other` ([`diff`] of their displays).
    pub fn diff(&self, other: &TrialSignature) -> String {
        diff(&self.to_string(), &other.to_string())
    }
}

/// A line diff of two texts: every line of both, in order, prefixed `  ` when common to both,
/// `- ` when only in `old`, `+ ` when only in `new` (a longest common subsequence of lines;
/// meant for the few dozen lines of a signature, it takes time proportional to their product).
pub fn diff(old: &str, new: &str) -> String {
    let a: Vec<&str> = old.lines().collect();
    let b: Vec<&str> = new.lines().collect();
    // lcs[i][j]: length of a longest common subsequence of a[i..] and b[j..].
    let mut lcs = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let mut out = String::new();
    let (mut i, mut j) = (0, 0);
    let mut line = |prefix: &str, text: &str| {
        out.push_str(prefix);
        out.push_str(text);
        out.push('\n');
    };
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            line("  ", a[i]);
            i += 1;
            j += 1;
        } else if i < a.len() && (j == b.len() || lcs[i + 1][j] >= lcs[i][j + 1]) {
            line("- ", a[i]);
            i += 1;
        } else {
            line("+ ", b[j]);
            j += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;
    use sockerr_harness::record::{CallResult, Wait, Wire};
    use sockerr_harness::variant::{Family, Topology};

    fn step(
        label: &str,
        op: &str,
        errno: Option<&str>,
        ret: Option<i64>,
        signals: &[&str],
        t_us: u64,
        fd: i32,
    ) -> Step {
        Step {
            label: label.into(),
            actor: label.split('.').next().unwrap().into(),
            op: op.into(),
            result: CallResult {
                ret,
                errno: errno.map(Into::into),
                errno_code: errno.map(|e| if e == "EPIPE" { 32 } else { 104 }),
            },
            revents: vec!["POLLIN".into(), "POLLHUP".into()],
            tcp_state: Some("CLOSE".into()),
            signals: signals.iter().map(|s| s.to_string()).collect(),
            t_us,
            elapsed_us: t_us / 10,
            detail: Some(format!("fd {fd}, peer 198.18.0.1:{}", 40000 + fd)),
            runtime: None,
        }
    }

    fn segment(dir: Direction, flags: &str, seq: u32, ack: u32, t_us: u64, port: u16) -> Segment {
        let (client, server) = (format!("198.18.0.1:{port}"), "198.18.0.2:4000".to_string());
        let (src, dst) = if dir == Direction::ClientToServer {
            (client, server)
        } else {
            (server, client)
        };
        Segment {
            dir,
            proto: Default::default(),
            flags: flags.into(),
            seq,
            ack,
            len: 0,
            t_us,
            src,
            dst,
            win: 64 + (t_us % 7) as u16,
            injected: false,
        }
    }

    /// A trial report of `abort.linger0.write_first`; `run` varies what legitimately changes
    /// between runs: times, descriptors and the client's ephemeral port.
    fn report(run: u64) -> TrialReport {
        let (t, fd, port) = (100 * run + 3, 3 + run as i32, 40000 + run as u16);
        TrialReport {
            id: "abort::linger0.write_first::v4::two_hosts".into(),
            scenario: "abort.linger0.write_first".into(),
            family: Family::V4,
            topology: Topology::TwoHosts,
            client: None,
            status: Status::Pass,
            skip_reason: None,
            elapsed_ms: 1.5 * run as f64,
            script_ms: 0.0,
            setup_ms: 0.0,
            claim: "claim".into(),
            sources: vec!["RFC 9293".into()],
            guidance: None,
            knobs: Vec::new(),
            timer: None,
            judged_by: Vec::new(),
            steps: vec![
                step("listener.accept#1", "accept()", None, Some(0), &[], t, fd),
                step(
                    "client.write#1",
                    "write(1 byte)",
                    Some("ECONNRESET"),
                    None,
                    &[],
                    t + 5,
                    fd + 1,
                ),
                step(
                    "client.write#2",
                    "write(1 byte)",
                    Some("EPIPE"),
                    None,
                    &["SIGPIPE"],
                    t + 9,
                    fd + 1,
                ),
            ],
            waits: vec![
                Wait {
                    what: "the server's reset on the wire".into(),
                    met: true,
                    t_us: t + 1,
                    waited_us: run * 17,
                },
                Wait {
                    what: "POLLHUP on the client".into(),
                    met: false,
                    t_us: t + 2,
                    waited_us: 5_000_000 + run,
                },
            ],
            wire: Wire {
                captured: true,
                segments: vec![
                    segment(Direction::ClientToServer, "S", 0, 0, t, port),
                    segment(Direction::ServerToClient, "S.", 0, 1, t + 1, port),
                    segment(Direction::ClientToServer, ".", 1, 1, t + 2, port),
                    segment(Direction::ServerToClient, "R.", 1, 1, t + 3, port),
                ],
                drops: 0,
                pcap: Some(format!("pcap/run{run}.pcapng")),
                not_captured: None,
            },
            mismatches: Vec::new(),
            error: None,
        }
    }

    #[rstest]
    #[case(2)]
    #[case(7)]
    fn timings_ports_and_descriptors_do_not_count(#[case] run: u64) {
        let (a, b) = (report(1), report(run));
        assert_ne!(a, b, "the reports themselves differ");
        assert_eq!(signature(&a), signature(&b));
        assert_eq!(signature(&a).to_string(), signature(&b).to_string());
    }

    #[rstest]
    #[case::errno(|r: &mut TrialReport| r.steps[1].result.errno = Some("EPIPE".into()))]
    #[case::return_value(|r: &mut TrialReport| r.steps[0].result.ret = Some(1))]
    #[case::signal(|r: &mut TrialReport| r.steps[1].signals.push("SIGPIPE".into()))]
    #[case::no_signal(|r: &mut TrialReport| r.steps[2].signals.clear())]
    #[case::revents(|r: &mut TrialReport| r.steps[2].revents.push("POLLERR".into()))]
    #[case::tcp_state(|r: &mut TrialReport| r.steps[2].tcp_state = None)]
    #[case::extra_segment(|r: &mut TrialReport| {
        let extra = r.wire.segments[3].clone();
        r.wire.segments.push(extra);
    })]
    #[case::segment_flags(|r: &mut TrialReport| r.wire.segments[3].flags = "R".into())]
    #[case::relative_ack(|r: &mut TrialReport| r.wire.segments[3].ack = 2)]
    #[case::status(|r: &mut TrialReport| r.status = Status::Fail)]
    #[case::error(|r: &mut TrialReport| r.error = Some("sandbox: boom".into()))]
    #[case::wait_met(|r: &mut TrialReport| r.waits[1].met = true)]
    fn a_different_outcome_counts(#[case] change: fn(&mut TrialReport)) {
        let a = report(1);
        let mut b = report(2);
        change(&mut b);
        assert_ne!(signature(&a), signature(&b));
        assert_ne!(
            signature(&a).to_string(),
            signature(&b).to_string(),
            "the display shows the difference"
        );
    }

    #[test]
    fn the_display_has_one_line_per_item() {
        let text = signature(&report(1)).to_string();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines,
            [
                "status pass",
                "error no",
                "step listener.accept#1  accept() -> ok=0; revents POLLIN|POLLHUP; state CLOSE",
                "step client.write#1  write(1 byte) -> ECONNRESET; revents POLLIN|POLLHUP; state CLOSE",
                "step client.write#2  write(1 byte) -> EPIPE +SIGPIPE; revents POLLIN|POLLHUP; state CLOSE",
                "unmet wait: POLLHUP on the client",
                "captured yes",
                "wire client>server [S] seq 0 ack 0 len 0",
                "wire server>client [S.] seq 0 ack 1 len 0",
                "wire client>server [.] seq 1 ack 1 len 0",
                "wire server>client [R.] seq 1 ack 1 len 0",
            ]
        );
    }

    #[test]
    fn the_diff_marks_only_what_changed() {
        let a = report(1);
        let mut b = report(2);
        b.steps[1].result.errno = Some("EPIPE".into());
        b.wire.segments.push(b.wire.segments[3].clone());
        let diff = signature(&a).diff(&signature(&b));
        let changed: Vec<&str> = diff.lines().filter(|l| !l.starts_with("  ")).collect();
        assert_eq!(
            changed,
            [
                "- step client.write#1  write(1 byte) -> ECONNRESET; revents POLLIN|POLLHUP; state CLOSE",
                "+ step client.write#1  write(1 byte) -> EPIPE; revents POLLIN|POLLHUP; state CLOSE",
                "+ wire server>client [R.] seq 1 ack 1 len 0",
            ]
        );
        assert_eq!(diff.lines().count(), 13, "every line of both, the common ones once");
    }

    #[test]
    fn a_diff_of_equal_texts_has_no_change() {
        let text = signature(&report(1)).to_string();
        assert!(diff(&text, &text).lines().all(|l| l.starts_with("  ")));
        assert_eq!(diff("", "a\n"), "+ a\n");
        assert_eq!(diff("a\n", ""), "- a\n");
    }

    /// A runtime trial: the runtime's answers and the native steps' outcomes count; its wire
    /// and the harness's looks after any step do not (the runtime's threads race with them).
    #[test]
    fn a_runtime_trial_compares_what_the_runtime_reported_and_not_its_wire() {
        let runtime_trial = |r: &mut TrialReport| {
            r.client = Some(sockerr_harness::ClientInfo {
                api: "node.net".into(),
                runtime: "Node.js v20.20.2".into(),
            });
            r.steps[2].runtime = Some(sockerr_harness::Answer {
                outcome: "error".into(),
                error_type: Some("Error".into()),
                message: Some("read ECONNRESET".into()),
                ..Default::default()
            });
        };
        let (mut a, mut b) = (report(1), report(2));
        runtime_trial(&mut a);
        runtime_trial(&mut b);
        b.wire.segments.pop();
        b.steps[2].revents.clear();
        b.steps[2].tcp_state = None;
        // The server's look after its own step races with the runtime too.
        b.steps[0].tcp_state = Some("CLOSE".into());
        b.steps[0].revents.push("POLLHUP".into());
        assert_eq!(signature(&a), signature(&b));
        b.steps[0].result.errno = Some("EPIPE".into());
        assert_ne!(signature(&a), signature(&b), "a native step's outcome still counts");
        b.steps[0].result.errno = a.steps[0].result.errno.clone();
        if let Some(answer) = b.steps[2].runtime.as_mut() {
            answer.message = Some("read EPIPE".into());
        }
        assert_ne!(signature(&a), signature(&b));
    }

    #[test]
    fn a_runtime_message_keeps_its_addresses_but_not_the_ephemeral_port() {
        let go = "*net.OpError: read tcp 127.0.0.1:36046->127.0.0.1:4000: read: connection reset by peer";
        assert_eq!(
            without_ephemeral_ports(go),
            "*net.OpError: read tcp 127.0.0.1:*->127.0.0.1:4000: read: connection reset by peer"
        );
        assert_eq!(without_ephemeral_ports("[::1]:58796 ok=5"), "[::1]:* ok=5");
    }

    #[test]
    fn a_signature_serialises() {
        let json = serde_json::to_value(signature(&report(1))).unwrap();
        assert_eq!(json["status"], "pass");
        assert_eq!(json["steps"][2]["signals"][0], "SIGPIPE");
        assert_eq!(json["segments"][3]["dir"], "server>client");
        assert!(json["segments"][0].get("t_us").is_none());
    }
}

//! A firewall inside one host of the trial: nftables rules in that host's namespace, set with
//! the `nft` command (nft(8)) run from the trial's thread, so that it acts on the namespace the
//! thread is in and never on the host machine's. Every change is a step of actor `firewall`,
//! so the transcript shows when a rule came into force.
//!
//! Rules are written in nft's syntax. Where the platform has no nftables but takes legacy
//! iptables rules (gVisor's netstack implements the iptables socket options, not nf_tables),
//! the few forms the catalogue uses are translated to `iptables-legacy` (`ip6tables-legacy`)
//! arguments, and the step's detail shows the command; a rule with no translation, or one the
//! platform refuses (gVisor has no REJECT target), skips the trial.

use std::io;
use std::time::Instant;

use super::{Host, ScriptResult, SetupError, Trial};
use crate::capabilities::{Need, Offered};
use crate::record::{CallResult, Step};
use crate::verb::Verb;

/// The table every rule of a trial lives in (family `inet`: IPv4 and IPv6 alike).
const TABLE: &str = "sockerr";

/// Where a rule applies: nft's filter hooks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hook {
    /// Packets addressed to this host.
    Input,
    /// Packets this host sends.
    Output,
    /// Packets a router passes on.
    Forward,
}

impl Hook {
    fn as_str(self) -> &'static str {
        match self {
            Hook::Input => "input",
            Hook::Output => "output",
            Hook::Forward => "forward",
        }
    }
}

impl Trial {
    /// Adds `rule` (nft syntax, e.g. `tcp dport 4000 drop` or `tcp flags syn reject with icmp
    /// type host-unreachable`) to the `hook` chain of `host`'s firewall. Steps
    /// `firewall.nft#n`. Without the `nft` command, or on a kernel without nftables, the trial
    /// is skipped with the remedy.
    pub fn firewall(&mut self, host: Host, hook: Hook, rule: &str) -> ScriptResult {
        let hook = hook.as_str();
        let script = format!(
            "table inet {TABLE} {{\n  chain {hook} {{\n    type filter hook {hook} priority 0; policy accept;\n    {rule}\n  }}\n}}\n"
        );
        self.nft(host, format!("{} {hook}: {rule}", host.as_str()), &script)
    }

    /// Removes every rule of `host`'s firewall (the chains stay, empty). Step `firewall.nft#n`.
    pub fn firewall_clear(&mut self, host: Host) -> ScriptResult {
        self.nft(
            host,
            format!("{}: flush every rule", host.as_str()),
            &format!("flush table inet {TABLE}\n"),
        )
    }

    fn nft(&mut self, host: Host, op: String, script: &str) -> ScriptResult {
        self.uses(Need::Nftables);
        if self.topology() == crate::variant::Topology::Host {
            return Err(SetupError::Skip(
                "the host topology never changes the host's firewall: run it in a namespace topology".into(),
            ));
        }
        let offered = Offered::get();
        if let Err(why) = &offered.nftables {
            if offered.iptables.is_err() {
                return Err(SetupError::Skip(format!("no firewall inside a trial here: {why}")));
            }
            return self.iptables(host, op, script);
        }
        self.enter(host)?;
        let started = Instant::now();
        let ran = run_nft(script);
        let elapsed = started.elapsed();
        self.enter(Host::Client)?;
        let (status, stderr) = match ran {
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(SetupError::Skip(
                    "the nft command is missing: install nftables (apt-get install nftables)".into(),
                ));
            }
            Err(e) => return Err(format!("could not run nft: {e}").into()),
            Ok(done) => done,
        };
        if status != 0 && (stderr.contains("Operation not supported") || stderr.contains("Protocol not supported")) {
            return Err(SetupError::Skip(format!(
                "this kernel has no nftables support ({}): load nf_tables (modprobe nf_tables)",
                stderr.lines().next().unwrap_or("").trim()
            )));
        }
        let t_us = self.log().micros_since_start(started);
        let step = self.log().push("firewall", Verb::Nft, |label| Step {
            label,
            actor: "firewall".into(),
            op,
            result: CallResult {
                ret: Some(i64::from(status)),
                errno: None,
                errno_code: None,
            },
            revents: Vec::new(),
            tcp_state: None,
            signals: Vec::new(),
            t_us,
            elapsed_us: elapsed.as_micros() as u64,
            detail: (!stderr.is_empty()).then(|| stderr.trim().to_string()),
            runtime: None,
        });
        match status {
            0 => Ok(()),
            _ => Err(SetupError::step(
                format!("firewall rule {}", step.op),
                format!("nft exited with {status}: {}", stderr.trim()),
            )),
        }
    }
}

impl Trial {
    /// The rule of an nft `script` (as [`Trial::firewall`] and [`Trial::firewall_clear`]
    /// write it) applied with `iptables-legacy`, or `ip6tables-legacy` in an IPv6 trial.
    fn iptables(&mut self, host: Host, op: String, script: &str) -> ScriptResult {
        let args = match iptables_args(script) {
            Ok(args) => args,
            Err(why) => {
                return Err(SetupError::Skip(format!(
                    "this rule needs nftables, which this platform lacks: {why}"
                )));
            }
        };
        let program = match self.family() {
            crate::Family::V6 => "ip6tables-legacy",
            _ => "iptables-legacy",
        };
        let words: Vec<&str> = args.iter().map(String::as_str).collect();
        self.enter(host)?;
        let started = Instant::now();
        let ran = crate::sys::run_program(program, &words, b"");
        let elapsed = started.elapsed();
        self.enter(Host::Client)?;
        let (status, stderr) = ran.map_err(|e| SetupError::Other(format!("could not run {program}: {e}")))?;
        if status != 0 && (stderr.contains("not supported") || stderr.contains("No chain/target/match")) {
            return Err(SetupError::Skip(format!(
                "the platform refuses this rule ({program}: {}): it needs nftables",
                stderr.lines().next().unwrap_or("").trim()
            )));
        }
        let t_us = self.log().micros_since_start(started);
        let command = format!("{program} {}", args.join(" "));
        let step = self.log().push("firewall", Verb::Nft, |label| Step {
            label,
            actor: "firewall".into(),
            op,
            result: CallResult {
                ret: Some(i64::from(status)),
                errno: None,
                errno_code: None,
            },
            revents: Vec::new(),
            tcp_state: None,
            signals: Vec::new(),
            t_us,
            elapsed_us: elapsed.as_micros() as u64,
            detail: Some(match stderr.trim() {
                "" => format!("applied as: {command}"),
                said => format!("applied as: {command}; {said}"),
            }),
            runtime: None,
        });
        match status {
            0 => Ok(()),
            _ => Err(SetupError::step(
                format!("firewall rule {}", step.op),
                format!("{program} exited with {status}: {}", stderr.trim()),
            )),
        }
    }
}

/// The `iptables` arguments of the one rule of an nft script written by [`Trial::firewall`]
/// (or the flush of [`Trial::firewall_clear`]): the forms the catalogue uses, `tcp dport N`,
/// `tcp sport N`, `tcp flags F`, `tcp flags == F`, `tcp flags & (F | G) == F | G`, then
/// `drop`, `accept` or `reject with tcp reset`. Anything else is an error naming it.
fn iptables_args(script: &str) -> Result<Vec<String>, String> {
    if script.trim_start().starts_with("flush table") {
        return Ok(vec!["-w".into(), "-F".into()]);
    }
    let chain = ["input", "output", "forward"]
        .into_iter()
        .find(|hook| script.contains(&format!("chain {hook} ")))
        .ok_or("the script names no chain")?;
    let rule = script
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with("table") && !line.starts_with("chain"))
        .find(|line| !line.starts_with("type ") && !line.starts_with('}'))
        .ok_or("the script holds no rule")?;
    let mut args = vec!["-w".to_string(), "-A".to_string(), chain.to_uppercase()];
    let spaced = rule.replace(['(', ')'], " ");
    let tokens: Vec<&str> = spaced.split_whitespace().collect();
    let mut rest = tokens.as_slice();
    let mut verdict = false;
    while !rest.is_empty() {
        if rest[0] == "tcp" && !args.iter().any(|a| a == "tcp") {
            args.extend(["-p".into(), "tcp".into()]);
        }
        rest = match rest {
            ["tcp", port @ ("dport" | "sport"), n, tail @ ..] => {
                args.extend([format!("--{port}"), n.to_string()]);
                tail
            }
            ["tcp", "flags", "==", tail @ ..] => {
                let (comp, tail) = flag_list(tail)?;
                args.extend(["--tcp-flags".into(), "ALL".into(), comp]);
                tail
            }
            ["tcp", "flags", "&", tail @ ..] => {
                let (mask, tail) = flag_list(tail)?;
                let ["==", tail @ ..] = tail else {
                    return Err(format!("`{rule}`: expected == after the mask"));
                };
                let (comp, tail) = flag_list(tail)?;
                args.extend(["--tcp-flags".into(), mask, comp]);
                tail
            }
            ["tcp", "flags", tail @ ..] => {
                let (set, tail) = flag_list(tail)?;
                args.extend(["--tcp-flags".into(), set.clone(), set]);
                tail
            }
            ["drop"] => {
                args.extend(["-j".into(), "DROP".into()]);
                verdict = true;
                &[]
            }
            ["accept"] => {
                args.extend(["-j".into(), "ACCEPT".into()]);
                verdict = true;
                &[]
            }
            ["reject", "with", "tcp", "reset"] => {
                args.extend(["-j", "REJECT", "--reject-with", "tcp-reset"].map(String::from));
                verdict = true;
                &[]
            }
            [word, ..] => return Err(format!("`{rule}`: `{word}` has no iptables translation here")),
            [] => &[],
        };
    }
    if !verdict {
        return Err(format!("`{rule}` has no verdict"));
    }
    Ok(args)
}

/// TCP flag names (`syn | ack`) at the start of `tokens`, as iptables writes them
/// (`SYN,ACK`), and the tokens after them.
fn flag_list<'a, 'b>(tokens: &'a [&'b str]) -> Result<(String, &'a [&'b str]), String> {
    const FLAGS: [&str; 6] = ["fin", "syn", "rst", "psh", "ack", "urg"];
    let mut names = Vec::new();
    let mut rest = tokens;
    while let [token, tail @ ..] = rest {
        if *token == "|" {
        } else if FLAGS.contains(token) {
            names.push(token.to_uppercase());
        } else {
            break;
        }
        rest = tail;
    }
    match names.is_empty() {
        true => Err("a TCP flag is missing".into()),
        false => Ok((names.join(","), rest)),
    }
}

/// Runs `nft -f -` with `script` on its input, in the calling thread's network namespace (a
/// child inherits the namespaces of the thread that starts it). Returns the exit status and
/// what nft wrote on its error output.
fn run_nft(script: &str) -> io::Result<(i32, String)> {
    crate::sys::run_program("nft", &["-f", "-"], script.as_bytes())
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;
    use crate::record::{Observation, Proto};

    fn script(hook: &str, rule: &str) -> String {
        format!(
            "table inet {TABLE} {{\n  chain {hook} {{\n    type filter hook {hook} priority 0; policy accept;\n    {rule}\n  }}\n}}\n"
        )
    }

    /// iptables-extensions(8), tcp: `--tcp-flags mask comp`; nft(8): `tcp flags & mask ==
    /// comp`, and a bare flag tests that it is set.
    #[test]
    fn the_catalogues_rules_translate_to_iptables_arguments() {
        let cases = [
            (
                "input",
                "tcp dport 4000 drop",
                "-w -A INPUT -p tcp --dport 4000 -j DROP",
            ),
            (
                "output",
                "tcp sport 4000 drop",
                "-w -A OUTPUT -p tcp --sport 4000 -j DROP",
            ),
            (
                "output",
                "tcp flags rst drop",
                "-w -A OUTPUT -p tcp --tcp-flags RST RST -j DROP",
            ),
            (
                "input",
                "tcp dport 4000 tcp flags == ack drop",
                "-w -A INPUT -p tcp --dport 4000 --tcp-flags ALL ACK -j DROP",
            ),
            (
                "output",
                "tcp sport 4000 tcp flags & (syn | ack) == syn | ack drop",
                "-w -A OUTPUT -p tcp --sport 4000 --tcp-flags SYN,ACK SYN,ACK -j DROP",
            ),
            (
                "input",
                "tcp dport 4000 reject with tcp reset",
                "-w -A INPUT -p tcp --dport 4000 -j REJECT --reject-with tcp-reset",
            ),
        ];
        for (hook, rule, expected) in cases {
            assert_eq!(
                iptables_args(&script(hook, rule)).map(|a| a.join(" ")),
                Ok(expected.to_string()),
                "{rule}"
            );
        }
        assert_eq!(
            iptables_args("flush table inet sockerr\n"),
            Ok(vec!["-w".into(), "-F".into()])
        );
        for untranslatable in [
            "udp dport 9 reject with icmpx type host-unreachable",
            "tcp dport 4000",
            "tcp flags syn reject with icmp type host-unreachable",
        ] {
            assert!(
                iptables_args(&script("forward", untranslatable)).is_err(),
                "{untranslatable}"
            );
        }
    }
    use crate::trial::{TrialSpec, run};
    use crate::variant::{Family, Topology};
    use crate::{Direction, sys};

    fn spec(topology: Topology, family: Family) -> TrialSpec {
        TrialSpec::new(family, topology)
    }

    fn wire(o: &Observation) -> Vec<String> {
        o.wire
            .segments
            .iter()
            .map(|s| format!("{} {}", s.dir, s.flags))
            .collect()
    }

    fn unavailable() -> bool {
        crate::prerequisite::unmet(sys::namespaces_unavailable())
    }

    /// RFC 1812 §4.3.2.3 / RFC 792: a router that refuses to forward a datagram answers its
    /// source with a destination-unreachable error; connect(2) then fails (EHOSTUNREACH).
    #[test]
    fn a_router_rule_answers_the_syn_with_its_own_icmp_error_in_both_families() {
        if unavailable() {
            return;
        }
        for (family, kind) in [(Family::V4, "icmp"), (Family::V6, "icmpv6")] {
            let observed = run(&spec(Topology::Routed, family), move |t| {
                let rule = format!("tcp flags syn reject with {kind} type addr-unreachable");
                let rule = if kind == "icmp" {
                    rule.replace("addr-unreachable", "host-unreachable")
                } else {
                    rule
                };
                t.firewall(Host::Router, Hook::Forward, &rule)?;
                let addr = t.closed_port();
                let mut client = t.client()?;
                client.connect(&addr);
                Ok(())
            });
            assert_eq!(observed.skipped, None);
            assert_eq!(observed.error, None, "{family}");
            let connect = observed.steps.iter().find(|s| s.label == "client.connect#1").unwrap();
            assert_eq!(connect.result.errno.as_deref(), Some("EHOSTUNREACH"), "{family}");
            let expected = if family == Family::V4 {
                "router>client ICMP host-unreachable"
            } else {
                "router>client ICMP6 addr-unreachable"
            };
            // The first error may arrive while connect still holds the socket (the router
            // answers within the sending call): Linux then only notes it as a soft error and
            // fails the connect on the next SYN's error (tcp_v4_err, tcp_v6_err).
            assert_eq!(wire(&observed)[..2], ["client>server S", expected], "{family}");
            let icmp = &observed.wire.segments[1];
            assert_eq!((icmp.dir, icmp.proto), (Direction::RouterToClient, Proto::Icmp));
            assert_eq!(observed.steps[0].label, "firewall.nft#1");
        }
    }

    /// Without rules the router forwards: the closed port's reset crosses it, and is not
    /// counted twice (the router's capture keeps only its own ICMP errors).
    #[test]
    fn a_routed_connect_to_a_closed_port_is_reset_by_the_server_through_the_router() {
        if unavailable() {
            return;
        }
        for family in Family::ALL {
            let observed = run(&spec(Topology::Routed, family), |t| {
                let addr = t.closed_port();
                let mut client = t.client()?;
                client.connect(&addr);
                Ok(())
            });
            assert_eq!(observed.error, None, "{family}");
            assert_eq!(observed.steps[0].result.errno.as_deref(), Some("ECONNREFUSED"));
            assert_eq!(wire(&observed), ["client>server S", "server>client R."], "{family}");
        }
    }

    /// A rule that drops the SYN and is then removed: the retransmitted SYN gets through.
    #[test]
    fn a_cleared_firewall_lets_the_next_packet_through_and_each_change_is_a_step() {
        if unavailable() {
            return;
        }
        let observed = run(&spec(Topology::TwoHosts, Family::V4), |t| {
            t.firewall(Host::Server, Hook::Input, "tcp dport 9 drop")?;
            let addr = t.closed_port();
            let mut client = t.client()?;
            client.socket()?.set_nonblocking(true)?;
            client.connect(&addr);
            t.firewall_clear(Host::Server)?;
            t.wait_for_segment(Direction::ServerToClient, 'R');
            Ok(())
        });
        assert_eq!(observed.error, None);
        let labels: Vec<_> = observed.steps.iter().map(|s| s.label.as_str()).collect();
        assert_eq!(labels, ["firewall.nft#1", "client.connect#1", "firewall.nft#2"]);
        assert_eq!(
            wire(&observed),
            ["client>server S", "client>server S", "server>client R."]
        );
    }

    #[test]
    fn a_rule_nft_refuses_fails_the_trial_with_nft_s_message() {
        if unavailable() {
            return;
        }
        let observed = run(&spec(Topology::Loopback, Family::V4), |t| {
            t.firewall(Host::Server, Hook::Input, "tcp dport 9 frobnicate")
        });
        let error = observed.error.unwrap_or_default();
        assert!(
            error.contains("firewall rule server input: tcp dport 9 frobnicate failed: nft exited with 1"),
            "{error}"
        );
        assert_eq!(observed.steps[0].result.ret, Some(1));
    }
}

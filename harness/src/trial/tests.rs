//! A trial's lifecycle under stress: a deadline, a panic, sysctl overrides in every
//! namespace and on no host.

use std::io;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::*;
use crate::record::Observation;
use crate::sandbox::Sandbox;

fn spec(deadline: Duration) -> TrialSpec {
    TrialSpec {
        deadline,
        ..TrialSpec::new(Family::V4, Topology::Loopback)
    }
}

fn flags(o: &Observation) -> Vec<String> {
    o.wire
        .segments
        .iter()
        .map(|s| format!("{} {}", s.dir, s.flags))
        .collect()
}

#[test]
fn a_trial_that_blocks_past_its_deadline_is_stopped_with_its_steps_and_wire_so_far() {
    if crate::prerequisite::unmet(sys::namespaces_unavailable()) {
        return;
    }
    let started = Instant::now();
    let observed = run(&spec(Duration::from_millis(300)), |t| {
        let (mut client, _server, _listener) = t.connected_pair()?;
        client.read(64); // nothing will ever arrive: blocks until SO_RCVTIMEO
        Ok(())
    });
    // The blocked read ends only at its own limit: the caller came back before that.
    assert!(
        started.elapsed() < crate::endpoint::BLOCKING_CALL_LIMIT,
        "the caller waited {:?}, for the blocked call",
        started.elapsed()
    );
    let error = observed.error.clone().unwrap_or_default();
    assert!(error.contains("exceeded its deadline of 300ms"), "{error}");
    let labels: Vec<_> = observed.steps.iter().map(|s| s.label.as_str()).collect();
    assert_eq!(labels, ["listener.listen#1", "client.connect#1", "listener.accept#1"]);
    assert_eq!(
        flags(&observed),
        ["client>server S", "server>client S.", "client>server ."]
    );
}

#[test]
fn a_script_that_panics_is_reported_with_the_panic_and_its_steps() {
    if crate::prerequisite::unmet(sys::namespaces_unavailable()) {
        return;
    }
    let observed = run(&spec(TRIAL_DEADLINE), |t| {
        let (_client, mut server, _listener) = t.connected_pair()?;
        server.abort();
        panic!("scenario bug");
    });
    assert_eq!(observed.error.as_deref(), Some("the trial panicked: scenario bug"));
    assert_eq!(observed.steps.last().map(|s| s.label.as_str()), Some("server.abort#1"));
    assert!(
        flags(&observed).contains(&"server>client R.".to_string()),
        "{:?}",
        flags(&observed)
    );
}

fn host_value(key: &str) -> String {
    sys::read_sysctl(key).unwrap_or_else(|e| format!("unreadable: {e}"))
}

/// ip-sysctl.rst: tcp_rfc1337 and tcp_abort_on_overflow are per network namespace, so an
/// override reaches every namespace of the trial (client and server; loopback has one)
/// and leaves the host's value alone (docs/design.md principle 3).
#[test]
fn a_sysctl_override_is_in_force_in_every_namespace_of_a_trial_and_not_on_the_host() {
    if crate::prerequisite::unmet(sys::namespaces_unavailable()) {
        return;
    }
    let keys = ["net.ipv4.tcp_rfc1337", "net.ipv4.tcp_abort_on_overflow"];
    let host_before = keys.map(host_value);
    for topology in [Topology::Loopback, Topology::TwoHosts] {
        let mut spec = spec(TRIAL_DEADLINE);
        spec.topology = topology;
        spec.sysctls = keys.iter().map(|k| (k.to_string(), "1".to_string())).collect();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let record = Arc::clone(&seen);
        let observed = run(&spec, move |t| {
            for (who, enter) in [
                ("server", Sandbox::enter_server as fn(&Sandbox) -> io::Result<()>),
                ("client", Sandbox::enter_client),
            ] {
                enter(&t.sandbox)?;
                for key in ["net.ipv4.tcp_rfc1337", "net.ipv4.tcp_abort_on_overflow"] {
                    lock(&record).push(format!("{who} {key}={}", sys::read_sysctl(key)?));
                }
            }
            Ok(())
        });
        assert_eq!(observed.error, None, "{topology}");
        assert_eq!(
            *lock(&seen),
            [
                "server net.ipv4.tcp_rfc1337=1",
                "server net.ipv4.tcp_abort_on_overflow=1",
                "client net.ipv4.tcp_rfc1337=1",
                "client net.ipv4.tcp_abort_on_overflow=1"
            ],
            "{topology}"
        );
    }
    assert_eq!(keys.map(host_value), host_before, "the host's sysctls changed");
}

/// proc_sys(5): a sysctl the kernel does not have is no file under /proc/sys, so writing it
/// fails with ENOENT; the trial then fails before any step, naming the key.
#[test]
fn a_sysctl_override_the_kernel_refuses_fails_the_trial_naming_the_key() {
    if crate::prerequisite::unmet(sys::namespaces_unavailable()) {
        return;
    }
    for topology in [Topology::Loopback, Topology::TwoHosts] {
        let mut spec = spec(TRIAL_DEADLINE);
        spec.topology = topology;
        spec.sysctls = vec![("net.ipv4.no_such_knob".into(), "1".into())];
        let observed = run(&spec, |t| {
            t.connected_pair()?;
            Ok(())
        });
        let error = observed.error.unwrap_or_default();
        assert!(error.starts_with("sandbox: in the "), "{error}");
        assert!(
            error.contains("sysctl net.ipv4.no_such_knob=1: no such sysctl in a network namespace"),
            "{error}"
        );
        assert!(observed.steps.is_empty(), "{topology}: steps ran");
    }
}

/// pcapng (draft-ietf-opsawg-pcapng §4.3, `opt_comment`): the trial's pcapng carries its
/// calls, so that Wireshark shows which call each packet followed.
#[test]
fn a_trial_pcapng_names_the_calls_that_led_to_its_frames() {
    use pcap_file::pcapng::blocks::enhanced_packet::EnhancedPacketOption;
    use pcap_file::pcapng::{Block, PcapNgReader};
    if crate::prerequisite::unmet(sys::namespaces_unavailable()) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("trial.pcapng");
    let trial_spec = TrialSpec {
        pcap: Some(path.clone()),
        ..spec(Duration::from_secs(5))
    };
    let observed = run(&trial_spec, |t| {
        let (mut client, _server, _listener) = t.connected_pair()?;
        client.write(b"x");
        client.close();
        Ok(())
    });
    assert_eq!(observed.error, None);
    let bytes = std::fs::read(&path).unwrap();
    let mut reader = PcapNgReader::new(&bytes[..]).unwrap();
    let mut comments = Vec::new();
    while let Some(block) = reader.next_block() {
        if let Block::EnhancedPacket(epb) = block.unwrap() {
            for option in &epb.options {
                if let EnhancedPacketOption::Comment(c) = option {
                    comments.push(c.to_string());
                }
            }
        }
    }
    let mentions = |label: &str| comments.iter().any(|c| c.contains(label));
    assert!(mentions("client.connect#1"), "{comments:#?}");
    assert!(mentions("client.write#1: "), "{comments:#?}");
    assert!(mentions("client.close#1"), "{comments:#?}");
}

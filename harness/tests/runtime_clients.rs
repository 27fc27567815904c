//! Each runtime's client against a real server in a fresh `two_hosts` sandbox: the client's
//! socket lives in the client's namespace (a client that failed to enter it would have no
//! route to the server), the server is a native endpoint of the trial. What the runtimes
//! report is their own; these tests check that each step ran in the runtime and says what
//! the errno underneath was, each in the runtime's own terms.
//!
//! A runtime that is missing skips its tests with the reason, unless `SOCKERR_REQUIRE_ALL=1`
//! (CI installs every runtime), where it fails them.

#![cfg(target_os = "linux")]

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rstest::rstest;
use sockerr_harness::record::Direction;
use sockerr_harness::runtime::{Answer, Api, RuntimeClient, RuntimeStep, StartError, require_all};
use sockerr_harness::trial::{self, Trial, TrialSpec};
use sockerr_harness::{Family, SetupError, Topology, sys};

/// Runs `script` with a client of `api` in a fresh sandbox of `family`; its steps, or `None`
/// when the test is skipped (no namespaces here, or the runtime is missing without
/// `SOCKERR_REQUIRE_ALL=1`).
fn run(
    api: Api,
    family: Family,
    script: impl FnOnce(&mut Trial, &mut RuntimeClient) -> trial::ScriptResult + Send + 'static,
) -> Option<Vec<RuntimeStep>> {
    if sockerr_harness::prerequisite::unmet(sys::namespaces_unavailable()) {
        return None;
    }
    let spec = TrialSpec {
        deadline: Duration::from_secs(60),
        ..TrialSpec::new(family, Topology::TwoHosts)
    };
    let steps = Arc::new(Mutex::new(None));
    let seen = Arc::clone(&steps);
    let observed = trial::run(&spec, move |t| {
        let mut client = match RuntimeClient::start(api) {
            Ok(client) => client,
            Err(StartError::Missing(why)) => return Err(SetupError::Skip(why)),
            Err(e) => return Err(SetupError::Other(e.to_string())),
        };
        let result = script(t, &mut client);
        // One print per trial, so that parallel tests do not interleave their lines.
        let mut seen_steps = format!("{api} ({}) {family}:\n", client.version());
        for step in client.steps() {
            let (answer, events, revents) = (step.answer.summary(), &step.answer.events, &step.revents);
            seen_steps += &format!("  {:<22} {answer} {events:?} {revents:?}\n", step.label);
        }
        eprint!("{seen_steps}");
        *seen.lock().unwrap() = Some(client.steps().to_vec());
        result
    });
    if let Some(why) = observed.skipped {
        assert!(!require_all(), "SOCKERR_REQUIRE_ALL=1 and {api} is missing: {why}");
        eprintln!("skipped: {why}");
        return None;
    }
    assert_eq!(observed.error, None, "{api} {family}");
    let steps = steps.lock().unwrap().take();
    Some(steps.expect("the script ran"))
}

/// Waits until the client's socket has taken in the server's reset: its TCP state is CLOSE,
/// or the runtime already closed it (Node.js reads eagerly and destroys the socket on the
/// error). The capture shows the reset as it is sent; the receiver processes it a little later.
fn wait_until_reset_processed(client: &RuntimeClient) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        match client.socket_view() {
            None => return,
            Some(socket) if sys::tcp_state(&socket) == Some("CLOSE") => return,
            Some(_) => std::thread::yield_now(),
        }
    }
    panic!("the client's socket never reached CLOSE");
}

/// The errno an answer says was underneath, in the runtime's own terms: the code it exposes
/// (Python's errno, Go's errors.Is, Node's code, Rust's raw_os_error), or for Java, which
/// exposes none, the exception class and message OpenJDK maps each errno to
/// (src/java.base/unix/native/libnio/ch/Net.c, NioSocketImpl).
fn underneath(api: Api, answer: &Answer) -> Option<String> {
    if let Some(code) = &answer.code {
        return Some(code.clone());
    }
    if api.runtime() != sockerr_harness::runtime::Runtime::Java {
        return None;
    }
    let message = answer.message.as_deref().unwrap_or_default();
    let class = answer.error_type.as_deref().unwrap_or_default();
    Some(
        match (class, message) {
            ("java.net.ConnectException", m) if m.starts_with("Connection refused") => "ECONNREFUSED",
            (_, m) if m.starts_with("Connection reset") => "ECONNRESET",
            (_, "Broken pipe") => "EPIPE",
            _ => return None,
        }
        .to_string(),
    )
}

fn outcome_of<'a>(steps: &'a [RuntimeStep], label: &str) -> &'a Answer {
    &steps
        .iter()
        .find(|s| s.label == label)
        .unwrap_or_else(|| panic!("no step {label}"))
        .answer
}

const APIS: [Api; 9] = Api::ALL;

/// RFC 9293 3.10.7.3 (a SYN to a CLOSED port is answered with a reset) and connect(2)
/// ECONNREFUSED: every runtime reports the refusal as an error of its connect.
#[rstest]
fn a_connect_to_a_closed_port_is_refused(#[values(Family::V4, Family::V6)] family: Family) {
    for api in APIS {
        let Some(steps) = run(api, family, |t, client| {
            let closed = t.closed_port();
            client.connect(closed);
            Ok(())
        }) else {
            continue;
        };
        let connect = outcome_of(&steps, "client.connect#1");
        assert_eq!(connect.outcome, "error", "{api}: {connect:?}");
        assert_eq!(
            underneath(api, connect).as_deref(),
            Some("ECONNREFUSED"),
            "{api}: {connect:?}"
        );
        assert!(steps.iter().all(|s| s.survived), "{api}");
    }
}

/// socket(7) SO_LINGER {on, 0}: the server's close sends a reset; RFC 9293 3.10.7.4: the
/// client's connection is reset, and read(2) fails with ECONNRESET once. Runtimes that read
/// eagerly (Node.js) see the reset before the step and report it as the step's outcome.
#[rstest]
fn a_read_after_the_peer_aborted_with_linger_0_fails_with_a_reset(#[values(Family::V4, Family::V6)] family: Family) {
    for api in APIS {
        let Some(steps) = run(api, family, |t, client| {
            let mut listener = t.listener(16)?;
            client.connect(t.server_addr(trial::SERVER_PORT));
            let (_, Some(mut server)) = listener.accept("server") else {
                return Err("no connection to accept".into());
            };
            server.abort();
            t.wait_for_segment(Direction::ServerToClient, 'R');
            wait_until_reset_processed(client);
            client.read(64);
            Ok(())
        }) else {
            continue;
        };
        assert_eq!(outcome_of(&steps, "client.connect#1").outcome, "ok", "{api}");
        let read = outcome_of(&steps, "client.read#1");
        assert_eq!(read.outcome, "error", "{api}: {read:?}");
        assert_eq!(underneath(api, read).as_deref(), Some("ECONNRESET"), "{api}: {read:?}");
    }
}

/// RFC 9293 3.10.7.4 and send(2): after the peer's reset the first write fails with
/// ECONNRESET and the next with EPIPE (the socket is closed, shutdown for writing). Each
/// runtime reports both writes as errors; which errno each shows is what it observed.
#[rstest]
fn two_writes_after_the_peer_aborted_both_fail(#[values(Family::V4, Family::V6)] family: Family) {
    for api in APIS {
        let Some(steps) = run(api, family, |t, client| {
            let mut listener = t.listener(16)?;
            client.connect(t.server_addr(trial::SERVER_PORT));
            let (_, Some(mut server)) = listener.accept("server") else {
                return Err("no connection to accept".into());
            };
            server.abort();
            t.wait_for_segment(Direction::ServerToClient, 'R');
            wait_until_reset_processed(client);
            client.write(1);
            client.write(1);
            Ok(())
        }) else {
            continue;
        };
        for label in ["client.write#1", "client.write#2"] {
            let write = outcome_of(&steps, label);
            assert_eq!(write.outcome, "error", "{api} {label}: {write:?}");
        }
        assert!(
            steps.iter().all(|s| s.survived),
            "{api}: a write after a reset killed the client"
        );
    }
}

/// RFC 9293 3.10.7.4 (a FIN: "connection closing") and read(2): once the peer closed in
/// order, a read returns end of file, which each runtime spells its own way (0 bytes, -1 in
/// Java, io.EOF in Go, an 'end' event in Node.js).
#[rstest]
fn a_read_after_the_peer_closed_in_order_is_end_of_file(#[values(Family::V4, Family::V6)] family: Family) {
    for api in APIS {
        let Some(steps) = run(api, family, |t, client| {
            let mut listener = t.listener(16)?;
            client.connect(t.server_addr(trial::SERVER_PORT));
            let (_, Some(mut server)) = listener.accept("server") else {
                return Err("no connection to accept".into());
            };
            server.close();
            t.wait_for_segment(Direction::ServerToClient, 'F');
            client.read(64);
            Ok(())
        }) else {
            continue;
        };
        let read = outcome_of(&steps, "client.read#1");
        let end_of_file = match api {
            Api::GoNet => read.outcome == "error" && read.fields.get("is_eof") == Some(&serde_json::Value::Bool(true)),
            Api::JavaSocket | Api::JavaSocketChannel => read.value == Some((-1).into()),
            _ => read.outcome == "ok" && read.value == Some(0.into()),
        };
        assert!(end_of_file, "{api}: {read:?}");
    }
}

/// A step an API cannot express is answered `unsupported` with the reason, never dropped:
/// java.net.Socket has no SO_ERROR, asyncio's StreamWriter no shutdown(SHUT_RD).
#[rstest]
#[case(Api::JavaSocket)]
#[case(Api::PythonAsyncio)]
#[case(Api::NodeNet)]
fn a_step_the_api_cannot_express_is_unsupported_with_a_reason(#[case] api: Api) {
    let Some(steps) = run(api, Family::V4, |t, client| {
        let _listener = t.listener(16)?;
        client.connect(t.server_addr(trial::SERVER_PORT));
        client.so_error();
        client.shutdown(sockerr_harness::Shut::Read);
        Ok(())
    }) else {
        return;
    };
    assert_eq!(outcome_of(&steps, "client.connect#1").outcome, "ok", "{api}");
    let unsupported: Vec<_> = steps.iter().filter(|s| s.answer.outcome == "unsupported").collect();
    assert!(!unsupported.is_empty(), "{api}: {steps:?}");
    assert!(
        unsupported
            .iter()
            .all(|s| s.answer.why.as_deref().is_some_and(|w| !w.is_empty())),
        "{api}: {unsupported:?}"
    );
}

/// socket(7) SO_RCVTIMEO, and each runtime's own deadline: a read with nothing to read
/// returns within the limit every blocking call of a trial has (BLOCKING_CALL_LIMIT, 10 s),
/// with the runtime's timeout error, and the client answers. The APIs run side by side, so
/// the test waits out the limit once.
#[test]
fn a_read_with_nothing_to_read_ends_at_the_limit_in_every_runtime() {
    let limit = sockerr_harness::endpoint::BLOCKING_CALL_LIMIT;
    let runs: Vec<_> = APIS
        .map(|api| {
            std::thread::spawn(move || {
                let steps = run(api, Family::V4, |t, client| {
                    let mut listener = t.listener(16)?;
                    client.connect(t.server_addr(trial::SERVER_PORT));
                    let _server = listener.accept("server");
                    client.read(64);
                    Ok(())
                });
                (api, steps)
            })
        })
        .into_iter()
        .collect();
    for handle in runs {
        let (api, steps) = handle.join().expect("the trial's thread");
        let Some(steps) = steps else {
            continue;
        };
        let read = steps.iter().find(|s| s.label == "client.read#1").expect("a read");
        assert_eq!(read.answer.outcome, "error", "{api}: {:?}", read.answer);
        let waited = Duration::from_micros(read.elapsed_us);
        assert!(
            waited >= limit - Duration::from_millis(500) && waited < limit + Duration::from_secs(3),
            "{api}: the read took {waited:?}"
        );
    }
}

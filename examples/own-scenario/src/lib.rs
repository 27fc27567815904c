//! A scenario of one's own: what a peek shows after the peer sent data and closed.
//!
//! The scenario is a value like every scenario of sockerr's catalogue; its script drives the
//! endpoints the trial gives it, waits on what the socket reports (never on a timer), and
//! records a call the endpoint does not offer (`recv` with `MSG_PEEK`) as a step of its own.

use std::mem::MaybeUninit;

use sockerr::harness::{Events, ScriptResult, SetupError, Trial, Verb};
use sockerr::scenario::Scenario;
use sockerr::suite::Suite;

/// This crate's scenarios.
pub fn scenarios() -> Vec<Scenario> {
    vec![Scenario {
        id: "own.peek_after_fin",
        claim: "After the peer sent 5 bytes and closed, a peek (recv with MSG_PEEK) returns the 5 bytes without taking them, a read takes them, and the next read returns end of file.",
        sources: &[
            "recv(2): MSG_PEEK returns data from the beginning of the receive queue without removing it",
            "read(2): 0 at end of file",
        ],
        guidance: "Data the peer sent before its FIN stays readable after it closed: read it all before treating end of file as the end of the exchange.",
        script: peek_after_fin,
        ..Scenario::BASE
    }]
}

/// The suite this crate runs: its scenarios alone, judged by its expectation file (layered
/// over the platform's built-in file, which names none of them).
pub fn suite() -> Suite {
    Suite::own().with_scenarios(scenarios()).with_expectations_text(
        "examples/own-scenario/expectations/linux.toml",
        include_str!("../expectations/linux.toml"),
    )
}

fn peek_after_fin(trial: &mut Trial) -> ScriptResult {
    let (mut client, mut server, _listener) = trial.connected_pair()?;
    server.write(b"hello");
    server.close();
    // The FIN arrives after the data: once the client's socket reports the peer's close
    // (POLLRDHUP), both are in.
    if !trial.wait_for_events(&client, Events::RDHUP, "the server's FIN at the client") {
        return Err(SetupError::Other("the server's FIN never reached the client".into()));
    }
    client.record(Verb::Custom, "recv(MSG_PEEK, 16)", |socket| {
        let mut buf = [MaybeUninit::<u8>::uninit(); 16];
        socket.peek(&mut buf).map(|n| n as i64)
    });
    client.read(16);
    client.read(16);
    Ok(())
}

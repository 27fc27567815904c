//! peer aborts: the peer's reset arrives, then the local side reads, writes or asks SO_ERROR.

use sockerr_harness::{Endpoint, ScriptResult, Trial};

use super::common::await_reset;
use crate::scenario::{BOTH_FAMILIES, BOTH_TOPOLOGIES, Scenario};

const LINGER0_SOURCES: &[&str] = &[
    "article situations 7 and 8 (reset vs broken pipe; abortive release)",
    "socket(7): SO_LINGER with a zero timeout",
    "RFC 9293 §3.10.7.4 (a reset in ESTABLISHED: connection reset)",
    "RFC 1122 §4.2.2.13 (ABORT sends a reset)",
];

pub fn scenarios() -> Vec<Scenario> {
    vec![
        Scenario {
            id: "abort.linger0.read_first",
            claim: "After the peer's abortive close (SO_LINGER {on, 0}) the first read fails with ECONNRESET, later reads return end of file, and writes fail with EPIPE and raise SIGPIPE.",
            sources: LINGER0_SOURCES,
            guidance: "ECONNRESET on read: the peer aborted the connection; data in flight either way is lost, and whether the last request was processed is unknown. Close the socket (it is dead: later reads return 0 and writes fail), reconnect, and replay only idempotent requests; report the others as failed.",
            families: BOTH_FAMILIES,
            topologies: BOTH_TOPOLOGIES,
            script: linger0_read_first,
        },
        Scenario {
            id: "abort.linger0.write_first",
            claim: "After the peer's abortive close the first write fails with ECONNRESET (no signal), the second with EPIPE and SIGPIPE, and reads return end of file.",
            sources: LINGER0_SOURCES,
            guidance: "A write after the peer's reset fails with ECONNRESET or EPIPE depending on the system and on which call came first: treat both alike. The connection is gone and what was written is lost: close, reconnect, replay only idempotent requests, and suppress SIGPIPE (MSG_NOSIGNAL), which later writes raise.",
            families: BOTH_FAMILIES,
            topologies: BOTH_TOPOLOGIES,
            script: linger0_write_first,
        },
        Scenario {
            id: "abort.linger0.so_error_first",
            claim: "After the peer's abortive close, reading SO_ERROR returns ECONNRESET and clears it, so the next read returns end of file instead of the error.",
            sources: &[
                "article situation 7 (the error depends on which call comes first)",
                "socket(7): SO_ERROR \"get and clear the pending socket error\"",
                "socket(7): SO_LINGER with a zero timeout",
            ],
            guidance: "SO_ERROR returns the pending error and clears it: read it only to learn a non-blocking connect's result or after poll reports POLLERR/POLLHUP, and act on its value (ECONNRESET: close, reconnect, replay only idempotent requests). Once it is consumed the next read returns 0, which must not be taken for an orderly close.",
            families: BOTH_FAMILIES,
            topologies: BOTH_TOPOLOGIES,
            script: linger0_so_error_first,
        },
        Scenario {
            id: "abort.unread_data.read_first",
            claim: "A peer that closes while the client's request is still unread in its receive buffer sends a reset instead of a FIN, and the client's next read fails with ECONNRESET.",
            sources: &[
                "article situation 3 (early close with unread data)",
                "RFC 2525 §2.17 (\"Failure to RST on close with data pending\")",
                "RFC 1122 §4.2.2.13 (close with pending receive data should send a reset)",
            ],
            guidance: "The server closed with the request unread (it rejected it early, say), so a reset replaced its FIN, and that reset may destroy a response the client has not read yet. Read any response before writing more; on ECONNRESET close, reconnect and replay only idempotent requests. Servers avoid this with a lingering close: shutdown(SHUT_WR), drain the input, then close.",
            families: BOTH_FAMILIES,
            topologies: BOTH_TOPOLOGIES,
            script: unread_data_read_first,
        },
    ]
}

/// A connection whose server end was reset (linger 0), once the client's socket has the reset.
fn reset_by_server(t: &mut Trial) -> std::io::Result<Endpoint> {
    let (client, mut server, _listener) = t.connected_pair()?;
    server.abort();
    await_reset(t, &client);
    Ok(client)
}

fn linger0_read_first(t: &mut Trial) -> ScriptResult {
    let mut client = reset_by_server(t)?;
    client.read(64);
    client.read(64);
    client.write(b"x");
    client.write(b"x");
    client.close();
    Ok(())
}

fn linger0_write_first(t: &mut Trial) -> ScriptResult {
    let mut client = reset_by_server(t)?;
    client.write(b"x");
    client.write(b"x");
    client.read(64);
    client.read(64);
    client.close();
    Ok(())
}

fn linger0_so_error_first(t: &mut Trial) -> ScriptResult {
    let mut client = reset_by_server(t)?;
    client.so_error();
    client.so_error();
    client.read(64);
    client.write(b"x");
    client.close();
    Ok(())
}

fn unread_data_read_first(t: &mut Trial) -> ScriptResult {
    let (mut client, mut server, _listener) = t.connected_pair()?;
    client.write(b"request");
    t.wait_for_events(
        &server,
        libc::POLLIN,
        "the request is in the server's receive buffer (POLLIN)",
    );
    server.close();
    await_reset(t, &client);
    client.read(64);
    client.read(64);
    client.write(b"x");
    client.close();
    Ok(())
}

//! peer aborts: the peer's reset arrives, then the local side reads, writes or asks SO_ERROR.

use std::time::Duration;

use sockerr_harness::endpoint::BLOCKING_CALL_LIMIT;
use sockerr_harness::{Direction, Endpoint, Events, Need, ScriptResult, SetupError, Shut, SockOpt, Trial, Verb};

use super::common::await_reset;
use crate::scenario::Scenario;

const LINGER0_SOURCES: &[&str] = &[
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
            situations: &[7, 8],
            guidance: "ECONNRESET on read: the peer aborted the connection; data in flight either way is lost, and whether the last request was processed is unknown. Close the socket (it is dead: later reads return 0 and writes fail), reconnect, and replay only idempotent requests; report the others as failed.",
            needs: &[Need::PacketCapture],
            runtimes: true,
            script: linger0_read_first,
            ..Scenario::BASE
        },
        Scenario {
            id: "abort.linger0.write_first",
            claim: "After the peer's abortive close the first write fails with ECONNRESET (no signal), the second with EPIPE and SIGPIPE, and reads return end of file.",
            sources: LINGER0_SOURCES,
            situations: &[7, 8],
            guidance: "A write after the peer's reset fails with ECONNRESET or EPIPE depending on the system and on which call came first: treat both alike. The connection is gone and what was written is lost: close, reconnect, replay only idempotent requests, and suppress SIGPIPE (MSG_NOSIGNAL), which later writes raise.",
            needs: &[Need::PacketCapture],
            runtimes: true,
            script: linger0_write_first,
            ..Scenario::BASE
        },
        Scenario {
            id: "abort.linger0.so_error_first",
            claim: "After the peer's abortive close, reading SO_ERROR returns ECONNRESET and clears it, so the next read returns end of file instead of the error.",
            sources: &[
                "socket(7): SO_ERROR \"get and clear the pending socket error\"",
                "socket(7): SO_LINGER with a zero timeout",
            ],
            situations: &[7],
            guidance: "SO_ERROR returns the pending error and clears it: read it only to learn a non-blocking connect's result or after poll reports POLLERR/POLLHUP, and act on its value (ECONNRESET: close, reconnect, replay only idempotent requests). Once it is consumed the next read returns 0, which must not be taken for an orderly close.",
            needs: &[Need::PacketCapture],
            runtimes: true,
            script: linger0_so_error_first,
            ..Scenario::BASE
        },
        Scenario {
            id: "abort.unread_data.read_first",
            claim: "A peer that closes while the client's request is still unread in its receive buffer sends a reset instead of a FIN, and the client's next read fails with ECONNRESET.",
            sources: &[
                "RFC 2525 §2.17 (\"Failure to RST on close with data pending\")",
                "RFC 1122 §4.2.2.13 (close with pending receive data should send a reset)",
            ],
            situations: &[3],
            guidance: "The server closed with the request unread (it rejected it early, say), so a reset replaced its FIN, and that reset may destroy a response the client has not read yet. Read any response before writing more; on ECONNRESET close, reconnect and replay only idempotent requests. Servers avoid this with a lingering close: shutdown(SHUT_WR), drain the input, then close.",
            needs: &[Need::PacketCapture],
            runtimes: true,
            script: unread_data_read_first,
            ..Scenario::BASE
        },
        Scenario {
            id: "abort.unread_data.write_first",
            claim: "A peer that closes with the client's request unread sends a reset, and the client's next write fails with ECONNRESET, the one after with EPIPE and SIGPIPE.",
            sources: &[
                "RFC 2525 §2.17 (\"Failure to RST on close with data pending\")",
                "RFC 1122 §4.2.2.13 (close with pending receive data should send a reset)",
                "write(2): EPIPE and SIGPIPE",
            ],
            situations: &[3],
            guidance: "The server rejected the request unread and reset the connection; a client that writes on reports ECONNRESET once, then EPIPE with SIGPIPE. Treat both as a dead connection: suppress SIGPIPE (MSG_NOSIGNAL), close, reconnect, and replay only idempotent requests.",
            needs: &[Need::PacketCapture],
            runtimes: true,
            script: unread_data_write_first,
            ..Scenario::BASE
        },
        Scenario {
            id: "abort.linger0.poll",
            claim: "The peer's reset makes poll report POLLIN, POLLOUT, POLLRDHUP, POLLERR and POLLHUP and wakes a poll blocked for input, and once read has reported ECONNRESET only POLLERR is gone.",
            sources: &[
                "poll(2): POLLERR and POLLHUP are reported whether asked for or not",
                "socket(7): SO_LINGER with a zero timeout",
                "RFC 9293 §3.10.7.4 (a reset in ESTABLISHED: connection reset)",
            ],
            situations: &[7],
            guidance: "POLLERR or POLLHUP means the connection is over: do not wait for more input. Read (or take SO_ERROR) once to learn why: ECONNRESET means the peer aborted. After that the socket stays readable at end of file and POLLHUP stays set, so remove it from the poll set and close it, or the loop spins.",
            needs: &[Need::PacketCapture, Need::ProcTaskState],
            script: linger0_poll,
            ..Scenario::BASE
        },
        Scenario {
            id: "abort.pending_local_data",
            claim: "Data the client had received but not read when the peer's reset arrived is still read first, then read fails with ECONNRESET, then returns end of file.",
            sources: &[
                "RFC 9293 §3.10.7.4 (on a reset, queued receives are flushed: the socket API keeps them)",
                "socket(7): SO_LINGER with a zero timeout",
            ],
            situations: &[7],
            guidance: "Data already received survives the peer's reset here: keep reading until the error and use what arrived (a complete response is valid), but treat a response cut short by ECONNRESET as lost. Other systems may discard it, so never rely on reading it after a reset.",
            needs: &[Need::PacketCapture],
            script: pending_local_data,
            ..Scenario::BASE
        },
        Scenario {
            id: "abort.after_reset.getpeername",
            claim: "On a reset socket getpeername fails with ENOTCONN and leaves the pending ECONNRESET for the next read.",
            sources: &[
                "getpeername(2): ENOTCONN, the socket is not connected",
                "RFC 9293 §3.10.7.4 (a reset in ESTABLISHED: connection reset)",
            ],
            guidance: "Once the peer reset the connection the socket no longer knows its peer: log the peer address when the connection is made, not when it fails. getpeername's ENOTCONN does not replace the real error: read or take SO_ERROR to learn it (ECONNRESET), then close.",
            needs: &[Need::PacketCapture],
            runtimes: true,
            script: after_reset_getpeername,
            ..Scenario::BASE
        },
        Scenario {
            id: "abort.after_reset.shutdown",
            claim: "On a reset socket shutdown fails with ENOTCONN and leaves the pending ECONNRESET for the next read.",
            sources: &[
                "shutdown(2): ENOTCONN, the socket is not connected",
                "RFC 9293 §3.10.7.4 (a reset in ESTABLISHED: connection reset)",
            ],
            guidance: "ENOTCONN from shutdown after a reset is harmless: the connection is already gone. Ignore it, close the socket, and learn why the connection ended from read or SO_ERROR (ECONNRESET: the peer aborted, the last request may be lost).",
            needs: &[Need::PacketCapture],
            runtimes: true,
            script: after_reset_shutdown,
            ..Scenario::BASE
        },
        Scenario {
            id: "abort.after_reset.setsockopt",
            claim: "On a reset socket setting TCP_NODELAY and SO_KEEPALIVE still succeeds and leaves the pending ECONNRESET for the next read.",
            sources: &[
                "tcp(7): TCP_NODELAY; socket(7): SO_KEEPALIVE",
                "RFC 9293 §3.10.7.4 (a reset in ESTABLISHED: connection reset)",
            ],
            guidance: "Options can still be set on a reset socket, so a successful setsockopt proves nothing about the connection: check the result of the reads and writes. The pending ECONNRESET is reported by the next read or SO_ERROR; then close.",
            needs: &[Need::PacketCapture],
            runtimes: true,
            script: after_reset_setsockopt,
            ..Scenario::BASE
        },
        Scenario {
            id: "abort.blocked_reader",
            claim: "A read blocked when the peer's reset arrives wakes and fails with ECONNRESET, and the next read returns end of file.",
            sources: &[
                "socket(7): SO_LINGER with a zero timeout",
                "RFC 9293 §3.10.7.4 (a reset in ESTABLISHED: connection reset)",
            ],
            situations: &[7],
            guidance: "A blocked read does not hang on a reset: it returns ECONNRESET at once. Close the connection, reconnect and replay only idempotent requests; a later read on the same socket returns 0, which must not be taken for the peer's orderly close.",
            needs: &[Need::PacketCapture, Need::ProcTaskState],
            script: blocked_reader,
            ..Scenario::BASE
        },
        Scenario {
            id: "abort.blocked_writer",
            claim: "A write blocked on a full send buffer when the peer's reset arrives wakes and fails with ECONNRESET, without SIGPIPE, and the next write fails with EPIPE.",
            sources: &[
                "write(2): EPIPE; socket(7): SO_LINGER with a zero timeout, SO_SNDBUF, SO_RCVBUF",
                "RFC 9293 §3.10.7.4 (a reset in ESTABLISHED: connection reset)",
            ],
            situations: &[7],
            guidance: "A writer blocked because the peer stopped reading does not hang on the peer's reset: the write fails with ECONNRESET (a write that had copied part of its data returns that count instead, and the error comes with the next call). Everything unacknowledged is lost: close, reconnect, replay only idempotent requests.",
            needs: &[Need::PacketCapture, Need::ProcTaskState, Need::TcpInfoBytesAcked],
            script: blocked_writer,
            ..Scenario::BASE
        },
        Scenario {
            id: "abort.linger0.epoll",
            claim: "The peer's reset makes epoll report EPOLLIN, EPOLLOUT, EPOLLRDHUP, EPOLLERR and EPOLLHUP and wakes an epoll_wait blocked for input, and once read has reported ECONNRESET only EPOLLERR is gone.",
            sources: &[
                "epoll_ctl(2): EPOLLERR and EPOLLHUP are always reported; EPOLLRDHUP",
                "socket(7): SO_LINGER with a zero timeout",
            ],
            situations: &[7],
            guidance: "An event loop sees EPOLLERR|EPOLLHUP with the reset: stop waiting for input, read (or take SO_ERROR) once to learn the error (ECONNRESET), then remove the descriptor from the epoll set and close it: level-triggered EPOLLHUP stays set and would wake the loop forever.",
            needs: &[Need::PacketCapture, Need::ProcTaskState, Need::Epoll],
            script: linger0_epoll,
            ..Scenario::BASE
        },
    ]
}

/// What the poll steps ask for: input, output and the peer's half-close.
const READ_WRITE_RDHUP: Events = Events::IN.union(Events::OUT).union(Events::RDHUP);

/// A connection whose server end was reset (linger 0), once the client's socket has the reset.
fn reset_by_server(t: &mut Trial) -> Result<Endpoint, SetupError> {
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

/// The client's request sits unread in the server's receive buffer when the server closes
/// normally, which sends a reset instead of a FIN; returns the client once its socket has it.
fn reset_by_unread_close(t: &mut Trial) -> Result<Endpoint, SetupError> {
    let (mut client, mut server, _listener) = t.connected_pair()?;
    client.write(b"request");
    t.wait_for_events(
        &server,
        Events::IN,
        "the request is in the server's receive buffer (POLLIN)",
    );
    server.close();
    await_reset(t, &client);
    Ok(client)
}

fn unread_data_read_first(t: &mut Trial) -> ScriptResult {
    let mut client = reset_by_unread_close(t)?;
    client.read(64);
    client.read(64);
    client.write(b"x");
    client.close();
    Ok(())
}

fn unread_data_write_first(t: &mut Trial) -> ScriptResult {
    let mut client = reset_by_unread_close(t)?;
    client.write(b"x");
    client.write(b"x");
    client.read(64);
    client.read(64);
    client.close();
    Ok(())
}

fn linger0_poll(t: &mut Trial) -> ScriptResult {
    let (mut client, mut server, _listener) = t.connected_pair()?;
    client.poll(READ_WRITE_RDHUP, Duration::ZERO);
    let blocked = client.spawn("client_thread", |c| {
        c.poll(Events::IN | Events::RDHUP, BLOCKING_CALL_LIMIT)
    })?;
    t.wait_until_blocked(&blocked, Verb::Poll, "the client's second thread is asleep in poll");
    server.abort();
    t.wait_for_segment(Direction::ServerToClient, 'R');
    blocked.join()?;
    client.poll(READ_WRITE_RDHUP, Duration::ZERO);
    client.read(64);
    client.poll(READ_WRITE_RDHUP, Duration::ZERO);
    client.close();
    Ok(())
}

fn pending_local_data(t: &mut Trial) -> ScriptResult {
    let (mut client, mut server, _listener) = t.connected_pair()?;
    server.write(b"response");
    // The client's kernel acknowledges the response once it holds it (polling for POLLIN
    // would not do: a runtime that reads eagerly, as Node.js does, empties the buffer at
    // once), and an abort before that ACK left could meet it at a socket that is gone, which
    // the server's kernel would answer with a second reset: wait for the ACK on the wire.
    t.wait_for_wire("the client's ACK of the response", |segments| {
        let data = segments
            .iter()
            .position(|s| s.dir == Direction::ServerToClient && s.len > 0);
        data.is_some_and(|i| {
            let end = segments[i].seq.wrapping_add(segments[i].len);
            segments[i..]
                .iter()
                .any(|s| s.dir == Direction::ClientToServer && s.flags.contains('.') && s.ack == end)
        })
    });
    server.abort();
    t.wait_for_segment(Direction::ServerToClient, 'R');
    t.wait_for_events(
        &client,
        Events::RDHUP,
        "the client's socket has the reset (POLLRDHUP: receiving is over)",
    );
    client.read(64);
    client.read(64);
    client.read(64);
    client.close();
    Ok(())
}

fn after_reset_getpeername(t: &mut Trial) -> ScriptResult {
    let mut client = reset_by_server(t)?;
    client.getpeername();
    client.read(64);
    client.getpeername();
    client.close();
    Ok(())
}

fn after_reset_shutdown(t: &mut Trial) -> ScriptResult {
    let mut client = reset_by_server(t)?;
    client.shutdown(Shut::Write);
    client.read(64);
    client.shutdown(Shut::Both);
    client.close();
    Ok(())
}

fn after_reset_setsockopt(t: &mut Trial) -> ScriptResult {
    let mut client = reset_by_server(t)?;
    client.setsockopt(SockOpt::TcpNodelay, 1);
    client.setsockopt(SockOpt::SoKeepalive, 1);
    client.read(64);
    client.close();
    Ok(())
}

fn blocked_reader(t: &mut Trial) -> ScriptResult {
    let (mut client, mut server, _listener) = t.connected_pair()?;
    let blocked = client.spawn("client_thread", |c| c.read(64))?;
    t.wait_until_blocked(&blocked, Verb::Read, "the client's second thread is asleep in read");
    server.abort();
    t.wait_for_segment(Direction::ServerToClient, 'R');
    blocked.join()?;
    client.read(64);
    client.close();
    Ok(())
}

/// What the epoll steps ask for: input, output and the peer's half-close.
const EPOLL_READ_WRITE_RDHUP: Events = Events::IN.union(Events::OUT).union(Events::RDHUP);

fn linger0_epoll(t: &mut Trial) -> ScriptResult {
    let (mut client, mut server, _listener) = t.connected_pair()?;
    client.epoll_wait(EPOLL_READ_WRITE_RDHUP, Duration::ZERO);
    let blocked = client.spawn("client_thread", |c| {
        c.epoll_wait(Events::IN | Events::RDHUP, BLOCKING_CALL_LIMIT)
    })?;
    t.wait_until_blocked(
        &blocked,
        Verb::EpollWait,
        "the client's second thread is asleep in epoll_wait",
    );
    server.abort();
    t.wait_for_segment(Direction::ServerToClient, 'R');
    blocked.join()?;
    client.epoll_wait(EPOLL_READ_WRITE_RDHUP, Duration::ZERO);
    client.read(64);
    client.epoll_wait(EPOLL_READ_WRITE_RDHUP, Duration::ZERO);
    client.close();
    Ok(())
}

/// Writes without blocking until the send buffer is full (set-up: not steps).
fn fill_send_buffer(client: &Endpoint) -> Result<(), SetupError> {
    use std::io::Write;
    let chunk = [0u8; 16 * 1024];
    let mut socket = client.socket()?;
    loop {
        match socket.write(&chunk) {
            Ok(_) => continue,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return Ok(()),
            Err(e) => return Err(e.into()),
        }
    }
}

fn blocked_writer(t: &mut Trial) -> ScriptResult {
    let mut listener = t.listener(16)?;
    // Small buffers on both sides (the accepted socket inherits the listener's), so that a
    // few segments fill them; the kernel raises both to its minimum.
    listener.tune(SockOpt::SoRcvbuf, 2048);
    let mut client = t.client()?;
    client.tune(SockOpt::SoSndbuf, 4096);
    client.connect(&t.server_addr(sockerr_harness::trial::SERVER_PORT));
    let (_, Some(mut server)) = listener.accept("server") else {
        return Err("set-up accept failed".into());
    };
    client.socket()?.set_nonblocking(true)?;
    fill_send_buffer(&client)?;
    // Once the server advertises a zero window nothing the client holds is acknowledged any
    // more, so the buffer filled after that stays full and the next write must block.
    t.wait_for_wire("the server advertises a zero window", |segments| {
        segments
            .iter()
            .rev()
            .find(|s| s.dir == Direction::ServerToClient)
            .is_some_and(|s| s.win == 0)
    });
    // An ACK processed after the second fill would make room, and the blocked write would
    // copy some bytes before it sleeps (and return their count, not the error).
    t.wait_for_acks_processed(&client);
    fill_send_buffer(&client)?;
    client.socket()?.set_nonblocking(false)?;
    let blocked = client.spawn("client_thread", |c| c.write(&[0u8; 16 * 1024]))?;
    t.wait_until_blocked(&blocked, Verb::Write, "the client's second thread is asleep in write");
    server.abort();
    t.wait_for_segment(Direction::ServerToClient, 'R');
    blocked.join()?;
    client.write(b"x");
    client.read(64);
    client.close();
    Ok(())
}

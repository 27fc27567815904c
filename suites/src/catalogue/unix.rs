//! unix: the Unix-domain stream equivalents of the TCP breaks, for comparison. One kernel
//! holds both ends, so every error is known at once: no packets, no timers, no waits.
//!
//! The sockets are bound to files in a private temporary directory the trial removes, not to
//! abstract names: an abstract name nobody bound gives ECONNREFUSED, and so could not show the
//! ENOENT of a missing socket file, nor the file a closed listener leaves behind (unix(7)).

use sockerr_harness::trial::actors::accept_as;
use sockerr_harness::{Endpoint, Family, Need, ScriptResult, SetupError, SocketDir, Topology, Trial};

use crate::scenario::Scenario;

const UNIX: &[Family] = &[Family::Unix];
const LOOPBACK: &[Topology] = &[Topology::Loopback];

pub fn scenarios() -> Vec<Scenario> {
    vec![
        Scenario {
            id: "unix.stream.no_such_path",
            claim: "A connect to a Unix socket path that does not exist fails at once with ENOENT, where a connect to a closed TCP port is refused.",
            sources: &[
                "unix(7): \"ENOENT The pathname in remote address specified to connect() did not exist\"",
                "connect(2)",
            ],
            situations: &[1],
            guidance: "ENOENT from connect on a Unix socket: the server is not running, or the path is wrong (check the configured path, its directory, and whether the server runs in another mount namespace or container). Retry with backoff while the server starts, then report it down.",
            families: UNIX,
            topologies: LOOPBACK,
            script: no_such_path,
            ..Scenario::BASE
        },
        Scenario {
            id: "unix.stream.no_listener",
            claim: "A connect to a Unix socket file whose socket is bound but not listening, or whose listener has closed and left the file behind, fails at once with ECONNREFUSED.",
            sources: &[
                "unix(7): ECONNREFUSED \"The remote address specified by connect() was not a listening socket\"",
                "unix(7): the socket file remains after close; unlink(2) removes it",
            ],
            situations: &[1],
            guidance: "ECONNREFUSED on a Unix socket: the file exists but nobody accepts on it (a server that crashed or exited without unlinking it, or one not yet listening). Retry with backoff; a server should unlink a stale file before bind, or bind would fail with EADDRINUSE.",
            families: UNIX,
            topologies: LOOPBACK,
            script: no_listener,
            ..Scenario::BASE
        },
        Scenario {
            id: "unix.stream.peer_closed_write",
            claim: "Writing to a Unix stream socket whose peer has closed fails with EPIPE on the very first write (TCP's first write succeeds), raising SIGPIPE unless MSG_NOSIGNAL is given.",
            sources: &[
                "unix(7): EPIPE \"The remote socket was closed on a stream socket\", SIGPIPE",
                "send(2): MSG_NOSIGNAL; write(2): EPIPE, SIGPIPE",
            ],
            situations: &[4],
            guidance: "EPIPE: the peer is gone and nothing more can be sent; close the socket and reconnect if the work must go on. Ignore SIGPIPE (or use MSG_NOSIGNAL) so the error arrives as a return value instead of killing the process.",
            families: UNIX,
            topologies: LOOPBACK,
            needs: &[Need::Fork],
            script: peer_closed_write,
            ..Scenario::BASE
        },
        Scenario {
            id: "unix.stream.peer_closed_read",
            claim: "Reading a Unix stream socket whose peer has closed returns the data it sent and then end of file; if the peer closed with data of ours unread, the first read fails with ECONNRESET and the next returns end of file.",
            sources: &[
                "unix(7), read(2)",
                "net/unix/af_unix.c unix_release_sock (a peer closing with unread data sets ECONNRESET on the other end)",
            ],
            situations: &[3],
            guidance: "A read of 0 is an orderly end: finish, then close. ECONNRESET means the peer exited without reading what was sent: treat the last requests as not processed, close, and reconnect before retrying them.",
            families: UNIX,
            topologies: LOOPBACK,
            script: peer_closed_read,
            ..Scenario::BASE
        },
    ]
}

/// connect#1 to a path in an empty directory.
fn no_such_path(t: &mut Trial) -> ScriptResult {
    let dir = t.socket_dir()?;
    let mut client = t.unix_stream("client")?;
    client.connect_path(&dir.path("absent.sock"));
    client.close();
    Ok(())
}

/// client connects to a socket bound but not listening; client2 to the file a closed
/// listener left behind.
fn no_listener(t: &mut Trial) -> ScriptResult {
    let dir = t.socket_dir()?;
    let bound_path = dir.path("bound.sock");
    let mut bound = t.unix_stream("bound")?;
    bound.bind_path(&bound_path);
    let mut client = t.unix_stream("client")?;
    client.connect_path(&bound_path);

    let closed_path = dir.path("closed.sock");
    let mut listener = t.unix_stream("listener")?;
    listener.listen_path(&closed_path, 16);
    listener.close();
    let mut client2 = t.unix_stream("client2")?;
    client2.connect_path(&closed_path);
    client.close();
    client2.close();
    bound.close();
    Ok(())
}

/// A connected pair over the socket file `name`, actors named `[listener, client, server]`:
/// (client, server, listener). Steps listen#1, connect#1, accept#1.
fn pair(
    t: &mut Trial,
    dir: &SocketDir,
    name: &str,
    actors: [&str; 3],
) -> Result<(Endpoint, Endpoint, Endpoint), SetupError> {
    let [listener_actor, client_actor, server_actor] = actors;
    let path = dir.path(name);
    let mut listener = t.unix_stream(listener_actor)?;
    if let Some(errno) = listener.listen_path(&path, 16).result.errno {
        return Err(SetupError::step("listen", errno));
    }
    let mut client = t.unix_stream(client_actor)?;
    if let Some(errno) = client.connect_path(&path).result.errno {
        return Err(SetupError::step("connect", errno));
    }
    accept_as(&mut listener, server_actor).map(|server| (client, server, listener))
}

/// server closes; the client sends without the signal, writes with it, and writes from a
/// child process with SIGPIPE at its default.
fn peer_closed_write(t: &mut Trial) -> ScriptResult {
    let dir = t.socket_dir()?;
    let (mut client, mut server, mut listener) = pair(t, &dir, "server.sock", ["listener", "client", "server"])?;
    server.close();
    client.send_nosignal(b"hello");
    client.write(b"hello");
    client.write_in_child(b"hello");
    client.close();
    listener.close();
    Ok(())
}

/// server writes and closes: client reads the data, then end of file twice. server2 closes
/// with client2's data unread: client2 reads twice.
fn peer_closed_read(t: &mut Trial) -> ScriptResult {
    let dir = t.socket_dir()?;
    let (mut client, mut server, mut listener) = pair(t, &dir, "server.sock", ["listener", "client", "server"])?;
    server.write(b"bye");
    server.close();
    client.read(64);
    client.read(64);
    client.read(64);
    client.close();

    let (mut client2, mut server2, mut listener2) = pair(t, &dir, "server2.sock", ["listener2", "client2", "server2"])?;
    client2.write(b"hello");
    server2.close();
    client2.read(64);
    client2.read(64);
    client2.close();
    listener.close();
    listener2.close();
    Ok(())
}

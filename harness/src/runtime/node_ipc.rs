//! The long-lived Node.js client: one process for the whole run, on the IPC channel Node.js
//! opens for its parent (NODE_CHANNEL_FD, one JSON message per line), whose `connect` request
//! carries a socket the harness created in the trial's namespace, as a handle (SCM_RIGHTS):
//! plain JavaScript cannot enter a namespace, and a process per trial would cost Node's
//! start-up every time (see runtimes/README.md). Sessions share the channel: every message
//! names its session, and a reader thread hands each answer to its session.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, Read};
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::programs::Launch;
use crate::sys::{self, PipedChild};

/// How long the client may take to start.
const START_DEADLINE: Duration = Duration::from_secs(30);

type Routes = Arc<Mutex<HashMap<u64, Sender<String>>>>;

/// The running Node.js client.
pub(crate) struct NodeHost {
    child: Mutex<PipedChild>,
    /// The harness's end of the channel; one writer at a time.
    channel: Mutex<UnixStream>,
    routes: Routes,
    next: AtomicU64,
}

static HOST: Mutex<Option<Arc<NodeHost>>> = Mutex::new(None);

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Ends the running client, if one runs (see [`super::server::stop_all`]).
pub(crate) fn stop() {
    if let Some(host) = lock(&HOST).take() {
        lock(&host.child).kill();
    }
}

/// The running client, started now if it is not running (or died).
pub(crate) fn get(launch: &Launch) -> io::Result<Arc<NodeHost>> {
    let mut host = lock(&HOST);
    if let Some(running) = host.as_ref() {
        if running.ended().is_none() {
            return Ok(Arc::clone(running));
        }
    }
    let started = Arc::new(start(launch)?);
    *host = Some(Arc::clone(&started));
    Ok(started)
}

fn start(launch: &Launch) -> io::Result<NodeHost> {
    let (ours, theirs) = UnixStream::pair()?;
    let theirs = OwnedFd::from(theirs);
    let mut args: Vec<String> = vec!["NODE_CHANNEL_FD=3".into(), launch.program.clone()];
    args.extend(launch.args.iter().cloned());
    args.push("ipc".into());
    let child = sys::in_fresh_namespace(move || {
        let errors = File::options().write(true).open("/dev/null")?;
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        sys::spawn_piped_with("env", &refs, &errors, Some(&theirs))
    })??;
    let routes: Routes = Arc::default();
    let (ready_tx, ready_rx) = mpsc::channel();
    let reader = ours.try_clone()?;
    let route = Arc::clone(&routes);
    std::thread::Builder::new()
        .name("node-client-reader".into())
        .spawn(move || read_answers(reader, &route, ready_tx))?;
    match ready_rx.recv_timeout(START_DEADLINE) {
        Ok(()) => Ok(NodeHost {
            child: Mutex::new(child),
            channel: Mutex::new(ours),
            routes,
            next: AtomicU64::new(1),
        }),
        Err(_) => Err(io::Error::other("the Node.js client did not say it was ready")),
    }
}

/// Hands every answer on the channel to its session until the channel closes; the first
/// `{"ready":true}` is signalled on `ready`, Node's own messages (`{"cmd":"NODE_HANDLE_ACK"}`)
/// are ignored.
fn read_answers(mut channel: UnixStream, routes: &Routes, ready: Sender<()>) {
    let mut pending = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        let n = match channel.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(_) => break,
        };
        pending.extend_from_slice(&chunk[..n]);
        while let Some(end) = pending.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = pending.drain(..=end).collect();
            let Ok(message) = serde_json::from_slice::<Value>(&line) else {
                continue;
            };
            if message["ready"] == true {
                let _ = ready.send(());
            } else if let Some(session) = message["session"].as_u64() {
                if let Some(to) = lock(routes).get(&session) {
                    let _ = to.send(message["answer"].to_string());
                }
            }
        }
    }
    // The client is gone: every session waiting for an answer learns it now.
    lock(routes).clear();
}

impl NodeHost {
    pub(crate) fn ended(&self) -> Option<String> {
        lock(&self.child).try_ended()
    }

    /// A new session on the channel.
    pub(crate) fn session(self: &Arc<Self>) -> NodeSession {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = mpsc::channel();
        lock(&self.routes).insert(id, tx);
        NodeSession {
            host: Arc::clone(self),
            id,
            answers: rx,
        }
    }
}

/// One session of the Node.js client.
pub(crate) struct NodeSession {
    host: Arc<NodeHost>,
    id: u64,
    answers: Receiver<String>,
}

impl NodeSession {
    /// Sends `request`, with `socket` as its handle when given (then closed here: the client
    /// holds the only reference), and waits for the answer by `deadline`.
    pub(crate) fn exchange(
        &mut self,
        request: &Value,
        socket: Option<OwnedFd>,
        deadline: Instant,
    ) -> io::Result<String> {
        let message = json!({ "session": self.id, "req": request });
        {
            let channel = lock(&self.host.channel);
            match &socket {
                Some(socket) => {
                    // Node's handle message (lib/internal/child_process.js): the handle goes to
                    // process.on('message', (msg, handle)) as a raw TCP handle ('net.Native').
                    let wrapped = json!({ "cmd": "NODE_HANDLE", "type": "net.Native", "msg": message });
                    let line = format!("{wrapped}\n");
                    sys::send_with_descriptor(channel.as_fd(), line.as_bytes(), socket.as_fd())?;
                }
                None => {
                    use std::io::Write;
                    (&*channel).write_all(format!("{message}\n").as_bytes())?;
                }
            }
        }
        drop(socket);
        let left = deadline.saturating_duration_since(Instant::now());
        match self.answers.recv_timeout(left) {
            Ok(answer) => Ok(answer),
            Err(RecvTimeoutError::Timeout) => Err(io::Error::new(io::ErrorKind::TimedOut, "no answer by the deadline")),
            Err(RecvTimeoutError::Disconnected) => Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the client closed its channel",
            )),
        }
    }

    pub(crate) fn ended(&self) -> Option<String> {
        self.host.ended()
    }
}

impl Drop for NodeSession {
    fn drop(&mut self) {
        lock(&self.host.routes).remove(&self.id);
    }
}

//! sockerr's runtime client for Rust: `std::net::TcpStream` (`rust.std`) and tokio's
//! `TcpStream` (`rust.tokio`).
//!
//! [`serve`] answers one session of the line protocol of `runtimes/README.md`: one JSON request
//! per line in, one JSON observation per line out. It runs wherever its caller runs: sockerr
//! hosts it on a thread started from the trial's thread, so its sockets belong to the
//! trial's network namespace. An error is described as a program sees it: `io::ErrorKind` (as
//! Debug), `raw_os_error`, and Display.

use std::io::{self, BufRead, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::time::Duration;

use serde_json::{Map, Value, json};

/// Every blocking call is bounded, like the harness's own calls (BLOCKING_CALL_LIMIT).
const LIMIT: Duration = Duration::from_secs(10);

/// The APIs this client serves.
pub const APIS: [&str; 2] = ["rust.std", "rust.tokio"];

/// What an API's step returned: a value, an I/O error, or why the API cannot express it.
enum Answer {
    Value(Value),
    Failed(io::Error),
    Unsupported(String),
}

impl From<io::Result<Value>> for Answer {
    fn from(r: io::Result<Value>) -> Answer {
        r.map_or_else(Answer::Failed, Answer::Value)
    }
}

/// One API's session: the calls it makes on its one socket.
trait Api {
    fn step(&mut self, op: &str, req: &Value) -> Answer;
    fn fd(&self) -> Option<i32>;
}

fn addr(req: &Value) -> io::Result<SocketAddr> {
    let host = req["host"].as_str().unwrap_or_default();
    let ip: std::net::IpAddr = host
        .parse()
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, format!("not an address: {host}")))?;
    Ok(SocketAddr::new(ip, req["port"].as_u64().unwrap_or(0) as u16))
}

fn len(req: &Value) -> usize {
    req["len"].as_u64().unwrap_or(0) as usize
}

fn shutdown_how(req: &Value) -> Shutdown {
    match req["how"].as_str() {
        Some("read") => Shutdown::Read,
        Some("write") => Shutdown::Write,
        _ => Shutdown::Both,
    }
}

const NO_SOCKET: &str = "no socket: connect first (the API makes none before connect succeeds)";

/// `std::net::TcpStream`: `connect_timeout`, then SO_RCVTIMEO and SO_SNDTIMEO at the limit.
#[derive(Default)]
struct Std {
    stream: Option<TcpStream>,
}

impl Api for Std {
    fn step(&mut self, op: &str, req: &Value) -> Answer {
        if op == "connect" {
            let connected = addr(req).and_then(|a| TcpStream::connect_timeout(&a, LIMIT));
            return match connected {
                Ok(stream) => {
                    let _ = stream.set_read_timeout(Some(LIMIT));
                    let _ = stream.set_write_timeout(Some(LIMIT));
                    self.stream = Some(stream);
                    Answer::Value(Value::Null)
                }
                Err(e) => Answer::Failed(e),
            };
        }
        if op == "close" {
            return match self.stream.take() {
                Some(stream) => {
                    drop(stream);
                    Answer::Value(Value::Null)
                }
                None => Answer::Unsupported(NO_SOCKET.into()),
            };
        }
        let Some(s) = self.stream.as_mut() else {
            return Answer::Unsupported(NO_SOCKET.into());
        };
        match op {
            "read" => s.read(&mut vec![0; len(req)]).map(Value::from).into(),
            "write" => s.write(&vec![b'x'; len(req)]).map(Value::from).into(),
            "shutdown" => s.shutdown(shutdown_how(req)).map(|()| Value::Null).into(),
            "so_error" => s
                .take_error()
                .map(|e| e.map_or(Value::Null, |e| Value::from(e.to_string())))
                .into(),
            "getpeername" => s.peer_addr().map(|a| Value::from(a.to_string())).into(),
            "set_nodelay" => s.set_nodelay(req["on"] == true).map(|()| Value::Null).into(),
            "set_keepalive" => Answer::Unsupported("std::net::TcpStream has no keepalive setter".into()),
            other => Answer::Unsupported(format!("no step '{other}' in the protocol")),
        }
    }

    fn fd(&self) -> Option<i32> {
        self.stream.as_ref().and_then(descriptor)
    }
}

/// tokio's `TcpStream` on a current-thread runtime of the session's own, which runs only
/// during a step; every step is bounded by `tokio::time::timeout`.
struct Tokio {
    runtime: tokio::runtime::Runtime,
    stream: Option<tokio::net::TcpStream>,
}

impl Tokio {
    fn new() -> io::Result<Tokio> {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        Ok(Tokio { runtime, stream: None })
    }
}

/// The client's own limit (`tokio::time::timeout`), told apart from tokio's errors by
/// [`LIMIT_REACHED`] in `fields.limit`.
fn bounded<T>(r: Result<io::Result<T>, tokio::time::error::Elapsed>) -> io::Result<T> {
    r.unwrap_or_else(|elapsed| Err(io::Error::new(io::ErrorKind::TimedOut, Limit(elapsed))))
}

const LIMIT_REACHED: &str = "the client's 10 s limit (tokio::time::timeout) ended the step; tokio reported nothing";

/// The error of a step the client's limit ended.
#[derive(Debug)]
struct Limit(tokio::time::error::Elapsed);

impl std::fmt::Display for Limit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for Limit {}

impl Api for Tokio {
    fn step(&mut self, op: &str, req: &Value) -> Answer {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let runtime = &self.runtime;
        if op == "connect" {
            let connected = addr(req).and_then(|a| {
                runtime
                    .block_on(async { bounded(tokio::time::timeout(LIMIT, tokio::net::TcpStream::connect(a)).await) })
            });
            return match connected {
                Ok(stream) => {
                    self.stream = Some(stream);
                    Answer::Value(Value::Null)
                }
                Err(e) => Answer::Failed(e),
            };
        }
        if op == "close" {
            return match self.stream.take() {
                Some(stream) => {
                    runtime.block_on(async { drop(stream) });
                    Answer::Value(Value::Null)
                }
                None => Answer::Unsupported(NO_SOCKET.into()),
            };
        }
        let Some(s) = self.stream.as_mut() else {
            return Answer::Unsupported(NO_SOCKET.into());
        };
        match op {
            "read" => runtime
                .block_on(async { bounded(tokio::time::timeout(LIMIT, s.read(&mut vec![0; len(req)])).await) })
                .map(Value::from)
                .into(),
            "write" => runtime
                .block_on(async { bounded(tokio::time::timeout(LIMIT, s.write(&vec![b'x'; len(req)])).await) })
                .map(Value::from)
                .into(),
            "shutdown" => match shutdown_how(req) {
                Shutdown::Write => runtime
                    .block_on(async { bounded(tokio::time::timeout(LIMIT, s.shutdown()).await) })
                    .map(|()| Value::Null)
                    .into(),
                _ => Answer::Unsupported("tokio's TcpStream has AsyncWriteExt::shutdown (SHUT_WR) only".into()),
            },
            "so_error" => s
                .take_error()
                .map(|e| e.map_or(Value::Null, |e| Value::from(e.to_string())))
                .into(),
            "getpeername" => s.peer_addr().map(|a| Value::from(a.to_string())).into(),
            "set_nodelay" => s.set_nodelay(req["on"] == true).map(|()| Value::Null).into(),
            "set_keepalive" => Answer::Unsupported("tokio's TcpStream has no keepalive setter".into()),
            other => Answer::Unsupported(format!("no step '{other}' in the protocol")),
        }
    }

    fn fd(&self) -> Option<i32> {
        self.stream.as_ref().and_then(descriptor)
    }
}

/// The runtime's name and version: `rustc 1.95.0`, plus `tokio 1.x` for tokio.
pub fn version(api: &str) -> String {
    let rustc = env!("SOCKERR_RUSTC_VERSION");
    if api == "rust.tokio" {
        format!("{rustc} + tokio {}", env!("SOCKERR_TOKIO_VERSION"))
    } else {
        rustc.to_string()
    }
}

/// The stream's descriptor, which the harness takes over with pidfd_getfd(2) on Linux; a
/// Windows socket handle is no descriptor.
#[cfg(unix)]
fn descriptor<S: std::os::fd::AsRawFd>(stream: &S) -> Option<i32> {
    Some(stream.as_raw_fd())
}
#[cfg(not(unix))]
fn descriptor<S>(_stream: &S) -> Option<i32> {
    None
}

/// The error's symbolic name (`ECONNRESET`); its number where the C library's names are not
/// those of socket errors (Windows).
#[cfg(unix)]
fn errno_name(code: i32) -> String {
    format!("{:?}", nix::errno::Errno::from_raw(code))
}
#[cfg(not(unix))]
fn errno_name(code: i32) -> String {
    format!("os error {code}")
}

fn thrown(e: &io::Error) -> Map<String, Value> {
    let code = e.raw_os_error();
    let mut o = Map::new();
    o.insert("outcome".into(), "error".into());
    o.insert("type".into(), "std::io::Error".into());
    o.insert("message".into(), e.to_string().into());
    o.insert("code".into(), code.map_or(Value::Null, |c| errno_name(c).into()));
    o.insert("errno".into(), code.map_or(Value::Null, Value::from));
    let mut fields = json!({ "kind": format!("{:?}", e.kind()) });
    if e.get_ref().is_some_and(|inner| inner.is::<Limit>()) {
        fields["limit"] = LIMIT_REACHED.into();
    }
    o.insert("fields".into(), fields);
    o
}

fn hello(req: &Value) -> Result<Box<dyn Api>, String> {
    if req["netns"].is_string() {
        return Err("this client runs on a thread started in the trial's namespace; it enters none".into());
    }
    match req["api"].as_str() {
        Some("rust.std") => Ok(Box::new(Std::default())),
        Some("rust.tokio") => Tokio::new()
            .map(|t| Box::new(t) as Box<dyn Api>)
            .map_err(|e| e.to_string()),
        other => Err(format!("no API {other:?} here; this client serves {APIS:?}")),
    }
}

/// Answers the requests of one session until `bye` or the end of `input`.
pub fn serve(input: impl BufRead, mut output: impl Write) -> io::Result<()> {
    let mut api: Option<Box<dyn Api>> = None;
    for line in input.lines() {
        let line = line?;
        let req: Value = serde_json::from_str(&line).map_err(io::Error::other)?;
        let op = req["op"].as_str().unwrap_or_default().to_string();
        if op == "bye" {
            drop(api.take());
            writeln!(output, "{}", json!({ "outcome": "ok", "fd": null }))?;
            output.flush()?;
            break;
        }
        let mut o = Map::new();
        if op == "hello" {
            match hello(&req) {
                Ok(chosen) => {
                    api = Some(chosen);
                    o.insert("outcome".into(), "ok".into());
                    o.insert(
                        "runtime".into(),
                        version(req["api"].as_str().unwrap_or_default()).into(),
                    );
                    o.insert("pid".into(), std::process::id().into());
                }
                Err(why) => {
                    o.insert("outcome".into(), "unsupported".into());
                    o.insert("why".into(), why.into());
                }
            }
        } else {
            let answer = match api.as_mut() {
                Some(api) => api.step(&op, &req),
                None => Answer::Unsupported("the session has not said hello".into()),
            };
            match answer {
                Answer::Value(v) => {
                    o.insert("outcome".into(), "ok".into());
                    o.insert("value".into(), v);
                }
                Answer::Failed(e) => o = thrown(&e),
                Answer::Unsupported(why) => {
                    o.insert("outcome".into(), "unsupported".into());
                    o.insert("why".into(), why.into());
                }
            }
        }
        o.insert(
            "fd".into(),
            api.as_ref().and_then(|a| a.fd()).map_or(Value::Null, Value::from),
        );
        writeln!(output, "{}", Value::Object(o))?;
        output.flush()?;
    }
    Ok(())
}

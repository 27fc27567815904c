//! The endpoints a script gets from its trial: a client, a listener, a connected pair, a
//! socket the server's host opens itself, UDP and Unix-domain sockets, and the private
//! directory Unix sockets live in.

use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

use socket2::{Domain, Protocol, Socket, Type};

use super::{CLOSED_PORT, Host, SERVER_PORT, SetupError, Trial, lock};
use crate::capabilities::Need;
use crate::endpoint::Endpoint;
use crate::runtime::{RuntimeClient, StartError};
use crate::sys;

impl Trial {
    /// A new TCP socket on the client's host for `actor` (`client2`, when a scenario has
    /// several clients). In a runtime trial the runtime's client makes its calls.
    pub fn client_named(&mut self, actor: &str) -> Result<Endpoint, SetupError> {
        self.enter(Host::Client)?;
        match self.client {
            None => Ok(Endpoint::tcp(&self.log, actor, &self.server_addr(SERVER_PORT))?),
            Some(api) => {
                self.uses(Need::Runtime(api.runtime()));
                match RuntimeClient::start(api) {
                    Ok(client) => Ok(Endpoint::with_runtime(&self.log, actor, client)),
                    Err(StartError::Missing(why)) => Err(SetupError::Skip(why)),
                    Err(StartError::Failed(why)) => Err(SetupError::Other(why)),
                }
            }
        }
    }

    /// A new TCP socket on the client's host, actor `client`.
    pub fn client(&mut self) -> Result<Endpoint, SetupError> {
        self.client_named("client")
    }

    /// The client host's address (the same as the server's on loopback).
    pub fn client_ip(&self) -> std::net::IpAddr {
        self.sandbox.client_ip()
    }

    /// The server's address with `port` (in the `host` topology, the port the kernel picked
    /// for it: see [`crate::sandbox::HostPorts`]).
    pub fn server_addr(&self, port: u16) -> SocketAddr {
        SocketAddr::new(self.sandbox.server_ip(), self.sandbox.port(port))
    }

    /// An address of the server's host where nothing listens. The capture judges directions
    /// by it.
    pub fn closed_port(&mut self) -> SocketAddr {
        let addr = self.server_addr(CLOSED_PORT);
        lock(&self.capture).set_server(addr);
        addr
    }

    /// A listening socket on the server's host, actor `listener` (step `listener.listen#1`).
    pub fn listener(&mut self, backlog: i32) -> Result<Endpoint, SetupError> {
        let addr = self.server_addr(SERVER_PORT);
        self.enter(Host::Server)?;
        let mut listener = Endpoint::tcp(&self.log, "listener", &addr)?;
        self.enter(Host::Client)?;
        lock(&self.capture).set_server(addr);
        let step = listener.listen(&addr, backlog);
        match step.result.errno {
            None => Ok(listener),
            Some(errno) => Err(SetupError::step(format!("listen on {addr}"), errno)),
        }
    }

    /// A connected pair: the client (`client`), the accepted socket (`server`) and the
    /// listener. Steps `listener.listen#1`, `client.connect#1`, `listener.accept#1`.
    pub fn connected_pair(&mut self) -> Result<(Endpoint, Endpoint, Endpoint), SetupError> {
        let mut listener = self.listener(16)?;
        let mut client = self.client()?;
        let connected = client.connect(&self.server_addr(SERVER_PORT));
        if let Some(errno) = connected.result.errno {
            return Err(SetupError::step("connect", errno));
        }
        accept_as(&mut listener, "server").map(|server| (client, server, listener))
    }

    /// A new TCP socket on the server's host for `actor`, for connections the server opens
    /// itself (e.g. from the service's own port to a client whose old connection is still in
    /// TIME_WAIT); the trial's thread is back on the client's host afterwards.
    pub fn server_socket(&mut self, actor: &str) -> io::Result<Endpoint> {
        let addr = self.server_addr(SERVER_PORT);
        self.enter(Host::Server)?;
        let made = Endpoint::tcp(self.log(), actor, &addr);
        self.enter(Host::Client)?;
        made
    }

    /// A new UDP socket on the client's host, actor `client`, not bound and not connected.
    pub fn udp_client(&mut self) -> io::Result<Endpoint> {
        self.enter(Host::Client)?;
        let domain = Domain::for_address(self.server_addr(SERVER_PORT));
        let socket = Socket::new(domain, Type::DGRAM, Some(Protocol::UDP))?;
        Endpoint::from_socket(self.log(), "client", socket)
    }

    /// A private directory for this trial's socket files, removed when dropped.
    pub fn socket_dir(&self) -> io::Result<SocketDir> {
        SocketDir::create()
    }

    /// A new AF_UNIX stream socket for `actor`.
    pub fn unix_stream(&mut self, actor: &str) -> io::Result<Endpoint> {
        self.enter(Host::Client)?;
        let socket = Socket::new(Domain::UNIX, Type::STREAM, None)?;
        Endpoint::from_socket(self.log(), actor, socket)
    }
}

/// The listener's next connection as `actor` (step `listener.accept#n`), for a set-up that
/// needs it: no connection is an error naming what accept returned.
pub fn accept_as(listener: &mut Endpoint, actor: &str) -> Result<Endpoint, SetupError> {
    match listener.accept(actor) {
        (_, Some(server)) => Ok(server),
        (step, None) => Err(SetupError::step(
            "accept",
            step.result.errno.unwrap_or_else(|| step.detail.unwrap_or_default()),
        )),
    }
}

/// A directory only this trial uses (mode 0700, under the system's temporary directory),
/// removed with everything in it when dropped.
pub struct SocketDir {
    path: PathBuf,
}

impl SocketDir {
    fn create() -> io::Result<SocketDir> {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!("sockerr-{}-{n}", std::process::id()));
        sys::create_private_dir(&path)?;
        Ok(SocketDir { path })
    }

    /// The path of `name` inside the directory (nothing is created).
    pub fn path(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }
}

impl Drop for SocketDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

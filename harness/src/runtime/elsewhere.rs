//! Runtime clients run on Linux only: the harness reads a client's socket through
//! pidfd_getfd(2), and the clients' programs are set up with Linux's packages. Elsewhere each
//! runtime is missing, with the reason, so that runtime trials skip and native ones run.

use std::net::SocketAddr;

#[path = "api.rs"]
mod api;

pub use crate::record::runtime::{Answer, RuntimeStep};
pub use api::{Api, Runtime, StartError, require_all};

use crate::endpoint::stream::Shut;

const LINUX_ONLY: &str = "runtime clients run on Linux only (pidfd_getfd reads their sockets)";

impl Runtime {
    pub fn missing(self) -> Option<String> {
        Some(LINUX_ONLY.into())
    }
    pub fn prepare(self) -> Result<(), StartError> {
        Err(StartError::Missing(LINUX_ONLY.into()))
    }
}

/// Nothing was started.
pub fn stop_all() {}

/// A session of a runtime client: never made here.
pub enum RuntimeClient {}

impl RuntimeClient {
    pub fn start(_api: Api) -> Result<RuntimeClient, StartError> {
        Err(StartError::Missing(LINUX_ONLY.into()))
    }
    pub fn api(&self) -> Api {
        match *self {}
    }
    pub fn version(&self) -> &str {
        match *self {}
    }
    pub fn connect(&mut self, _addr: SocketAddr) -> RuntimeStep {
        match *self {}
    }
    pub fn read(&mut self, _len: usize) -> RuntimeStep {
        match *self {}
    }
    pub fn write(&mut self, _len: usize) -> RuntimeStep {
        match *self {}
    }
    pub fn shutdown(&mut self, _how: Shut) -> RuntimeStep {
        match *self {}
    }
    pub fn so_error(&mut self) -> RuntimeStep {
        match *self {}
    }
    pub fn getpeername(&mut self) -> RuntimeStep {
        match *self {}
    }
    pub fn set_nodelay(&mut self, _on: bool) -> RuntimeStep {
        match *self {}
    }
    pub fn set_keepalive(&mut self, _on: bool) -> RuntimeStep {
        match *self {}
    }
    pub fn close(&mut self) -> RuntimeStep {
        match *self {}
    }
    pub fn socket_view(&self) -> Option<socket2::Socket> {
        match *self {}
    }
}

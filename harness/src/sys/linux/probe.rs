//! What this Linux offers a trial, probed in a throw-away namespace where a namespace is
//! involved, so that the probe touches nothing on the host.

use crate::capabilities::{Missing, Need};
use crate::sys::linux::netns::in_fresh_namespace;

fn missing(what: impl Into<String>, remedy: impl Into<String>) -> Missing {
    Missing {
        what: what.into(),
        remedy: remedy.into(),
    }
}

/// Whether `need` can be met here, and if not, why and what to do.
pub fn probe(need: Need) -> Result<(), Missing> {
    match need {
        Need::Namespaces => match super::namespaces_unavailable() {
            None => Ok(()),
            Some(reason) => Err(missing("network namespaces", reason)),
        },
        Need::Nftables => probe_nftables(),
        Need::Sysctl(key) => probe_sysctl(key),
        Need::ProcTaskState => match super::can_see_sleeping_calls() {
            true => Ok(()),
            false => Err(missing(
                "/proc/<pid>/task/<tid>/syscall",
                "a kernel built with CONFIG_HAVE_ARCH_TRACEHOOK that shows it",
            )),
        },
        Need::TcpTable => readable_in_namespace("/proc/thread-self/net/tcp"),
        Need::ProtocolCounters => readable_in_namespace("/proc/thread-self/net/snmp"),
        Need::PacketCapture
        | Need::TcpInfoBytesAcked
        | Need::Epoll
        | Need::Fork
        | Need::ErrorQueue
        | Need::Runtime(_) => Ok(()),
    }
}

/// The `nft` program, and nf_tables in the kernel (`nft list ruleset` in a fresh namespace).
fn probe_nftables() -> Result<(), Missing> {
    let listed = in_fresh_namespace(|| super::run_program("nft", &["list", "ruleset"], b""));
    match listed {
        Ok(Ok((0, _))) => Ok(()),
        Ok(Err(e)) if e.kind() == std::io::ErrorKind::NotFound => {
            Err(missing("the nft program", "install it: apt-get install nftables"))
        }
        Ok(Ok((status, errors))) => Err(missing(
            "nf_tables in this kernel",
            format!(
                "`nft list ruleset` exited with {status} in a fresh namespace: {}",
                errors.lines().next().unwrap_or("no message")
            ),
        )),
        Ok(Err(e)) | Err(e) => Err(missing("the nft program", format!("it could not be run: {e}"))),
    }
}

/// A sysctl a trial writes: readable and writable in a fresh namespace (its value written
/// back unchanged).
fn probe_sysctl(key: &'static str) -> Result<(), Missing> {
    let written = in_fresh_namespace(move || {
        let value = super::read_sysctl(key)?;
        super::write_sysctl(key, &value)
    });
    match written {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) if e.kind() == std::io::ErrorKind::NotFound => Err(missing(
            format!("{key} in a network namespace"),
            "run on a kernel that has it",
        )),
        Ok(Err(e)) | Err(e) => Err(missing(
            format!("a writable {key} in a network namespace"),
            format!("the kernel refused to write it: {e}"),
        )),
    }
}

fn readable_in_namespace(path: &'static str) -> Result<(), Missing> {
    match in_fresh_namespace(move || std::fs::read_to_string(path)) {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) | Err(e) => Err(missing(path, format!("it cannot be read here: {e}"))),
    }
}

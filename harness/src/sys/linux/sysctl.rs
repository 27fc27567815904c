//! Sysctls of the calling thread's network namespace (/proc/sys/net is per namespace,
//! network_namespaces(7)).

use std::io;

/// Reads a sysctl as the calling thread's network namespace sees it (`net.ipv4.tcp_syn_retries`).
pub fn read_sysctl(key: &str) -> io::Result<String> {
    let path = format!("/proc/sys/{}", key.replace('.', "/"));
    Ok(std::fs::read_to_string(path)?.trim().to_string())
}

/// Writes a sysctl in the calling thread's network namespace. Only ever called on a thread
/// inside a trial's namespace: `net.*` sysctls written there do not touch the host.
pub fn write_sysctl(key: &str, value: &str) -> io::Result<()> {
    let path = format!("/proc/sys/{}", key.replace('.', "/"));
    std::fs::write(path, value)
}

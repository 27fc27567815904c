//! Facts about the machine a report was measured on.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::sys;

/// The TCP-related sysctls a reader needs to interpret a report. They are read inside a
/// fresh namespace, which is what every trial starts from (per-namespace values start from
/// the kernel's defaults, not from the host's settings).
pub const TCP_SYSCTLS: &[&str] = &[
    "net.ipv4.tcp_syn_retries",
    "net.ipv4.tcp_synack_retries",
    "net.ipv4.tcp_retries1",
    "net.ipv4.tcp_retries2",
    "net.ipv4.tcp_orphan_retries",
    "net.ipv4.tcp_fin_timeout",
    "net.ipv4.tcp_keepalive_time",
    "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes",
    "net.ipv4.tcp_abort_on_overflow",
    "net.ipv4.tcp_rfc1337",
    "net.ipv4.tcp_syncookies",
    "net.ipv4.tcp_max_syn_backlog",
    "net.ipv4.tcp_timestamps",
    "net.ipv4.tcp_sack",
    "net.ipv4.tcp_window_scaling",
    "net.ipv4.tcp_ecn",
    "net.ipv4.tcp_invalid_ratelimit",
    "net.ipv4.ip_local_port_range",
    "net.core.somaxconn",
];

/// Operating system, kernel, architecture and the TCP sysctls in force in a trial namespace.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Platform {
    pub os: String,
    pub kernel: String,
    pub arch: String,
    /// Sysctl name to value as seen inside a fresh trial namespace; a key that cannot be read
    /// there is absent.
    pub sysctls: BTreeMap<String, String>,
    /// How the suite ran: `root`, or `uid N in a user namespace` for a rootless run.
    #[serde(default)]
    pub run_as: String,
}

impl Platform {
    /// Reads the platform facts; the sysctls on a throw-away thread in a fresh namespace.
    pub fn probe() -> Platform {
        let kernel = nix::sys::utsname::uname().map(|u| u.release().to_string_lossy().into_owned()).unwrap_or_default();
        let sysctls = std::thread::spawn(|| {
            let mut values = BTreeMap::new();
            if sys::NetNs::create().is_ok() {
                for key in TCP_SYSCTLS {
                    if let Ok(v) = sys::read_sysctl(key) {
                        values.insert(key.to_string(), v.split_whitespace().collect::<Vec<_>>().join(" "));
                    }
                }
            }
            values
        })
        .join()
        .unwrap_or_default();
        Platform {
            os: std::env::consts::OS.to_string(),
            kernel,
            arch: std::env::consts::ARCH.to_string(),
            sysctls,
            run_as: String::new(),
        }
    }
}

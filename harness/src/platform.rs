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
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
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
    /// The name the run was given (`sockerr run --label`), which `sockerr compare` shows as
    /// its column; empty when none was given (the column is then `os kernel`).
    #[serde(default)]
    pub label: String,
    /// Sysctls written in every namespace of every trial before any socket existed
    /// (`sockerr run --sysctl KEY=VALUE`); `sysctls` shows the values then in force.
    #[serde(default)]
    pub sysctl_overrides: BTreeMap<String, String>,
    /// How the run was obtained: on the host, or in a virtual machine booted with a given
    /// kernel package (`sockerr run --origin`). Reports written before this field existed
    /// were host runs, and read as such.
    #[serde(default)]
    pub origin: Origin,
    /// What the platform offered the trials (probed once per run, in a namespace of its
    /// own), and the fallbacks it needed. Reports written before this field existed have
    /// none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub capabilities: Vec<crate::capabilities::CapabilityRecord>,
}

/// Where a run took place.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum OriginKind {
    /// Directly on the machine that started the run.
    #[default]
    Host,
    /// In a virtual machine booted with the kernel named by the origin's package.
    Guest,
    /// In a sandbox runtime that puts its own kernel (and network stack) between the program
    /// and the host's kernel, such as gVisor: the origin names the runtime, its version, its
    /// platform and the host's kernel.
    Sandbox,
}

/// How a report was obtained: on the host, in a guest with a given kernel package and
/// accelerator, or in a sandbox runtime. Given on the command line as `host`, as
/// `guest,KEY=VALUE,...` with the keys `kernel_package`, `kernel_package_version`,
/// `accelerator` and `vmm`, or as `sandbox,KEY=VALUE,...` with the keys `runtime`,
/// `runtime_version`, `runtime_platform` and `host_kernel` (values without commas); a guest
/// needs at least `kernel_package` and `accelerator`, a sandbox `runtime` and
/// `runtime_platform`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Origin {
    pub kind: OriginKind,
    /// The package the guest's kernel came from, e.g. `linux-image-6.1.0-56-cloud-amd64`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub kernel_package: String,
    /// That package's version, e.g. `6.1.192-2`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub kernel_package_version: String,
    /// How the guest's CPU ran: `kvm` (hardware virtualisation) or `tcg` (QEMU's emulation).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub accelerator: String,
    /// The virtual machine monitor and its version, e.g. `QEMU emulator version 7.2.19`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub vmm: String,
    /// The sandbox runtime, e.g. `gVisor`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub runtime: String,
    /// Its version, e.g. `0.0~20240729.0` (`runsc --version`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub runtime_version: String,
    /// How it runs the program's system calls, e.g. `systrap` or `ptrace` (runsc's
    /// `--platform`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub runtime_platform: String,
    /// The kernel of the host the sandbox ran on (`uname -r` outside it); the report's own
    /// `kernel` is what the sandbox says it is.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub host_kernel: String,
}

impl std::str::FromStr for Origin {
    type Err = String;

    /// Parses `host`, `guest,kernel_package=NAME,kernel_package_version=V,accelerator=A,vmm=M`
    /// or `sandbox,runtime=R,runtime_version=V,runtime_platform=P,host_kernel=K`.
    fn from_str(text: &str) -> Result<Origin, String> {
        let mut parts = text.split(',');
        let kind = match parts.next().map(str::trim) {
            Some("host") => OriginKind::Host,
            Some("guest") => OriginKind::Guest,
            Some("sandbox") => OriginKind::Sandbox,
            other => {
                return Err(format!(
                    "{:?} is not an origin: expected `host`, `guest,kernel_package=NAME,accelerator=kvm|tcg,...` \
                     or `sandbox,runtime=NAME,runtime_platform=NAME,...`",
                    other.unwrap_or_default()
                ));
            }
        };
        let mut origin = Origin {
            kind,
            ..Origin::default()
        };
        for part in parts {
            let (key, value) = part
                .split_once('=')
                .ok_or_else(|| format!("{part:?} in the origin is not KEY=VALUE"))?;
            let (slot, of) = match key.trim() {
                "kernel_package" => (&mut origin.kernel_package, OriginKind::Guest),
                "kernel_package_version" => (&mut origin.kernel_package_version, OriginKind::Guest),
                "accelerator" => (&mut origin.accelerator, OriginKind::Guest),
                "vmm" => (&mut origin.vmm, OriginKind::Guest),
                "runtime" => (&mut origin.runtime, OriginKind::Sandbox),
                "runtime_version" => (&mut origin.runtime_version, OriginKind::Sandbox),
                "runtime_platform" => (&mut origin.runtime_platform, OriginKind::Sandbox),
                "host_kernel" => (&mut origin.host_kernel, OriginKind::Sandbox),
                other => {
                    return Err(format!(
                        "unknown origin key {other:?} (known: kernel_package, kernel_package_version, accelerator, \
                         vmm for a guest; runtime, runtime_version, runtime_platform, host_kernel for a sandbox)"
                    ));
                }
            };
            if of != kind {
                let kind = if kind == OriginKind::Host {
                    "host"
                } else {
                    "guest or sandbox"
                };
                return Err(format!("{} describes another kind of origin than {kind}", key.trim()));
            }
            *slot = value.trim().to_string();
        }
        match kind {
            OriginKind::Host if origin != Origin::default() => {
                Err("a host origin takes no keys: they describe a guest or a sandbox".to_string())
            }
            OriginKind::Guest if origin.kernel_package.is_empty() || origin.accelerator.is_empty() => {
                Err("a guest origin needs kernel_package=NAME and accelerator=kvm|tcg".to_string())
            }
            OriginKind::Sandbox if origin.runtime.is_empty() || origin.runtime_platform.is_empty() => {
                Err("a sandbox origin needs runtime=NAME and runtime_platform=NAME".to_string())
            }
            _ => Ok(origin),
        }
    }
}

impl std::fmt::Display for Origin {
    /// `host`, `guest: PACKAGE VERSION, ACCELERATOR, VMM`, or
    /// `sandbox: RUNTIME VERSION (PLATFORM), host kernel KERNEL`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.kind {
            OriginKind::Host => f.write_str("host"),
            OriginKind::Sandbox => {
                write!(f, "sandbox: {}", self.runtime)?;
                if !self.runtime_version.is_empty() {
                    write!(f, " {}", self.runtime_version)?;
                }
                write!(f, " ({})", self.runtime_platform)?;
                if !self.host_kernel.is_empty() {
                    write!(f, ", host kernel {}", self.host_kernel)?;
                }
                Ok(())
            }
            OriginKind::Guest => {
                write!(f, "guest: {}", self.kernel_package)?;
                if !self.kernel_package_version.is_empty() {
                    write!(f, " {}", self.kernel_package_version)?;
                }
                write!(f, ", {}", self.accelerator)?;
                if !self.vmm.is_empty() {
                    write!(f, ", {}", self.vmm)?;
                }
                Ok(())
            }
        }
    }
}

impl Platform {
    /// Reads the platform facts; the sysctls on a throw-away thread in a fresh namespace.
    pub fn probe() -> Platform {
        Self::probe_with(&[]).unwrap_or_else(|_| Platform {
            sysctls: BTreeMap::new(),
            ..Self::facts()
        })
    }

    /// [`probe`](Self::probe), with `overrides` written first in the throw-away namespace as
    /// every trial namespace gets them, so that `sysctls` shows the values in force (the
    /// override keys included) and `sysctl_overrides` lists them. An override the kernel does
    /// not accept there is an error naming the key, the value and the kernel's answer. Where
    /// no namespace can be created the overrides are not tried and `sysctls` is empty.
    pub fn probe_with(overrides: &[(String, String)]) -> std::io::Result<Platform> {
        let owned = overrides.to_vec();
        let sysctls = std::thread::spawn(move || {
            let mut values = BTreeMap::new();
            if sys::NetNs::create().is_ok() {
                crate::sandbox::apply_sysctls(&owned)?;
                for key in TCP_SYSCTLS.iter().copied().chain(owned.iter().map(|(k, _)| k.as_str())) {
                    if let Ok(v) = sys::read_sysctl(key) {
                        values.insert(key.to_string(), v.split_whitespace().collect::<Vec<_>>().join(" "));
                    }
                }
            }
            Ok::<_, std::io::Error>(values)
        })
        .join()
        .unwrap_or_else(|_| Ok(BTreeMap::new()))?;
        Ok(Platform {
            sysctls,
            sysctl_overrides: overrides.iter().cloned().collect(),
            ..Self::facts()
        })
    }

    /// Operating system, kernel and architecture; nothing else.
    fn facts() -> Platform {
        let kernel = crate::sys::kernel_release();
        Platform {
            os: std::env::consts::OS.to_string(),
            kernel,
            arch: std::env::consts::ARCH.to_string(),
            ..Platform::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_origin_reads_host_or_a_guest_with_its_package_and_accelerator() {
        assert_eq!("host".parse::<Origin>(), Ok(Origin::default()));
        let guest: Origin = "guest,kernel_package=linux-image-6.1.0-56-cloud-amd64,kernel_package_version=6.1.192-2,accelerator=tcg,vmm=QEMU emulator version 7.2.19"
            .parse()
            .expect("a guest origin");
        assert_eq!(guest.kind, OriginKind::Guest);
        assert_eq!(guest.kernel_package, "linux-image-6.1.0-56-cloud-amd64");
        assert_eq!(guest.kernel_package_version, "6.1.192-2");
        assert_eq!(guest.accelerator, "tcg");
        assert_eq!(
            guest.to_string(),
            "guest: linux-image-6.1.0-56-cloud-amd64 6.1.192-2, tcg, QEMU emulator version 7.2.19"
        );
        assert_eq!(Origin::default().to_string(), "host");
        let sandbox: Origin =
            "sandbox,runtime=gVisor,runtime_version=0.0~20240729.0,runtime_platform=systrap,host_kernel=6.18.44"
                .parse()
                .expect("a sandbox origin");
        assert_eq!(sandbox.kind, OriginKind::Sandbox);
        assert_eq!(
            sandbox.to_string(),
            "sandbox: gVisor 0.0~20240729.0 (systrap), host kernel 6.18.44"
        );
        for bad in [
            "",
            "vm",
            "guest",
            "guest,accelerator=tcg",
            "guest,kernel_package=x,accelerator=tcg,colour=red",
            "guest,kernel_package",
            "host,accelerator=kvm",
            "sandbox,runtime=gVisor",
            "sandbox,runtime=gVisor,runtime_platform=systrap,accelerator=kvm",
            "guest,kernel_package=x,accelerator=tcg,runtime=gVisor",
        ] {
            assert!(bad.parse::<Origin>().is_err(), "{bad:?} was accepted");
        }
    }

    fn overrides(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    /// ip-sysctl.rst: net.ipv4.tcp_rfc1337 defaults to 0 in a new network namespace; the probe
    /// shows the override in force instead, and lists it.
    #[test]
    fn a_probe_with_overrides_shows_them_in_force_and_lists_them() {
        if crate::prerequisite::unmet(sys::namespaces_unavailable()) {
            return;
        }
        let host_before = sys::read_sysctl("net.ipv4.tcp_rfc1337").ok();
        let plain = Platform::probe();
        assert_eq!(plain.sysctls.get("net.ipv4.tcp_rfc1337").map(String::as_str), Some("0"));
        assert!(plain.sysctl_overrides.is_empty());
        let probed = Platform::probe_with(&overrides(&[
            ("net.ipv4.tcp_rfc1337", "1"),
            ("net.ipv4.tcp_ecn_fallback", "0"),
        ]))
        .expect("probe");
        assert_eq!(
            probed.sysctls.get("net.ipv4.tcp_rfc1337").map(String::as_str),
            Some("1")
        );
        assert_eq!(
            probed.sysctls.get("net.ipv4.tcp_ecn_fallback").map(String::as_str),
            Some("0"),
            "override keys are read back"
        );
        assert_eq!(
            probed.sysctl_overrides.get("net.ipv4.tcp_rfc1337").map(String::as_str),
            Some("1")
        );
        assert_eq!(
            sys::read_sysctl("net.ipv4.tcp_rfc1337").ok(),
            host_before,
            "the host's value changed"
        );
    }

    /// proc_sys(5): an unknown sysctl has no file (ENOENT); a value the handler cannot parse
    /// is refused with EINVAL. Either way the probe says which key.
    #[test]
    fn a_probe_with_an_override_the_kernel_refuses_names_the_key_and_the_kernels_error() {
        if crate::prerequisite::unmet(sys::namespaces_unavailable()) {
            return;
        }
        let unknown = Platform::probe_with(&overrides(&[("net.ipv4.no_such_knob", "1")]))
            .unwrap_err()
            .to_string();
        assert!(
            unknown.contains("sysctl net.ipv4.no_such_knob=1: no such sysctl in a network namespace"),
            "{unknown}"
        );
        assert!(unknown.contains("os error 2"), "{unknown}");
        let bad = Platform::probe_with(&overrides(&[("net.ipv4.tcp_rfc1337", "yes")]))
            .unwrap_err()
            .to_string();
        assert!(
            bad.contains("sysctl net.ipv4.tcp_rfc1337=yes: the kernel refused the value"),
            "{bad}"
        );
        assert!(bad.contains("os error 22"), "{bad}");
    }
}

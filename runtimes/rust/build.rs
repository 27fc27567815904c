//! Records the versions this client is built with: `rustc --version` and the tokio that
//! Cargo.lock resolved, so that an observation says which Rust and which tokio saw it.

use std::process::Command;

fn main() {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let version = Command::new(&rustc)
        .arg("--version")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|v| v.split_whitespace().take(2).collect::<Vec<_>>().join(" ").into())
        .unwrap_or_else(|| "rustc (unknown version)".into());
    println!("cargo:rustc-env=SOCKERR_RUSTC_VERSION={version}");
    let lock = std::path::Path::new(&std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default()).join("../../Cargo.lock");
    println!("cargo:rerun-if-changed={}", lock.display());
    let tokio = std::fs::read_to_string(&lock)
        .ok()
        .and_then(|text| {
            let at = text.find("name = \"tokio\"\nversion = \"")? + "name = \"tokio\"\nversion = \"".len();
            text[at..].split('"').next().map(str::to_string)
        })
        .unwrap_or_else(|| "unknown".into());
    println!("cargo:rustc-env=SOCKERR_TOKIO_VERSION={tokio}");
}

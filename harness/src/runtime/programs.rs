//! The client programs: their sources (compiled into the harness, so that a `sockerr` binary
//! needs no checkout), written into a cache under Cargo's target directory keyed by a hash
//! of the sources, built there once (javac, go build), and the command that starts each.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use super::Runtime;
use crate::sys;

/// A source file of a client: its path under the program's directory, and its text.
type Source = (&'static str, &'static str);

const PYTHON: &[Source] = &[(
    "sockerr_client.py",
    include_str!("../../../runtimes/python/sockerr_client.py"),
)];
const NODE: &[Source] = &[(
    "sockerr_client.js",
    include_str!("../../../runtimes/node/sockerr_client.js"),
)];
const GO: &[Source] = &[
    ("go.mod", include_str!("../../../runtimes/go/go.mod")),
    ("main.go", include_str!("../../../runtimes/go/main.go")),
    ("setns_amd64.go", include_str!("../../../runtimes/go/setns_amd64.go")),
    ("setns_arm64.go", include_str!("../../../runtimes/go/setns_arm64.go")),
];
const JAVA: &[Source] = &[
    (
        "SockerrClient.java",
        include_str!("../../../runtimes/java/SockerrClient.java"),
    ),
    ("Json.java", include_str!("../../../runtimes/java/Json.java")),
    (
        "netns17/Netns.java",
        include_str!("../../../runtimes/java/netns17/Netns.java"),
    ),
    (
        "netns-other/Netns.java",
        include_str!("../../../runtimes/java/netns-other/Netns.java"),
    ),
];

/// How to start a client: the program and its arguments, before the mode (`stdio` or
/// `serve PATH`).
#[derive(Debug, Clone)]
pub(crate) struct Launch {
    pub(crate) program: String,
    pub(crate) args: Vec<String>,
    /// Whether its sessions can enter a trial's namespace, so that one long-lived process can
    /// serve every trial.
    pub(crate) enters_namespaces: bool,
}

/// What it takes to run a runtime's client: the commands, and the Debian package of each.
fn needs(runtime: Runtime) -> &'static [(&'static str, &'static str)] {
    match runtime {
        Runtime::Java => &[
            ("java", "openjdk-17-jdk-headless"),
            ("javac", "openjdk-17-jdk-headless"),
        ],
        Runtime::Python => &[("python3", "python3")],
        Runtime::Go => &[("go", "golang-go")],
        Runtime::Node => &[("node", "nodejs")],
        Runtime::Rust => &[],
    }
}

/// Why `runtime`'s clients cannot run here, with the remedy, when a command is missing.
pub(crate) fn missing(runtime: Runtime) -> Option<String> {
    missing_in(runtime, &std::env::var("PATH").unwrap_or_default())
}

/// [`missing`], with the commands looked up in `path` (a PATH value).
fn missing_in(runtime: Runtime, path: &str) -> Option<String> {
    let absent: Vec<_> = needs(runtime)
        .iter()
        .filter(|(command, _)| find_in(path, command).is_none())
        .collect();
    if absent.is_empty() {
        return None;
    }
    let commands: Vec<_> = absent.iter().map(|(c, _)| format!("`{c}`")).collect();
    let mut packages: Vec<_> = absent.iter().map(|(_, p)| *p).collect();
    packages.dedup();
    Some(format!(
        "no {} on this machine for the {} runtime clients (apt-get install {})",
        commands.join(" and "),
        runtime.name(),
        packages.join(" ")
    ))
}

fn find_in(path: &str, command: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    path.split(':').map(|dir| Path::new(dir).join(command)).find(|p| {
        p.metadata()
            .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    })
}

/// The client of `runtime`, built if it needs building, once per process; the error is one
/// line: a missing command (with its package) or a failed build (with the compiler's words).
pub(crate) fn launch(runtime: Runtime) -> Result<Launch, String> {
    static PREPARED: [OnceLock<Result<Launch, String>>; 4] = [const { OnceLock::new() }; 4];
    let slot = match runtime {
        Runtime::Java => 0,
        Runtime::Python => 1,
        Runtime::Go => 2,
        Runtime::Node => 3,
        Runtime::Rust => return Err("the Rust clients run inside the harness".into()),
    };
    PREPARED[slot].get_or_init(|| prepare(runtime)).clone()
}

fn prepare(runtime: Runtime) -> Result<Launch, String> {
    if let Some(why) = missing(runtime) {
        return Err(why);
    }
    let (sources, name) = match runtime {
        Runtime::Java => (JAVA, "java"),
        Runtime::Python => (PYTHON, "python"),
        Runtime::Go => (GO, "go"),
        Runtime::Node => (NODE, "node"),
        Runtime::Rust => unreachable!("handled by the caller"),
    };
    let dir = cached(name, sources, |dir| build(runtime, dir))?;
    let path = |p: &str| dir.join(p).display().to_string();
    Ok(match runtime {
        Runtime::Java => {
            let enters_namespaces = dir.join("classes-netns").is_dir();
            let classes = if enters_namespaces { "classes-netns" } else { "classes" };
            let mut args: Vec<String> = [
                // C1 only and the serial collector: the client runs little code, and the
                // optimising compiler's threads would cost CPU that trials need.
                "-XX:TieredStopAtLevel=1",
                "-XX:+UseSerialGC",
                "--add-opens=java.base/java.net=ALL-UNNAMED",
                "--add-opens=java.base/java.io=ALL-UNNAMED",
                "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
            ]
            .map(String::from)
            .into();
            if enters_namespaces {
                args.extend(
                    [
                        "--add-modules=jdk.incubator.foreign",
                        "--enable-native-access=ALL-UNNAMED",
                    ]
                    .map(String::from),
                );
            }
            args.extend(["-cp".into(), path(classes), "SockerrClient".into()]);
            Launch {
                program: "java".into(),
                args,
                enters_namespaces,
            }
        }
        Runtime::Python => Launch {
            program: "python3".into(),
            args: vec![path("src/sockerr_client.py")],
            enters_namespaces: true,
        },
        Runtime::Go => Launch {
            program: path("sockerr-client"),
            args: Vec::new(),
            enters_namespaces: true,
        },
        Runtime::Node => Launch {
            program: "node".into(),
            args: vec![path("src/sockerr_client.js")],
            enters_namespaces: false,
        },
        Runtime::Rust => unreachable!("handled by the caller"),
    })
}

/// Builds what needs building in `dir`, whose `src/` holds the sources.
fn build(runtime: Runtime, dir: &Path) -> Result<(), String> {
    let src = dir.join("src");
    let s = |p: &Path| p.display().to_string();
    match runtime {
        Runtime::Java => {
            let common = [s(&src.join("SockerrClient.java")), s(&src.join("Json.java"))];
            // The namespace entry builds on JDK 17's incubating foreign linker only: try it,
            // and build the variant without it for any JDK.
            let netns = dir.join("classes-netns");
            let mut args = vec![
                "--add-modules".into(),
                "jdk.incubator.foreign".into(),
                "-d".into(),
                s(&netns),
            ];
            args.extend(common.iter().cloned());
            args.push(s(&src.join("netns17/Netns.java")));
            if run("javac", &args).is_err() {
                let _ = std::fs::remove_dir_all(&netns);
            }
            let mut args = vec!["-d".into(), s(&dir.join("classes"))];
            args.extend(common.iter().cloned());
            args.push(s(&src.join("netns-other/Netns.java")));
            run("javac", &args)
        }
        Runtime::Go => {
            // Offline and reproducible: no module proxy, the local toolchain, a build cache
            // beside the binary.
            let script = "cd \"$1\" && exec env GOCACHE=\"$2\" GOPATH=\"$3\" GOFLAGS=-mod=mod GOPROXY=off \
                          GOTOOLCHAIN=local GO111MODULE=on go build -o \"$4\" .";
            let args = [
                "-c",
                script,
                "sh",
                &s(&src),
                &s(&dir.join("go-build")),
                &s(&dir.join("gopath")),
                &s(&dir.join("sockerr-client")),
            ];
            let result = run("sh", &args.map(String::from));
            let _ = std::fs::remove_dir_all(dir.join("gopath"));
            result
        }
        Runtime::Python | Runtime::Node | Runtime::Rust => Ok(()),
    }
}

fn run(program: &str, args: &[String]) -> Result<(), String> {
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    match sys::run_program(program, &refs, b"") {
        Ok((0, _)) => Ok(()),
        Ok((status, errors)) => Err(format!(
            "{program} failed (exit status {status}): {}",
            errors
                .lines()
                .filter(|l| !l.trim().is_empty())
                .take(3)
                .collect::<Vec<_>>()
                .join(" / ")
        )),
        Err(e) => Err(format!("could not run {program}: {e}")),
    }
}

/// Where built clients are kept: `$SOCKERR_RUNTIME_CACHE` when set, else `sockerr-runtimes/`
/// in Cargo's target directory (found from the running executable, which Cargo puts under
/// it) when this user may write there, else `sockerr-runtimes-<uid>` in the temporary
/// directory (an ordinary user running a build root made).
pub(crate) fn cache_root() -> PathBuf {
    if let Some(dir) = std::env::var_os("SOCKERR_RUNTIME_CACHE") {
        return dir.into();
    }
    let target = std::env::current_exe()
        .ok()
        .and_then(|exe| {
            exe.ancestors()
                .find(|a| a.join("CACHEDIR.TAG").is_file())
                .map(Path::to_path_buf)
        })
        .or_else(|| std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from))
        .map(|target| target.join("sockerr-runtimes"))
        .filter(|dir| writable(dir));
    target.unwrap_or_else(|| std::env::temp_dir().join(format!("sockerr-runtimes-{}", sys::user_id_outside())))
}

/// Whether this process can create files in `dir` (creating it if need be).
fn writable(dir: &Path) -> bool {
    std::fs::create_dir_all(dir).is_ok() && tempfile_in(dir)
}

fn tempfile_in(dir: &Path) -> bool {
    let probe = dir.join(format!(".probe-{}-{}", std::process::id(), sys::thread_id()));
    let made = std::fs::write(&probe, b"").is_ok();
    let _ = std::fs::remove_file(&probe);
    made
}

/// The directory `<name>-<hash of the sources>` in the cache, with the sources in `src/` and
/// whatever `build` made, created and built once: in a directory of its own first, renamed
/// into place when complete, so that concurrent runs never see half a build.
fn cached(name: &str, sources: &[Source], build: impl FnOnce(&Path) -> Result<(), String>) -> Result<PathBuf, String> {
    let mut hasher = DefaultHasher::new();
    sources.hash(&mut hasher);
    let root = cache_root();
    let dir = root.join(format!("{name}-{:016x}", hasher.finish()));
    if dir.is_dir() {
        return Ok(dir);
    }
    let building = root.join(format!(".{name}-{}-{}", std::process::id(), sys::thread_id()));
    let made = (|| {
        let _ = std::fs::remove_dir_all(&building);
        for (path, text) in sources {
            let file = building.join("src").join(path);
            std::fs::create_dir_all(file.parent().expect("a file in a directory"))
                .map_err(|e| format!("cannot create {}: {e}", building.display()))?;
            std::fs::write(&file, text).map_err(|e| format!("cannot write {}: {e}", file.display()))?;
        }
        build(&building)
    })();
    if let Err(e) = made {
        let _ = std::fs::remove_dir_all(&building);
        return Err(format!("cannot build the {name} runtime client: {e}"));
    }
    if std::fs::rename(&building, &dir).is_err() {
        // Another run renamed its build first: use that one.
        let _ = std::fs::remove_dir_all(&building);
    }
    if dir.is_dir() {
        Ok(dir)
    } else {
        Err(format!("cannot build the {name} runtime client into {}", dir.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// docs/design.md principle 6: what the machine lacks becomes a skip with one line saying why
    /// and how to get it.
    #[test]
    fn a_runtime_missing_from_the_path_is_a_one_line_skip_naming_its_debian_package() {
        let nowhere = "/nonexistent";
        assert_eq!(
            missing_in(Runtime::Java, nowhere).as_deref(),
            Some(
                "no `java` and `javac` on this machine for the Java runtime clients \
                 (apt-get install openjdk-17-jdk-headless)"
            )
        );
        for (runtime, package) in [
            (Runtime::Python, "python3"),
            (Runtime::Go, "golang-go"),
            (Runtime::Node, "nodejs"),
        ] {
            let why = missing_in(runtime, nowhere).expect("missing");
            assert!(why.ends_with(&format!("(apt-get install {package})")), "{why}");
            assert!(!why.contains('\n'), "{why}");
        }
        assert_eq!(
            missing_in(Runtime::Rust, nowhere),
            None,
            "Rust's clients are part of the harness"
        );
    }

    #[test]
    fn a_runtime_found_in_the_path_is_not_missing() {
        let dir = tempfile::tempdir().unwrap();
        for command in ["java", "javac"] {
            let file = dir.path().join(command);
            std::fs::write(&file, "#!/bin/sh\n").unwrap();
            std::fs::set_permissions(&file, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
        }
        let path = format!("/nonexistent:{}", dir.path().display());
        assert_eq!(missing_in(Runtime::Java, &path), None);
    }
}

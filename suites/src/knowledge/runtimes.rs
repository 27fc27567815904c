//! How programs in other languages see an errno of this platform.
//!
//! Rust's `std::io::ErrorKind` is computed live, by asking std itself
//! (`io::Error::from_raw_os_error(code).kind()`). The other runtimes are *documented*: what
//! their documentation or source says they show, each entry with its source. Where a runtime
//! shows the C library's text (Python, Java), that text is filled in live from `strerror` of
//! this platform; Go keeps its own copy of the texts, quoted here from its source.

use super::errno;

/// What Rust's std makes of an errno on this platform: live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RustView {
    pub kind: std::io::ErrorKind,
    /// `io::Error`'s Display: the C library's text and the number.
    pub display: String,
}

/// Asks std what an errno number becomes.
pub fn rust(code: i32) -> RustView {
    let error = std::io::Error::from_raw_os_error(code);
    RustView {
        kind: error.kind(),
        display: error.to_string(),
    }
}

/// What one runtime is documented to show for an errno.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shown {
    /// `Python`, `Java (OpenJDK)`, `Go`, `Node.js`, `Rust std`.
    pub runtime: &'static str,
    /// The kind of call it applies to: `read`, `write`, `connect`, `any call`, ...
    pub when: &'static str,
    /// What the program sees, with this platform's number and text filled in.
    pub shows: String,
    /// Where this is documented.
    pub source: &'static str,
}

/// One documented behaviour. `shows` may hold `{name}`, `{code}`, `{strerror}` (this
/// platform's values) and `{go}` (Go's text for the errno, [`GO_TEXT`]).
struct Entry {
    runtime: &'static str,
    errnos: &'static [&'static str],
    when: &'static str,
    shows: &'static str,
    source: &'static str,
}

const PYTHON_EXCEPTIONS: &str = "Python docs, library/exceptions.rst, \"OS exceptions\" (the class per errno); str(OSError) is \"[Errno N] strerror\"";
const JAVA_CONNECT: &str = "OpenJDK src/java.base/unix/native/libnio/ch/Net.c handleSocketError (ECONNREFUSED, ETIMEDOUT: ConnectException; EHOSTUNREACH: NoRouteToHostException; else SocketException; message: the OS text)";
const GO_OPERROR: &str = "Go src/net/net.go (*OpError).Error: \"op net source->addr: err\", wrapping *os.SyscallError (\"syscall: errno text\"); texts from src/syscall/zerrors_linux_amd64.go; test with errors.Is(err, syscall.<ERRNO>)";
const NODE_ERRORS: &str = "Node.js docs, errors.md \"Common system errors\" and SystemError (err.code is the errno name); message \"<syscall> <code>[ <address>:<port>]\" from lib/internal/errors.js (ErrnoException, ExceptionWithHostPort)";

const ENTRIES: &[Entry] = &[
    // Python
    Entry {
        runtime: "Python",
        errnos: &["ECONNRESET"],
        when: "any call",
        shows: "ConnectionResetError: [Errno {code}] {strerror}",
        source: PYTHON_EXCEPTIONS,
    },
    Entry {
        runtime: "Python",
        errnos: &["EPIPE", "ESHUTDOWN"],
        when: "any call",
        shows: "BrokenPipeError: [Errno {code}] {strerror}",
        source: PYTHON_EXCEPTIONS,
    },
    Entry {
        runtime: "Python",
        errnos: &["ECONNREFUSED"],
        when: "any call",
        shows: "ConnectionRefusedError: [Errno {code}] {strerror}",
        source: PYTHON_EXCEPTIONS,
    },
    Entry {
        runtime: "Python",
        errnos: &["ECONNABORTED"],
        when: "any call",
        shows: "ConnectionAbortedError: [Errno {code}] {strerror}",
        source: PYTHON_EXCEPTIONS,
    },
    Entry {
        runtime: "Python",
        errnos: &["ETIMEDOUT"],
        when: "any call",
        shows: "TimeoutError: [Errno {code}] {strerror}",
        source: PYTHON_EXCEPTIONS,
    },
    Entry {
        runtime: "Python",
        errnos: &["EAGAIN", "EALREADY", "EINPROGRESS"],
        when: "any call",
        shows: "BlockingIOError: [Errno {code}] {strerror}",
        source: PYTHON_EXCEPTIONS,
    },
    Entry {
        runtime: "Python",
        errnos: &[
            "EHOSTUNREACH",
            "ENETUNREACH",
            "ENOTCONN",
            "ENOPROTOOPT",
            "EPROTOTYPE",
            "ENETRESET",
            "EISCONN",
            "EINVAL",
            "EADDRINUSE",
            "EADDRNOTAVAIL",
        ],
        when: "any call",
        shows: "OSError: [Errno {code}] {strerror}",
        source: PYTHON_EXCEPTIONS,
    },
    Entry {
        runtime: "Python",
        errnos: &["EINTR"],
        when: "any call",
        shows: "retried inside the call (no exception) unless a signal handler raises",
        source: "PEP 475; Python docs, library/exceptions.rst (InterruptedError)",
    },
    Entry {
        runtime: "Python",
        errnos: &["EPIPE"],
        when: "write",
        shows: "no SIGPIPE death: CPython ignores SIGPIPE at start-up",
        source: "Python docs, library/signal.rst (\"SIGPIPE is ignored\")",
    },
    // Java
    Entry {
        runtime: "Java (OpenJDK)",
        errnos: &["ECONNRESET", "EPIPE"],
        when: "read (java.net.Socket)",
        shows: "java.net.SocketException: Connection reset",
        source: "OpenJDK src/java.base/unix/native/libnio/ch/SocketDispatcher.c read0 (ECONNRESET, EPIPE: sun.net.ConnectionResetException \"Connection reset\"), rethrown by sun/nio/ch/NioSocketImpl.java implRead (JDK 13+; java/net/SocketInputStream.c before)",
    },
    Entry {
        runtime: "Java (OpenJDK)",
        errnos: &["ECONNRESET", "EPIPE"],
        when: "write (java.net.Socket)",
        shows: "java.net.SocketException: {strerror}",
        source: "OpenJDK SocketDispatcher.c write0 (IOException with the OS text), rethrown by sun/nio/ch/NioSocketImpl.java implWrite as SocketException(message)",
    },
    Entry {
        runtime: "Java (OpenJDK)",
        errnos: &["ECONNRESET", "EPIPE"],
        when: "write (SocketChannel)",
        shows: "java.io.IOException: {strerror}",
        source: "OpenJDK SocketDispatcher.c write0 -> convertReturnVal -> JNU_ThrowIOExceptionWithLastError",
    },
    Entry {
        runtime: "Java (OpenJDK)",
        errnos: &["ECONNREFUSED", "ETIMEDOUT"],
        when: "connect",
        shows: "java.net.ConnectException: {strerror}",
        source: JAVA_CONNECT,
    },
    Entry {
        runtime: "Java (OpenJDK)",
        errnos: &["EHOSTUNREACH"],
        when: "connect",
        shows: "java.net.NoRouteToHostException: {strerror}",
        source: JAVA_CONNECT,
    },
    Entry {
        runtime: "Java (OpenJDK)",
        errnos: &["ENETUNREACH", "ECONNABORTED", "ENOPROTOOPT"],
        when: "connect",
        shows: "java.net.SocketException: {strerror}",
        source: JAVA_CONNECT,
    },
    // Go
    Entry {
        runtime: "Go",
        errnos: &[
            "ECONNREFUSED",
            "ETIMEDOUT",
            "EHOSTUNREACH",
            "ENETUNREACH",
            "ENOPROTOOPT",
        ],
        when: "dial",
        shows: "dial tcp 198.18.0.2:9: connect: {go}",
        source: GO_OPERROR,
    },
    Entry {
        runtime: "Go",
        errnos: &["ECONNRESET", "ETIMEDOUT", "EHOSTUNREACH"],
        when: "read",
        shows: "read tcp 198.18.0.1:40000->198.18.0.2:9: read: {go}",
        source: GO_OPERROR,
    },
    Entry {
        runtime: "Go",
        errnos: &["ECONNRESET", "EPIPE", "ETIMEDOUT", "EPROTOTYPE"],
        when: "write",
        shows: "write tcp 198.18.0.1:40000->198.18.0.2:9: write: {go}",
        source: GO_OPERROR,
    },
    Entry {
        runtime: "Go",
        errnos: &["ECONNABORTED"],
        when: "accept",
        shows: "retried inside Accept, never returned",
        source: "Go src/internal/poll/fd_unix.go (*FD).Accept (\"a socket on the listen queue was closed before we Accept()ed it\")",
    },
    Entry {
        runtime: "Go",
        errnos: &["EAGAIN", "EINPROGRESS", "EINTR"],
        when: "any call",
        shows: "handled by the runtime's poller, never returned",
        source: "Go src/internal/poll/fd_unix.go, src/net/fd_unix.go (connect)",
    },
    Entry {
        runtime: "Go",
        errnos: &["EPIPE"],
        when: "write",
        shows: "no SIGPIPE death: on descriptors other than 1 and 2 the runtime ignores SIGPIPE and the write returns EPIPE",
        source: "Go src/os/signal/doc.go (\"SIGPIPE\")",
    },
    // Node.js
    Entry {
        runtime: "Node.js",
        errnos: &["ECONNREFUSED", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH"],
        when: "connect",
        shows: "err.code '{name}'; Error: connect {name} 198.18.0.2:9",
        source: NODE_ERRORS,
    },
    Entry {
        runtime: "Node.js",
        errnos: &["ECONNRESET", "ETIMEDOUT"],
        when: "read",
        shows: "err.code '{name}'; Error: read {name}",
        source: NODE_ERRORS,
    },
    Entry {
        runtime: "Node.js",
        errnos: &["ECONNRESET", "EPIPE"],
        when: "write",
        shows: "err.code '{name}'; Error: write {name}",
        source: NODE_ERRORS,
    },
    Entry {
        runtime: "Node.js",
        errnos: &["EPROTOTYPE"],
        when: "write (macOS)",
        shows: "err.code 'ECONNRESET' (libuv maps it)",
        source: "libuv src/unix/stream.c (EPROTOTYPE on macOS), libuv/libuv#3413",
    },
    Entry {
        runtime: "Node.js",
        errnos: &["EPIPE"],
        when: "write",
        shows: "no SIGPIPE death: Node ignores SIGPIPE",
        source: "Node.js docs, process.md \"Signal events\" ('SIGPIPE' is ignored by default)",
    },
    // Rust: documented behaviour around the live kind
    Entry {
        runtime: "Rust std",
        errnos: &["EPIPE"],
        when: "write",
        shows: "Err(BrokenPipe), no SIGPIPE death: binaries ignore SIGPIPE before main and TcpStream::write sends with MSG_NOSIGNAL (Linux, BSD) or SO_NOSIGPIPE (Apple); a Rust library in a C process gets neither for plain write(2)",
        source: "rust library/std/src/sys/net/connection/socket/unix.rs; rust-lang/rust#62569; docs/platforms.md I",
    },
];

/// Go's text for an errno: its own table, generated from the C library's texts with the first
/// letter lowered (src/syscall/zerrors_linux_amd64.go).
const GO_TEXT: &[(&str, &str)] = &[
    ("ECONNREFUSED", "connection refused"),
    ("ECONNRESET", "connection reset by peer"),
    ("EPIPE", "broken pipe"),
    ("ECONNABORTED", "software caused connection abort"),
    ("ETIMEDOUT", "connection timed out"),
    ("EHOSTUNREACH", "no route to host"),
    ("ENETUNREACH", "network is unreachable"),
    ("ENOTCONN", "transport endpoint is not connected"),
    ("ENOPROTOOPT", "protocol not available"),
    ("EPROTOTYPE", "protocol wrong type for socket"),
];

/// What the documented runtimes show for `errno_name` on this platform, in the order Python,
/// Java, Go, Node.js, Rust std (documented part; see [`rust`] for the live part).
pub fn documented(errno_name: &str) -> Vec<Shown> {
    let code = errno::code(errno_name);
    let text = code.map(errno::strerror).unwrap_or_default();
    let go = GO_TEXT.iter().find(|(n, _)| *n == errno_name).map_or("", |(_, t)| *t);
    ENTRIES
        .iter()
        .filter(|e| e.errnos.contains(&errno_name))
        .filter(|e| !e.shows.contains("{go}") || !go.is_empty())
        .map(|e| Shown {
            runtime: e.runtime,
            when: e.when,
            shows: e
                .shows
                .replace("{name}", errno_name)
                .replace("{code}", &code.map_or_else(|| "?".into(), |c| c.to_string()))
                .replace("{strerror}", &text)
                .replace("{go}", go),
            source: e.source,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rust_kind_is_asked_of_std_not_tabled() {
        use std::io::ErrorKind;
        // Every kind std gives the errnos the suite meets, straight from std.
        for name in [
            "ECONNRESET",
            "EPIPE",
            "ECONNREFUSED",
            "ECONNABORTED",
            "ETIMEDOUT",
            "ENOTCONN",
        ] {
            let code = errno::code(name).unwrap();
            assert_eq!(
                rust(code).kind,
                std::io::Error::from_raw_os_error(code).kind(),
                "{name}"
            );
        }
        assert_eq!(rust(libc::ECONNRESET).kind, ErrorKind::ConnectionReset);
        assert!(rust(libc::EPIPE).display.contains(&format!("os error {}", libc::EPIPE)));
    }

    #[test]
    fn connection_reset_reads_three_ways_across_runtimes() {
        // The source article's situation 7: "Connection reset" (Java, reading), "Connection
        // reset by peer" (the OS text: Python, Java writing), "Broken pipe" (EPIPE).
        let shown = documented("ECONNRESET");
        let java_read = shown
            .iter()
            .find(|s| s.runtime.starts_with("Java") && s.when.starts_with("read"))
            .unwrap();
        assert_eq!(java_read.shows, "java.net.SocketException: Connection reset");
        let python = shown.iter().find(|s| s.runtime == "Python").unwrap();
        assert!(
            python
                .shows
                .starts_with(&format!("ConnectionResetError: [Errno {}] ", libc::ECONNRESET)),
            "{python:?}"
        );
        assert!(python.shows.ends_with(&errno::strerror(libc::ECONNRESET)));
        let go = shown.iter().find(|s| s.runtime == "Go" && s.when == "read").unwrap();
        assert!(go.shows.ends_with(": read: connection reset by peer"), "{go:?}");
        let node = shown
            .iter()
            .find(|s| s.runtime == "Node.js" && s.when == "read")
            .unwrap();
        assert!(node.shows.starts_with("err.code 'ECONNRESET'"), "{node:?}");
        let python_pipe = documented("EPIPE").into_iter().find(|s| s.runtime == "Python").unwrap();
        assert!(python_pipe.shows.starts_with("BrokenPipeError"), "{python_pipe:?}");
    }

    #[test]
    fn every_entry_names_a_source_and_errnos_of_this_platform() {
        for e in ENTRIES {
            assert!(!e.source.is_empty(), "{}: no source", e.runtime);
            for name in e.errnos {
                assert!(
                    errno::code(name).is_some(),
                    "{}: {name} is not an errno here",
                    e.runtime
                );
            }
            assert!(
                !e.shows.contains("{go}") || e.errnos.iter().all(|n| GO_TEXT.iter().any(|(g, _)| g == n)),
                "{}: {:?} lacks a Go text",
                e.runtime,
                e.errnos
            );
        }
        for (name, text) in GO_TEXT {
            // Go's table is the C library's text with its first letter lowered.
            let c_text = errno::strerror(errno::code(name).unwrap());
            let mut lowered = c_text.clone();
            lowered[..1].make_ascii_lowercase();
            if cfg!(all(target_os = "linux", target_env = "gnu")) {
                assert_eq!(*text, lowered, "{name}");
            }
        }
    }
}

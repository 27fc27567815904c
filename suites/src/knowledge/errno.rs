//! errno names, numbers and texts on this platform (live), and what each errno the suite
//! meets means for a TCP connection (documented, with the man page or RFC it rests on).

/// Error numbers are small; this bounds the search for a name.
const MAX_ERRNO: i32 = 4096;

/// The errno's symbolic name on this platform (`ECONNRESET`), as the report records it.
pub fn name(code: i32) -> String {
    sockerr_harness::sys::errno_name(code)
}

/// The number this platform gives an errno name, looked up live (nix's names of the C
/// library's numbers), never from a table of our own. Where two names share a number
/// (`EWOULDBLOCK` and `EAGAIN` on Linux), only the name the report uses resolves.
pub fn code(errno_name: &str) -> Option<i32> {
    if !errno_name.starts_with('E') {
        return None;
    }
    (1..MAX_ERRNO).find(|&code| name(code) == errno_name)
}

/// Every errno name of this platform, in number order.
pub fn names() -> Vec<String> {
    let mut names: Vec<String> = (1..MAX_ERRNO)
        .map(name)
        .filter(|n| n.starts_with('E') && n.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit()))
        .collect();
    names.dedup();
    names
}

/// The C library's text for an errno, as C programs, Python and Java show it.
pub fn strerror(code: i32) -> String {
    sockerr_harness::sys::strerror(code)
}

/// What an errno means for a TCP connection: documented, not observed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Meaning {
    pub name: &'static str,
    /// One line: what happened to the connection when a call returns this errno.
    pub tcp: &'static str,
    /// Where that meaning is documented.
    pub source: &'static str,
}

/// The errnos the suite's scenarios meet (and their neighbours a reader will ask about).
pub const MEANINGS: &[Meaning] = &[
    Meaning {
        name: "ECONNREFUSED",
        tcp: "Nobody accepted the connection: the peer's kernel answered the SYN with a reset (nothing listens on that port, or a firewall rejects with a reset), or an ICMP port unreachable arrived during connect.",
        source: "connect(2): ECONNREFUSED; RFC 9293 §3.10.7.3 (a reset in SYN-SENT); RFC 1122 §4.2.3.9 (ICMP port unreachable is a hard error)",
    },
    Meaning {
        name: "ECONNRESET",
        tcp: "The peer reset the connection: a reset arrived because the peer aborted (SO_LINGER {on, 0}, close with unread data, a crash its kernel answered for) or holds no record of the connection. Data in flight is lost.",
        source: "RFC 9293 §3.10.7.4 (a reset in ESTABLISHED: \"connection reset\"); RFC 1122 §4.2.2.13; recv(2), send(2): ECONNRESET",
    },
    Meaning {
        name: "EPIPE",
        tcp: "Nothing more can be sent on this socket: its sending side is shut (the connection was reset or closed, or shutdown(SHUT_WR) was called). write() also raises SIGPIPE unless MSG_NOSIGNAL or SO_NOSIGPIPE suppress it.",
        source: "send(2), write(2): EPIPE; signal(7): SIGPIPE",
    },
    Meaning {
        name: "ECONNABORTED",
        tcp: "The local stack gave the connection up: accept() of a connection that was aborted before it was accepted, or a call on a socket whose connection attempt already failed.",
        source: "accept(2): ECONNABORTED; docs/platforms.md A2, D1",
    },
    Meaning {
        name: "ETIMEDOUT",
        tcp: "The peer stopped answering: SYN retries (connect), retransmissions (TCP_USER_TIMEOUT, tcp_retries2) or keepalive probes ran out. No reset arrived.",
        source: "connect(2): ETIMEDOUT; tcp(7): TCP_USER_TIMEOUT, TCP_KEEPCNT, tcp_retries2, tcp_syn_retries",
    },
    Meaning {
        name: "EHOSTUNREACH",
        tcp: "No route to the host: an ICMP host unreachable arrived (during connect, or as the last soft error when retransmission gave up), or address resolution (ARP, NDP) failed.",
        source: "connect(2): EHOSTUNREACH (POSIX); RFC 1122 §4.2.3.9; docs/platforms.md A4, G3",
    },
    Meaning {
        name: "ENETUNREACH",
        tcp: "No route to the network: the local routing table has none for the destination, or an ICMP network unreachable arrived.",
        source: "connect(2): ENETUNREACH; RFC 1122 §4.2.3.9; docs/platforms.md A4",
    },
    Meaning {
        name: "EACCES",
        tcp: "Permission denied: from connect, a firewall on the path forbids the connection (Linux maps ICMPv6 administratively prohibited to it), or a local policy refused it.",
        source: "connect(2): EACCES; RFC 4443 §3.1 (code 1); Linux net/ipv6/icmp.c tab_unreach",
    },
    Meaning {
        name: "ENOTCONN",
        tcp: "The socket is not connected: it never was, or its connection is gone (after a reset, getpeername() and shutdown() report it).",
        source: "getpeername(2), shutdown(2), send(2): ENOTCONN; docs/platforms.md B6, B7",
    },
    Meaning {
        name: "EINPROGRESS",
        tcp: "A non-blocking connect has started and not finished: wait until poll reports the socket writable, then read SO_ERROR for the result.",
        source: "connect(2): EINPROGRESS",
    },
    Meaning {
        name: "EALREADY",
        tcp: "A non-blocking connect is already in progress on this socket.",
        source: "connect(2): EALREADY",
    },
    Meaning {
        name: "EISCONN",
        tcp: "The socket is already connected; connect() was called again after it succeeded.",
        source: "connect(2): EISCONN",
    },
    Meaning {
        name: "EAGAIN",
        tcp: "Nothing to read, or no room to write, on a non-blocking socket right now (EWOULDBLOCK is the same condition): wait for readiness, then retry. Not a connection failure.",
        source: "recv(2), send(2): EAGAIN or EWOULDBLOCK",
    },
    Meaning {
        name: "ENOPROTOOPT",
        tcp: "Protocol not available: getsockopt()/setsockopt() named an option this socket does not support; Linux also ends a connect with it when an ICMP protocol unreachable arrives.",
        source: "getsockopt(2): ENOPROTOOPT; docs/platforms.md A4",
    },
    Meaning {
        name: "EPROTOTYPE",
        tcp: "Protocol wrong type for socket; macOS returns it from send() while a reset connection is being torn down (transient, or permanent behind some network extensions).",
        source: "errno(3); docs/platforms.md B3 (libuv/libuv#3413, apple/swift-nio#1706, golang/go#51538)",
    },
    Meaning {
        name: "ENETRESET",
        tcp: "The network dropped the connection; Windows reports a keepalive failure this way (WSAENETRESET).",
        source: "errno(3); docs/platforms.md G1 (MS recv docs)",
    },
    Meaning {
        name: "ESHUTDOWN",
        tcp: "Cannot send after the socket was shut down for writing.",
        source: "errno(3); Python maps it to BrokenPipeError (library/exceptions.rst)",
    },
    Meaning {
        name: "EINVAL",
        tcp: "Invalid argument; macOS returns it from getpeername() once both directions are shut, OpenBSD sometimes from a non-blocking connect to a closed port.",
        source: "docs/platforms.md A2, B6",
    },
    Meaning {
        name: "EADDRNOTAVAIL",
        tcp: "The local address cannot be used: it is not configured here, or no ephemeral port is left for a new connection.",
        source: "connect(2), bind(2): EADDRNOTAVAIL; ip(7): ip_local_port_range",
    },
    Meaning {
        name: "EADDRINUSE",
        tcp: "The local address and port are taken (by a listener, or a connection in TIME_WAIT without SO_REUSEADDR).",
        source: "bind(2), connect(2): EADDRINUSE; socket(7): SO_REUSEADDR",
    },
    Meaning {
        name: "ENOENT",
        tcp: "No such file: for a Unix-domain socket, connect() named a path where no socket file exists (the server is not running, or the path is wrong). TCP has no counterpart; its closed port is ECONNREFUSED.",
        source: "unix(7): ENOENT; connect(2)",
    },
    Meaning {
        name: "EINTR",
        tcp: "A signal interrupted the call before it did anything: retry it. Not a connection failure.",
        source: "signal(7): interruption of system calls",
    },
];

/// What `errno_name` means for TCP, if the suite documents it.
pub fn meaning(errno_name: &str) -> Option<&'static Meaning> {
    MEANINGS.iter().find(|m| m.name == errno_name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_numbers_come_from_the_platform() {
        assert_eq!(code("ECONNRESET"), Some(libc::ECONNRESET));
        assert_eq!(code("EPIPE"), Some(libc::EPIPE));
        assert_eq!(code("ENOSUCH"), None);
        assert_eq!(code("connreset"), None);
        assert_eq!(name(libc::ECONNREFUSED), "ECONNREFUSED");
        assert!(names().contains(&"ETIMEDOUT".to_string()));
    }

    #[test]
    fn strerror_is_the_c_library_text() {
        let text = strerror(libc::ECONNRESET);
        assert!(!text.is_empty() && !text.starts_with("Unknown"), "{text}");
        // The same text std's io::Error shows before " (os error N)".
        let std_text = std::io::Error::from_raw_os_error(libc::ECONNRESET).to_string();
        assert!(std_text.starts_with(&text), "{std_text:?} vs {text:?}");
    }

    #[test]
    fn every_documented_meaning_names_an_errno_of_this_platform_and_a_source() {
        for m in MEANINGS {
            assert!(code(m.name).is_some(), "{} is not an errno name here", m.name);
            assert!(m.tcp.ends_with('.'), "{}: one sentence or two", m.name);
            assert!(!m.source.is_empty(), "{}: no source", m.name);
        }
        for seen in [
            "ECONNREFUSED",
            "ECONNRESET",
            "EPIPE",
            "ECONNABORTED",
            "EINPROGRESS",
            "ENOENT",
        ] {
            assert!(
                meaning(seen).is_some(),
                "{seen}: the suite meets it, so it needs a meaning"
            );
        }
    }
}

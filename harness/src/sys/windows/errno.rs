//! Winsock error names and codes as `winerror.h` defines them: socket calls report these
//! (WSAGetLastError), not the C library's errno values.

/// Each Winsock error a socket call of the catalogue can return, by code.
const WSA_NAMES: &[(i32, &str)] = &[
    (10004, "WSAEINTR"),
    (10009, "WSAEBADF"),
    (10013, "WSAEACCES"),
    (10014, "WSAEFAULT"),
    (10022, "WSAEINVAL"),
    (10024, "WSAEMFILE"),
    (10035, "WSAEWOULDBLOCK"),
    (10036, "WSAEINPROGRESS"),
    (10037, "WSAEALREADY"),
    (10038, "WSAENOTSOCK"),
    (10039, "WSAEDESTADDRREQ"),
    (10040, "WSAEMSGSIZE"),
    (10041, "WSAEPROTOTYPE"),
    (10042, "WSAENOPROTOOPT"),
    (10043, "WSAEPROTONOSUPPORT"),
    (10045, "WSAEOPNOTSUPP"),
    (10047, "WSAEAFNOSUPPORT"),
    (10048, "WSAEADDRINUSE"),
    (10049, "WSAEADDRNOTAVAIL"),
    (10050, "WSAENETDOWN"),
    (10051, "WSAENETUNREACH"),
    (10052, "WSAENETRESET"),
    (10053, "WSAECONNABORTED"),
    (10054, "WSAECONNRESET"),
    (10055, "WSAENOBUFS"),
    (10056, "WSAEISCONN"),
    (10057, "WSAENOTCONN"),
    (10058, "WSAESHUTDOWN"),
    (10060, "WSAETIMEDOUT"),
    (10061, "WSAECONNREFUSED"),
    (10064, "WSAEHOSTDOWN"),
    (10065, "WSAEHOSTUNREACH"),
    (10093, "WSANOTINITIALISED"),
];

/// The error's symbolic name (`WSAECONNRESET`), or its number where it has none here.
pub fn errno_name(code: i32) -> String {
    WSA_NAMES
        .iter()
        .find(|&&(c, _)| c == code)
        .map_or_else(|| format!("os error {code}"), |&(_, name)| name.to_string())
}

/// The system's text for the error (FormatMessage, as Rust's `io::Error` shows it).
pub fn strerror(code: i32) -> String {
    let text = std::io::Error::from_raw_os_error(code).to_string();
    text.split(" (os error").next().unwrap_or(&text).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn winsock_errors_take_their_wsa_names() {
        // winerror.h: WSAECONNRESET 10054, WSAECONNABORTED 10053, WSAECONNREFUSED 10061.
        assert_eq!(errno_name(10054), "WSAECONNRESET");
        assert_eq!(errno_name(10053), "WSAECONNABORTED");
        assert_eq!(errno_name(10061), "WSAECONNREFUSED");
        assert_eq!(errno_name(1), "os error 1");
    }
}

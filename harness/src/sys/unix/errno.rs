//! errno names and texts as this platform's C library has them.

use std::ffi::CStr;

/// The errno's symbolic name (`ECONNRESET`).
pub fn errno_name(code: i32) -> String {
    format!("{:?}", nix::errno::Errno::from_raw(code))
}

/// The C library's text for an errno (strerror_r(3)), as C programs, Python and Java show
/// it; nix's copy of it when the C library has none.
pub fn strerror(code: i32) -> String {
    let mut buf = [0 as libc::c_char; 256];
    // SAFETY: `buf` is valid for writes of its length; the XSI strerror_r writes a
    // NUL-terminated string into it.
    let rc = unsafe { libc::strerror_r(code, buf.as_mut_ptr(), buf.len()) };
    if rc != 0 {
        return nix::errno::Errno::from_raw(code).desc().to_string();
    }
    // SAFETY: strerror_r succeeded, so `buf` holds a NUL-terminated string.
    unsafe { CStr::from_ptr(buf.as_ptr()) }.to_string_lossy().into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errno_names_are_symbolic() {
        assert_eq!(errno_name(libc::ECONNRESET), "ECONNRESET");
        assert_eq!(errno_name(libc::EPIPE), "EPIPE");
        assert_eq!(strerror(libc::ECONNRESET), "Connection reset by peer");
    }
}

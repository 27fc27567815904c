//! The kernel's release as uname(2) gives it (`6.18.44`, `24.1.0` on macOS, `14.2-RELEASE`).

pub fn kernel_release() -> String {
    nix::sys::utsname::uname()
        .map(|u| u.release().to_string_lossy().into_owned())
        .unwrap_or_default()
}

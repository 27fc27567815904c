//! Whether a missing prerequisite may skip a test or a trial. Where the environment promises
//! every prerequisite (CI sets `SOCKERR_REQUIRE_ALL=1`), a skip is a failure: a test that
//! passes by skipping would hide that the thing it tests never ran.

/// The environment variable that turns skips into failures.
pub const REQUIRE_ALL: &str = "SOCKERR_REQUIRE_ALL";

/// Whether skips are failures here (`SOCKERR_REQUIRE_ALL` set to anything but empty or `0`).
pub fn required() -> bool {
    std::env::var(REQUIRE_ALL).is_ok_and(|v| !v.is_empty() && v != "0")
}

/// For a test whose prerequisite may be missing: `true` when it is missing and the test should
/// return early (the reason is printed), and a panic naming it when skips are failures here.
/// `false` when nothing is missing.
#[track_caller]
pub fn unmet(missing: Option<String>) -> bool {
    match missing {
        None => false,
        Some(reason) if required() => {
            panic!("{REQUIRE_ALL} is set, and a prerequisite is missing: {reason}")
        }
        Some(reason) => {
            eprintln!("skipped: {reason}");
            true
        }
    }
}

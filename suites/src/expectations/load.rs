//! Where expectations come from: the built-in file of the platform this binary was built for,
//! a user's file (`--expect FILE`, `SOCKERR_EXPECT`) layered over it, and the documented files
//! of other platforms.

use std::path::{Path, PathBuf};

use super::{ExpectationError, ExpectationFile, Expectations};

/// The environment variable naming a user's expectation file, when `--expect` does not.
pub const EXPECT_VAR: &str = "SOCKERR_EXPECT";

/// The built-in expectations of the platform this binary was built for: (origin, text).
pub fn built_in() -> Option<(&'static str, &'static str)> {
    if cfg!(target_os = "linux") {
        Some((
            "suites/expectations/linux.toml",
            include_str!("../../expectations/linux.toml"),
        ))
    } else {
        None
    }
}

/// The documented expectation files of other platforms: (origin, text). Their values come
/// from documentation and source reading (docs/platforms.md), never from runs here.
pub fn documented_files() -> [(&'static str, &'static str); 4] {
    [
        (
            "suites/expectations/macos.toml",
            include_str!("../../expectations/macos.toml"),
        ),
        (
            "suites/expectations/freebsd.toml",
            include_str!("../../expectations/freebsd.toml"),
        ),
        (
            "suites/expectations/openbsd.toml",
            include_str!("../../expectations/openbsd.toml"),
        ),
        (
            "suites/expectations/windows.toml",
            include_str!("../../expectations/windows.toml"),
        ),
    ]
}

impl Expectations {
    /// The expectations that come with the program: the built-in file of this platform (none
    /// on a platform without one, or for a suite without the built-in catalogue), with the
    /// files of the process's suite layered over it
    /// ([`crate::suite::Suite::with_expectations`]).
    pub fn built_in(known: &[&str]) -> Result<Expectations, ExpectationError> {
        let suite = crate::suite::current();
        let platform = match built_in() {
            Some((origin, text)) if suite.has_built_in() => Expectations::parse(origin, text, known)?,
            _ => Expectations::default(),
        };
        let own = suite.expectation_files(known)?;
        Ok(own.into_iter().fold(platform, Expectations::layered))
    }

    /// The expectations a run uses: the built-in file of this platform, with the user's file
    /// layered over it: `path` if given, else the file named by `SOCKERR_EXPECT`. The user's
    /// file decides for the scenarios and steps it names, the built-in file for the rest.
    pub fn for_run(path: Option<&Path>, known: &[&str]) -> Result<Expectations, ExpectationError> {
        let from_env = std::env::var_os(EXPECT_VAR)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from);
        let built_in = Expectations::built_in(known)?;
        match path.map(Path::to_path_buf).or(from_env) {
            Some(file) => Ok(built_in.layered(ExpectationFile::load(&file, known)?)),
            None => Ok(built_in),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids() -> Vec<&'static str> {
        crate::catalogue::ids()
    }

    #[test]
    fn the_built_in_linux_expectations_parse() {
        let (origin, text) = built_in().expect("linux has built-in expectations");
        ExpectationFile::parse(origin, text, &ids()).unwrap_or_else(|e| panic!("{e}"));
    }

    #[test]
    fn linux_toml_is_measured_and_parsed_strictly() {
        // Measured: no [_platform] table saying otherwise, so errno names must be this
        // platform's. The same file with another platform's errno name is refused.
        let (origin, text) = built_in().expect("linux has built-in expectations");
        let linux = ExpectationFile::parse(origin, text, &ids()).unwrap();
        assert!(!linux.platform.documented);
        let foreign = text.replacen(
            "\"client.read#1\" = \"ok=0\"",
            "\"client.read#1\" = \"WSAECONNRESET\"",
            1,
        );
        assert_ne!(foreign, text, "the substitution must hit");
        let err = ExpectationFile::parse(origin, &foreign, &ids())
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown outcome \"WSAECONNRESET\""), "{err}");
    }

    #[test]
    fn each_documented_file_parses_and_every_entry_has_evidence_and_a_source() {
        for (origin, text) in documented_files() {
            let e = ExpectationFile::parse(origin, text, &ids()).unwrap_or_else(|e| panic!("{e}"));
            assert!(e.platform.documented, "{origin}: [_platform] documented = true");
            assert!(e.platform.name.is_some(), "{origin}: [_platform] name");
            assert!(!e.platform.sources.is_empty(), "{origin}: [_platform] sources");
            assert!(!e.scenarios.is_empty(), "{origin}: no scenario");
            for (id, scenario) in &e.scenarios {
                for (label, step) in &scenario.steps {
                    let tag = step
                        .evidence
                        .as_deref()
                        .unwrap_or_else(|| panic!("{origin} {id} {label}: no evidence"));
                    assert!(
                        super::super::EVIDENCE_TAGS.contains(&tag),
                        "{origin} {id} {label}: {tag}"
                    );
                    assert!(
                        step.source.as_deref().is_some_and(|s| !s.trim().is_empty()),
                        "{origin} {id} {label}: no source"
                    );
                    assert!(
                        step.result.is_some() || step.revents.is_some(),
                        "{origin} {id} {label}: states nothing"
                    );
                }
                if let Some(wire) = &scenario.wire {
                    assert!(
                        wire.evidence.is_some() && wire.source.is_some(),
                        "{origin} {id} wire: no evidence or source"
                    );
                }
            }
        }
    }

    #[test]
    fn documented_files_name_only_steps_the_measured_file_names() {
        // A label no scenario records could never be compared: catch typos such as
        // client.write#2 for a scenario that sends. linux.toml is checked against real runs.
        let linux = ExpectationFile::parse("linux", built_in().unwrap().1, &ids()).unwrap();
        for (origin, text) in documented_files() {
            let e = ExpectationFile::parse(origin, text, &ids()).unwrap();
            for (id, scenario) in &e.scenarios {
                for label in scenario.steps.keys() {
                    assert!(
                        linux.scenarios[id].steps.contains_key(label),
                        "{origin}: {id} {label} is in no measured file"
                    );
                }
            }
        }
    }

    #[test]
    fn a_users_file_is_layered_over_the_built_in_one() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mine.toml");
        std::fs::write(&path, "[\"abort.linger0.read_first\"]\n\"client.read#1\" = \"EPIPE\"\n").unwrap();
        let e = Expectations::for_run(Some(&path), &ids()).unwrap();
        let origins: Vec<&str> = e.layers().iter().map(|l| l.origin.as_str()).collect();
        assert_eq!(origins, ["suites/expectations/linux.toml", path.to_str().unwrap()]);
        assert_eq!(
            e.origin(),
            format!("{} over suites/expectations/linux.toml", path.display())
        );
    }
}

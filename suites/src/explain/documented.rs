//! The documented platforms (macOS, FreeBSD, OpenBSD, Windows) as `explain` shows them: their
//! expectation files, parsed, and what their evidence tags mean. Documented, never measured
//! here; docs/platforms.md gives each value with its source.

use std::collections::BTreeSet;

use crate::catalogue;
use crate::expectations::{self, ExpectationFile};

/// One documented platform file, parsed.
pub struct DocumentedPlatform {
    /// Short name: `macOS 15`, `FreeBSD`, ...
    pub name: String,
    pub origin: &'static str,
    pub expectations: ExpectationFile,
}

/// The built-in documented expectation files (macOS, FreeBSD, OpenBSD, Windows).
pub fn documented_platforms() -> Vec<DocumentedPlatform> {
    let ids = catalogue::ids();
    expectations::documented_files()
        .into_iter()
        .filter_map(|(origin, text)| {
            let expectations = ExpectationFile::parse(origin, text, &ids).ok()?;
            let full = expectations.platform.name.clone().unwrap_or_else(|| origin.to_string());
            let name = full.split(" (").next().unwrap_or(&full).to_string();
            Some(DocumentedPlatform {
                name,
                origin,
                expectations,
            })
        })
        .collect()
}

/// Where the evidence tags are explained at length.
pub const EVIDENCE_DOC: &str = "docs/platforms.md#evidence-tags";

/// What each evidence tag says about a documented value, strongest first (the tags of
/// [`expectations::EVIDENCE_TAGS`]).
pub const EVIDENCE: &[(&str, &str)] = &[
    ("L", "observed on Linux by quick probes"),
    ("S", "read in the kernel's or runtime's source, not run"),
    ("D", "the vendor's documentation"),
    ("M", "a maintainer's statement or observation"),
    ("U", "a user's report with a reproducer"),
    ("H", "hearsay or inference: to be measured"),
];

/// `[S] source read, not run; [M] ...` for the tags in `used`, in strength order, so that a
/// reader meets the meaning beside the tags; `None` when no tag is used.
pub fn evidence_legend<'t>(used: impl IntoIterator<Item = &'t str>) -> Option<String> {
    let used: BTreeSet<&str> = used.into_iter().collect();
    let parts: Vec<String> = EVIDENCE
        .iter()
        .filter(|(tag, _)| used.contains(tag))
        .map(|(tag, meaning)| format!("[{tag}] {meaning}"))
        .collect();
    (!parts.is_empty()).then(|| parts.join("; "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_documented_platform_file_loads() {
        let names: Vec<String> = documented_platforms().into_iter().map(|p| p.name).collect();
        assert_eq!(names.len(), expectations::documented_files().len(), "{names:?}");
    }

    #[test]
    fn every_evidence_tag_an_expectation_file_may_use_has_a_meaning() {
        let explained: Vec<&str> = EVIDENCE.iter().map(|(tag, _)| *tag).collect();
        assert_eq!(explained, expectations::EVIDENCE_TAGS);
    }

    #[test]
    fn the_legend_explains_only_the_tags_used_strongest_first() {
        assert_eq!(
            evidence_legend(["M", "S", "M"]).as_deref(),
            Some("[S] read in the kernel's or runtime's source, not run; [M] a maintainer's statement or observation")
        );
        assert_eq!(evidence_legend([]), None);
    }
}

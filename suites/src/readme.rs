//! The parts of README.md that are the catalogue's: the counts, the table of the source
//! article's situations and the table of every scenario. README marks each with a pair of
//! comments (`<!-- generated: NAME -->` ... `<!-- end: NAME -->`); `sockerr list --readme FILE`
//! rewrites them, and a test fails when README differs from what the catalogue generates.

use std::fmt::Write;

use crate::article;
use crate::scenario::Scenario;

/// One generated part: its marker name and its text.
pub struct Section {
    pub name: &'static str,
    pub text: String,
}

/// Every generated part of README, from `scenarios`.
pub fn sections(scenarios: &[Scenario]) -> Vec<Section> {
    vec![
        Section {
            name: "counts",
            text: counts(scenarios),
        },
        Section {
            name: "article",
            text: article::markdown_table(&article::mapping(scenarios)),
        },
        Section {
            name: "scenarios",
            text: scenario_table(scenarios),
        },
    ]
}

/// `53 scenarios, 185 trials.`
fn counts(scenarios: &[Scenario]) -> String {
    let trials: usize = scenarios.iter().map(|s| s.variants().count()).sum();
    format!("{} scenarios, {trials} trials.\n", scenarios.len())
}

/// `v4/v6 × loopback/two_hosts`.
fn variants(scenario: &Scenario) -> String {
    let families: Vec<&str> = scenario.families.iter().map(|f| f.as_str()).collect();
    let topologies: Vec<&str> = scenario.topologies.iter().map(|t| t.as_str()).collect();
    format!("{} × {}", families.join("/"), topologies.join("/"))
}

fn scenario_table(scenarios: &[Scenario]) -> String {
    let mut out = String::from("| scenario | variants | what it shows |\n|---|---|---|\n");
    for s in scenarios {
        let _ = writeln!(
            out,
            "| `{}` | {} | {} |",
            s.id,
            variants(s),
            s.claim.replace('|', "\\|")
        );
    }
    out
}

fn begin(name: &str) -> String {
    format!("<!-- generated: {name} -->\n")
}

fn end(name: &str) -> String {
    format!("<!-- end: {name} -->")
}

/// Why README's generated parts could not be found.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("README has no generated part {0:?}: mark it with <!-- generated: {0} --> ... <!-- end: {0} -->")]
pub struct MissingSection(pub String);

/// `readme` with every generated part replaced by what `scenarios` generate now.
pub fn update(readme: &str, scenarios: &[Scenario]) -> Result<String, MissingSection> {
    let mut text = readme.to_string();
    for section in sections(scenarios) {
        let (open, close) = (begin(section.name), end(section.name));
        let start = text.find(&open).ok_or_else(|| MissingSection(section.name.into()))? + open.len();
        let stop = text[start..]
            .find(&close)
            .ok_or_else(|| MissingSection(section.name.into()))?
            + start;
        text.replace_range(start..stop, &section.text);
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue;

    #[test]
    fn the_readme_shows_what_the_catalogue_generates() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md");
        let readme = std::fs::read_to_string(path).unwrap();
        let generated = update(&readme, &catalogue::all()).unwrap();
        assert!(
            readme == generated,
            "README.md is not what the catalogue generates: run `cargo run -- list --readme README.md`"
        );
    }

    #[test]
    fn an_update_replaces_only_the_marked_parts_and_a_missing_marker_is_named() {
        let scenarios = catalogue::all();
        let readme = "intro\n<!-- generated: counts -->\nold\n<!-- end: counts -->\nmiddle\n\
                      <!-- generated: article -->\n<!-- end: article -->\n\
                      <!-- generated: scenarios -->\nx\n<!-- end: scenarios -->\nend\n";
        let updated = update(readme, &scenarios).unwrap();
        assert!(updated.starts_with("intro\n<!-- generated: counts -->\n"));
        assert!(updated.contains(&format!("{} scenarios, ", scenarios.len())));
        assert!(updated.contains("\n<!-- end: counts -->\nmiddle\n"));
        assert!(updated.ends_with("<!-- end: scenarios -->\nend\n"));
        assert_eq!(update("no markers", &scenarios), Err(MissingSection("counts".into())));
    }
}

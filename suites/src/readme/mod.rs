//! The parts of README.md that are generated: the counts, the table of the source article's
//! situations and the table of every scenario (from the catalogue), what each runtime told
//! the program (from a report: [`runtimes`]) and the forged segments' state x event matrix
//! (from the same report). README marks each with a pair of comments
//! (`<!-- generated: NAME -->` ... `<!-- end: NAME -->`); `sockerr list --readme FILE
//! [--report REPORT]` rewrites them, and a test fails when README differs from what the
//! catalogue and the report its runtime part names generate.

pub mod runtimes;

use std::fmt::Write;

use sockerr_reports::Report;

use crate::article;
use crate::scenario::Scenario;

/// The name of the part generated from a report.
pub const RUNTIMES: &str = "runtimes";

/// The name of the part holding the forged segments' state x event matrix of that report.
pub const FORGED: &str = "forged";

/// The report README's runtime part is generated from, and its path as README names it.
pub struct RuntimeSource<'r> {
    pub path: &'r str,
    pub report: &'r Report,
}

/// One generated part: its marker name and its text.
pub struct Section {
    pub name: &'static str,
    pub text: String,
}

/// Every generated part of README, from `scenarios`, and the runtime part from `runtimes`
/// when given (else that part is left as it is).
pub fn sections(scenarios: &[Scenario], runtimes: Option<&RuntimeSource<'_>>) -> Vec<Section> {
    let runtime_parts = runtimes.into_iter().flat_map(|source| {
        [
            Section {
                name: RUNTIMES,
                text: runtimes::markdown(source.path, source.report, scenarios),
            },
            Section {
                name: FORGED,
                text: forged_matrix(source),
            },
        ]
    });
    let mut parts = vec![
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
    ];
    parts.extend(runtime_parts);
    parts
}

/// The state x event matrix of the report's forged trials, with the report it comes from.
fn forged_matrix(source: &RuntimeSource<'_>) -> String {
    let matrix = sockerr_reports::forged::state_event_matrix(source.report);
    if matrix.is_empty() {
        return format!("`{}` holds no forged trial.\n", source.path);
    }
    let table = sockerr_reports::forged::markdown_table(&matrix);
    format!(
        "Measured in `{}` ({} {}). {}\n\n{table}",
        source.path,
        source.report.platform.os,
        source.report.platform.kernel,
        sockerr_reports::forged::LEGEND
    )
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

/// The text of README's generated part `name`, if it has one.
pub fn part<'t>(readme: &'t str, name: &str) -> Option<&'t str> {
    let (open, close) = (begin(name), end(name));
    let start = readme.find(&open)? + open.len();
    let stop = readme[start..].find(&close)? + start;
    Some(&readme[start..stop])
}

/// The report README's runtime part says it was generated from.
pub fn runtime_report_named(readme: &str) -> Option<String> {
    runtimes::report_named(part(readme, RUNTIMES)?)
}

/// `readme` with every generated part replaced by what `scenarios` (and `runtimes`, for the
/// runtime part) generate now.
pub fn update(
    readme: &str,
    scenarios: &[Scenario],
    runtimes: Option<&RuntimeSource<'_>>,
) -> Result<String, MissingSection> {
    let mut text = readme.to_string();
    for section in sections(scenarios, runtimes) {
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
    fn the_readme_shows_what_the_catalogue_and_its_runtime_report_generate() {
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
        let readme = std::fs::read_to_string(format!("{root}/README.md")).unwrap();
        let named = runtime_report_named(&readme).expect("README's runtime part names its report");
        let report = Report::read(std::path::Path::new(&format!("{root}/{named}")))
            .unwrap_or_else(|e| panic!("README's runtime part names {named}: {e}"));
        let source = RuntimeSource {
            path: &named,
            report: &report,
        };
        let generated = update(&readme, &catalogue::all(), Some(&source)).unwrap();
        assert!(
            readme == generated,
            "README.md is not what the catalogue and {named} generate: run `cargo run -- list --readme README.md`"
        );
    }

    #[test]
    fn an_update_replaces_only_the_marked_parts_and_a_missing_marker_is_named() {
        let scenarios = catalogue::all();
        let readme = "intro\n<!-- generated: counts -->\nold\n<!-- end: counts -->\nmiddle\n\
                      <!-- generated: article -->\n<!-- end: article -->\n\
                      <!-- generated: scenarios -->\nx\n<!-- end: scenarios -->\nend\n";
        let updated = update(readme, &scenarios, None).unwrap();
        assert!(updated.starts_with("intro\n<!-- generated: counts -->\n"));
        assert!(updated.contains(&format!("{} scenarios, ", scenarios.len())));
        assert!(updated.contains("\n<!-- end: counts -->\nmiddle\n"));
        assert!(updated.ends_with("<!-- end: scenarios -->\nend\n"));
        assert_eq!(
            update("no markers", &scenarios, None),
            Err(MissingSection("counts".into()))
        );
        // The runtime part is rewritten only with a report, and then must be there.
        assert_eq!(part(&updated, RUNTIMES), None);
        let report = Report::new(sockerr_harness::platform::Platform::default(), None, vec![]);
        let source = RuntimeSource {
            path: "r.json",
            report: &report,
        };
        assert_eq!(
            update(readme, &scenarios, Some(&source)),
            Err(MissingSection(RUNTIMES.into()))
        );
        let with_part = format!("{readme}<!-- generated: runtimes -->\n<!-- end: runtimes -->\n");
        assert_eq!(
            update(&with_part, &scenarios, Some(&source)),
            Err(MissingSection(FORGED.into()))
        );
        let with_parts = format!("{with_part}<!-- generated: forged -->\n<!-- end: forged -->\n");
        let updated = update(&with_parts, &scenarios, Some(&source)).unwrap();
        assert_eq!(runtime_report_named(&updated).as_deref(), Some("r.json"));
        assert_eq!(part(&updated, FORGED), Some("`r.json` holds no forged trial.\n"));
    }
}

//! The project stands alone: every document the code, the expectation files and README cite
//! is in the repository's `docs/`, and every row of docs/platforms.md they cite (`B5`, `A2`,
//! `I`) is a heading there, so a reader who follows a citation finds it.

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The files that cite: sources of the three crates, the expectation files, README.
fn citing_files() -> Vec<PathBuf> {
    let root = root();
    let mut files = vec![root.join("README.md")];
    let mut dirs: Vec<PathBuf> = [
        "harness/src",
        "suites/src",
        "suites/tests",
        "suites/expectations",
        "reports/src",
    ]
    .iter()
    .map(|d| root.join(d))
    .collect();
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs" || e == "toml") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// Row and section ids cited right after each `docs/platforms.md` in `text`: `B5, B4 (...)`
/// gives B5 and B4.
fn cited_rows(text: &str) -> Vec<String> {
    let mut rows = Vec::new();
    for (at, _) in text.match_indices("docs/platforms.md") {
        let after = &text[at + "docs/platforms.md".len()..];
        if !after.starts_with(' ') {
            continue;
        }
        for token in after.split([' ', ',']).filter(|t| !t.is_empty()) {
            let token = token.trim_end_matches([')', ';', '"', '.']);
            let mut chars = token.chars();
            let is_row = chars.next().is_some_and(|c| ('A'..='I').contains(&c))
                && token[1..]
                    .trim_end_matches(|c: char| c.is_ascii_lowercase())
                    .chars()
                    .all(|c| c.is_ascii_digit())
                && token.len() <= 4;
            if !is_row {
                break;
            }
            rows.push(token.to_string());
        }
    }
    rows
}

/// Document names this project once cited from outside the repository.
const GONE: [&str; 3] = ["platform-differences.md", "DESIGN.md", "SCENARIOS.md"];

#[test]
fn every_document_cited_is_in_docs_and_nothing_cites_a_document_outside_the_repository() {
    let root = root();
    for file in citing_files() {
        let text = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        for gone in GONE {
            assert!(
                !text.contains(gone) || (file.ends_with("docs_cited.rs")),
                "{} cites {gone}, which is not in the repository (docs/ holds design.md and platforms.md)",
                file.display()
            );
        }
        for (at, _) in text.match_indices("docs/") {
            let name: String = text[at..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '.' | '_' | '-'))
                .collect();
            let name = name.trim_end_matches('.');
            if name.ends_with(".md") {
                assert!(
                    root.join(name).is_file(),
                    "{} cites {name}, which does not exist",
                    file.display()
                );
            }
        }
    }
}

#[test]
fn every_row_of_docs_platforms_cited_is_a_heading_there() {
    let platforms = std::fs::read_to_string(root().join("docs/platforms.md")).expect("docs/platforms.md");
    let headings: Vec<&str> = platforms.lines().filter(|l| l.starts_with('#')).collect();
    assert!(
        headings.contains(&"## Evidence tags"),
        "docs/platforms.md#evidence-tags is cited: the heading must stay"
    );
    let mut cited = 0;
    for file in citing_files() {
        let text = std::fs::read_to_string(&file).expect("readable");
        for row in cited_rows(&text) {
            cited += 1;
            let section = format!("## {row}. ");
            let row_heading = format!("### {row}. ");
            assert!(
                headings
                    .iter()
                    .any(|h| h.starts_with(&section) || h.starts_with(&row_heading)),
                "{} cites docs/platforms.md {row}, which has no heading there",
                file.display()
            );
        }
    }
    assert!(
        cited > 50,
        "the expectation files cite rows ({cited} found): is the parse right?"
    );
}

#[test]
fn cited_rows_are_read_up_to_the_first_word_that_is_no_row() {
    assert_eq!(cited_rows("docs/platforms.md B5, B4 (MSG_NOSIGNAL)"), ["B5", "B4"]);
    assert_eq!(cited_rows("see docs/platforms.md B1a\""), ["B1a"]);
    assert_eq!(cited_rows("docs/platforms.md I"), ["I"]);
    assert!(cited_rows("docs/platforms.md, sections A, B").is_empty());
    assert!(cited_rows("docs/platforms.md Apple").is_empty());
}

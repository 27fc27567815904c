//! The Markdown, HTML and ladder renderers on a real report (`fixtures/report.json`, written
//! by `sockerr run --filter linger0.read_first --filter closed_port.blocking`).

use std::collections::BTreeSet;
use std::path::PathBuf;

use sockerr_harness::record::Direction;
use sockerr_reports::html::{anchor, slug};
use sockerr_reports::ladder::MIN_GAP;
use sockerr_reports::markdown::client_guidance;
use sockerr_reports::{Report, Status, TrialReport, ladder_svg, render_html, render_markdown};

fn fixture() -> Report {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/report.json");
    Report::read(&path).expect("the fixture is a report of this version")
}

fn trial<'r>(report: &'r Report, id: &str) -> &'r TrialReport {
    report
        .trials
        .iter()
        .find(|t| t.id == id)
        .unwrap_or_else(|| panic!("the fixture has {id}"))
}

/// The page with minijinja's escaped `/` (`&#x2f;`) written plainly, for matching.
fn html_of(report: &Report) -> String {
    render_html(report).expect("renders").replace("&#x2f;", "/")
}

const LINGER0: &str = "abort::linger0.read_first::v4::two_hosts";

/// The mermaid block of one variant of one scenario in `report.md`.
fn mermaid_block<'m>(markdown: &'m str, scenario: &str, variant: &str) -> &'m str {
    let scenario_at = markdown
        .find(&format!("\n### {scenario}\n"))
        .expect("a section per scenario");
    let rest = &markdown[scenario_at..];
    let variant_at = rest
        .find(&format!("\n#### {variant}: "))
        .expect("a section per variant");
    let rest = &rest[variant_at..];
    let start = rest.find("```mermaid\n").expect("a mermaid block per variant") + "```mermaid\n".len();
    let end = rest[start..].find("```").expect("the block is closed");
    &rest[start..start + end]
}

#[test]
fn markdown_has_a_mermaid_block_with_one_arrow_per_segment_for_a_real_trial() {
    let report = fixture();
    let t = trial(&report, LINGER0);
    assert!(!t.wire.segments.is_empty(), "the fixture trial has segments");
    let markdown = render_markdown(&report);
    let block = mermaid_block(&markdown, &t.scenario, "v4/two_hosts");
    let lines: Vec<&str> = block.lines().map(str::trim).collect();
    assert_eq!(
        &lines[..3],
        ["sequenceDiagram", "participant Client", "participant Server"],
        "{block}"
    );
    let arrows: Vec<&str> = lines.iter().copied().filter(|l| l.contains("->>")).collect();
    let expected: Vec<String> = t
        .wire
        .segments
        .iter()
        .map(|s| {
            let arrow = if s.dir == Direction::ClientToServer {
                "Client->>Server"
            } else {
                "Server->>Client"
            };
            format!("{arrow}: [{}] seq {} ack {} len {}", s.flags, s.seq, s.ack, s.len)
        })
        .collect();
    assert_eq!(arrows, expected, "one arrow per segment, in order:\n{block}");
    let notes = lines.iter().filter(|l| l.starts_with("Note over ")).count();
    assert_eq!(notes, t.steps.len(), "one note per system call:\n{block}");
    // The reset arrives before the read that reports it.
    let reset = lines
        .iter()
        .position(|l| l.starts_with("Server->>Client: [R.]"))
        .expect("the reset");
    let read = lines
        .iter()
        .position(|l| l.contains("client.read#35;1") && l.contains("ECONNRESET"))
        .expect("the read");
    assert!(reset < read, "steps and segments are interleaved by time:\n{block}");
    assert!(lines[read].starts_with("Note over Client: "), "{}", lines[read]);
}

#[test]
fn markdown_table_rows_have_as_many_cells_as_their_header() {
    let markdown = render_markdown(&fixture());
    // Unescaped pipes: a `\|` inside a cell does not separate cells.
    let cells = |line: &str| line.replace("\\|", "").matches('|').count();
    let mut header: Option<usize> = None;
    let mut rows = 0;
    for line in markdown.lines() {
        if !line.starts_with('|') {
            header = None;
            continue;
        }
        match header {
            None => header = Some(cells(line)),
            Some(n) => {
                assert_eq!(cells(line), n, "row with a stray `|`: {line}");
                rows += 1;
            }
        }
    }
    assert!(rows > 20, "the report has tables");
    assert!(markdown.contains("POLLIN\\|POLLOUT"), "revents keep their `|`, escaped");
}

#[test]
fn markdown_summary_has_a_table_per_area_with_outcomes_and_status_counts() {
    let markdown = render_markdown(&fixture());
    assert!(markdown.starts_with("# sockerr report: linux "), "{}", &markdown[..80]);
    assert!(markdown.contains("- run as: "));
    for area in ["connect", "abort"] {
        assert!(
            markdown.contains(&format!(
                "\n### {area}\n\n| scenario | step | observed outcome | status |"
            )),
            "{area}"
        );
    }
    assert!(markdown.contains("| `abort.linger0.read_first` | `listener.listen#1` | `ok=0` | 4 pass |"));
    assert!(markdown.contains("|  | `client.read#1` | `ECONNRESET` |  |"));
    assert!(markdown.contains("|  | `client.write#1` | `EPIPE +SIGPIPE` |  |"));
}

#[test]
fn markdown_names_the_variants_where_outcomes_differ() {
    let mut report = fixture();
    let t = report.trials.iter_mut().find(|t| t.id == LINGER0).expect("the trial");
    let step = t
        .steps
        .iter_mut()
        .find(|s| s.label == "client.read#1")
        .expect("the read");
    step.result.errno = Some("EPIPE".to_string());
    let markdown = render_markdown(&report);
    assert!(
        markdown.contains(
            "|  | `client.read#1` | `ECONNRESET` (v4/loopback, v6/loopback, v6/two_hosts); `EPIPE` (v4/two_hosts) |  |"
        ),
        "{markdown}"
    );
}

#[test]
fn client_guidance_is_shown_once_per_scenario_or_per_variant_where_it_differs() {
    let mut report = fixture();
    let guidance = client_guidance(trial(&report, LINGER0)).expect("the fixture carries the catalogue's guidance");
    let markdown = render_markdown(&report);
    assert_eq!(
        markdown.matches(&format!("**Client guidance.** {guidance}")).count(),
        1,
        "once for the scenario"
    );
    assert_eq!(
        html_of(&report).matches("<b>Client guidance.</b>").count(),
        2,
        "once per scenario"
    );

    for t in report
        .trials
        .iter_mut()
        .filter(|t| t.scenario == "abort.linger0.read_first")
    {
        t.guidance = Some(format!("advice for {}", t.id));
    }
    report
        .trials
        .iter_mut()
        .find(|t| t.scenario == "connect.closed_port.blocking")
        .expect("a trial")
        .guidance = Some("  ".to_string());
    let markdown = render_markdown(&report);
    assert!(
        markdown.contains(&format!("**Client guidance.** advice for {LINGER0}")),
        "per variant where they differ"
    );
    assert_eq!(markdown.matches("**Client guidance.** advice for abort::").count(), 4);
    assert_eq!(
        markdown.matches("**Client guidance.**").count(),
        4 + 3,
        "blank guidance is none"
    );
}

#[test]
fn the_platform_label_and_sysctl_overrides_are_shown_when_the_run_has_them() {
    let mut report = fixture();
    assert!(
        !render_markdown(&report).contains("sysctl overrides"),
        "none in the fixture"
    );
    report.platform.label = "lab kernel <b>".to_string();
    report
        .platform
        .sysctl_overrides
        .insert("net.ipv4.tcp_rfc1337".to_string(), "1".to_string());
    let markdown = render_markdown(&report);
    assert!(markdown.contains("- label: lab kernel <b>"), "{markdown}");
    assert!(markdown.contains("net.ipv4.tcp_rfc1337=1"));
    let html = html_of(&report);
    assert!(html.contains("<b>lab kernel &lt;b&gt;</b>"), "escaped");
    assert!(html.contains("<code>net.ipv4.tcp_rfc1337=1</code>"));
}

#[test]
fn html_loads_nothing_from_outside_the_file() {
    let html = html_of(&fixture());
    let lower = html.to_ascii_lowercase();
    for needle in [
        "<script src",
        "<link",
        "@import",
        "url(",
        "<img",
        "<iframe",
        "<object",
        "<embed",
    ] {
        assert!(!lower.contains(needle), "the page contains {needle:?}");
    }
    // Every src stays in the page or points at a file beside the report; so does every
    // href, except the links of citations (`<a href="https://...">`), which a reader follows
    // and the page never loads.
    for attr in ["src=\"", "href=\"", "xlink:href=\""] {
        for (at, _) in lower.match_indices(attr) {
            let value = &lower[at + attr.len()..];
            let value = &value[..value.find('"').unwrap_or(value.len())];
            let element = &lower[lower[..at].rfind('<').expect("inside a tag")..at];
            if attr == "href=\"" && element.starts_with("<a ") && value.starts_with("https://") {
                continue;
            }
            assert!(
                !value.contains("//") && !value.starts_with("data:") && !value.contains(':'),
                "{attr}{value}\" leaves the page"
            );
        }
    }
    assert!(
        lower.contains("<style>") && lower.contains("<script>"),
        "style and script are inline"
    );
    assert!(
        lower.contains("content-security-policy"),
        "the page forbids loading anything"
    );
}

#[test]
fn html_ids_are_valid_unique_and_every_in_page_link_finds_its_target() {
    let html = html_of(&fixture());
    let values = |attr: &str| -> Vec<String> {
        html.match_indices(attr)
            .map(|(at, _)| {
                let v = &html[at + attr.len()..];
                v[..v.find('"').expect("quoted")].to_string()
            })
            .collect()
    };
    let ids = values(" id=\"");
    let unique: BTreeSet<&String> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len(), "ids are unique");
    for id in &ids {
        let mut chars = id.chars();
        assert!(chars.next().is_some_and(|c| c.is_ascii_alphabetic()), "{id}");
        assert!(
            chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')),
            "{id}"
        );
    }
    let links: Vec<String> = values(" href=\"#");
    assert!(
        links.len() >= 8 + 2,
        "each matrix cell and scenario links to its section"
    );
    for link in &links {
        assert!(unique.contains(link), "#{link} has no target");
    }
    let report = fixture();
    for t in &report.trials {
        assert!(
            html.contains(&format!("id=\"{}\"", anchor(&t.id))),
            "{} has a section",
            t.id
        );
    }
}

#[test]
fn html_matrix_has_one_column_per_variant_in_the_report() {
    let mut report = fixture();
    let html = html_of(&report);
    let head = |html: &str| {
        let at = html.find("<table class=\"matrix\">").expect("the matrix");
        let end = html[at..].find("</thead>").expect("its head");
        html[at..at + end].to_string()
    };
    let all = head(&html);
    let columns: Vec<usize> = ["v4/loopback", "v4/two_hosts", "v6/loopback", "v6/two_hosts"]
        .iter()
        .map(|c| all.find(c).expect(c))
        .collect();
    assert!(columns.windows(2).all(|w| w[0] < w[1]), "family, then topology: {all}");

    report.trials.retain(|t| t.family.as_str() == "v6");
    let v6 = head(&html_of(&report));
    assert!(v6.contains("v6/loopback") && v6.contains("v6/two_hosts"), "{v6}");
    assert!(!v6.contains("v4/"), "no column for a variant the report lacks: {v6}");
}

/// A mismatch as the judge makes it; shown as the step and aspect, then expected and observed
/// on lines of their own.
fn mismatch() -> sockerr_reports::Mismatch {
    sockerr_reports::Mismatch {
        step: "client.read#1".into(),
        runtime: None,
        aspect: sockerr_reports::Aspect::Result,
        expected: "EPIPE".into(),
        observed: "ECONNRESET <&>".into(),
        context: Some("state CLOSE".into()),
        origin: None,
    }
}

#[test]
fn html_shows_a_failed_trial_open_in_red_with_expected_and_observed_on_lines_of_their_own() {
    let mut report = fixture();
    let t = report.trials.iter_mut().find(|t| t.id == LINGER0).expect("the trial");
    t.status = Status::Fail;
    t.mismatches = vec![mismatch()];
    t.waits[0].met = false;
    let html = html_of(&report);
    let anchor = anchor(LINGER0);
    assert!(html.contains("class=\"cell fail\" data-area=\"abort\" data-status=\"fail\""));
    assert!(
        html.contains(&format!("href=\"#{anchor}\"><span class=\"st\">fail</span>")),
        "the cell links to its trial"
    );
    let section = &html[html.find(&format!("id=\"{anchor}\"")).expect("the section")..];
    let section = &section[..section.find("</details>").expect("closed")];
    assert!(section.contains("\" open>"), "a failed trial is shown open: {section}");
    assert!(section.contains("Differences from the expectation"), "{section}");
    assert!(
        section.contains(
            "<pre class=\"mismatch\"><code>client.read#1 result\n    expected  EPIPE\n    observed  ECONNRESET &lt;&amp;&gt;\n"
        ),
        "expected and observed on lines of their own, escaped: {section}"
    );
    assert!(section.contains("Waits not met"), "{section}");
    assert!(
        section.contains("data-status=\"fail\" data-errnos=\"ECONNRESET EPIPE\""),
        "the filters see it"
    );
    assert!(section.contains("packets: <a href=\"pcap/abort__linger0.read_first__v4__two_hosts.pcapng\">"));
}

#[test]
fn html_offers_filters_by_area_errno_and_status_hidden_until_the_script_runs() {
    let html = html_of(&fixture());
    assert!(
        html.contains("<form id=\"filters\" hidden>"),
        "without JS the page shows everything, no dead controls"
    );
    for option in [
        "<option>abort</option>",
        "<option>connect</option>",
        "<option>ECONNREFUSED</option>",
    ] {
        assert!(html.contains(option), "{option}");
    }
    assert!(html.contains("<option>ECONNRESET</option>") && html.contains("<option>EPIPE</option>"));
    assert!(html.contains("name=\"status\" value=\"pass\" checked"));
}

/// The x of the lifeline named `name` (`Client` or `Server`): the header label centred on it.
fn lifeline_x(doc: &roxmltree::Document<'_>, name: &str) -> f64 {
    let label = doc
        .descendants()
        .find(|n| n.has_tag_name("text") && text_of(*n) == name)
        .expect("lifeline label");
    label.attribute("x").expect("x").parse().expect("number")
}

/// The text of an element as drawn: whitespace collapsed.
fn text_of(node: roxmltree::Node<'_, '_>) -> String {
    let raw: String = node
        .descendants()
        .filter(|n| n.is_text())
        .filter_map(|n| n.text())
        .collect();
    raw.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn num(node: roxmltree::Node<'_, '_>, attr: &str) -> f64 {
    node.attribute(attr)
        .unwrap_or_else(|| panic!("{attr}"))
        .parse()
        .expect("number")
}

#[test]
fn the_ladder_of_a_linger0_trial_has_a_reset_from_server_to_client_and_econnreset_on_the_client_side() {
    let report = fixture();
    let svg = ladder_svg(trial(&report, LINGER0));
    let doc = roxmltree::Document::parse(&svg).expect("the ladder is XML");
    let client_x = lifeline_x(&doc, "Client");
    let server_x = lifeline_x(&doc, "Server");
    assert!(client_x < server_x, "client left, server right");
    let width = num(doc.root_element(), "width");

    let reset = doc
        .descendants()
        .filter(|n| n.has_tag_name("g"))
        .find(|g| {
            g.children()
                .any(|c| c.has_tag_name("text") && text_of(c) == "[R.] seq 1 ack 1 len 0")
        })
        .expect("an arrow labelled [R.]");
    let line = reset.children().find(|c| c.has_tag_name("line")).expect("its line");
    assert_eq!(num(line, "x1"), server_x, "the reset starts at the server");
    assert!(
        num(line, "x2") < server_x && num(line, "x2") >= client_x,
        "and points at the client"
    );
    assert!(
        num(line, "y2") > num(line, "y1"),
        "slightly sloped: the segment is in flight"
    );

    let annotation = doc
        .descendants()
        .find(|n| n.has_tag_name("text") && text_of(*n).contains("ECONNRESET"))
        .expect("the ECONNRESET annotation");
    assert_eq!(text_of(annotation), "client.read#1 read(64) → ECONNRESET");
    let x = num(annotation, "x");
    assert!(
        x < width / 2.0 && x < (client_x + server_x) / 2.0,
        "on the client side: x {x}, width {width}"
    );
    let errno = annotation
        .descendants()
        .find(|n| n.has_tag_name("tspan") && text_of(*n) == "ECONNRESET")
        .expect("tspan");
    assert_eq!(errno.attribute("fill"), Some("#c62828"), "a failed outcome is red");
    // The reset is drawn above the read that reports it.
    let read_y = num(annotation, "y");
    assert!(num(line, "y1") < read_y);

    let sigpipe = doc
        .descendants()
        .filter(|n| n.has_tag_name("text") && text_of(*n).contains("+SIGPIPE"))
        .count();
    assert_eq!(sigpipe, 2, "both writes raised SIGPIPE");
}

#[test]
fn every_ladder_parses_as_xml_and_keeps_labels_apart() {
    let report = fixture();
    for t in &report.trials {
        let svg = ladder_svg(t);
        let doc = roxmltree::Document::parse(&svg).unwrap_or_else(|e| panic!("{}: {e}\n{svg}", t.id));
        let root = doc.root_element();
        assert!(root.has_tag_name(("http://www.w3.org/2000/svg", "svg")), "{}", t.id);
        assert!(!svg.contains(" id=\""), "no ids, so many ladders can share a page");
        // Event rows: the dot of each call and the start of each arrow.
        let mut rows: Vec<f64> = doc
            .descendants()
            .filter_map(|n| match n.tag_name().name() {
                "circle" => Some(num(n, "cy")),
                "line" if n.parent().is_some_and(|p| p.attribute("class") == Some("segment")) => Some(num(n, "y1")),
                _ => None,
            })
            .collect();
        assert_eq!(rows.len(), t.steps.len() + t.wire.segments.len(), "{}", t.id);
        rows.sort_by(f64::total_cmp);
        for w in rows.windows(2) {
            assert!(
                w[1] - w[0] >= MIN_GAP - 0.01,
                "{}: rows {} and {} overlap",
                t.id,
                w[0],
                w[1]
            );
        }
    }
}

/// Decisions on trial ids: the HTML anchor is the trial id, dotted.
#[test]
fn a_trial_anchor_is_its_dotted_trial_id_in_either_spelling() {
    assert_eq!(
        anchor("abort::linger0.read_first::v4::two_hosts"),
        "abort.linger0.read_first.v4.two_hosts"
    );
    assert_eq!(
        anchor("abort.linger0.read_first.v4.two_hosts"),
        "abort.linger0.read_first.v4.two_hosts"
    );
}

#[test]
fn slugs_make_valid_ids_from_trial_ids() {
    assert_eq!(
        slug("abort::linger0.read_first::v4::two_hosts"),
        "abort--linger0-read_first--v4--two_hosts"
    );
    assert_eq!(slug("a b/c\"<d>"), "a-b-c--d-");
}

/// RFC 9293 §3.10.7.4 and socket(7) are cited by the linger-0 scenario; in both reports they
/// are links (the RFC to its section on rfc-editor.org, the man page to man7.org), and the
/// text around them stays.
#[test]
fn sources_that_cite_rfc_sections_and_man_pages_are_links_in_markdown_and_html() {
    let report = fixture();
    let t = trial(&report, LINGER0);
    let rfc = t
        .sources
        .iter()
        .find(|s| s.starts_with("RFC 9293 §3.10.7.4"))
        .expect("the scenario cites RFC 9293 §3.10.7.4");
    let markdown = render_markdown(&report);
    let linked = rfc.replacen(
        "RFC 9293 §3.10.7.4",
        "[RFC 9293 §3.10.7.4](https://www.rfc-editor.org/rfc/rfc9293.html#section-3.10.7.4)",
        1,
    );
    assert!(markdown.contains(&format!("- {linked}\n")), "{markdown}");
    assert!(
        markdown.contains("[socket(7)](https://man7.org/linux/man-pages/man7/socket.7.html)"),
        "{markdown}"
    );
    let html = html_of(&report);
    assert!(
        html.contains(
            "<a href=\"https://www.rfc-editor.org/rfc/rfc9293.html#section-3.10.7.4\" rel=\"noreferrer\">RFC 9293 §3.10.7.4</a>"
        ),
        "html links the RFC section"
    );
    assert!(
        html.contains(
            "<a href=\"https://man7.org/linux/man-pages/man7/socket.7.html\" rel=\"noreferrer\">socket(7)</a>"
        )
    );
}

#[test]
fn markdown_shows_a_failed_trial_with_expected_and_observed_on_lines_of_their_own() {
    let mut report = fixture();
    let t = report.trials.iter_mut().find(|t| t.id == LINGER0).expect("the trial");
    t.status = Status::Fail;
    t.mismatches = vec![mismatch()];
    let markdown = render_markdown(&report);
    assert!(
        markdown.contains(&format!(
            "Differences from the expectation:\n\n```text\n{}\n```\n",
            mismatch()
        )),
        "{markdown}"
    );
    let block = &markdown[markdown.find("```text\n").expect("a block")..];
    let lines: Vec<&str> = block.lines().take(4).collect();
    assert_eq!(lines[2].trim(), "expected  EPIPE");
    assert_eq!(lines[3].trim(), "observed  ECONNRESET <&>");
}

//! Citations made links: in a source text (`RFC 9293 §3.10.7.4 (a reset in ESTABLISHED)`,
//! `socket(7): SO_LINGER`, `python/cpython#117484`, `https://...`), the parts a reader can
//! follow. RFC sections link to their anchor on rfc-editor.org, man pages to man7.org, GitHub
//! issues to github.com; the rest stays text. Both the Markdown and the HTML renderer show
//! sources through [`pieces`], so they link the same things.

use serde::Serialize;

/// A run of a source text: plain, or a link with the text it shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Piece {
    pub text: String,
    /// Where the text links to; `None` for plain text.
    pub url: Option<String>,
}

impl Piece {
    fn plain(text: &str) -> Piece {
        Piece {
            text: text.to_string(),
            url: None,
        }
    }
}

/// The text cut into plain runs and links, in order; joined, the pieces' texts give `text`
/// back unchanged.
pub fn pieces(text: &str) -> Vec<Piece> {
    let mut out: Vec<Piece> = Vec::new();
    let mut plain_from = 0;
    // The RFC named last: a bare `§3.10.7.1` later in the same text is a section of it.
    let mut last_rfc: Option<String> = None;
    let mut at = 0;
    while at < text.len() {
        let rest = &text[at..];
        let found = rfc(rest)
            .map(|(len, number, section)| {
                last_rfc = Some(number.clone());
                (len, rfc_url(&number, section.as_deref()))
            })
            .or_else(|| bare_section(rest, last_rfc.as_deref()))
            .or_else(|| url(rest))
            .or_else(|| github_issue(rest, &text[..at]))
            .or_else(|| man_page(rest, &text[..at]));
        match found {
            Some((len, link)) => {
                if plain_from < at {
                    out.push(Piece::plain(&text[plain_from..at]));
                }
                out.push(Piece {
                    text: text[at..at + len].to_string(),
                    url: Some(link),
                });
                at += len;
                plain_from = at;
            }
            None => at += rest.chars().next().map_or(1, char::len_utf8),
        }
    }
    if plain_from < text.len() {
        out.push(Piece::plain(&text[plain_from..]));
    }
    out
}

/// The rfc-editor.org page of an RFC, at a section's anchor when one is given.
pub fn rfc_url(number: &str, section: Option<&str>) -> String {
    match section {
        Some(section) => format!("https://www.rfc-editor.org/rfc/rfc{number}.html#section-{section}"),
        None => format!("https://www.rfc-editor.org/rfc/rfc{number}.html"),
    }
}

/// `RFC 9293` or `RFC 9293 §3.10.7.4` at the start of `text`: (length, number, section).
fn rfc(text: &str) -> Option<(usize, String, Option<String>)> {
    let after = text.strip_prefix("RFC ")?;
    let number: String = after.chars().take_while(char::is_ascii_digit).collect();
    if number.is_empty() {
        return None;
    }
    let mut len = "RFC ".len() + number.len();
    let section = text[len..].strip_prefix(" §").and_then(section_number);
    if let Some(section) = &section {
        len += " §".len() + section.len();
    }
    Some((len, number, section))
}

/// `§3.10.7.1` at the start of `text`, a section of the RFC named before it.
fn bare_section(text: &str, rfc: Option<&str>) -> Option<(usize, String)> {
    let section = section_number(text.strip_prefix('§')?)?;
    Some(('§'.len_utf8() + section.len(), rfc_url(rfc?, Some(&section))))
}

/// `3.10.7.4` at the start of `text` (digits joined by single dots; a trailing dot is not
/// part of it).
fn section_number(text: &str) -> Option<String> {
    let taken: String = text.chars().take_while(|c| c.is_ascii_digit() || *c == '.').collect();
    let section = taken.trim_end_matches('.');
    (!section.is_empty() && section.starts_with(|c: char| c.is_ascii_digit()) && !section.contains(".."))
        .then(|| section.to_string())
}

/// `https://...` at the start of `text`, up to white space; closing punctuation at its end
/// is left out.
fn url(text: &str) -> Option<(usize, String)> {
    if !text.starts_with("https://") && !text.starts_with("http://") {
        return None;
    }
    let end = text.find(char::is_whitespace).unwrap_or(text.len());
    let link = text[..end].trim_end_matches(['.', ',', ';', ':', ')', ']', '"', '\'']);
    Some((link.len(), link.to_string()))
}

/// `owner/repo#123` at the start of `text` (and not in the middle of a word or path):
/// GitHub redirects an issue number to the pull request of that number.
fn github_issue(text: &str, before: &str) -> Option<(usize, String)> {
    if before.ends_with(|c: char| is_name_char(c) || c == '/') {
        return None;
    }
    let owner_len = text.find(|c: char| !is_name_char(c))?;
    let after_owner = text[owner_len..].strip_prefix('/')?;
    let repo_len = after_owner.find(|c: char| !is_name_char(c))?;
    let after_repo = after_owner[repo_len..].strip_prefix('#')?;
    let number_len = after_repo
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(after_repo.len());
    if owner_len == 0 || repo_len == 0 || number_len == 0 {
        return None;
    }
    let len = owner_len + 1 + repo_len + 1 + number_len;
    let (owner, repo) = (&text[..owner_len], &after_owner[..repo_len]);
    let number = &after_repo[..number_len];
    Some((len, format!("https://github.com/{owner}/{repo}/issues/{number}")))
}

/// `connect(2)`, `ip-route(8)` at the start of `text` (and not in the middle of a word; after
/// a `/` is fine: `exit(2)/_exit(2)`): the Linux man page on man7.org.
fn man_page(text: &str, before: &str) -> Option<(usize, String)> {
    if before.ends_with(is_name_char) {
        return None;
    }
    let name_len = text.find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-')))?;
    let name = &text[..name_len];
    if name.is_empty() || !name.starts_with(|c: char| c.is_ascii_lowercase() || c == '_') {
        return None;
    }
    let after = text[name_len..].strip_prefix('(')?;
    let section: String = after.chars().take_while(char::is_ascii_alphanumeric).collect();
    let digit = section.chars().next().filter(|c| ('1'..='8').contains(c))?;
    if !section[1..].chars().all(|c| c.is_ascii_lowercase()) || !after[section.len()..].starts_with(')') {
        return None;
    }
    let len = name_len + 1 + section.len() + 1;
    Some((
        len,
        format!("https://man7.org/linux/man-pages/man{digit}/{name}.{section}.html"),
    ))
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn links(text: &str) -> Vec<(String, String)> {
        pieces(text)
            .into_iter()
            .filter_map(|p| Some((p.text, p.url?)))
            .collect()
    }

    fn link(text: &str, url: &str) -> (String, String) {
        (text.to_string(), url.to_string())
    }

    #[test]
    fn an_rfc_section_links_to_its_anchor_and_a_bare_section_to_the_rfc_named_before() {
        assert_eq!(
            links("RFC 9293 §3.6 (CLOSE: FIN) and §3.10.7.1 (data for a closed connection: reset)"),
            [
                link(
                    "RFC 9293 §3.6",
                    "https://www.rfc-editor.org/rfc/rfc9293.html#section-3.6"
                ),
                link(
                    "§3.10.7.1",
                    "https://www.rfc-editor.org/rfc/rfc9293.html#section-3.10.7.1"
                ),
            ]
        );
        assert_eq!(
            links("RFC 792 (destination unreachable, code 1) / RFC 4443 §3.1 (code 3)"),
            [
                link("RFC 792", "https://www.rfc-editor.org/rfc/rfc792.html"),
                link(
                    "RFC 4443 §3.1",
                    "https://www.rfc-editor.org/rfc/rfc4443.html#section-3.1"
                ),
            ]
        );
        assert_eq!(
            links("RFC 1337."),
            [link("RFC 1337", "https://www.rfc-editor.org/rfc/rfc1337.html")]
        );
        assert!(links("see §3.2").is_empty(), "a section of no named RFC stays text");
    }

    #[test]
    fn man_pages_link_to_man7_and_look_alikes_stay_text() {
        assert_eq!(
            links("exit(2)/_exit(2): open file descriptors are closed; ip-route(8)"),
            [
                link("exit(2)", "https://man7.org/linux/man-pages/man2/exit.2.html"),
                link("_exit(2)", "https://man7.org/linux/man-pages/man2/_exit.2.html"),
                link("ip-route(8)", "https://man7.org/linux/man-pages/man8/ip-route.8.html"),
            ]
        );
        assert!(links("getsockopt(SO_ERROR), f(x), Step(9), tcp_info(0)").is_empty());
    }

    #[test]
    fn urls_and_github_issues_link_without_their_closing_punctuation() {
        assert_eq!(
            links("see https://github.com/apple-oss-distributions/xnu. (python/cpython#117484, #3405)"),
            [
                link(
                    "https://github.com/apple-oss-distributions/xnu",
                    "https://github.com/apple-oss-distributions/xnu"
                ),
                link(
                    "python/cpython#117484",
                    "https://github.com/python/cpython/issues/117484"
                ),
            ]
        );
        assert!(links("net/ipv4/udp.c __udp4_lib_err").is_empty(), "a path is no issue");
    }

    #[test]
    fn the_pieces_give_the_text_back_unchanged() {
        for text in [
            "",
            "article situation 7 (reset vs broken pipe)",
            "RFC 9293 §3.10.7.4 (a reset in ESTABLISHED: connection reset); socket(7): SO_LINGER",
            "§ alone, RFC alone, RFC 12§, ünïcode (2)",
        ] {
            let joined: String = pieces(text).into_iter().map(|p| p.text).collect();
            assert_eq!(joined, text);
        }
    }
}

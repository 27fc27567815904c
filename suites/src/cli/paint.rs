//! Colour for the console: on a terminal only, and never when `NO_COLOR` is set to anything
//! (no-color.org) or the terminal is `dumb`. Text written to a file or a pipe stays plain.

use std::io::IsTerminal;

use sockerr_reports::Status;

/// Whether to colour what goes to one stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Paint {
    enabled: bool,
}

impl Paint {
    /// Colour for standard output.
    pub fn stdout() -> Paint {
        Paint::when(std::io::stdout().is_terminal())
    }

    /// Colour for standard error.
    pub fn stderr() -> Paint {
        Paint::when(std::io::stderr().is_terminal())
    }

    /// No colour at all.
    #[cfg(test)]
    pub fn plain() -> Paint {
        Paint { enabled: false }
    }

    fn when(terminal: bool) -> Paint {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        let dumb = std::env::var_os("TERM").is_some_and(|t| t == "dumb");
        Paint {
            enabled: terminal && !no_color && !dumb,
        }
    }

    /// `text` in the colour of `status`: green for pass, red for fail, yellow for skip, cyan
    /// for observed.
    pub fn status(self, status: Status, text: &str) -> String {
        let code = match status {
            Status::Pass => "32",
            Status::Fail => "1;31",
            Status::Skip => "33",
            Status::Observed => "36",
        };
        self.sgr(code, text)
    }

    /// `text` in bold.
    pub fn bold(self, text: &str) -> String {
        self.sgr("1", text)
    }

    /// `text` dimmed: what matters less on the line.
    pub fn dim(self, text: &str) -> String {
        self.sgr("2", text)
    }

    fn sgr(self, code: &str, text: &str) -> String {
        if self.enabled && !text.is_empty() {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_paint_leaves_text_as_it_is_and_colour_wraps_it_in_sgr_codes() {
        let plain = Paint { enabled: false };
        assert_eq!(plain.status(Status::Fail, "1 failed"), "1 failed");
        let colour = Paint { enabled: true };
        assert_eq!(colour.status(Status::Fail, "1 failed"), "\x1b[1;31m1 failed\x1b[0m");
        assert_eq!(colour.bold(""), "");
    }
}

//! Progress while trials run, on standard error: a bar redrawn in place on a terminal, one
//! line per trial as it finishes elsewhere (a log keeps them), or nothing. Whatever else is
//! said meanwhile (a failure, the first skip for a reason) is printed above the bar.

use std::io::{IsTerminal, Write};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use sockerr_reports::{Status, TrialReport};

use super::paint::Paint;

/// How progress is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// One line redrawn in place: for a terminal.
    Bar,
    /// One line per finished trial: `[ 12/185] pass     <trial id> (3.1 ms)`.
    Lines,
    /// Nothing.
    Silent,
}

impl Style {
    /// A bar when standard error is a terminal, else lines.
    pub fn auto() -> Style {
        if std::io::stderr().is_terminal() {
            Style::Bar
        } else {
            Style::Lines
        }
    }
}

/// Progress over a known number of trials; shared by the workers that finish them.
pub struct Progress {
    style: Style,
    total: usize,
    paint: Paint,
    started: Instant,
    state: Mutex<State>,
}

struct State {
    done: usize,
    failed: usize,
    skipped: usize,
    /// Said after the counts on the bar: `run 3/20`.
    label: String,
    /// Skip reasons already told, so that each is told once.
    told: Vec<String>,
    /// Whether the bar is on the screen.
    drawn: bool,
}

/// Width of the bar, in characters.
const BAR_WIDTH: usize = 30;

/// How often the bar is redrawn while no trial finishes, so that its clock moves on while
/// the last trials wait out their timers.
const TICK: Duration = Duration::from_millis(250);

impl Progress {
    /// Progress over `total` trials; `told` are the skip reasons already said (at the start),
    /// which are not said again when a trial meets them.
    pub fn new(total: usize, style: Style, told: Vec<String>) -> Progress {
        Progress {
            style,
            total,
            paint: Paint::stderr(),
            started: Instant::now(),
            state: Mutex::new(State {
                done: 0,
                failed: 0,
                skipped: 0,
                label: String::new(),
                told,
                drawn: false,
            }),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Runs `work`, redrawing the bar every [`TICK`] meanwhile (a bar only), and takes the bar
    /// off the screen when it returns.
    pub fn while_running<R>(&self, work: impl FnOnce() -> R) -> R {
        let result = std::thread::scope(|scope| {
            let (stop, stopped) = std::sync::mpsc::channel::<()>();
            if self.style == Style::Bar {
                scope.spawn(move || {
                    while let Err(std::sync::mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(TICK) {
                        let mut state = self.state();
                        self.redraw(&mut state);
                    }
                });
            }
            let result = work();
            drop(stop);
            result
        });
        self.finish();
        result
    }

    /// Sets what the bar says after its counts (`run 3/20`).
    pub fn set_label(&self, label: String) {
        let mut state = self.state();
        state.label = label;
        self.redraw(&mut state);
    }

    /// Counts one finished trial and shows it. A skip whose reason was not told yet is told
    /// now, once; later trials skipped for it are only counted (the recap lists them).
    pub fn trial_done(&self, report: &TrialReport) {
        let mut state = self.state();
        state.done += 1;
        match report.status {
            Status::Fail => state.failed += 1,
            Status::Skip => state.skipped += 1,
            Status::Pass | Status::Observed => {}
        }
        let untold = report
            .skip_reason
            .as_ref()
            .filter(|reason| report.status == Status::Skip && !state.told.contains(reason));
        if let Some(reason) = untold {
            state.told.push(reason.clone());
            if self.style != Style::Silent {
                self.say_locked(
                    &mut state,
                    &format!("skipping trials: {reason} (the recap at the end lists them)"),
                );
            }
        }
        match self.style {
            Style::Silent => {}
            Style::Lines => {
                let line = format!(
                    "[{:>3}/{}] {} {} ({:.1} ms)",
                    state.done,
                    self.total,
                    self.paint
                        .status(report.status, &format!("{:<8}", report.status.as_str())),
                    report.id,
                    report.elapsed_ms
                );
                self.say_locked(&mut state, &line);
            }
            Style::Bar => {
                if report.status == Status::Fail {
                    let line = format!("{} {}", self.paint.status(Status::Fail, "fail"), report.id);
                    self.say_locked(&mut state, &line);
                }
                self.redraw(&mut state);
            }
        }
    }

    /// Prints `line` on standard error, above the bar if there is one (also when progress is
    /// otherwise silent).
    pub fn say(&self, line: &str) {
        let mut state = self.state();
        self.say_locked(&mut state, line);
    }

    fn say_locked(&self, state: &mut State, line: &str) {
        let mut stderr = std::io::stderr().lock();
        if state.drawn {
            let _ = write!(stderr, "\r\x1b[2K");
            state.drawn = false;
        }
        let _ = writeln!(stderr, "{line}");
        drop(stderr);
        if self.style == Style::Bar {
            self.redraw(state);
        }
    }

    fn redraw(&self, state: &mut State) {
        if self.style != Style::Bar {
            return;
        }
        let filled = (state.done * BAR_WIDTH)
            .checked_div(self.total)
            .unwrap_or(BAR_WIDTH)
            .min(BAR_WIDTH);
        let mut line = format!(
            "[{}{}] {}/{}",
            "#".repeat(filled),
            "-".repeat(BAR_WIDTH - filled),
            state.done,
            self.total
        );
        if state.failed > 0 {
            line.push_str("  ");
            line.push_str(&self.paint.status(Status::Fail, &format!("{} failed", state.failed)));
        }
        if state.skipped > 0 {
            line.push_str("  ");
            line.push_str(&self.paint.status(Status::Skip, &format!("{} skipped", state.skipped)));
        }
        line.push_str(&format!("  {:.1} s", self.started.elapsed().as_secs_f64()));
        if !state.label.is_empty() {
            line.push_str("  ");
            line.push_str(&state.label);
        }
        let mut stderr = std::io::stderr().lock();
        let _ = write!(stderr, "\r\x1b[2K{line}");
        let _ = stderr.flush();
        state.drawn = true;
    }

    /// Takes the bar off the screen.
    fn finish(&self) {
        let mut state = self.state();
        if state.drawn {
            let mut stderr = std::io::stderr().lock();
            let _ = write!(stderr, "\r\x1b[2K");
            let _ = stderr.flush();
            state.drawn = false;
        }
    }
}

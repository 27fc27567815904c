//! The packet ladder of one trial: an inline SVG with the client's lifeline on the left, the
//! server's on the right and time flowing down. Each captured segment is an arrow from its
//! sender to its receiver, labelled `[flags] seq N ack N len N`; each system call is written
//! on its actor's side at the moment it started, with a thin bar down to the moment it
//! returned (a blocking `connect` spans the handshake it waited for). Failed calls are red.
//!
//! The vertical position follows the trial's clock (compressed, so a 3 ms pause does not
//! take a screen), but consecutive events are always at least [`MIN_GAP`] apart so their
//! labels never overlap; the time of every event is printed in the left margin.

use sockerr_harness::record::{Direction, Proto, Segment, Step};
use svg::Document;
use svg::node::element::{Circle, Group, Line, Polygon, Rectangle, TSpan, Text, Title};

use crate::model::TrialReport;

/// Which lifeline an actor's calls are drawn on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Client,
    Server,
}

/// The lifeline of an actor: `server`, `listener` and `peer` (and names starting with them)
/// belong to the server's host; every other actor (`client`, a forked child) to the client's.
pub fn side_of(actor: &str) -> Side {
    if ["server", "listener", "peer"].iter().any(|p| actor.starts_with(p)) {
        Side::Server
    } else {
        Side::Client
    }
}

/// One thing that happened in a trial, in time order: a system call or a captured segment.
#[derive(Debug, Clone, Copy)]
pub enum Event<'a> {
    Step(&'a Step),
    Segment(&'a Segment),
}

impl Event<'_> {
    pub fn t_us(&self) -> u64 {
        match self {
            Event::Step(s) => s.t_us,
            Event::Segment(s) => s.t_us,
        }
    }
}

/// The steps and segments of a trial interleaved by their start time (`t_us`). At equal
/// times the recorded order is kept, segments before steps.
pub fn timeline(trial: &TrialReport) -> Vec<Event<'_>> {
    let mut events: Vec<(u64, u8, usize, Event<'_>)> = Vec::new();
    for (i, s) in trial.wire.segments.iter().enumerate() {
        events.push((s.t_us, 0, i, Event::Segment(s)));
    }
    for (i, s) in trial.steps.iter().enumerate() {
        events.push((s.t_us, 1, i, Event::Step(s)));
    }
    events.sort_by_key(|(t, rank, i, _)| (*t, *rank, *i));
    events.into_iter().map(|(_, _, _, e)| e).collect()
}

/// `[R.] seq 1 ack 1 len 0`: what a ladder arrow (and a mermaid message) says.
pub fn segment_label(s: &Segment) -> String {
    format!("[{}] seq {} ack {} len {}", s.flags, s.seq, s.ack, s.len)
}

/// `client.read#1 read(64) → ECONNRESET +SIGPIPE`: what a call's annotation says.
pub fn step_label(s: &Step) -> String {
    format!("{} {} → {}", s.label, s.op, s.outcome_with_signals())
}

/// Whether the call failed (an errno, the caller was killed, or the runtime that made it
/// reported anything but success): drawn in red.
pub fn step_failed(s: &Step) -> bool {
    !s.succeeded()
}

/// Smallest vertical distance between two events, in pixels: one line of text plus air.
pub const MIN_GAP: f64 = 24.0;
/// How far an arrow drops between sender and receiver (the segment is in flight).
const SLOPE: f64 = 12.0;
/// Font size and the advance of one character of the monospace font, in pixels.
const FONT: f64 = 12.0;
const CHAR_W: f64 = 7.3;
const TIME_W: f64 = 86.0;
const TOP: f64 = 64.0;

const INK: &str = "#1f2933";
const MUTED: &str = "#7b8794";
const FAIL: &str = "#c62828";
const RESET: &str = "#c62828";
const FIN: &str = "#6a3fb5";
const PLAIN: &str = "#3e4c59";

/// Extra pixels for a pause of `dt_us` between two events: grows with the logarithm of the
/// pause and is capped, so time is visible without long pauses dominating.
fn extra_gap(dt_us: u64) -> f64 {
    (14.0 * (1.0 + dt_us as f64 / 50.0).ln()).min(90.0)
}

fn text_width(s: &str) -> f64 {
    s.chars().count() as f64 * CHAR_W
}

/// The ladder diagram of a trial as a standalone `<svg>` element (no external references,
/// no ids, so any number of them can share one HTML page).
pub fn ladder_svg(trial: &TrialReport) -> String {
    let events = timeline(trial);

    // Column geometry from the longest label on each side and in the middle.
    let label_w = |side: Side| {
        trial
            .steps
            .iter()
            .filter(|s| side_of(&s.actor) == side)
            .map(annotation_width)
            .fold(0.0, f64::max)
    };
    let mid_w = trial
        .wire
        .segments
        .iter()
        .map(|s| text_width(&segment_label(s)))
        .fold(0.0, f64::max);
    let client_x = (TIME_W + label_w(Side::Client) + 24.0).max(TIME_W + 170.0).round();
    let server_x = (client_x + (mid_w + 60.0).max(300.0)).round();
    let width = (server_x + label_w(Side::Server) + 24.0).max(server_x + 170.0).round();
    let x_of = |side: Side| if side == Side::Client { client_x } else { server_x };

    // Row of each event: the trial's clock, compressed, with a minimum gap.
    let mut rows: Vec<(u64, f64)> = Vec::with_capacity(events.len());
    for e in &events {
        let y = match rows.last() {
            None => TOP + 14.0,
            Some(&(t, y)) => {
                let below = rows.len().checked_sub(1).map_or(0.0, |i| extra_below(&events[i]));
                ((y + MIN_GAP + below + extra_gap(e.t_us().saturating_sub(t))) * 10.0).round() / 10.0
            }
        };
        rows.push((e.t_us(), y));
    }
    let last_y = rows.last().map_or(TOP + 14.0, |r| r.1);
    // Where a moment between events falls: linear between the rows around it.
    let y_at = |t: u64| -> f64 {
        match rows.iter().position(|&(rt, _)| rt > t) {
            Some(0) => rows[0].1,
            Some(i) => {
                let (t0, y0) = rows[i - 1];
                let (t1, y1) = rows[i];
                if t1 == t0 {
                    y0
                } else {
                    y0 + (y1 - y0) * (t - t0) as f64 / (t1 - t0) as f64
                }
            }
            None => last_y + ((t.saturating_sub(rows.last().map_or(0, |r| r.0))) as f64 / 5.0).min(MIN_GAP / 2.0),
        }
    };
    let height = (last_y + 36.0 + events.last().map_or(0.0, extra_below)).round();

    let mut doc = Document::new()
        .set("viewBox", format!("0 0 {width} {height}"))
        .set("width", width)
        .set("height", height)
        .set("role", "img")
        .set("aria-label", format!("Packet ladder of {}", trial.id))
        .set(
            "font-family",
            "ui-monospace, 'DejaVu Sans Mono', Menlo, Consolas, monospace",
        )
        .set("font-size", FONT)
        .add(Title::new(format!(
            "Packet ladder of {}: client on the left, server on the right, time flowing down",
            trial.id
        )));

    // Lifelines with their hosts' names and addresses.
    let (client_addr, server_addr) = addresses(trial);
    for (side, name, addr) in [
        (Side::Client, "Client", client_addr),
        (Side::Server, "Server", server_addr),
    ] {
        let x = x_of(side);
        doc = doc
            .add(
                Rectangle::new()
                    .set("x", x - 48.0)
                    .set("y", 6)
                    .set("width", 96)
                    .set("height", 24)
                    .set("rx", 4)
                    .set("fill", "#e4e7eb")
                    .set("stroke", PLAIN),
            )
            .add(
                Text::new(name)
                    .set("x", x)
                    .set("y", 23)
                    .set("text-anchor", "middle")
                    .set("font-weight", "bold")
                    .set("fill", INK),
            )
            .add(
                Line::new()
                    .set("x1", x)
                    .set("y1", if addr.is_some() { 50 } else { 30 })
                    .set("x2", x)
                    .set("y2", height - 8.0)
                    .set("stroke", PLAIN)
                    .set("stroke-width", 1.5),
            );
        if let Some(addr) = &addr {
            doc = doc.add(
                Text::new(addr.as_str())
                    .set("x", x)
                    .set("y", 45)
                    .set("text-anchor", "middle")
                    .set("font-size", FONT - 2.0)
                    .set("fill", MUTED),
            );
        }
    }
    doc = doc.add(
        Text::new("t (ms)")
            .set("x", 4)
            .set("y", 23)
            .set("font-size", FONT - 1.0)
            .set("fill", MUTED),
    );
    if events.is_empty() {
        doc = doc.add(
            Text::new("nothing recorded")
                .set("x", (client_x + server_x) / 2.0)
                .set("y", TOP + 14.0)
                .set("text-anchor", "middle")
                .set("fill", MUTED),
        );
    }

    // Call bars first, so arrows and labels are drawn over them.
    for (e, &(_, y)) in events.iter().zip(&rows) {
        if let Event::Step(s) = e {
            let end = (y_at(s.t_us + s.elapsed_us).max(y + 6.0) * 10.0).round() / 10.0;
            let color = if step_failed(s) { FAIL } else { PLAIN };
            doc = doc.add(
                Rectangle::new()
                    .set("x", x_of(side_of(&s.actor)) - 3.0)
                    .set("y", y)
                    .set("width", 6)
                    .set("height", end - y)
                    .set("fill", color)
                    .set("fill-opacity", 0.35)
                    .set("stroke", color)
                    .set("stroke-width", 0.5),
            );
        }
    }

    for (e, &(t, y)) in events.iter().zip(&rows) {
        doc = doc.add(
            Text::new(format!("{:.3}", t as f64 / 1000.0))
                .set("x", 4)
                .set("y", y + 4.0)
                .set("font-size", FONT - 1.0)
                .set("fill", MUTED),
        );
        doc = doc.add(match e {
            Event::Segment(s) => arrow(s, y, client_x, server_x),
            Event::Step(s) => annotation(s, y, x_of(side_of(&s.actor))),
        });
    }
    doc.to_string()
}

/// The client's and the server's `addr:port`, from the first segment that names them.
fn addresses(trial: &TrialReport) -> (Option<String>, Option<String>) {
    let first = trial.wire.segments.iter().find(|s| s.proto != Proto::Icmp);
    match first {
        Some(s) if s.dir == Direction::ClientToServer => (Some(s.src.clone()), Some(s.dst.clone())),
        Some(s) => (Some(s.dst.clone()), Some(s.src.clone())),
        None => (None, None),
    }
}

fn arrow(s: &Segment, y: f64, client_x: f64, server_x: f64) -> Group {
    // A router sits halfway between the two hosts.
    let router_x = (client_x + server_x) / 2.0;
    let (x1, x2) = match s.dir {
        Direction::ClientToServer => (client_x, server_x),
        Direction::ServerToClient => (server_x, client_x),
        Direction::RouterToClient => (router_x, client_x),
        Direction::RouterToServer => (router_x, server_x),
    };
    let color = if s.proto == Proto::Icmp || s.flags.contains('R') {
        RESET
    } else if s.flags.contains('F') {
        FIN
    } else {
        PLAIN
    };
    let y2 = y + SLOPE;
    // Arrowhead: a small triangle at the receiver, along the line's direction.
    let (dx, dy) = (x2 - x1, y2 - y);
    let len = (dx * dx + dy * dy).sqrt();
    let (ux, uy) = (dx / len, dy / len);
    let (bx, by) = (x2 - ux * 10.0, y2 - uy * 10.0);
    let head = format!(
        "{x2:.1},{y2:.1} {:.1},{:.1} {:.1},{:.1}",
        bx - uy * 4.5,
        by + ux * 4.5,
        bx + uy * 4.5,
        by - ux * 4.5
    );
    let label = segment_label(s);
    let mid_x = (x1 + x2) / 2.0;
    Group::new()
        .set("class", "segment")
        .add(Title::new(format!(
            "{}  {} → {}",
            s.to_string().trim_start(),
            s.src,
            s.dst
        )))
        .add(
            Line::new()
                .set("x1", x1)
                .set("y1", y)
                .set("x2", bx)
                .set("y2", by)
                .set("stroke", color)
                .set("stroke-width", 1.6),
        )
        .add(Polygon::new().set("points", head).set("fill", color))
        .add(
            Text::new(label)
                .set("x", mid_x)
                .set("y", y + SLOPE / 2.0 - 7.0)
                .set("text-anchor", "middle")
                .set("fill", color)
                .set("stroke", "#ffffff")
                .set("stroke-width", 3)
                .set("paint-order", "stroke"),
        )
}

/// A call whose one-line annotation would be longer than this many characters is written on
/// two lines: `label → outcome`, then the call in smaller type below.
const WRAP: usize = 56;
const SMALL: f64 = FONT - 1.0;

fn two_lines(s: &Step) -> bool {
    step_label(s).chars().count() > WRAP
}

/// Room a call's annotation takes below its row beyond one line of text.
fn extra_below(e: &Event<'_>) -> f64 {
    match e {
        Event::Step(s) if two_lines(s) => SMALL + 3.0,
        _ => 0.0,
    }
}

fn annotation_width(s: &Step) -> f64 {
    if two_lines(s) {
        let first = text_width(&format!("{} → {}", s.label, s.outcome_with_signals()));
        first.max(text_width(&s.op) * SMALL / FONT)
    } else {
        text_width(&step_label(s))
    }
}

fn annotation(s: &Step, y: f64, x: f64) -> Group {
    let left = side_of(&s.actor) == Side::Client;
    let failed = step_failed(s);
    let outcome = s.outcome_with_signals();
    let mut title = format!("{} {} → {}", s.label, s.op, outcome);
    if let Some(state) = &s.tcp_state {
        title.push_str(&format!("; state {state}"));
    }
    if !s.revents.is_empty() {
        title.push_str(&format!("; revents {}", s.revents.join("|")));
    }
    title.push_str(&format!("; took {} µs", s.elapsed_us));
    let text_x = if left { x - 10.0 } else { x + 10.0 };
    let anchor = if left { "end" } else { "start" };
    let wrap = two_lines(s);
    let first = Text::new("")
        .set("x", text_x)
        .set("y", y + 4.0)
        .set("text-anchor", anchor)
        .set("fill", INK)
        .add(TSpan::new(format!("{} ", s.label)).set("font-weight", "bold"))
        .add(
            TSpan::new(if wrap {
                "→ ".to_string()
            } else {
                format!("{} → ", s.op)
            })
            .set("fill", "#52606d"),
        )
        .add(
            TSpan::new(outcome)
                .set("fill", if failed { FAIL } else { "#2f6f3e" })
                .set("font-weight", "bold"),
        );
    let mut group = Group::new()
        .set("class", if failed { "call failed" } else { "call" })
        .add(Title::new(title))
        .add(
            Circle::new()
                .set("cx", x)
                .set("cy", y)
                .set("r", 3.5)
                .set("fill", if failed { FAIL } else { INK }),
        )
        .add(first);
    if wrap {
        group = group.add(
            Text::new(s.op.as_str())
                .set("x", text_x)
                .set("y", y + 4.0 + SMALL + 3.0)
                .set("text-anchor", anchor)
                .set("font-size", SMALL)
                .set("fill", "#52606d"),
        );
    }
    group
}

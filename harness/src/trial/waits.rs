//! Waiting for what a scenario's next step depends on: a segment on the wire, readiness, a
//! TCP state, processed acknowledgements, a thread asleep in a call, the namespace's TCP table
//! or a protocol counter. Every wait has a deadline, is recorded with whether it was met, and
//! never consumes anything a step would observe. Kernel state without change notifications
//! (/proc, TCP_INFO) is looked at in a loop that yields the CPU between looks.

use std::io;
use std::time::{Duration, Instant};

use super::{Host, SetupError, Trial, lock};
use crate::capabilities::{Need, Offered};
use crate::endpoint::{Background, Endpoint};
use crate::events::Events;
use crate::record::{Direction, Segment, Wait};
use crate::sys::{self, TcpEntry};
use crate::verb::Verb;

/// How long a trial waits for an expected event (a packet, readiness) before it records the
/// wait as unmet and goes on. Generous: the events awaited normally come within microseconds.
pub const WAIT_DEADLINE: Duration = Duration::from_secs(5);

/// Looks at `met` until it holds or `deadline` passes, yielding the CPU between looks; says
/// whether it held. For kernel state that has no change notification (/proc, TCP_INFO).
pub(crate) fn yield_until(deadline: Instant, mut met: impl FnMut() -> bool) -> bool {
    loop {
        if met() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::yield_now();
    }
}

impl Trial {
    /// Waits until the captured wire satisfies `seen`, for at most [`WAIT_DEADLINE`]. Records
    /// the wait and says whether it was met.
    pub fn wait_for_wire(&mut self, what: &str, seen: impl Fn(&[Segment]) -> bool) -> bool {
        self.uses(Need::PacketCapture);
        let started = Instant::now();
        let met = lock(&self.capture)
            .wait_for(started + WAIT_DEADLINE, seen)
            .unwrap_or(false);
        self.record_wait(what, started, met)
    }

    /// Waits until the capture shows a segment from `dir` whose flags contain `flag` (a letter
    /// of tcpdump's notation: `R`, `F`, `S`, `P`).
    pub fn wait_for_segment(&mut self, dir: Direction, flag: char) -> bool {
        let who = match dir {
            Direction::ClientToServer => "client",
            Direction::ServerToClient => "server",
            Direction::RouterToClient | Direction::RouterToServer => "router",
        };
        let what = format!("a segment with {flag} from the {who} on the wire");
        self.wait_for_wire(&what, |segments| {
            segments.iter().any(|s| s.dir == dir && s.flags.contains(flag))
        })
    }

    /// Waits until poll(2) on `endpoint` reports any of `events` (ERR and HUP are always
    /// reported, so `Events::NONE` waits for those), for at most [`WAIT_DEADLINE`]. Nothing is
    /// read or consumed. A runtime client that has already closed its socket (an event loop
    /// that reads eagerly closes it on the error or end of file it was waiting for) has taken
    /// what was awaited: the wait is met without looking.
    ///
    /// Where a peer's FIN does not wake a poll that asks for RDHUP alone (gVisor), IN is asked
    /// too, since the FIN makes the socket readable; a wake-up that reports neither `events`
    /// nor an error is not the one awaited, and the wait goes on.
    pub fn wait_for_events(&mut self, endpoint: &Endpoint, events: Events, what: &str) -> bool {
        let started = Instant::now();
        let deadline = started + WAIT_DEADLINE;
        let awaited = events | Events::ERR | Events::HUP;
        let asked = match Offered::get().poll_rdhup_wakeup {
            Err(_) if events.contains(Events::RDHUP) => events | Events::IN,
            _ => events,
        };
        // One look: a runtime client may close its socket between two.
        let looked = endpoint.observe(|socket| {
            loop {
                let left = deadline.saturating_duration_since(Instant::now());
                match sys::poll_one(socket, asked, Some(left)) {
                    (Err(e), _) if e.kind() == io::ErrorKind::Interrupted => continue,
                    (Ok(n), revents)
                        if asked != events
                            && n > 0
                            && !revents.events.intersects(awaited | Events::NVAL)
                            && Instant::now() < deadline =>
                    {
                        std::thread::yield_now();
                        continue;
                    }
                    (Ok(n), revents) => {
                        break n > 0 && !revents.events.contains(Events::NVAL) && revents.events.intersects(awaited);
                    }
                    (Err(_), _) => break false,
                }
            }
        });
        let met = looked.unwrap_or_else(|| endpoint.is_runtime());
        self.record_wait(what, started, met)
    }

    /// Waits until `endpoint`'s TCP state (TCP_INFO) is `state`, for at most
    /// [`WAIT_DEADLINE`]. For a segment already seen on the wire whose effect the next step
    /// observes: the capture sees a segment as it is sent, and the receiver may process it a
    /// little later (in ksoftirqd, under load).
    pub fn wait_for_state(&mut self, endpoint: &Endpoint, state: &str) -> bool {
        let started = Instant::now();
        let met = yield_until(started + WAIT_DEADLINE, || endpoint.tcp_state() == Some(state));
        let what = format!("the {}'s socket is in {state} (TCP_INFO)", endpoint.actor());
        self.record_wait(&what, started, met)
    }

    /// Waits until `endpoint` has processed the highest acknowledgement the capture shows its
    /// peer sending it so far (TCP_INFO `tcpi_bytes_acked` reaches it), for at most
    /// [`WAIT_DEADLINE`]: an ACK seen on the wire frees the endpoint's send buffer only once
    /// processed, which may be a little later.
    pub fn wait_for_acks_processed(&mut self, endpoint: &Endpoint) -> bool {
        self.uses(Need::PacketCapture);
        self.uses(Need::TcpInfoBytesAcked);
        let started = Instant::now();
        let local = endpoint
            .observe(|s| s.local_addr().ok())
            .flatten()
            .and_then(|a| a.as_socket())
            .map(|a| a.to_string());
        let highest = local.and_then(|local| {
            let mut capture = lock(&self.capture);
            let _ = capture.poll_new();
            capture
                .segments()
                .iter()
                .filter(|s| s.dst == local && s.flags.contains('.'))
                .map(|s| u64::from(s.ack))
                .max()
        });
        let met = highest.is_some_and(|highest| {
            yield_until(started + WAIT_DEADLINE, || {
                endpoint
                    .observe(sys::tcp_bytes_acked)
                    .flatten()
                    .is_some_and(|acked| acked >= highest)
            })
        });
        let what = format!(
            "the {} has processed every acknowledgement on the wire (TCP_INFO)",
            endpoint.actor()
        );
        self.record_wait(&what, started, met)
    }

    /// Waits until the thread of `call` is asleep inside the system call a `verb` step makes
    /// (read, write, poll, epoll_wait ...), so that what the trial does next happens while it
    /// is blocked, for at most [`WAIT_DEADLINE`].
    ///
    /// Where /proc does not name the system call (gVisor), the evidence is the thread's state
    /// alone: asleep, in whatever call; the recorded wait says so.
    pub fn wait_until_blocked(&mut self, call: &Background, verb: Verb, what: &str) -> bool {
        self.uses(Need::ProcTaskState);
        let started = Instant::now();
        let deadline = started + WAIT_DEADLINE;
        if Offered::get().task_syscall.is_err() {
            let met = yield_until(deadline, || sys::is_asleep(call.tid()));
            let what = format!("{what} (by its state in /proc alone: this platform does not name the call)");
            return self.record_wait(&what, started, met);
        }
        let met = yield_until(deadline, || sys::sleeping_in(call.tid(), verb));
        self.record_wait(what, started, met)
    }

    /// Waits until the kernel's table of TCP sockets on `host` (listeners, connections, and
    /// TIME_WAIT minisockets, which no descriptor reaches) satisfies `seen`, for at most
    /// [`WAIT_DEADLINE`]. Records the wait and says whether it was met; where the table
    /// cannot be read, never met, and where it lists only sockets with a descriptor (gVisor)
    /// not attempted. An error when the trial's thread could not move to `host` and back: what
    /// follows would run in the wrong namespace.
    pub fn wait_for_tcp_table(
        &mut self,
        host: Host,
        what: &str,
        seen: impl Fn(&[TcpEntry]) -> bool,
    ) -> Result<bool, SetupError> {
        self.uses(Need::TcpTable);
        if let Err(why) = &Offered::get().tcp_table_time_wait {
            return Ok(self.wait_not_attempted(what, why));
        }
        let started = Instant::now();
        self.enter(host)?;
        let met = yield_until(started + WAIT_DEADLINE, || {
            sys::tcp_table().is_some_and(|table| seen(&table))
        });
        self.enter(Host::Client)?;
        Ok(self.record_wait(what, started, met))
    }

    /// Waits until the protocol counter `name` of `host`'s namespace (`Icmp.InDestUnreachs`, a
    /// column of /proc/net/snmp; `Icmp6InDestUnreachs`, a line of /proc/net/snmp6) reaches
    /// `at_least`, for at most [`WAIT_DEADLINE`]; records the wait. Some events change nothing
    /// a socket can show: an ICMP error an unconnected UDP socket ignores still counts as
    /// received, so the counter says the stack has taken the packet, not only that it was on
    /// the wire. A counter the platform does not keep (gVisor has no /proc/net/snmp6) could
    /// never reach the value: the wait is not attempted. An error when the thread could not
    /// move to `host` and back.
    pub fn wait_for_counter(&mut self, host: Host, name: &str, at_least: u64, what: &str) -> Result<bool, SetupError> {
        self.uses(Need::ProtocolCounters);
        let started = Instant::now();
        self.enter(host)?;
        if sys::protocol_counter(name).is_none() {
            self.enter(Host::Client)?;
            return Ok(self.wait_not_attempted(what, &format!("no counter {name} here")));
        }
        let met = yield_until(started + WAIT_DEADLINE, || {
            sys::protocol_counter(name).is_some_and(|n| n >= at_least)
        });
        self.enter(Host::Client)?;
        Ok(self.record_wait(what, started, met))
    }

    /// Records a wait that this platform could never satisfy as not attempted (unmet, after
    /// no time), with the reason (see [`Offered`]). Returns false.
    pub fn wait_not_attempted(&mut self, what: &str, why: &str) -> bool {
        self.record_wait(&format!("{what} (not attempted: {why})"), Instant::now(), false)
    }

    pub(crate) fn record_wait(&mut self, what: &str, started: Instant, met: bool) -> bool {
        lock(&self.waits).push(Wait {
            what: what.to_string(),
            met,
            t_us: self.log.micros_since_start(started),
            waited_us: started.elapsed().as_micros() as u64,
        });
        met
    }
}

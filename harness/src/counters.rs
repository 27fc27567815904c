//! Waiting on the kernel's protocol counters (`/proc/net/snmp`, `/proc/net/snmp6` of a host's
//! namespace). Some events change nothing a socket can show: an ICMP error an unconnected UDP
//! socket ignores still counts as received (`Icmp InDestUnreachs`), so waiting for the counter
//! says the client's stack has taken the packet, not only that it was on the wire.

use std::time::Instant;

use crate::trial::{Host, Trial, WAIT_DEADLINE};

/// A counter of the calling thread's namespace: `Icmp.InDestUnreachs` (a column of
/// `/proc/net/snmp`, `Table.Name`) or `Icmp6InDestUnreachs` (a line of `/proc/net/snmp6`).
fn read_counter(name: &str) -> Option<u64> {
    match name.split_once('.') {
        Some((table, column)) => {
            let text = std::fs::read_to_string("/proc/thread-self/net/snmp").ok()?;
            snmp_column(&text, table, column)
        }
        None => {
            let text = std::fs::read_to_string("/proc/thread-self/net/snmp6").ok()?;
            text.lines().find_map(|line| {
                let (key, value) = line.split_once(char::is_whitespace)?;
                (key == name).then(|| value.trim().parse().ok())?
            })
        }
    }
}

/// `/proc/net/snmp` holds each table as two lines, `Table: names...` then `Table: values...`.
fn snmp_column(text: &str, table: &str, column: &str) -> Option<u64> {
    let prefix = format!("{table}:");
    let mut lines = text.lines().filter(|l| l.starts_with(&prefix));
    let names = lines.next()?;
    let values = lines.next()?;
    let at = names.split_whitespace().position(|n| n == column)?;
    values.split_whitespace().nth(at)?.parse().ok()
}

impl Trial {
    /// Waits until the protocol counter `name` of `host`'s namespace reaches `at_least`, for
    /// at most [`WAIT_DEADLINE`]; records the wait. /proc has no change notification: it
    /// yields between looks.
    pub fn wait_for_counter(&mut self, host: Host, name: &str, at_least: u64, what: &str) -> bool {
        let started = Instant::now();
        let deadline = started + WAIT_DEADLINE;
        let entered = self.enter(host).is_ok();
        // A counter this platform does not keep (gVisor has no /proc/net/snmp6) could never
        // reach the value: the wait is not attempted.
        if entered && read_counter(name).is_none() {
            let _ = self.enter(Host::Client);
            return self.record_wait(
                &format!("{what} (not attempted: no counter {name} here)"),
                started,
                false,
            );
        }
        let met = entered
            && loop {
                if read_counter(name).is_some_and(|n| n >= at_least) {
                    break true;
                }
                if Instant::now() >= deadline {
                    break false;
                }
                std::thread::yield_now();
            };
        let _ = self.enter(Host::Client);
        self.record_wait(what, started, met)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_snmp_column_is_found_by_its_table_and_name() {
        let text = "Ip: Forwarding DefaultTTL\nIp: 1 64\nIcmp: InMsgs InErrors InDestUnreachs\nIcmp: 3 0 2\n";
        assert_eq!(snmp_column(text, "Icmp", "InDestUnreachs"), Some(2));
        assert_eq!(snmp_column(text, "Icmp", "OutMsgs"), None);
    }
}

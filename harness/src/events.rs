//! Readiness events a program waits for on a socket, named once. poll(2) and epoll(7) report
//! the same conditions under their own prefixes (`POLLRDHUP`, `EPOLLRDHUP`); their bit values
//! are the platform's and live in `sys`.

use std::fmt;
use std::ops::{BitOr, BitOrAssign};

/// A set of readiness events.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Events(u8);

/// Which call's spelling a name takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventApi {
    /// poll(2): `POLLIN`.
    Poll,
    /// epoll_wait(2): `EPOLLIN`.
    Epoll,
}

impl EventApi {
    fn prefix(self) -> &'static str {
        match self {
            EventApi::Poll => "POLL",
            EventApi::Epoll => "EPOLL",
        }
    }
}

impl Events {
    pub const NONE: Events = Events(0);
    /// Data to read (or end of file, or a pending error).
    pub const IN: Events = Events(1);
    /// Urgent data.
    pub const PRI: Events = Events(1 << 1);
    /// Room to write.
    pub const OUT: Events = Events(1 << 2);
    /// The peer closed its sending half, or the connection is gone (Linux).
    pub const RDHUP: Events = Events(1 << 3);
    /// A pending error; always reported, never asked for.
    pub const ERR: Events = Events(1 << 4);
    /// Both halves are closed; always reported, never asked for.
    pub const HUP: Events = Events(1 << 5);
    /// The descriptor is not open (poll only).
    pub const NVAL: Events = Events(1 << 6);

    /// Every event a program can ask for about a stream socket.
    pub const REQUESTABLE: Events = Events(Self::IN.0 | Self::PRI.0 | Self::OUT.0 | Self::RDHUP.0);

    /// Each event and its name without the call's prefix, in the order steps list them.
    pub const TABLE: [(Events, &'static str); 7] = [
        (Events::IN, "IN"),
        (Events::PRI, "PRI"),
        (Events::OUT, "OUT"),
        (Events::RDHUP, "RDHUP"),
        (Events::ERR, "ERR"),
        (Events::HUP, "HUP"),
        (Events::NVAL, "NVAL"),
    ];

    /// Both sets together (what `|` does, usable in constants).
    pub const fn union(self, other: Events) -> Events {
        Events(self.0 | other.0)
    }

    pub fn contains(self, other: Events) -> bool {
        self.0 & other.0 == other.0
    }

    pub fn intersects(self, other: Events) -> bool {
        self.0 & other.0 != 0
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Every event of the set, one at a time, in table order.
    pub fn iter(self) -> impl Iterator<Item = Events> {
        Events::TABLE
            .into_iter()
            .map(|(e, _)| e)
            .filter(move |&e| self.contains(e))
    }

    /// The names of the set as `api` spells them (`["POLLIN", "POLLRDHUP"]`), in table order.
    pub fn names(self, api: EventApi) -> Vec<String> {
        Events::TABLE
            .iter()
            .filter(|(e, _)| self.contains(*e))
            .map(|(_, name)| format!("{}{name}", api.prefix()))
            .collect()
    }

    /// Every name a step can show, for both calls (`POLLIN` ... `EPOLLNVAL`): what an
    /// expectation file may name.
    pub fn all_names() -> Vec<String> {
        [EventApi::Poll, EventApi::Epoll]
            .into_iter()
            .flat_map(|api| Events::TABLE.iter().map(move |(_, n)| format!("{}{n}", api.prefix())))
            .collect()
    }
}

/// What a readiness call reported: the events it named, and any bits it set that have no
/// name here (kept, so that nothing the kernel said is dropped).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Revents {
    pub events: Events,
    /// Raw bits the call set beyond the named events.
    pub unknown: u32,
}

impl Revents {
    /// The names as `api` spells them, then any unknown bits in hexadecimal.
    pub fn names(self, api: EventApi) -> Vec<String> {
        let mut names = self.events.names(api);
        if self.unknown != 0 {
            names.push(format!("0x{:x}", self.unknown));
        }
        names
    }
}

impl BitOr for Events {
    type Output = Events;
    fn bitor(self, rhs: Events) -> Events {
        self.union(rhs)
    }
}

impl BitOrAssign for Events {
    fn bitor_assign(&mut self, rhs: Events) {
        self.0 |= rhs.0;
    }
}

impl fmt::Debug for Events {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = Events::TABLE
            .iter()
            .filter(|(e, _)| self.contains(*e))
            .map(|(_, n)| *n)
            .collect();
        write!(f, "Events({})", names.join("|"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_table_order_and_the_calls_prefix() {
        let set = Events::HUP | Events::IN | Events::RDHUP;
        assert_eq!(set.names(EventApi::Poll), ["POLLIN", "POLLRDHUP", "POLLHUP"]);
        assert_eq!(set.names(EventApi::Epoll), ["EPOLLIN", "EPOLLRDHUP", "EPOLLHUP"]);
        assert_eq!(Events::all_names().len(), 14);
        assert!(Events::REQUESTABLE.contains(Events::RDHUP));
        assert!(!Events::REQUESTABLE.intersects(Events::ERR | Events::HUP));
    }
}

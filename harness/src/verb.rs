//! The verbs a step can have: the second part of a label (`client.read#1`). One list, so an
//! expectation file naming a verb no endpoint records is refused instead of never matching.

use std::fmt;
use std::str::FromStr;

/// What a step did. Its name (`as_str`) is the call's name as programs know it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Verb {
    Listen,
    Bind,
    Connect,
    Accept,
    Read,
    Write,
    /// send(2) with MSG_NOSIGNAL.
    Send,
    Shutdown,
    /// getsockopt(SO_ERROR), which takes the pending error.
    SoError,
    Getpeername,
    Setsockopt,
    Poll,
    EpollWait,
    Close,
    /// SO_LINGER {on, 0} and close(2): an abortive close.
    Abort,
    /// A peer process killed with a signal.
    Kill,
    /// UDP: sendto(2).
    Sendto,
    /// UDP: a non-blocking recv(2).
    Recv,
    /// UDP: recvmsg(2) with MSG_ERRQUEUE.
    RecvErrqueue,
    /// A firewall change; its outcome is the `nft` command's exit status.
    Nft,
    /// A forged segment or ICMP error put on the wire from the namespace of the host it
    /// impersonates, recorded on the endpoint it is aimed at.
    Inject,
    /// An operation of a scenario's own, recorded with [`crate::Endpoint::record`].
    Custom,
}

impl Verb {
    /// Every verb, in the order above.
    pub const ALL: [Verb; 22] = [
        Verb::Listen,
        Verb::Bind,
        Verb::Connect,
        Verb::Accept,
        Verb::Read,
        Verb::Write,
        Verb::Send,
        Verb::Shutdown,
        Verb::SoError,
        Verb::Getpeername,
        Verb::Setsockopt,
        Verb::Poll,
        Verb::EpollWait,
        Verb::Close,
        Verb::Abort,
        Verb::Kill,
        Verb::Sendto,
        Verb::Recv,
        Verb::RecvErrqueue,
        Verb::Nft,
        Verb::Inject,
        Verb::Custom,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Verb::Listen => "listen",
            Verb::Bind => "bind",
            Verb::Connect => "connect",
            Verb::Accept => "accept",
            Verb::Read => "read",
            Verb::Write => "write",
            Verb::Send => "send",
            Verb::Shutdown => "shutdown",
            Verb::SoError => "so_error",
            Verb::Getpeername => "getpeername",
            Verb::Setsockopt => "setsockopt",
            Verb::Poll => "poll",
            Verb::EpollWait => "epoll_wait",
            Verb::Close => "close",
            Verb::Abort => "abort",
            Verb::Kill => "kill",
            Verb::Sendto => "sendto",
            Verb::Recv => "recv",
            Verb::RecvErrqueue => "recv_errqueue",
            Verb::Nft => "nft",
            Verb::Inject => "inject",
            Verb::Custom => "custom",
        }
    }
}

impl fmt::Display for Verb {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A name that is no verb.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a verb any step records")]
pub struct UnknownVerb(pub String);

impl FromStr for Verb {
    type Err = UnknownVerb;

    fn from_str(name: &str) -> Result<Verb, UnknownVerb> {
        Verb::ALL
            .into_iter()
            .find(|v| v.as_str() == name)
            .ok_or_else(|| UnknownVerb(name.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_verb_reads_back_from_its_name_and_no_two_share_one() {
        let mut names: Vec<&str> = Verb::ALL.iter().map(|v| v.as_str()).collect();
        for verb in Verb::ALL {
            assert_eq!(verb.as_str().parse::<Verb>(), Ok(verb));
        }
        names.sort();
        names.dedup();
        assert_eq!(names.len(), Verb::ALL.len(), "two verbs share a name");
        assert!("bogus".parse::<Verb>().is_err());
    }
}

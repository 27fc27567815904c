//! The integer socket options scenarios set, by name. Their levels and numbers are the
//! platform's (`sys::sockopt_id`); an option a platform lacks fails its step with
//! ENOPROTOOPT there, as setsockopt(2) itself would.

use std::fmt;

/// An integer socket option.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SockOpt {
    /// socket(7): keepalive probes on an idle connection.
    SoKeepalive,
    /// socket(7): the receive buffer (the kernel doubles the value and applies a floor).
    SoRcvbuf,
    /// socket(7): the send buffer.
    SoSndbuf,
    /// tcp(7): send segments at once, no Nagle delay.
    TcpNodelay,
    /// tcp(7): hold partial segments until the option is cleared or the socket closed
    /// (Linux; the BSDs' TCP_NOPUSH is akin but not the same).
    TcpCork,
    /// tcp(7): how long unacknowledged data may stay unacknowledged before the connection is
    /// dropped (milliseconds; Linux 2.6.37).
    TcpUserTimeout,
    /// tcp(7): idle seconds before the first keepalive probe.
    TcpKeepidle,
    /// tcp(7): seconds between keepalive probes.
    TcpKeepintvl,
    /// tcp(7): unanswered probes before the connection is dropped.
    TcpKeepcnt,
    /// tcp(7): SYN retransmissions before connect gives up (Linux).
    TcpSyncnt,
    /// ip(7): queue ICMP errors of a UDP socket on its error queue (Linux).
    IpRecverr,
    /// ipv6(7): the same for IPv6.
    Ipv6Recverr,
}

impl SockOpt {
    /// The option's name as the man pages spell it.
    pub fn name(self) -> &'static str {
        match self {
            SockOpt::SoKeepalive => "SO_KEEPALIVE",
            SockOpt::SoRcvbuf => "SO_RCVBUF",
            SockOpt::SoSndbuf => "SO_SNDBUF",
            SockOpt::TcpNodelay => "TCP_NODELAY",
            SockOpt::TcpCork => "TCP_CORK",
            SockOpt::TcpUserTimeout => "TCP_USER_TIMEOUT",
            SockOpt::TcpKeepidle => "TCP_KEEPIDLE",
            SockOpt::TcpKeepintvl => "TCP_KEEPINTVL",
            SockOpt::TcpKeepcnt => "TCP_KEEPCNT",
            SockOpt::TcpSyncnt => "TCP_SYNCNT",
            SockOpt::IpRecverr => "IP_RECVERR",
            SockOpt::Ipv6Recverr => "IPV6_RECVERR",
        }
    }
}

impl fmt::Display for SockOpt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

//! What the netlink tests share: a thread of their own, two namespaces joined by a veth
//! pair, a TCP exchange across it, and the frames a link dropped.

use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, TcpStream};
use std::os::fd::AsFd;
use std::time::{Duration, Instant};

use netlink_packet_core::{NlasIterator, ParseableParametrized};
use netlink_packet_route::RouteNetlinkMessage;
use netlink_packet_route::link::{LinkAttribute, LinkHeader, LinkMessage};

use super::Netlink;
use crate::sys::NetNs;

// RFC 2544 (198.18.0.0/15) and RFC 5180 (2001:2::/48) benchmarking addresses only.
pub const A4: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 1);
pub const B4: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 2);
pub const A6: Ipv6Addr = Ipv6Addr::new(0x2001, 2, 0, 0, 0, 0, 0, 1);
pub const B6: Ipv6Addr = Ipv6Addr::new(0x2001, 2, 0, 0, 0, 0, 0, 2);

/// Runs `body` on a new thread (namespaces are per thread, so the runner's thread never
/// moves), or skips it when namespaces are unavailable here.
pub fn on_own_thread(body: impl FnOnce() + Send + 'static) {
    if crate::prerequisite::unmet(crate::sys::namespaces_unavailable()) {
        return;
    }
    if let Err(panic) = std::thread::spawn(body).join() {
        std::panic::resume_unwind(panic);
    }
}

/// A deadline no wait of these tests comes near unless it is broken; a wait that returns
/// before it returned because its event came.
pub fn soon() -> Instant {
    Instant::now() + Duration::from_secs(5)
}

/// Namespaces A and B joined by veth0 (in A: 198.18.0.1/24, 2001:2::1/64) and veth1 (in
/// B: .2), with lo up in both. The thread is left in A.
pub struct Pair {
    pub a: NetNs,
    pub b: NetNs,
    pub nl_a: Netlink,
    pub nl_b: Netlink,
}

/// Builds the pair with both veth ends still down.
pub fn pair_down() -> Pair {
    let a = NetNs::create().unwrap();
    let b = NetNs::create().unwrap();
    let mut nl_b = Netlink::open().unwrap();
    a.enter().unwrap();
    let mut nl_a = Netlink::open().unwrap();
    nl_a.create_veth("veth0", "veth1", b.as_fd()).unwrap();
    nl_a.add_address("veth0", A4.into(), 24).unwrap();
    nl_a.add_address("veth0", A6.into(), 64).unwrap();
    nl_b.add_address("veth1", B4.into(), 24).unwrap();
    nl_b.add_address("veth1", B6.into(), 64).unwrap();
    nl_a.set_up("lo").unwrap();
    nl_b.set_up("lo").unwrap();
    Pair { a, b, nl_a, nl_b }
}

/// Sets both veth ends up, in either order: the end set up second gets its qdisc at
/// once, the other one only when linkwatch runs.
pub fn set_both_up(pair: &mut Pair, b_first: bool) {
    if b_first {
        pair.nl_b.set_up("veth1").unwrap();
        pair.nl_a.set_up("veth0").unwrap();
    } else {
        pair.nl_a.set_up("veth0").unwrap();
        pair.nl_b.set_up("veth1").unwrap();
    }
}

/// The pair, up and waited for.
pub fn pair() -> Pair {
    let mut pair = pair_down();
    set_both_up(&mut pair, false);
    pair.nl_a.wait_until_up("veth0", soon()).unwrap();
    pair.nl_b.wait_until_up("veth1", soon()).unwrap();
    pair
}

/// Binds a listener on `addr` inside `ns`, then returns the thread to `back`.
pub fn listen_in(ns: &NetNs, back: &NetNs, addr: IpAddr) -> TcpListener {
    ns.enter().unwrap();
    let listener = TcpListener::bind(SocketAddr::new(addr, 0)).unwrap();
    back.enter().unwrap();
    listener
}

/// Connects to `listener` and exchanges a byte each way.
pub fn connect_and_talk(listener: &TcpListener) {
    let to = listener.local_addr().unwrap();
    let mut client = TcpStream::connect_timeout(&to, Duration::from_secs(5)).unwrap();
    let (mut server, _) = listener.accept().unwrap();
    client.write_all(b"?").unwrap();
    let mut byte = [0];
    server.read_exact(&mut byte).unwrap();
    server.write_all(b"!").unwrap();
    client.read_exact(&mut byte).unwrap();
    assert_eq!(&byte, b"!");
}

/// Frames the link discarded on transmit (IFLA_STATS64 `tx_dropped`, `ip -s link show`'s TX
/// "dropped"). A veth whose qdisc linkwatch has not yet activated discards what it is given
/// here; the frame lost is usually an ARP or ND packet, which costs the neighbour layer's
/// 1 s retransmission and which TCP's retransmission counters never see.
pub fn frames_dropped(nl: &mut Netlink, name: &str) -> u64 {
    /// `IFLA_STATS64` from include/uapi/linux/if_link.h.
    const IFLA_STATS64: u16 = 23;
    let mut message = LinkMessage::default();
    message.attributes.push(LinkAttribute::IfName(name.to_string()));
    let replies = nl
        .request(RouteNetlinkMessage::GetLink(message), 0, "read link statistics")
        .unwrap();
    let (_, payload) = replies.iter().find(|(kind, _)| *kind == libc::RTM_NEWLINK).unwrap();
    let header = LinkHeader::parse(payload).unwrap();
    NlasIterator::new(&payload[16..])
        .map(Result::unwrap)
        .filter(|nla| nla.kind() == IFLA_STATS64)
        .find_map(
            |nla| match LinkAttribute::parse_with_param(&nla, header.interface_family) {
                Ok(LinkAttribute::Stats64(stats)) => Some(stats.tx_dropped),
                _ => None,
            },
        )
        .unwrap()
}

/// Asserts that neither end of the pair discarded a frame, so nothing the exchange sent
/// had to be sent again.
#[track_caller]
pub fn assert_nothing_dropped(nl_a: &mut Netlink, nl_b: &mut Netlink, context: &str) {
    let dropped = (frames_dropped(nl_a, "veth0"), frames_dropped(nl_b, "veth1"));
    assert_eq!(dropped, (0, 0), "{context}: frames dropped by (veth0, veth1)");
}

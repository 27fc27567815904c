//! Linux: network namespaces, AF_PACKET capture, TCP_INFO, raw poll revents, per-thread
//! signals, sysctls and /proc.

mod child;
mod epoll;
mod errqueue;
pub mod netlink;
mod netns;
mod packet_socket;
mod pidfd;
mod probe;
mod proc;
mod raw_ip;
mod scm;
mod socket_io;
mod spawn;
mod sysctl;
mod tcp_info;
mod topology;

pub use super::unix::errno::{errno_name, strerror};
pub use super::unix::readiness::{poll_one, readable_before, wait_readable};
pub use super::unix::signals::{block_watched_signals, on_termination, signal_name, take_signals};
pub use super::unix::socket_io::{close, create_private_dir, raw_handle, read, recv_dontwait, write};
pub use super::unix::usage::{peak_rss_kib, process_cpu};
pub use child::{ChildEnd, HeldSocket, hand_to_child, write_in_child};
pub use epoll::epoll_once;
pub use errqueue::recv_errqueue;
pub use netlink::set_route_rto_min;
pub use netns::{NetNs, acquire_namespace_privilege, in_fresh_namespace, namespaces_unavailable, user_id_outside};
pub use packet_socket::{PacketSocket, settle_releases};
pub use pidfd::{pidfd_getfd, pidfd_open, process_exists, thread_netns_path};
pub use probe::{
    TcpExchange, probe, probe_iptables, probe_offered, probe_poll_rdhup_wakeup, probe_tcp_exchange,
    probe_udp_error_queue,
};
pub use proc::{
    can_see_sleeping_calls, can_see_thread_states, children_cpu, is_asleep, is_child_of_this_process, protocol_counter,
    sleeping_in, tcp_table, thread_id,
};
pub use raw_ip::RawIpSender;
pub use scm::send_with_descriptor;
pub use socket_io::{SEND_NOSIGNAL, ack_at_once, int_option, send_nosignal, set_int_option};
pub use spawn::{PipedChild, run_program, spawn_piped, spawn_piped_with, spawn_tied_to_this_thread};
pub use sysctl::{read_sysctl, write_sysctl};
pub use tcp_info::{tcp_bytes_acked, tcp_info_len, tcp_rto, tcp_state};
pub use topology::build_namespaces;

/// A thread's kernel id.
pub type Tid = libc::pid_t;

/// What a readiness wait is given: a descriptor.
pub type RawHandle = std::os::fd::RawFd;

//! The packet socket underneath a capture source: Linux AF_PACKET, and elsewhere a stub whose
//! `open` fails with `Unsupported`. This is the only file of the capture module that names
//! Linux-only items, so it is the only one that tests `target_os`.

/// Bytes kept of each frame; the rest is cut off in the kernel by the socket filter.
pub(super) const SNAPLEN: u32 = 256;

/// What one `recv` returned besides the bytes.
#[derive(Debug, Clone, Copy)]
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
pub(super) struct RecvInfo {
    /// Bytes written into the caller's buffer (at most `SNAPLEN`).
    pub len: usize,
    /// Interface the frame went through, in the socket's namespace.
    pub ifindex: i32,
    /// Whether the frame was sent by this namespace (`PACKET_OUTGOING`).
    pub outgoing: bool,
    /// Kernel timestamp of the frame, nanoseconds since the Unix epoch, if it came with one.
    pub ts_ns: Option<u64>,
    /// Length of the frame before the filter cut it, when the kernel said (PACKET_AUXDATA).
    pub orig_len: Option<u32>,
}

#[cfg(target_os = "linux")]
pub(super) use linux::PacketSocket;
#[cfg(not(target_os = "linux"))]
pub(super) use other::PacketSocket;

#[cfg(target_os = "linux")]
mod linux {
    use std::io;
    use std::mem::{size_of, zeroed};
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

    use super::{RecvInfo, SNAPLEN};

    /// Receive buffer asked for, so that a burst between two drains is not dropped. The
    /// kernel charges each queued frame its full (untruncated) size, so it must be large.
    const RCVBUF: libc::c_int = 32 << 20;

    /// Classic BPF, run by the kernel before a frame is queued: keep IPv4 and IPv6 frames
    /// (ethertype at offset 12) that this namespace sent, cut to `SNAPLEN`. Dropping the
    /// received ones here and not in user space matters: the kernel charges a queued frame
    /// its full size against the receive buffer, however short the filter cut it.
    fn filter() -> [libc::sock_filter; 7] {
        const LD_B_ABS: u16 = (libc::BPF_LD | libc::BPF_B | libc::BPF_ABS) as u16;
        const LD_H_ABS: u16 = (libc::BPF_LD | libc::BPF_H | libc::BPF_ABS) as u16;
        const JEQ_K: u16 = (libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K) as u16;
        const RET_K: u16 = (libc::BPF_RET | libc::BPF_K) as u16;
        const PKTTYPE: u32 = (libc::SKF_AD_OFF + libc::SKF_AD_PKTTYPE) as u32;
        let insn = |code, jt, jf, k| libc::sock_filter { code, jt, jf, k };
        [
            insn(LD_B_ABS, 0, 0, PKTTYPE),                   // ldb #pkttype
            insn(JEQ_K, 0, 4, libc::PACKET_OUTGOING as u32), // jeq #outgoing, 2, 6
            insn(LD_H_ABS, 0, 0, 12),                        // ldh [12]
            insn(JEQ_K, 1, 0, libc::ETH_P_IP as u32),        // jeq #0x800, 5, 4
            insn(JEQ_K, 0, 1, libc::ETH_P_IPV6 as u32),      // jeq #0x86dd, 5, 6
            insn(RET_K, 0, 0, SNAPLEN),                      // ret #256
            insn(RET_K, 0, 0, 0),                            // ret #0
        ]
    }

    fn cvt(rc: libc::c_int) -> io::Result<libc::c_int> {
        if rc < 0 {
            Err(io::Error::last_os_error())
        } else {
            Ok(rc)
        }
    }

    fn setsockopt<T>(
        fd: RawFd,
        level: libc::c_int,
        name: libc::c_int,
        value: &T,
    ) -> io::Result<()> {
        // SAFETY: `value` is valid for reads of size_of::<T>() bytes.
        let rc = unsafe {
            libc::setsockopt(
                fd,
                level,
                name,
                (value as *const T).cast(),
                size_of::<T>() as libc::socklen_t,
            )
        };
        cvt(rc).map(|_| ())
    }

    #[derive(Debug)]
    pub(in crate::capture) struct PacketSocket {
        fd: OwnedFd,
    }

    impl PacketSocket {
        /// A non-blocking AF_PACKET socket on every interface of the calling thread's
        /// network namespace. It is created with protocol 0, which receives nothing, and
        /// only bound to ETH_P_ALL once the filter is attached, so no frame ever bypasses
        /// the filter.
        pub fn open() -> io::Result<PacketSocket> {
            // SAFETY: plain socket(2).
            let raw = cvt(unsafe {
                libc::socket(
                    libc::AF_PACKET,
                    libc::SOCK_RAW | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
                    0,
                )
            })?;
            // SAFETY: `raw` is a fresh descriptor owned by nobody else.
            let fd = unsafe { OwnedFd::from_raw_fd(raw) };
            let mut insns = filter();
            let prog = libc::sock_fprog {
                len: insns.len() as u16,
                filter: insns.as_mut_ptr(),
            };
            setsockopt(raw, libc::SOL_SOCKET, libc::SO_ATTACH_FILTER, &prog)?;
            setsockopt(
                raw,
                libc::SOL_SOCKET,
                libc::SO_TIMESTAMPNS,
                &1 as &libc::c_int,
            )?;
            setsockopt(
                raw,
                libc::SOL_PACKET,
                libc::PACKET_AUXDATA,
                &1 as &libc::c_int,
            )?;
            // SO_RCVBUFFORCE needs CAP_NET_ADMIN; without it, take what SO_RCVBUF allows.
            if setsockopt(raw, libc::SOL_SOCKET, libc::SO_RCVBUFFORCE, &RCVBUF).is_err() {
                setsockopt(raw, libc::SOL_SOCKET, libc::SO_RCVBUF, &RCVBUF)?;
            }
            // SAFETY: sockaddr_ll is plain old data; zeroed is valid.
            let mut sll: libc::sockaddr_ll = unsafe { zeroed() };
            sll.sll_family = libc::AF_PACKET as u16;
            sll.sll_protocol = (libc::ETH_P_ALL as u16).to_be();
            sll.sll_ifindex = 0; // every interface
            // SAFETY: `sll` is a valid sockaddr_ll of the given size.
            cvt(unsafe {
                libc::bind(
                    raw,
                    (&raw const sll).cast(),
                    size_of::<libc::sockaddr_ll>() as libc::socklen_t,
                )
            })?;
            Ok(PacketSocket { fd })
        }

        /// Receives one frame into `buf`, or `None` when none is queued.
        pub fn recv(&self, buf: &mut [u8]) -> io::Result<Option<RecvInfo>> {
            // SAFETY: all-zero is valid for these plain-old-data types.
            let mut sll: libc::sockaddr_ll = unsafe { zeroed() };
            let mut control = [0u64; 32]; // u64s: cmsg headers need 8-byte alignment
            let mut iov = libc::iovec {
                iov_base: buf.as_mut_ptr().cast(),
                iov_len: buf.len(),
            };
            // SAFETY: as above.
            let mut msg: libc::msghdr = unsafe { zeroed() };
            msg.msg_name = (&raw mut sll).cast();
            msg.msg_namelen = size_of::<libc::sockaddr_ll>() as libc::socklen_t;
            msg.msg_iov = &mut iov;
            msg.msg_iovlen = 1;
            msg.msg_control = control.as_mut_ptr().cast();
            msg.msg_controllen = size_of_val(&control) as _;
            let n = loop {
                // SAFETY: every pointer in `msg` is valid for its stated length.
                let n = unsafe { libc::recvmsg(self.fd.as_raw_fd(), &mut msg, 0) };
                if n >= 0 {
                    break n as usize;
                }
                let err = io::Error::last_os_error();
                match err.kind() {
                    io::ErrorKind::Interrupted => continue,
                    io::ErrorKind::WouldBlock => return Ok(None),
                    _ => return Err(err),
                }
            };
            let mut info = RecvInfo {
                len: n.min(buf.len()).min(SNAPLEN as usize),
                ifindex: sll.sll_ifindex,
                outgoing: sll.sll_pkttype == libc::PACKET_OUTGOING,
                ts_ns: None,
                orig_len: None,
            };
            // SAFETY: the kernel filled `msg_control`/`msg_controllen`; the CMSG macros walk
            // within it, and each payload is read unaligned at its stated type.
            unsafe {
                let mut cmsg = libc::CMSG_FIRSTHDR(&msg);
                while !cmsg.is_null() {
                    let (level, kind) = ((*cmsg).cmsg_level, (*cmsg).cmsg_type);
                    let data = libc::CMSG_DATA(cmsg);
                    if level == libc::SOL_SOCKET && kind == libc::SCM_TIMESTAMPNS {
                        let ts: libc::timespec = std::ptr::read_unaligned(data.cast());
                        if ts.tv_sec > 0 {
                            info.ts_ns = Some(ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64);
                        }
                    } else if level == libc::SOL_PACKET && kind == libc::PACKET_AUXDATA {
                        let aux: libc::tpacket_auxdata = std::ptr::read_unaligned(data.cast());
                        info.orig_len = Some(aux.tp_len);
                    }
                    cmsg = libc::CMSG_NXTHDR(&msg, cmsg);
                }
            }
            Ok(Some(info))
        }

        /// The name of an interface of the socket's own namespace (SIOCGIFNAME is answered
        /// in the namespace of the socket, whatever namespace the calling thread is in).
        pub fn ifname(&self, ifindex: i32) -> io::Result<String> {
            // SAFETY: ifreq is plain old data; zeroed is valid.
            let mut ifr: libc::ifreq = unsafe { zeroed() };
            ifr.ifr_ifru.ifru_ifindex = ifindex;
            // SAFETY: `ifr` is a valid ifreq, which SIOCGIFNAME reads and writes.
            cvt(unsafe { libc::ioctl(self.fd.as_raw_fd(), libc::SIOCGIFNAME as _, &mut ifr) })?;
            let bytes: Vec<u8> = ifr
                .ifr_name
                .iter()
                .take_while(|&&c| c != 0)
                .map(|&c| c as u8)
                .collect();
            Ok(String::from_utf8_lossy(&bytes).into_owned())
        }

        /// Frames the kernel dropped for want of buffer space since the last call
        /// (PACKET_STATISTICS resets the counters when read).
        pub fn take_drops(&self) -> io::Result<u64> {
            // SAFETY: tpacket_stats is plain old data; zeroed is valid.
            let mut stats: libc::tpacket_stats = unsafe { zeroed() };
            let mut len = size_of::<libc::tpacket_stats>() as libc::socklen_t;
            // SAFETY: `stats` and `len` are valid for writes of `len` bytes.
            cvt(unsafe {
                libc::getsockopt(
                    self.fd.as_raw_fd(),
                    libc::SOL_PACKET,
                    libc::PACKET_STATISTICS,
                    (&raw mut stats).cast(),
                    &mut len,
                )
            })?;
            Ok(u64::from(stats.tp_drops))
        }
    }

    impl AsRawFd for PacketSocket {
        fn as_raw_fd(&self) -> RawFd {
            self.fd.as_raw_fd()
        }
    }
}

#[cfg(not(target_os = "linux"))]
mod other {
    use std::io;
    use std::os::fd::{AsRawFd, RawFd};

    use super::RecvInfo;

    /// Never constructed: `open` always fails.
    #[derive(Debug)]
    pub(in crate::capture) enum PacketSocket {}

    impl PacketSocket {
        pub fn open() -> io::Result<PacketSocket> {
            Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "packet capture needs Linux (AF_PACKET)",
            ))
        }
        pub fn recv(&self, _buf: &mut [u8]) -> io::Result<Option<RecvInfo>> {
            match *self {}
        }
        pub fn ifname(&self, _ifindex: i32) -> io::Result<String> {
            match *self {}
        }
        pub fn take_drops(&self) -> io::Result<u64> {
            match *self {}
        }
    }

    impl AsRawFd for PacketSocket {
        fn as_raw_fd(&self) -> RawFd {
            match *self {}
        }
    }
}

//! Linux's AF_PACKET socket under a capture source: a ring mapped from the kernel
//! (PACKET_RX_RING, TPACKET_V2) where the platform has one, else recvmsg(2) with receive
//! timestamps (see [`crate::sys::packet_socket`]).

use std::io;
use std::mem::{size_of, zeroed};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU32, Ordering};

use crate::sys::packet_socket::{RING_FRAMES, Receiving, RecvInfo, SNAPLEN};

/// Bytes of one ring slot: the `tpacket2_hdr`, the `sockaddr_ll` after it, padding, and
/// the frame. The kernel puts the frame's network header at
/// `TPACKET_ALIGN(TPACKET2_HDRLEN + 16)` = 80 (its Ethernet header 14 bytes earlier, at
/// 66), so a slot needs 80 + `SNAPLEN` = 336 bytes; 512 is the next size that divides a
/// page, so no slot straddles a block and none of a block is wasted.
const FRAME_SIZE: usize = 512;
/// Bytes of one block, the unit the kernel allocates the ring in (a multiple of the page
/// size; the kernel falls back to vmalloc when it has no 64 KiB of contiguous pages).
const BLOCK_SIZE: usize = 16 * 4096;
const FRAMES_PER_BLOCK: usize = BLOCK_SIZE / FRAME_SIZE;
/// 8 blocks of 128 slots: `RING_FRAMES` slots, 512 KiB per source (a trial sends tens
/// of frames, and drains as it waits).
const BLOCK_NR: usize = RING_FRAMES / FRAMES_PER_BLOCK;
const _: () = assert!(BLOCK_NR * FRAMES_PER_BLOCK == RING_FRAMES);
const _: () = assert!(FRAME_SIZE % libc::TPACKET_ALIGNMENT == 0);
const _: () =
    assert!((libc::TPACKET2_HDRLEN + 16).next_multiple_of(libc::TPACKET_ALIGNMENT) + SNAPLEN as usize <= FRAME_SIZE);

/// `TPACKET_V2` of `enum tpacket_versions` (include/uapi/linux/if_packet.h), the value
/// PACKET_VERSION takes; libc has the enum but not a constant of type c_int.
const TPACKET_V2: libc::c_int = 1;

/// Offset of the `sockaddr_ll` in a slot: right after the header, aligned
/// (`TPACKET_ALIGN(sizeof(struct tpacket2_hdr))` in include/uapi/linux/if_packet.h).
const SLL_OFFSET: usize = size_of::<libc::tpacket2_hdr>().next_multiple_of(libc::TPACKET_ALIGNMENT);

/// Classic BPF, run by the kernel before a frame takes a slot: keep IPv4 and IPv6 frames
/// (ethertype at offset 12) that this namespace sent, cut to `SNAPLEN`. Frames the
/// filter refuses take no slot and are not counted as drops.
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

fn setsockopt<T>(fd: RawFd, level: libc::c_int, name: libc::c_int, value: &T) -> io::Result<()> {
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

/// The mapped PACKET_RX_RING of a socket: `RING_FRAMES` slots of `FRAME_SIZE` bytes,
/// shared with the kernel. Each slot starts with a `tpacket2_hdr` whose `tp_status` says
/// who owns it: the kernel fills a slot that is `TP_STATUS_KERNEL` and then publishes it
/// as `TP_STATUS_USER`; user space reads it and gives it back as `TP_STATUS_KERNEL`. The
/// kernel fills slots in ring order, so reading from `head` on, in order, gives the frames
/// in the order they were tapped.
#[derive(Debug)]
struct Ring {
    base: NonNull<u8>,
    /// The next slot to read.
    head: usize,
}

impl Ring {
    const LEN: usize = BLOCK_SIZE * BLOCK_NR;

    /// Sets up the ring on `fd` (which must be set to TPACKET_V2) and maps it.
    fn map(fd: RawFd) -> io::Result<Ring> {
        let req = libc::tpacket_req {
            tp_block_size: BLOCK_SIZE as libc::c_uint,
            tp_block_nr: BLOCK_NR as libc::c_uint,
            tp_frame_size: FRAME_SIZE as libc::c_uint,
            tp_frame_nr: RING_FRAMES as libc::c_uint,
        };
        setsockopt(fd, libc::SOL_PACKET, libc::PACKET_RX_RING, &req)?;
        // SAFETY: maps the ring the kernel just set up on `fd`, at an address of the
        // kernel's choosing; nothing else is touched.
        let addr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                Self::LEN,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                fd,
                0,
            )
        };
        if addr == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        let base = NonNull::new(addr.cast()).ok_or_else(|| io::Error::other("mmap returned null"))?;
        Ok(Ring { base, head: 0 })
    }

    /// The start of slot `index` (< `RING_FRAMES`). Slots do not straddle blocks; with
    /// `BLOCK_SIZE` a multiple of `FRAME_SIZE`, slot `i` is at `i * FRAME_SIZE`.
    fn slot(&self, index: usize) -> *mut u8 {
        debug_assert!(index < RING_FRAMES);
        let offset = index / FRAMES_PER_BLOCK * BLOCK_SIZE + index % FRAMES_PER_BLOCK * FRAME_SIZE;
        // SAFETY: `offset` + FRAME_SIZE <= LEN, so the result stays inside the mapping.
        unsafe { self.base.as_ptr().add(offset) }
    }

    /// The `tp_status` word of a slot, shared with the kernel.
    fn status(&self, index: usize) -> &AtomicU32 {
        // SAFETY: `tp_status` is the first field of the slot's `tpacket2_hdr`; the slot
        // is 512-byte aligned within a page-aligned mapping, so the pointer is aligned
        // for a u32, and it stays valid for as long as `self` (the mapping) lives. The
        // kernel accesses it with WRITE_ONCE/READ_ONCE and barriers, never through
        // anything but single aligned 32-bit accesses.
        unsafe { AtomicU32::from_ptr(self.slot(index).cast()) }
    }

    /// Copies the frame at `head` into `buf` and hands the slot back to the kernel, or
    /// `None` when the kernel has not published a frame there yet.
    fn next(&mut self, buf: &mut [u8]) -> Option<RecvInfo> {
        // Acquire pairs with the kernel's smp_wmb() before it sets TP_STATUS_USER: the
        // slot's header and bytes written before the status are visible after it.
        let status = self.status(self.head).load(Ordering::Acquire);
        if status & libc::TP_STATUS_USER == 0 {
            return None;
        }
        let slot = self.slot(self.head);
        // SAFETY: the slot is ours until we set TP_STATUS_KERNEL (the kernel does not
        // write a slot that is not TP_STATUS_KERNEL); it holds a `tpacket2_hdr` at 0 and
        // a `sockaddr_ll` at SLL_OFFSET, both inside the slot, both plain old data.
        let (hdr, sll) = unsafe {
            (
                std::ptr::read_volatile(slot.cast::<libc::tpacket2_hdr>()),
                std::ptr::read_unaligned(slot.add(SLL_OFFSET).cast::<libc::sockaddr_ll>()),
            )
        };
        let mac = usize::from(hdr.tp_mac).min(FRAME_SIZE);
        let len = (hdr.tp_snaplen as usize)
            .min(FRAME_SIZE - mac)
            .min(buf.len())
            .min(SNAPLEN as usize);
        // SAFETY: `mac + len <= FRAME_SIZE`, so the source lies inside the slot (ours,
        // as above); `buf` has room for `len` bytes and is not part of the mapping.
        unsafe { std::ptr::copy_nonoverlapping(slot.add(mac), buf.as_mut_ptr(), len) };
        let info = RecvInfo {
            len,
            ifindex: sll.sll_ifindex,
            outgoing: sll.sll_pkttype == libc::PACKET_OUTGOING,
            ts_ns: u64::from(hdr.tp_sec) * 1_000_000_000 + u64::from(hdr.tp_nsec),
            orig_len: hdr.tp_len,
        };
        // Release: every read of the slot above happens before the kernel may refill it.
        self.status(self.head).store(libc::TP_STATUS_KERNEL, Ordering::Release);
        self.head = (self.head + 1) % RING_FRAMES;
        Some(info)
    }
}

impl Drop for Ring {
    fn drop(&mut self) {
        // SAFETY: `base` and LEN are exactly the mapping made in `map`, unmapped once;
        // nothing borrows from it past `self`.
        unsafe { libc::munmap(self.base.as_ptr().cast(), Self::LEN) };
    }
}

// SAFETY: the mapping is owned by the `Ring` alone (no other pointer to it escapes), and
// the kernel's side of it is synchronized through `tp_status`, whichever thread reads;
// reading takes `&mut self`, so two threads never read the ring at once.
unsafe impl Send for Ring {}
// SAFETY: as above: no method of `&Ring` reads or writes the ring's slots.
unsafe impl Sync for Ring {}

/// Releasing a packet socket waits for an RCU grace period (packet_release and the ring's
/// teardown in packet_set_ring each call synchronize_net), milliseconds to tens of
/// milliseconds of sleep that belong to no trial. Each socket is therefore unmapped and
/// closed on a short-lived thread of its own, and the trial goes on at once. (Not one
/// long-lived thread: a thread is born in its creator's namespaces, and one started by a
/// trial would keep that trial's namespace alive.) [`settle_releases`] waits for them.
fn release_later(ring: Option<Ring>, fd: OwnedFd) {
    let release = move || {
        drop(ring); // unmap before closing
        drop(fd);
    };
    *pending() += 1;
    let spawned = std::thread::Builder::new()
        .name("capture-release".into())
        .spawn(move || {
            release();
            released();
        });
    if spawned.is_err() {
        // The closure, and so the socket, was dropped with the failed spawn: released.
        released();
    }
}

fn pending() -> std::sync::MutexGuard<'static, usize> {
    PENDING.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn released() {
    *pending() -= 1;
    PENDING.1.notify_all();
}

/// Sockets whose release has not finished, and the signal that one did.
static PENDING: (std::sync::Mutex<usize>, std::sync::Condvar) = (std::sync::Mutex::new(0), std::sync::Condvar::new());

/// Waits until every packet socket dropped so far is closed, for at most `limit`; says
/// whether they all are.
pub fn settle_releases(limit: std::time::Duration) -> bool {
    let (left, _) = PENDING
        .1
        .wait_timeout_while(pending(), limit, |n| *n > 0)
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    *left == 0
}

#[derive(Debug)]
pub struct PacketSocket {
    // Both are `Some` until the socket is dropped, except the ring, which is `None` until
    // [`PacketSocket::start`] (and stays `None` when the socket receives with recvmsg).
    // The ring is unmapped before the socket is closed.
    ring: Option<Ring>,
    fd: Option<OwnedFd>,
    /// Whether a ring is to be mapped at start (PACKET_VERSION was accepted) or frames
    /// are received one by one, and how they are stamped then.
    receiving: Receiving,
    /// Whether the socket receives yet (bound to ETH_P_ALL).
    started: bool,
    /// Why it receives without a ring, when it does: the call refused and the error.
    ring_refused: Option<String>,
}

impl Drop for PacketSocket {
    fn drop(&mut self) {
        if let Some(fd) = self.fd.take() {
            release_later(self.ring.take(), fd);
        }
    }
}

impl PacketSocket {
    /// A non-blocking AF_PACKET socket of the calling thread's network namespace, with
    /// its filter, that receives nothing yet: it is created with protocol 0 and only
    /// bound to ETH_P_ALL by [`PacketSocket::start`], once the filter and ring are in
    /// place, so no frame ever bypasses the filter.
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
        let (receiving, ring_refused) = match setsockopt(raw, libc::SOL_PACKET, libc::PACKET_VERSION, &TPACKET_V2) {
            Ok(()) => (Receiving::Ring, None),
            Err(e) => (receive_timestamps(raw)?, Some(format!("PACKET_VERSION: {e}"))),
        };
        Ok(PacketSocket {
            ring: None,
            fd: Some(fd),
            receiving,
            started: false,
            ring_refused,
        })
    }

    /// A socket that receives with recvmsg(2) even where the platform has a ring, so that
    /// tests can check the fallback on Linux.
    #[cfg(test)]
    pub fn open_without_ring() -> io::Result<PacketSocket> {
        let mut socket = PacketSocket::open()?;
        socket.receiving = receive_timestamps(socket.as_raw_fd())?;
        socket.ring_refused = Some("a test asked for recvmsg".into());
        Ok(socket)
    }

    /// How this socket receives.
    pub fn receiving(&self) -> Receiving {
        self.receiving
    }

    /// Why it receives without a ring, when it does.
    pub fn ring_refused(&self) -> Option<&str> {
        self.ring_refused.as_deref()
    }

    /// Maps the TPACKET_V2 ring and starts receiving every interface of the socket's
    /// namespace (the socket's, whatever thread calls this). The ring is what timestamps
    /// frames when they are tapped, inside the call that sent them, whatever else runs on
    /// the host: frames queued on a plain packet socket are stamped at tap time only while
    /// some socket of the host has asked for timestamps (the `netstamp_needed` static key,
    /// switched on late and off again), and otherwise when they are read. Setting up a
    /// ring waits for an RCU grace period, so a sandbox starts all its sources at once.
    ///
    /// A platform that accepted PACKET_VERSION but refuses the ring receives with
    /// recvmsg(2) instead.
    pub fn start(&mut self) -> io::Result<()> {
        if self.started {
            return Ok(());
        }
        let raw = self.as_raw_fd();
        if self.receiving == Receiving::Ring {
            match Ring::map(raw) {
                Ok(ring) => self.ring = Some(ring),
                Err(e) => {
                    self.receiving = receive_timestamps(raw)?;
                    self.ring_refused = Some(format!("PACKET_RX_RING: {e}"));
                }
            }
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
        self.started = true;
        Ok(())
    }

    /// Takes the next frame into `buf`, or `None` when none is waiting. Frames come in the
    /// order they were tapped (the ring's), or queued (recvmsg's).
    pub fn recv(&mut self, buf: &mut [u8]) -> io::Result<Option<RecvInfo>> {
        if !self.started {
            return Ok(None);
        }
        match &mut self.ring {
            Some(ring) => Ok(ring.next(buf)),
            None => recv_one(self.as_raw_fd(), buf),
        }
    }

    /// The name of an interface of the socket's own namespace (SIOCGIFNAME is answered
    /// in the namespace of the socket, whatever namespace the calling thread is in).
    pub fn ifname(&self, ifindex: i32) -> io::Result<String> {
        // SAFETY: ifreq is plain old data; zeroed is valid.
        let mut ifr: libc::ifreq = unsafe { zeroed() };
        ifr.ifr_ifru.ifru_ifindex = ifindex;
        // SAFETY: `ifr` is a valid ifreq, which SIOCGIFNAME reads and writes.
        cvt(unsafe { libc::ioctl(self.as_raw_fd(), libc::SIOCGIFNAME as _, &mut ifr) })?;
        let bytes: Vec<u8> = ifr.ifr_name.iter().take_while(|&&c| c != 0).map(|&c| c as u8).collect();
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }

    /// Frames the kernel dropped since the last call, for want of a free slot in the
    /// ring (PACKET_STATISTICS resets the counters when read).
    pub fn take_drops(&self) -> io::Result<u64> {
        // SAFETY: tpacket_stats is plain old data; zeroed is valid.
        let mut stats: libc::tpacket_stats = unsafe { zeroed() };
        let mut len = size_of::<libc::tpacket_stats>() as libc::socklen_t;
        // SAFETY: `stats` and `len` are valid for writes of `len` bytes.
        cvt(unsafe {
            libc::getsockopt(
                self.as_raw_fd(),
                libc::SOL_PACKET,
                libc::PACKET_STATISTICS,
                (&raw mut stats).cast(),
                &mut len,
            )
        })?;
        Ok(u64::from(stats.tp_drops))
    }
}

/// Turns on receive timestamps for a socket that receives with recvmsg: SO_TIMESTAMPNS
/// where the platform reports it back as set, else SO_TIMESTAMP.
fn receive_timestamps(fd: RawFd) -> io::Result<Receiving> {
    let on: libc::c_int = 1;
    if setsockopt(fd, libc::SOL_SOCKET, libc::SO_TIMESTAMPNS, &on).is_ok()
        && getsockopt_int(fd, libc::SOL_SOCKET, libc::SO_TIMESTAMPNS).is_ok_and(|v| v != 0)
    {
        return Ok(Receiving::RecvmsgNanoseconds);
    }
    setsockopt(fd, libc::SOL_SOCKET, libc::SO_TIMESTAMP, &on)?;
    Ok(Receiving::RecvmsgMicroseconds)
}

fn getsockopt_int(fd: RawFd, level: libc::c_int, name: libc::c_int) -> io::Result<libc::c_int> {
    let mut value: libc::c_int = 0;
    let mut len = size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: `value` and `len` are valid for writes of `len` bytes.
    cvt(unsafe { libc::getsockopt(fd, level, name, (&raw mut value).cast(), &mut len) })?;
    Ok(value)
}

/// Receives one frame with recvmsg(2), without blocking: its bytes (cut to `buf`), its
/// length as sent (MSG_TRUNC), its interface and direction (the `sockaddr_ll`), and its
/// receive timestamp. A frame that comes without a timestamp is stamped when it is read.
fn recv_one(fd: RawFd, buf: &mut [u8]) -> io::Result<Option<RecvInfo>> {
    // SAFETY: sockaddr_ll is plain old data; zeroed is valid.
    let mut sll: libc::sockaddr_ll = unsafe { zeroed() };
    // Room for one timespec or timeval control message, aligned for cmsghdr.
    let mut control = [0u64; 8];
    let mut iov = libc::iovec {
        iov_base: buf.as_mut_ptr().cast(),
        iov_len: buf.len(),
    };
    // SAFETY: msghdr is plain old data; zeroed is valid.
    let mut msg: libc::msghdr = unsafe { zeroed() };
    msg.msg_name = (&raw mut sll).cast();
    msg.msg_namelen = size_of::<libc::sockaddr_ll>() as libc::socklen_t;
    msg.msg_iov = &raw mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.as_mut_ptr().cast();
    msg.msg_controllen = size_of_val(&control) as _;
    let n = loop {
        // SAFETY: `msg` points at `sll`, `iov` (over `buf`) and `control`, all valid for
        // writes of the lengths it gives, for the duration of the call.
        let rc = unsafe { libc::recvmsg(fd, &mut msg, libc::MSG_DONTWAIT | libc::MSG_TRUNC) };
        if rc >= 0 {
            break rc as usize;
        }
        let e = io::Error::last_os_error();
        match e.kind() {
            io::ErrorKind::Interrupted => continue,
            io::ErrorKind::WouldBlock => return Ok(None),
            _ => return Err(e),
        }
    };
    let mut ts_ns = None;
    // SAFETY: `msg` was filled by recvmsg; CMSG_FIRSTHDR and CMSG_NXTHDR stay within
    // `msg_controllen` bytes of `control`, and each header's data is read unaligned.
    unsafe {
        let mut cmsg = libc::CMSG_FIRSTHDR(&msg);
        while !cmsg.is_null() {
            let data = libc::CMSG_DATA(cmsg);
            if (*cmsg).cmsg_level == libc::SOL_SOCKET && (*cmsg).cmsg_type == libc::SCM_TIMESTAMPNS {
                let t = std::ptr::read_unaligned(data.cast::<libc::timespec>());
                ts_ns = Some(t.tv_sec as u64 * 1_000_000_000 + t.tv_nsec as u64);
            } else if (*cmsg).cmsg_level == libc::SOL_SOCKET && (*cmsg).cmsg_type == libc::SCM_TIMESTAMP {
                let t = std::ptr::read_unaligned(data.cast::<libc::timeval>());
                ts_ns = Some(t.tv_sec as u64 * 1_000_000_000 + t.tv_usec as u64 * 1000);
            }
            cmsg = libc::CMSG_NXTHDR(&msg, cmsg);
        }
    }
    let ts_ns = ts_ns.unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64)
    });
    Ok(Some(RecvInfo {
        len: n.min(buf.len()).min(SNAPLEN as usize),
        ifindex: sll.sll_ifindex,
        outgoing: sll.sll_pkttype == libc::PACKET_OUTGOING,
        ts_ns,
        orig_len: n as u32,
    }))
}

/// poll(2) on the descriptor reports POLLIN once the kernel has published a frame in
/// the ring, or queued one on the socket.
impl AsRawFd for PacketSocket {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_ref().map_or(-1, AsRawFd::as_raw_fd)
    }
}

impl PacketSocket {
    /// What a readiness wait is given for this socket.
    pub fn handle(&self) -> crate::sys::RawHandle {
        self.as_raw_fd()
    }
}

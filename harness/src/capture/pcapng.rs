//! Writing captured frames as pcapng (read by `tcpdump -r` and Wireshark), with pcap-file.
//!
//! One Interface Description Block per (source, interface), named `client:veth0`, link type
//! Ethernet, snap length 256 and `if_tsresol` 9: pcap-file writes Enhanced Packet Block
//! timestamps in nanoseconds, while a reader assumes microseconds unless the interface says
//! otherwise.
//!
//! The calls of the trial go in comments, so that Wireshark shows them beside the packets:
//! the section header's comment lists every call, and each frame's comment names the calls
//! made since the frame before it (the calls that led to it).

use std::borrow::Cow;
use std::collections::HashMap;
use std::io::{self, BufWriter, Write};
use std::path::Path;
use std::time::Duration;

use pcap_file::pcapng::PcapNgWriter;
use pcap_file::pcapng::blocks::enhanced_packet::{EnhancedPacketBlock, EnhancedPacketOption};
use pcap_file::pcapng::blocks::interface_description::{InterfaceDescriptionBlock, InterfaceDescriptionOption};
use pcap_file::pcapng::blocks::section_header::{SectionHeaderBlock, SectionHeaderOption};
use pcap_file::{DataLink, PcapError};

use super::Frame;
use super::SNAPLEN;

/// `if_tsresol` of every interface: 10^-9 s.
const TSRESOL_NANOS: u8 = 9;

fn io_err(e: PcapError) -> io::Error {
    match e {
        PcapError::IoError(e) => e,
        other => io::Error::other(other),
    }
}

/// A call the trial made, on the frames' clock: when it started (ns since the Unix epoch) and
/// how it reads (`client.read#1: read(64) = ECONNRESET`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallNote {
    pub ts_ns: u64,
    pub text: String,
}

/// What a frame's comment says of a packet the trial forged, so that Wireshark shows which
/// packets no host's TCP sent.
pub const INJECTED_NOTE: &str = "injected: forged by sockerr in the namespace of the host it impersonates";

/// Writes `frames`, in their order, as pcapng to `out`, with `calls` (in time order) in the
/// comments: all of them in the section header's, and on each frame those that started after
/// the frame before it and no later than it. A frame for which `injected` holds says so
/// first ([`INJECTED_NOTE`]).
pub(crate) fn write_to<'a, W: Write>(
    out: W,
    frames: impl IntoIterator<Item = &'a Frame>,
    calls: &[CallNote],
    injected: &dyn Fn(&Frame) -> bool,
) -> io::Result<W> {
    let mut options = vec![SectionHeaderOption::UserApplication(Cow::Borrowed("sockerr"))];
    if !calls.is_empty() {
        let all: Vec<&str> = calls.iter().map(|c| c.text.as_str()).collect();
        options.push(SectionHeaderOption::Comment(Cow::Owned(format!(
            "calls of this trial:\n{}",
            all.join("\n")
        ))));
    }
    let section = SectionHeaderBlock {
        options,
        ..Default::default()
    };
    let mut w = PcapNgWriter::with_section_header(out, section).map_err(io_err)?;
    let mut ids: HashMap<(usize, i32), u32> = HashMap::new();
    let mut pending = calls.iter().peekable();
    for f in frames {
        let mut before = Vec::new();
        while let Some(call) = pending.next_if(|c| c.ts_ns <= f.ts_ns) {
            before.push(call.text.as_str());
        }
        let mut notes = Vec::new();
        if injected(f) {
            notes.push(INJECTED_NOTE.to_string());
        }
        if !before.is_empty() {
            notes.push(format!("after {}", before.join("; ")));
        }
        let comment = (!notes.is_empty()).then(|| EnhancedPacketOption::Comment(Cow::Owned(notes.join("\n"))));
        let next = ids.len() as u32;
        let id = *ids.entry((f.source, f.ifindex)).or_insert(next);
        if id == next {
            let idb = InterfaceDescriptionBlock {
                linktype: DataLink::ETHERNET,
                snaplen: SNAPLEN,
                options: vec![
                    InterfaceDescriptionOption::IfName(Cow::Borrowed(&f.interface)),
                    InterfaceDescriptionOption::IfTsResol(TSRESOL_NANOS),
                ],
            };
            w.write_pcapng_block(idb).map_err(io_err)?;
        }
        let epb = EnhancedPacketBlock {
            interface_id: id,
            timestamp: Duration::from_nanos(f.ts_ns),
            original_len: f.orig_len.max(f.data.len() as u32),
            data: Cow::Borrowed(&f.data),
            options: comment.into_iter().collect(),
        };
        w.write_pcapng_block(epb).map_err(io_err)?;
    }
    Ok(w.into_inner())
}

/// Writes `frames` to `path` through a temporary file in the same directory, renamed into
/// place once complete, so that the path never holds half a file.
pub(crate) fn write_file<'a>(
    path: &Path,
    frames: impl IntoIterator<Item = &'a Frame>,
    calls: &[CallNote],
    injected: &dyn Fn(&Frame) -> bool,
) -> io::Result<()> {
    crate::atomic_file::write(path, |file| {
        write_to(BufWriter::new(file), frames, calls, injected)?
            .into_inner()
            .map(drop)
            .map_err(|e| e.into_error())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use pcap_file::pcapng::{Block, PcapNgReader};

    fn frame(source: usize, ifindex: i32, interface: &str, ts_ns: u64, len: usize) -> Frame {
        Frame {
            source,
            ifindex,
            interface: interface.to_string(),
            ts_ns,
            orig_len: 1514,
            data: (0..len).map(|i| i as u8).collect(),
        }
    }

    #[test]
    fn each_interface_gets_one_description_with_nanosecond_resolution() {
        let frames = [
            frame(0, 1, "client:lo", 1_700_000_000_123_456_789, 60),
            frame(1, 2, "server:veth1", 1_700_000_000_223_456_789, 255),
            frame(0, 1, "client:lo", 1_700_000_000_323_456_789, 256),
        ];
        let bytes = write_to(Vec::new(), &frames, &[], &|_| false).unwrap();
        let mut reader = PcapNgReader::new(&bytes[..]).unwrap();
        let mut idbs = Vec::new();
        let mut epbs = Vec::new();
        while let Some(block) = reader.next_block() {
            match block.unwrap() {
                Block::InterfaceDescription(idb) => idbs.push(idb.into_owned()),
                Block::EnhancedPacket(epb) => epbs.push(epb.into_owned()),
                other => panic!("unexpected block {other:?}"),
            }
        }
        assert_eq!(idbs.len(), 2);
        for (idb, name) in idbs.iter().zip(["client:lo", "server:veth1"]) {
            assert_eq!((idb.linktype, idb.snaplen), (DataLink::ETHERNET, 256));
            assert!(idb.options.contains(&InterfaceDescriptionOption::IfName(name.into())));
            assert!(idb.options.contains(&InterfaceDescriptionOption::IfTsResol(9)));
        }
        let got: Vec<(u32, u128, usize, u32)> = epbs
            .iter()
            .map(|e| (e.interface_id, e.timestamp.as_nanos(), e.data.len(), e.original_len))
            .collect();
        assert_eq!(
            got,
            [
                (0, 1_700_000_000_123_456_789, 60, 1514),
                (1, 1_700_000_000_223_456_789, 255, 1514),
                (0, 1_700_000_000_323_456_789, 256, 1514),
            ]
        );
    }

    /// pcapng (draft-ietf-opsawg-pcapng §4.1, §4.3): `opt_comment` on the section header and
    /// on each Enhanced Packet Block.
    #[test]
    fn each_frame_names_the_calls_made_since_the_frame_before_it() {
        let frames = [
            frame(0, 1, "client:lo", 1_000, 60),
            frame(0, 1, "client:lo", 2_000, 60),
            frame(0, 1, "client:lo", 3_000, 60),
        ];
        let calls = [
            CallNote {
                ts_ns: 500,
                text: "client.connect#1: connect() = ok=0".into(),
            },
            CallNote {
                ts_ns: 900,
                text: "client.write#1: write(1 byte) = ok=1".into(),
            },
            CallNote {
                ts_ns: 2_500,
                text: "client.read#1: read(64) = ECONNRESET".into(),
            },
            CallNote {
                ts_ns: 9_000,
                text: "client.close#1: close() = ok=0".into(),
            },
        ];
        let bytes = write_to(Vec::new(), &frames, &calls, &|_| false).unwrap();
        let mut reader = PcapNgReader::new(&bytes[..]).unwrap();
        let header = reader.section().options.clone();
        let mut comments = Vec::new();
        while let Some(block) = reader.next_block() {
            if let Block::EnhancedPacket(epb) = block.unwrap() {
                let comment = epb.options.iter().find_map(|o| match o {
                    EnhancedPacketOption::Comment(c) => Some(c.to_string()),
                    _ => None,
                });
                comments.push(comment);
            }
        }
        assert_eq!(
            comments,
            [
                Some("after client.connect#1: connect() = ok=0; client.write#1: write(1 byte) = ok=1".to_string()),
                None,
                Some("after client.read#1: read(64) = ECONNRESET".to_string()),
            ]
        );
        let all = header.iter().find_map(|o| match o {
            SectionHeaderOption::Comment(c) => Some(c.to_string()),
            _ => None,
        });
        assert_eq!(
            all.unwrap().lines().count(),
            1 + calls.len(),
            "every call, the last one included"
        );
    }

    /// A forged frame says so in its comment, before the calls that led to it.
    #[test]
    fn an_injected_frame_is_marked_in_its_comment() {
        let frames = [frame(0, 1, "client:lo", 1_000, 60), frame(0, 1, "client:lo", 2_000, 60)];
        let calls = [CallNote {
            ts_ns: 1_500,
            text: "client.inject#1: forged server>client R = ok=40".into(),
        }];
        let bytes = write_to(Vec::new(), &frames, &calls, &|f| f.ts_ns == 2_000).unwrap();
        let mut reader = PcapNgReader::new(&bytes[..]).unwrap();
        let mut comments = Vec::new();
        while let Some(block) = reader.next_block() {
            if let Block::EnhancedPacket(epb) = block.unwrap() {
                comments.push(epb.options.iter().find_map(|o| match o {
                    EnhancedPacketOption::Comment(c) => Some(c.to_string()),
                    _ => None,
                }));
            }
        }
        assert_eq!(
            comments,
            [
                None,
                Some(format!(
                    "{INJECTED_NOTE}\nafter client.inject#1: forged server>client R = ok=40"
                )),
            ]
        );
    }

    #[test]
    fn tcpdump_reads_the_timestamps_to_the_nanosecond() {
        let missing = std::process::Command::new("tcpdump").arg("--version").output().is_err();
        if crate::prerequisite::unmet(missing.then(|| "tcpdump is not installed".to_string())) {
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.pcapng");
        // A minimal IPv4/UDP frame, so that tcpdump has something to decode.
        let mut data = Vec::new();
        etherparse::PacketBuilder::ethernet2([2; 6], [4; 6])
            .ipv4([10, 0, 0, 1], [10, 0, 0, 2], 64)
            .udp(1000, 2000)
            .write(&mut data, b"x")
            .unwrap();
        let f = Frame {
            data,
            orig_len: 43,
            ..frame(0, 1, "client:lo", 1_700_000_000_123_456_789, 0)
        };
        write_file(&path, &[f], &[], &|_| false).unwrap();
        let leftovers: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(leftovers, ["t.pcapng"]);
        let out = std::process::Command::new("tcpdump")
            .args([
                "-r",
                path.to_str().unwrap(),
                "-nn",
                "-tttt",
                "--time-stamp-precision=nano",
            ])
            .env("TZ", "UTC")
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        assert!(
            stdout.starts_with("2023-11-14 22:13:20.123456789 IP 10.0.0.1.1000 > 10.0.0.2.2000: UDP"),
            "{stdout}"
        );
    }
}

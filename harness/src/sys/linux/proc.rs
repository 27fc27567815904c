//! What /proc tells about threads, sockets and counters that no call on a socket shows: which
//! system call a thread sleeps in, the namespace's TCP table (TIME_WAIT and orphaned
//! connections no descriptor reaches), its protocol counters, and a process's parent.

use std::net::SocketAddr;

use crate::Verb;
use crate::sys::{TcpEntry, tcp_state_name};

/// The calling thread's kernel id (gettid(2)), its directory under /proc/self/task.
pub fn thread_id() -> crate::sys::Tid {
    // SAFETY: gettid takes no arguments and cannot fail.
    unsafe { libc::gettid() }
}

/// The system call thread `tid` of this process is asleep in, if it is asleep in one: its
/// state in `/proc/self/task/<tid>/stat` is `S` and `/proc/self/task/<tid>/syscall` names the
/// call (proc_pid_stat(5), proc_pid_syscall(5)). `None` while it runs or has not yet slept.
fn sleeping_in_syscall(tid: crate::sys::Tid) -> Option<libc::c_long> {
    if !is_asleep(tid) {
        return None;
    }
    let syscall = std::fs::read_to_string(format!("/proc/self/task/{tid}/syscall")).ok()?;
    syscall.split_whitespace().next()?.parse().ok()
}

/// Whether thread `tid` of this process is asleep in an interruptible wait: its state in
/// `/proc/self/task/<tid>/stat` is `S` (proc_pid_stat(5)), in whatever call. The evidence that
/// a thread is blocked where /proc does not name the call (gVisor).
pub fn is_asleep(tid: crate::sys::Tid) -> bool {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/self/task/{tid}/stat")) else {
        return false;
    };
    // The state follows the command name, which is in parentheses and may contain spaces.
    stat.rsplit_once(')')
        .and_then(|(_, rest)| rest.split_whitespace().next())
        .is_some_and(|state| state == "S")
}

/// Whether this platform tells a thread's state (`/proc/self/task/<tid>/stat`).
pub fn can_see_thread_states() -> bool {
    let tid = thread_id();
    std::fs::read_to_string(format!("/proc/self/task/{tid}/stat"))
        .is_ok_and(|stat| stat.rsplit_once(')').is_some_and(|(_, rest)| !rest.trim().is_empty()))
}

/// The system calls a blocked call of `verb` sleeps in (glibc's poll is poll or ppoll, its
/// epoll_wait epoll_wait or epoll_pwait).
fn syscalls_of(verb: Verb) -> Vec<libc::c_long> {
    let mut calls = match verb {
        Verb::Read => vec![libc::SYS_read],
        Verb::Write => vec![libc::SYS_write],
        Verb::Close | Verb::Abort => vec![libc::SYS_close],
        Verb::Poll => vec![libc::SYS_ppoll],
        Verb::EpollWait => vec![libc::SYS_epoll_pwait, libc::SYS_epoll_pwait2],
        Verb::Connect => vec![libc::SYS_connect],
        Verb::Accept => vec![libc::SYS_accept, libc::SYS_accept4],
        _ => Vec::new(),
    };
    #[cfg(target_arch = "x86_64")]
    match verb {
        Verb::Poll => calls.push(libc::SYS_poll),
        Verb::EpollWait => calls.push(libc::SYS_epoll_wait),
        _ => {}
    }
    calls
}

/// Whether thread `tid` of this process is asleep inside the system call a `verb` step makes.
pub fn sleeping_in(tid: crate::sys::Tid, verb: Verb) -> bool {
    sleeping_in_syscall(tid).is_some_and(|nr| syscalls_of(verb).contains(&nr))
}

/// Whether this platform tells which system call a thread sleeps in.
pub fn can_see_sleeping_calls() -> bool {
    std::fs::read_to_string(format!("/proc/self/task/{}/syscall", thread_id())).is_ok()
}

/// The TCP table of the calling thread's network namespace, or `None` where it cannot be read.
pub fn tcp_table() -> Option<Vec<TcpEntry>> {
    let mut entries = Vec::new();
    for file in ["/proc/thread-self/net/tcp", "/proc/thread-self/net/tcp6"] {
        let text = std::fs::read_to_string(file).ok()?;
        entries.extend(text.lines().skip(1).filter_map(parse_tcp_line));
    }
    Some(entries)
}

/// `  0: 0100007F:0FA0 0100007F:A1B2 06 ...`: addresses as the kernel's memory holds them,
/// printed as 32-bit words in host order, ports in hex, the state in hex.
fn parse_tcp_line(line: &str) -> Option<TcpEntry> {
    let mut fields = line.split_whitespace().skip(1);
    let local = parse_proc_addr(fields.next()?)?;
    let remote = parse_proc_addr(fields.next()?)?;
    let state = u8::from_str_radix(fields.next()?, 16).ok()?;
    Some(TcpEntry {
        local,
        remote,
        state: tcp_state_name(state),
    })
}

fn parse_proc_addr(field: &str) -> Option<SocketAddr> {
    let (addr, port) = field.split_once(':')?;
    let port = u16::from_str_radix(port, 16).ok()?;
    let mut bytes = Vec::with_capacity(16);
    for i in (0..addr.len()).step_by(8) {
        let word = u32::from_str_radix(addr.get(i..i + 8)?, 16).ok()?;
        bytes.extend_from_slice(&word.to_ne_bytes());
    }
    let ip = match bytes.len() {
        4 => std::net::IpAddr::from(<[u8; 4]>::try_from(bytes).ok()?),
        16 => std::net::IpAddr::from(<[u8; 16]>::try_from(bytes).ok()?),
        _ => return None,
    };
    Some(SocketAddr::new(ip, port))
}

/// A protocol counter of the calling thread's namespace: `Icmp.InDestUnreachs` (a column of
/// `/proc/net/snmp`, `Table.Name`) or `Icmp6InDestUnreachs` (a line of `/proc/net/snmp6`).
pub fn protocol_counter(name: &str) -> Option<u64> {
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

/// Whether `pid` is a process (a zombie included) whose parent is this process
/// (proc_pid_status(5) `PPid`).
pub fn is_child_of_this_process(pid: u32) -> bool {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let ours = format!("PPid:\t{}", std::process::id());
    status.lines().any(|l| l == ours)
}

/// The child processes of this process (of every thread of it) and the CPU time each has used
/// so far: /proc/self/task/*/children (proc_pid_children(5)) and each child's
/// `/proc/<pid>/stat`, utime + stime + cutime + cstime in clock ticks (proc_pid_stat(5)). Empty
/// where the kernel does not offer the children files.
pub fn children_cpu() -> Vec<crate::sys::ChildCpu> {
    let tick = nix::unistd::sysconf(nix::unistd::SysconfVar::CLK_TCK)
        .ok()
        .flatten()
        .filter(|&t| t > 0)
        .unwrap_or(100) as f64;
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return Vec::new();
    };
    let mut pids: Vec<u32> = tasks
        .flatten()
        .filter_map(|task| std::fs::read_to_string(task.path().join("children")).ok())
        .flat_map(|list| {
            list.split_whitespace()
                .filter_map(|p| p.parse().ok())
                .collect::<Vec<u32>>()
        })
        .collect();
    pids.sort_unstable();
    pids.dedup();
    pids.into_iter()
        .filter_map(|pid| {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            let (command, ticks) = parse_stat_cpu(&stat)?;
            Some(crate::sys::ChildCpu {
                pid,
                command,
                cpu: std::time::Duration::from_secs_f64(ticks as f64 / tick),
            })
        })
        .collect()
}

/// The command name and utime + stime + cutime + cstime (fields 14 to 17) of a
/// /proc/<pid>/stat line; the name is in parentheses and may hold spaces and parentheses.
fn parse_stat_cpu(stat: &str) -> Option<(String, u64)> {
    let open = stat.find('(')?;
    let close = stat.rfind(')')?;
    let command = stat.get(open + 1..close)?.to_string();
    // After the name: field 3 (state) is index 0, so fields 14 to 17 are indexes 11 to 14.
    let fields: Vec<&str> = stat[close + 1..].split_whitespace().collect();
    let ticks = fields
        .get(11..15)?
        .iter()
        .map(|f| f.parse::<u64>().ok())
        .sum::<Option<u64>>()?;
    Some((command, ticks))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stat_line_gives_the_command_and_its_cpu_ticks_even_with_parentheses_in_the_name() {
        // proc_pid_stat(5): pid (comm) state ppid ... utime(14) stime(15) cutime(16) cstime(17).
        let stat = "4242 (my (odd) name) S 1 4242 4242 0 -1 4194560 500 0 0 0 70 30 2 1 20 0 3 0";
        assert_eq!(parse_stat_cpu(stat), Some(("my (odd) name".to_string(), 103)));
        assert_eq!(parse_stat_cpu("12 (x) S 1"), None);
    }

    #[test]
    fn a_child_that_spins_shows_cpu_time_under_its_command_name() {
        let mut child = std::process::Command::new("sh")
            .args(["-c", "i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done; read x"])
            .stdin(std::process::Stdio::piped())
            .spawn()
            .expect("sh");
        let pid = child.id();
        // The loop ends after some CPU time; wait until the child has used some, with a
        // deadline (it sits in `read` afterwards).
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        let mut seen = None;
        while std::time::Instant::now() < deadline {
            seen = children_cpu().into_iter().find(|c| c.pid == pid);
            if seen.as_ref().is_some_and(|c| c.cpu > std::time::Duration::ZERO) {
                break;
            }
            std::thread::yield_now();
        }
        drop(child.stdin.take());
        let _ = child.wait();
        let seen = seen.expect("the child is listed");
        assert_eq!(seen.command, "sh");
        assert!(seen.cpu > std::time::Duration::ZERO, "{seen:?}");
        assert!(crate::sys::process_cpu() > std::time::Duration::ZERO);
    }

    #[test]
    fn proc_net_tcp_lines_parse_into_addresses_and_states() {
        // proc_net(5): "sl local_address rem_address st ...", addresses in hex.
        let v4 = "   3: 0100007F:0FA0 0200007F:A1B2 06 00000000:00000000 03:00000F9C 00000000 0 0 0 3";
        let e = parse_tcp_line(v4).expect("a v4 line");
        assert_eq!(e.local, "127.0.0.1:4000".parse().unwrap());
        assert_eq!(e.remote, "127.0.0.2:41394".parse().unwrap());
        assert_eq!(e.state, "TIME_WAIT");
        let v6 = "   0: 00000000000000000000000001000000:0FA0 00000000000000000000000000000000:0000 0A 0";
        let e = parse_tcp_line(v6).expect("a v6 line");
        assert_eq!(e.local, "[::1]:4000".parse().unwrap());
        assert_eq!(e.state, "LISTEN");
    }

    #[test]
    fn a_snmp_column_is_found_by_its_table_and_name() {
        let text = "Ip: Forwarding DefaultTTL\nIp: 1 64\nIcmp: InMsgs InErrors InDestUnreachs\nIcmp: 3 0 2\n";
        assert_eq!(snmp_column(text, "Icmp", "InDestUnreachs"), Some(2));
        assert_eq!(snmp_column(text, "Icmp", "OutMsgs"), None);
    }
}

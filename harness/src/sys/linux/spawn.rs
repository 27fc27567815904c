//! Running a program (nft, a runtime client) from a process that holds other trials' sockets,
//! so that the child never keeps one of them open after its trial closed it.

use std::ffi::{CString, c_char};
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

unsafe extern "C" {
    static environ: *const *mut c_char;
}

/// Runs `program` (looked up in PATH) with `args` in the calling thread's namespaces, `input`
/// on its standard input and its output discarded; returns its exit status (-1 when a signal
/// ended it) and what it wrote on its error output. A program that cannot be found is
/// `ErrorKind::NotFound`.
pub fn run_program(program: &str, args: &[&str], input: &[u8]) -> io::Result<(i32, String)> {
    spawn_closed(program, args)?.finish(input)
}

/// A program started by [`spawn_closed`], reaped by [`Spawned::finish`] or, failing that, killed
/// and reaped on drop.
struct Spawned {
    pid: libc::pid_t,
    stdin: Option<File>,
    stderr: File,
    reaped: bool,
}

/// Starts `program` with posix_spawn(3), its input and error output on pipes and its output on
/// /dev/null. A child inherits every descriptor of the process, and close-on-exec lets go of
/// them only as the exec completes, possibly after the parent went on: a socket a trial closed
/// meanwhile would send its FIN or reset only when the child came round to it, milliseconds
/// later under load. So the spawn carries a closefrom action: the child closes every
/// descriptor from 3 on before it execs, and glibc resumes the parent only after the exec
/// (CLONE_VFORK). The spawn counts as a fork in progress until then (see
/// [`super::forking`]); CLONE_VM copies no page tables, so that is short.
fn spawn_closed(program: &str, args: &[&str]) -> io::Result<Spawned> {
    let devnull = File::options().write(true).open("/dev/null")?;
    let (input_read, input_write) = pipe()?;
    let (errors_read, errors_write) = pipe()?;
    let pid = spawn_with(program, args, [&input_read, &devnull.into(), &errors_write], None)?;
    Ok(Spawned {
        pid,
        stdin: Some(File::from(input_write)),
        stderr: File::from(errors_read),
        reaped: false,
    })
}

/// Starts `program` (looked up in PATH) with `args`, its standard input and output on pipes
/// and its error output appended to `errors`, with the same closefrom action as every spawn
/// here. For a program that speaks a line protocol on its input and output.
pub fn spawn_piped(program: &str, args: &[&str], errors: &File) -> io::Result<PipedChild> {
    spawn_piped_with(program, args, errors, None)
}

/// [`spawn_piped`], with `channel` as the program's descriptor 3 (for a parent-child channel
/// such as Node.js's NODE_CHANNEL_FD).
pub fn spawn_piped_with(
    program: &str,
    args: &[&str],
    errors: &File,
    channel: Option<&OwnedFd>,
) -> io::Result<PipedChild> {
    let (input_read, input_write) = pipe()?;
    let (output_read, output_write) = pipe()?;
    let errors: OwnedFd = errors.try_clone()?.into();
    let pid = spawn_with(program, args, [&input_read, &output_write, &errors], channel)?;
    Ok(PipedChild {
        pid,
        stdin: Some(File::from(input_write)),
        stdout: File::from(output_read),
        status: None,
    })
}

/// A program started by [`spawn_piped`]: killed and reaped on drop unless it was reaped before.
#[derive(Debug)]
pub struct PipedChild {
    pub pid: libc::pid_t,
    /// Its standard input; `None` once taken (dropping it closes the program's input).
    pub stdin: Option<File>,
    pub stdout: File,
    status: Option<libc::c_int>,
}

impl PipedChild {
    /// Whether it has ended, without waiting; how it ended in words (`exit status 3`, `killed
    /// by SIGKILL`) when it has. Reaps it.
    pub fn try_ended(&mut self) -> Option<String> {
        if self.status.is_none() {
            let mut status = 0;
            // SAFETY: our own child; `status` is a valid out-pointer.
            if unsafe { libc::waitpid(self.pid, &mut status, libc::WNOHANG) } == self.pid {
                self.status = Some(status);
            }
        }
        self.status.map(describe_status)
    }

    /// Waits for it to end and says how it ended.
    pub fn wait(&mut self) -> io::Result<String> {
        while self.status.is_none() {
            let mut status = 0;
            // SAFETY: as above.
            if unsafe { libc::waitpid(self.pid, &mut status, 0) } == self.pid {
                self.status = Some(status);
                break;
            }
            let e = io::Error::last_os_error();
            if e.kind() != io::ErrorKind::Interrupted {
                return Err(e);
            }
        }
        Ok(self.status.map(describe_status).unwrap_or_default())
    }

    /// SIGKILL, then reaped.
    pub fn kill(&mut self) {
        if self.status.is_none() {
            // SAFETY: our own child, not yet reaped, so the pid is still ours.
            unsafe { libc::kill(self.pid, libc::SIGKILL) };
            let _ = self.wait();
        }
    }
}

impl Drop for PipedChild {
    fn drop(&mut self) {
        self.kill();
    }
}

fn describe_status(status: libc::c_int) -> String {
    if libc::WIFEXITED(status) {
        format!("exit status {}", libc::WEXITSTATUS(status))
    } else if libc::WIFSIGNALED(status) {
        format!("killed by {}", super::signal_name(libc::WTERMSIG(status)))
    } else {
        format!("wait status {status}")
    }
}

/// Where the system keeps administration programs (`nft`, `iptables-legacy`), which an
/// ordinary user's PATH leaves out on Debian; searched after PATH. The environment variable
/// [`PROGRAM_DIRS_VAR`] replaces the list (`:`-separated; empty to search PATH alone).
const SYSTEM_PROGRAM_DIRS: &str = "/usr/local/sbin:/usr/sbin:/sbin";

/// The environment variable that replaces [`SYSTEM_PROGRAM_DIRS`].
pub const PROGRAM_DIRS_VAR: &str = "SOCKERR_PROGRAM_DIRS";

/// The file `program` names: itself when it holds a slash, else the first executable file of
/// that name in PATH, then in the system's program directories ([`SYSTEM_PROGRAM_DIRS`]); the
/// name alone (which the spawn then reports as not found) when there is none.
fn locate(program: &str) -> std::path::PathBuf {
    let mut path = std::env::var_os("PATH").unwrap_or_default();
    let system = std::env::var_os(PROGRAM_DIRS_VAR).unwrap_or_else(|| SYSTEM_PROGRAM_DIRS.into());
    if !system.is_empty() {
        path.push(":");
        path.push(system);
    }
    locate_in(program, &path)
}

/// [`locate`] with `path` as PATH.
fn locate_in(program: &str, path: &std::ffi::OsStr) -> std::path::PathBuf {
    use std::os::unix::fs::PermissionsExt;
    if program.contains('/') {
        return program.into();
    }
    std::env::split_paths(path)
        .filter(|dir| !dir.as_os_str().is_empty())
        .map(|dir| dir.join(program))
        .find(|file| std::fs::metadata(file).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0))
        .unwrap_or_else(|| program.into())
}

/// posix_spawnp of `program` (see [`locate`]) with `stdio` as its descriptors 0, 1 and 2,
/// `channel` as 3, and every other descriptor closed; the pid.
fn spawn_with(
    program: &str,
    args: &[&str],
    stdio: [&OwnedFd; 3],
    channel: Option<&OwnedFd>,
) -> io::Result<libc::pid_t> {
    let invalid = |_| io::Error::new(io::ErrorKind::InvalidInput, "an argument holds a NUL byte");
    let file = CString::new(locate(program).into_os_string().into_encoded_bytes()).map_err(invalid)?;
    let argv: Vec<CString> = std::iter::once(program)
        .chain(args.iter().copied())
        .map(CString::new)
        .collect::<Result<_, _>>()
        .map_err(invalid)?;
    let mut argv_ptrs: Vec<*mut c_char> = argv.iter().map(|a| a.as_ptr().cast_mut()).collect();
    argv_ptrs.push(std::ptr::null_mut());
    let actions = FileActions::new()?;
    for (target, fd) in stdio.iter().chain(channel.as_slice()).enumerate() {
        actions.dup2(fd.as_raw_fd(), target as RawFd)?;
    }
    actions.close_from(if channel.is_some() { 4 } else { 3 })?;
    let mut pid: libc::pid_t = 0;
    let forking = crate::sys::forking();
    // SAFETY: every pointer is valid for the call: NUL-terminated strings in a null-terminated
    // array, initialised file actions, default attributes, and the process's environment.
    let rc = unsafe {
        libc::posix_spawnp(
            &mut pid,
            file.as_ptr(),
            &actions.0,
            std::ptr::null(),
            argv_ptrs.as_ptr(),
            environ,
        )
    };
    drop(forking);
    if rc != 0 {
        return Err(io::Error::from_raw_os_error(rc));
    }
    Ok(pid)
}

impl Spawned {
    /// Writes `input` to the program and closes its input, reads its error output to the end,
    /// and waits for it.
    fn finish(mut self, input: &[u8]) -> io::Result<(i32, String)> {
        if let Some(mut stdin) = self.stdin.take() {
            stdin.write_all(input)?;
        }
        let mut errors = Vec::new();
        self.stderr.read_to_end(&mut errors)?;
        let status = self.reap()?;
        let code = if libc::WIFEXITED(status) {
            libc::WEXITSTATUS(status)
        } else {
            -1
        };
        Ok((code, String::from_utf8_lossy(&errors).into_owned()))
    }

    fn reap(&mut self) -> io::Result<libc::c_int> {
        let mut status = 0;
        loop {
            // SAFETY: waits for our own child; `status` is a valid out-pointer.
            if unsafe { libc::waitpid(self.pid, &mut status, 0) } == self.pid {
                self.reaped = true;
                return Ok(status);
            }
            let e = io::Error::last_os_error();
            if e.kind() != io::ErrorKind::Interrupted {
                return Err(e);
            }
        }
    }
}

impl Drop for Spawned {
    fn drop(&mut self) {
        if !self.reaped {
            // SAFETY: our own child, not yet reaped, so the pid is still ours.
            unsafe { libc::kill(self.pid, libc::SIGKILL) };
            let _ = self.reap();
        }
    }
}

/// posix_spawn_file_actions_t, destroyed on drop.
struct FileActions(libc::posix_spawn_file_actions_t);

impl FileActions {
    fn new() -> io::Result<FileActions> {
        // SAFETY: zeroed storage, then initialised by the call before any other use.
        let mut actions = FileActions(unsafe { std::mem::zeroed() });
        check(unsafe { libc::posix_spawn_file_actions_init(&mut actions.0) })?;
        Ok(actions)
    }

    fn dup2(&self, from: RawFd, to: RawFd) -> io::Result<()> {
        // SAFETY: initialised actions; glibc only appends to its own buffer.
        check(unsafe { libc::posix_spawn_file_actions_adddup2(std::ptr::from_ref(&self.0).cast_mut(), from, to) })
    }

    fn close_from(&self, from: RawFd) -> io::Result<()> {
        // SAFETY: as above (glibc 2.34 and later).
        check(unsafe { libc::posix_spawn_file_actions_addclosefrom_np(std::ptr::from_ref(&self.0).cast_mut(), from) })
    }
}

impl Drop for FileActions {
    fn drop(&mut self) {
        // SAFETY: initialised in `new`, destroyed once.
        unsafe { libc::posix_spawn_file_actions_destroy(&mut self.0) };
    }
}

/// Spawns `command` so that it dies with the thread that started it (prctl(2)
/// PR_SET_PDEATHSIG): a child that must never outlive a run, even one killed with SIGKILL.
pub fn spawn_tied_to_this_thread(command: &mut std::process::Command) -> io::Result<std::process::Child> {
    use std::os::unix::process::CommandExt;
    let parent = std::process::id() as libc::pid_t;
    // SAFETY: between fork and exec the closure makes only async-signal-safe calls (prctl,
    // getppid) and does not allocate: io::Error from an errno number holds no heap data.
    unsafe {
        command.pre_exec(move || {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong, 0, 0, 0) != 0 {
                return Err(io::Error::last_os_error());
            }
            // A parent that died before the prctl sends no signal: give up instead.
            if libc::getppid() != parent {
                return Err(io::Error::from_raw_os_error(libc::ESRCH));
            }
            Ok(())
        })
    };
    command.spawn()
}

fn check(rc: libc::c_int) -> io::Result<()> {
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::from_raw_os_error(rc))
    }
}

/// A pipe whose ends close on exec: (read end, write end).
fn pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0; 2];
    // SAFETY: `fds` has room for two descriptors.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: both descriptors were just created and are owned here alone.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_spawned_child_holds_no_socket_even_one_without_close_on_exec() {
        // fork(2): "The child inherits copies of the parent's set of open file descriptors";
        // execve(2) keeps those without FD_CLOEXEC. The child (`cat`, blocked on its input)
        // must hold none, so the peer sees end of file as soon as this side closes.
        let mut pair = [0; 2];
        // SAFETY: `pair` has room for two descriptors; no SOCK_CLOEXEC on purpose.
        assert_eq!(
            unsafe { libc::socketpair(libc::AF_UNIX, libc::SOCK_STREAM, 0, pair.as_mut_ptr()) },
            0
        );
        let child = spawn_closed("cat", &[]).unwrap();
        // SAFETY: both descriptors are owned here and closed once.
        unsafe { libc::close(pair[0]) };
        let mut byte = [0u8; 1];
        // SAFETY: reading at most one byte into `byte`, without blocking.
        let read = unsafe { libc::recv(pair[1], byte.as_mut_ptr().cast(), 1, libc::MSG_DONTWAIT) };
        unsafe { libc::close(pair[1]) };
        assert_eq!(child.finish(b"").unwrap(), (0, String::new()));
        assert_eq!(
            read, 0,
            "the peer should see end of file, not EAGAIN: the child still holds the socket"
        );
    }

    #[test]
    fn a_program_gets_its_input_and_reports_status_and_errors() {
        let (status, errors) =
            run_program("sh", &["-c", "read line; echo \"got $line\" >&2; exit 3"], b"rule\n").unwrap();
        assert_eq!((status, errors.as_str()), (3, "got rule\n"));
    }

    #[test]
    fn a_missing_program_is_not_found() {
        let missing = run_program("sockerr-no-such-program", &[], b"").unwrap_err();
        assert_eq!(missing.kind(), io::ErrorKind::NotFound);
    }

    /// An ordinary user's PATH on Debian lacks /usr/sbin, where nftables installs `nft`: the
    /// lookup goes on there after PATH (execvp(3) alone would report ENOENT).
    #[test]
    fn a_program_outside_path_is_found_in_the_system_directories_and_path_comes_first() {
        let after_path = format!("/nonexistent:{SYSTEM_PROGRAM_DIRS}");
        assert_eq!(
            locate_in("nologin", after_path.as_ref()),
            std::path::Path::new("/usr/sbin/nologin")
        );
        assert_eq!(
            locate_in("sh", "/bin:/usr/bin".as_ref()),
            std::path::Path::new("/bin/sh")
        );
        assert_eq!(
            locate_in("no-such-program", "".as_ref()),
            std::path::Path::new("no-such-program")
        );
        assert_eq!(locate_in("./x", "/bin".as_ref()), std::path::Path::new("./x"));
    }
}

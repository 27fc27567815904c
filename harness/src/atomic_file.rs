//! Files written through a temporary beside them and a rename, so that a reader never sees
//! half a file, and so that no temporary outlives the run: every temporary being written is
//! registered, an interrupted run removes them before it dies ([`remove_unfinished`]), and a
//! run removes those an earlier run killed outright left behind ([`remove_stale`]).

use std::collections::BTreeSet;
use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};

/// Temporaries being written now. Once the run is interrupted the lock is never released, so
/// no new temporary can be created while the run dies.
static UNFINISHED: Mutex<BTreeSet<PathBuf>> = Mutex::new(BTreeSet::new());

fn unfinished() -> MutexGuard<'static, BTreeSet<PathBuf>> {
    UNFINISHED.lock().unwrap_or_else(PoisonError::into_inner)
}

/// `.NAME.PID.tmp` beside `path`: hidden, and naming the process that writes it.
fn temporary_for(path: &Path) -> io::Result<PathBuf> {
    let name = path.file_name().ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{} has no file name", path.display()),
        )
    })?;
    let mut tmp = std::ffi::OsString::from(".");
    tmp.push(name);
    tmp.push(format!(".{}.tmp", std::process::id()));
    Ok(path.with_file_name(tmp))
}

/// Whether `name` is a temporary of [`write`]'s naming (`.NAME.PID.tmp`).
fn is_temporary_name(name: &str) -> bool {
    let Some(inner) = name.strip_prefix('.').and_then(|n| n.strip_suffix(".tmp")) else {
        return false;
    };
    inner
        .rsplit_once('.')
        .is_some_and(|(file, pid)| !file.is_empty() && !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit()))
}

/// Writes `path` with `fill`, through a registered temporary renamed into place once `fill`
/// succeeded; on any error the temporary is removed and `path` is untouched.
pub fn write(path: &Path, fill: impl FnOnce(&mut File) -> io::Result<()>) -> io::Result<()> {
    let tmp = temporary_for(path)?;
    unfinished().insert(tmp.clone());
    let result = File::create(&tmp)
        .and_then(|mut file| fill(&mut file))
        .and_then(|()| std::fs::rename(&tmp, path));
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    unfinished().remove(&tmp);
    result
}

/// [`write()`] of `bytes`.
pub fn write_bytes(path: &Path, bytes: &[u8]) -> io::Result<()> {
    write(path, |file| io::Write::write_all(file, bytes))
}

/// Removes every temporary being written now and keeps new ones from being created: for a
/// run that is about to die of a signal. Never returns the lock.
pub fn remove_unfinished() {
    let held = unfinished();
    for tmp in held.iter() {
        let _ = std::fs::remove_file(tmp);
    }
    std::mem::forget(held);
}

/// Removes the temporaries an earlier run left in `dir` (it was killed while writing): files
/// named `.NAME.PID.tmp`. Returns how many were removed.
pub fn remove_stale(dir: &Path) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .filter(|e| e.file_name().to_str().is_some_and(is_temporary_name))
        .filter(|e| std::fs::remove_file(e.path()).is_ok())
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_write_leaves_neither_a_temporary_nor_a_changed_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("report.json");
        write_bytes(&path, b"old").unwrap();
        let failed = write(&path, |_| Err(io::Error::other("disk full")));
        assert!(failed.is_err());
        assert_eq!(std::fs::read(&path).unwrap(), b"old");
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .flatten()
            .map(|e| e.file_name())
            .collect();
        assert_eq!(names, ["report.json"]);
    }

    #[test]
    fn stale_temporaries_are_removed_and_other_hidden_files_kept() {
        let dir = tempfile::tempdir().unwrap();
        for name in [".a.pcapng.123.tmp", ".report.json.9.tmp", ".keep", "x.tmp", ".b.tmp"] {
            std::fs::write(dir.path().join(name), b"").unwrap();
        }
        assert_eq!(remove_stale(dir.path()), 2);
        let mut left: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .flatten()
            .map(|e| e.file_name().into_string().unwrap())
            .collect();
        left.sort();
        assert_eq!(left, [".b.tmp", ".keep", "x.tmp"]);
    }
}

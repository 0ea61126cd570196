//! Which journal files this process holds open for writing.
//!
//! DuckDB's file lock is per process (POSIX `fcntl`), so a second database instance on the same
//! file inside one process is *not* refused: it opens, and then reads (or writes) a file that
//! another instance is checkpointing under it. Measured with DuckDB 1.5.6: a read-only instance
//! opened beside a writing one in the same process succeeded and read its data. This registry
//! makes both cases explicit errors instead: a second `Journal::open` of the same file, and
//! `query_readonly` of a file this process is writing (which must go through
//! `Journal::query_readonly` and its snapshot).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

static OPEN: Mutex<BTreeSet<PathBuf>> = Mutex::new(BTreeSet::new());

/// Registration of one open journal file, removed on drop.
#[derive(Debug)]
pub(crate) struct Registration(PathBuf);

impl Drop for Registration {
    fn drop(&mut self) {
        lock().remove(&self.0);
    }
}

/// Registers `path` as open for writing; `None` when this process already has it open.
pub(crate) fn register(path: &Path) -> Option<Registration> {
    let key = canonical(path);
    // Not `then_some(Registration(..))`: that builds the value eagerly, and dropping the unused
    // one would deregister the holder's path (and deadlock on the held lock).
    let inserted = lock().insert(key.clone());
    if inserted {
        Some(Registration(key))
    } else {
        None
    }
}

/// Whether this process holds `path` open for writing.
pub(crate) fn is_open(path: &Path) -> bool {
    lock().contains(&canonical(path))
}

fn lock() -> std::sync::MutexGuard<'static, BTreeSet<PathBuf>> {
    // The set stays consistent even if a holder panicked: every operation is a single call.
    OPEN.lock().unwrap_or_else(|p| p.into_inner())
}

/// The path with symlinks and `..` resolved, so two spellings of one file match; a file that
/// does not exist yet is resolved through its folder.
fn canonical(path: &Path) -> PathBuf {
    if let Ok(p) = path.canonicalize() {
        return p;
    }
    match (path.parent(), path.file_name()) {
        (Some(parent), Some(name)) => {
            let parent = if parent.as_os_str().is_empty() { Path::new(".") } else { parent };
            parent.canonicalize().map(|p| p.join(name)).unwrap_or_else(|_| path.to_path_buf())
        }
        _ => path.to_path_buf(),
    }
}

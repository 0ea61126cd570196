//! The run directory's content-addressed object store: each step output is a folder named by
//! the blake3 hash of its files. Written in a scratch folder, then renamed into place in one
//! step, so a killed process never leaves a half-written object.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::steps::Artifact;

/// The file in every object that holds the step's description of its output.
const META: &str = "meta.json";

/// The object store of one run directory.
pub struct Store {
    root: PathBuf,
    counter: AtomicU64,
}

/// What committing an output produced.
pub struct Committed {
    pub artifact: Artifact,
    pub bytes: u64,
    pub files: u64,
}

impl Store {
    /// Opens (creating) the store under `run_dir`, and proves it is writable.
    pub fn open(run_dir: &Path) -> io::Result<Store> {
        for sub in ["objects", "tmp", "cache"] {
            std::fs::create_dir_all(run_dir.join(sub))?;
        }
        let probe = run_dir.join("tmp").join(format!(".probe-{}", std::process::id()));
        std::fs::write(&probe, b"")?;
        std::fs::remove_file(&probe)?;
        Ok(Store { root: run_dir.to_path_buf(), counter: AtomicU64::new(0) })
    }

    /// The run directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// A fresh, empty folder for one attempt of `node`.
    pub fn work_dir(&self, node: &str) -> io::Result<PathBuf> {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        let dir = self.root.join("tmp").join(format!("{}-{}-{n}", file_name(node), std::process::id()));
        // The name is unique to this process and attempt; one left by a killed process with the
        // same pid is the rare case, so it costs a retry rather than a check per attempt.
        match std::fs::create_dir(&dir) {
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                std::fs::remove_dir_all(&dir)?;
                std::fs::create_dir(&dir)?;
            }
            other => other?,
        }
        Ok(dir)
    }

    /// Moves a finished attempt's folder into the store under its content hash.
    pub fn commit(&self, work: &Path, meta: &serde_json::Value) -> io::Result<Committed> {
        let meta_bytes = serde_json::to_vec_pretty(meta)?;
        std::fs::write(work.join(META), &meta_bytes)?;
        let (hash, bytes, files) = hash_dir(work, &meta_bytes)?;
        let dest = self.root.join("objects").join(&hash);
        if dest.exists() {
            std::fs::remove_dir_all(work)?;
        } else {
            std::fs::rename(work, &dest)?;
        }
        Ok(Committed { artifact: Artifact { hash, dir: dest, meta: meta.clone() }, bytes, files })
    }

    /// The stored output with this hash, if it is (still) there.
    pub fn object(&self, hash: &str) -> Option<Artifact> {
        let dir = self.root.join("objects").join(hash);
        let meta = std::fs::read(dir.join(META)).ok()?;
        let meta = serde_json::from_slice(&meta).ok()?;
        Some(Artifact { hash: hash.to_string(), dir, meta })
    }

    /// Removes scratch folders left by killed runs.
    pub fn clean_scratch(&self) -> io::Result<()> {
        let tmp = self.root.join("tmp");
        for entry in std::fs::read_dir(&tmp)? {
            let path = entry?.path();
            if path.is_dir() {
                std::fs::remove_dir_all(path)?;
            }
        }
        Ok(())
    }
}

/// A node id as a file name.
pub fn file_name(node: &str) -> String {
    node.replace(['/', '\\'], "_")
}

/// blake3 over every file (sorted relative path, length, bytes), total bytes, file count.
/// `meta` is what was just written to `meta.json`, hashed from memory rather than read back.
fn hash_dir(dir: &Path, meta: &[u8]) -> io::Result<(String, u64, u64)> {
    let mut files = Vec::new();
    collect(dir, dir, &mut files)?;
    files.sort();
    let mut hasher = blake3::Hasher::new();
    let mut bytes = 0;
    for rel in &files {
        let data = if rel == META { std::borrow::Cow::Borrowed(meta) } else { std::fs::read(dir.join(rel))?.into() };
        hasher.update(rel.as_bytes());
        hasher.update(&[0]);
        hasher.update(&(data.len() as u64).to_le_bytes());
        hasher.update(&data);
        bytes += data.len() as u64;
    }
    Ok((hasher.finalize().to_hex()[..32].to_string(), bytes, files.len() as u64))
}

fn collect(root: &Path, dir: &Path, out: &mut Vec<String>) -> io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect(root, &path, out)?;
        } else {
            out.push(path.strip_prefix(root).expect("inside root").to_string_lossy().replace('\\', "/"));
        }
    }
    Ok(())
}

/// blake3 of a file's contents, streamed.
pub fn hash_file(path: &Path) -> io::Result<String> {
    let mut hasher = blake3::Hasher::new();
    hasher.update_reader(std::fs::File::open(path)?)?;
    Ok(hasher.finalize().to_hex()[..32].to_string())
}

//! The run directory's content-addressed object store: each step output is named by the blake3
//! hash of its files. An output with files is a folder, written in a scratch folder and then
//! renamed into place in one step, so a killed process never leaves a half-written object; one
//! with no files but its `meta.json` is a line of the inline log (see [`inline`]).

mod inline;

use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use self::inline::Inline;
use crate::steps::Artifact;

/// The file in every object that holds the step's description of its output.
const META: &str = "meta.json";

/// Each folder object's list of its files with their sizes and blake3 hashes, written at commit
/// so a reused object can be checked. Not part of the content hash (it is derived from it).
const MANIFEST: &str = ".evoflow-files.json";

/// Objects up to this size are checked byte for byte whenever they are reused; larger ones by
/// their files' sizes (all of them with `run --verify`).
pub const VERIFY_CONTENT_UP_TO: u64 = 256 << 20;

/// One file of an object, as committed.
#[derive(serde::Serialize, serde::Deserialize)]
struct ManifestFile {
    path: String,
    bytes: u64,
    blake3: String,
}

/// The object store of one run directory.
pub struct Store {
    root: PathBuf,
    counter: AtomicU64,
    inline: Inline,
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
        Ok(Store { root: run_dir.to_path_buf(), counter: AtomicU64::new(0), inline: Inline::open(run_dir)? })
    }

    /// The run directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where one attempt of `node` writes its files: a path no other attempt of this run uses
    /// (a run starts by clearing `tmp/`, see [`Store::clean_scratch`]).
    pub fn work_dir(&self, node: &str) -> WorkDir {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        let path = self.root.join("tmp").join(format!("{}-{}-{n}", file_name(node), std::process::id()));
        WorkDir { path, made: AtomicBool::new(false) }
    }

    /// Stores a finished attempt's output under its content hash: its folder, moved into place,
    /// or (when the step wrote no files) its meta alone, in the inline log.
    pub fn commit(&self, work: &WorkDir, meta: &serde_json::Value) -> io::Result<Committed> {
        let meta_bytes = serde_json::to_vec_pretty(meta)?;
        let dest = |hash: &str| self.root.join("objects").join(hash);
        if !work.is_made() {
            let mut content = ContentHash::default();
            content.add(META, &meta_bytes);
            let (hash, bytes, files) = content.finish();
            self.inline.put(&hash, meta)?;
            return Ok(Committed { artifact: Artifact { dir: dest(&hash), hash, meta: meta.clone() }, bytes, files });
        }
        let work = &work.path;
        std::fs::write(work.join(META), &meta_bytes)?;
        let (content, manifest) = hash_dir(work, &meta_bytes)?;
        let (hash, bytes, files) = content.finish();
        std::fs::write(work.join(MANIFEST), serde_json::to_vec(&manifest)?)?;
        let dir = dest(&hash);
        if dir.exists() {
            std::fs::remove_dir_all(work)?;
        } else {
            std::fs::rename(work, &dir)?;
        }
        Ok(Committed { artifact: Artifact { hash, dir, meta: meta.clone() }, bytes, files })
    }

    /// The stored output with this hash, if it is (still) there. An inline object's `dir` does
    /// not exist: it has no files.
    pub fn object(&self, hash: &str) -> Option<Artifact> {
        let dir = self.root.join("objects").join(hash);
        let meta = match self.inline.get(hash) {
            Some(meta) => meta,
            None => serde_json::from_slice(&std::fs::read(dir.join(META)).ok()?).ok()?,
        };
        Some(Artifact { hash: hash.to_string(), dir, meta })
    }

    /// Checks a stored object before it is reused: every committed file is there with its size,
    /// and (when `content`) its bytes. The error names the damaged file. An inline object has
    /// no files to check; an object committed before manifests existed is checked by its content
    /// hash, and gets a manifest when it passes.
    pub fn verify(&self, artifact: &Artifact, content: bool) -> Result<(), String> {
        let dir = &artifact.dir;
        if !dir.is_dir() {
            return Ok(());
        }
        let shown = |rel: &str| format!("`{}`", dir.join(rel).display());
        let manifest: Vec<ManifestFile> = match std::fs::read(dir.join(MANIFEST)) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| format!("{}: {e}", shown(MANIFEST)))?,
            Err(_) => {
                let meta = std::fs::read(dir.join(META)).map_err(|e| format!("{}: {e}", shown(META)))?;
                let (content, manifest) = hash_dir(dir, &meta).map_err(|e| format!("`{}`: {e}", dir.display()))?;
                if content.finish().0 != artifact.hash {
                    return Err(format!("`{}`: its files no longer hash to its name", dir.display()));
                }
                let _ = std::fs::write(dir.join(MANIFEST), serde_json::to_vec(&manifest).unwrap_or_default());
                return Ok(());
            }
        };
        for file in &manifest {
            let path = dir.join(&file.path);
            let bytes = std::fs::metadata(&path).map_err(|_| format!("{} is missing", shown(&file.path)))?.len();
            if bytes != file.bytes {
                return Err(format!("{} is {bytes} bytes, {} when it was written", shown(&file.path), file.bytes));
            }
        }
        if content {
            for file in &manifest {
                let hash = hash_file(&dir.join(&file.path)).map_err(|e| format!("{}: {e}", shown(&file.path)))?;
                if hash != file.blake3 {
                    return Err(format!("{}: its bytes changed since it was written", shown(&file.path)));
                }
            }
        }
        Ok(())
    }

    /// Takes a damaged object out of the store (into the scratch folder the next run clears),
    /// so the step that made it runs again.
    pub fn evict(&self, artifact: &Artifact) -> io::Result<()> {
        let aside = self.root.join("tmp").join(format!("damaged-{}-{}", artifact.hash, std::process::id()));
        std::fs::rename(&artifact.dir, aside)
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

/// The folder one attempt writes its output files to, made only when the step asks for it:
/// most steps write none, and a folder per step was most of the engine's cost per step.
pub struct WorkDir {
    path: PathBuf,
    made: AtomicBool,
}

impl WorkDir {
    /// The folder at `path` (a job's output on a cluster node), made if it exists.
    pub fn at(path: PathBuf) -> Self {
        let made = AtomicBool::new(path.is_dir());
        WorkDir { path, made }
    }

    /// The folder, made if it is not yet.
    pub fn make(&self) -> io::Result<&Path> {
        if !self.made.load(Ordering::Acquire) {
            std::fs::create_dir_all(&self.path)?;
            self.made.store(true, Ordering::Release);
        }
        Ok(&self.path)
    }

    /// Whether the step asked for the folder.
    pub fn is_made(&self) -> bool {
        self.made.load(Ordering::Acquire)
    }

    /// Where the folder is (or would be).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Takes `from` (an attempt's output written elsewhere on the same filesystem, by a job) as
    /// this folder; an absent `from` is an attempt that wrote no files.
    pub fn adopt(&self, from: &Path) -> io::Result<()> {
        if !from.exists() {
            return Ok(());
        }
        if let Some(parent) = self.path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::rename(from, &self.path)?;
        self.made.store(true, Ordering::Release);
        Ok(())
    }

    /// Removes what a failed attempt wrote.
    pub fn discard(&self) {
        if self.is_made() {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}

/// A node id as a file name.
pub fn file_name(node: &str) -> String {
    node.replace(['/', '\\'], "_")
}

/// The content hash of a folder's files (`meta` is what was just written to `meta.json`, hashed
/// from memory rather than read back), and its manifest.
fn hash_dir(dir: &Path, meta: &[u8]) -> io::Result<(ContentHash, Vec<ManifestFile>)> {
    let mut names = Vec::new();
    collect(dir, dir, &mut names)?;
    names.retain(|n| n != MANIFEST);
    names.sort();
    let mut hash = ContentHash::default();
    let mut manifest = Vec::with_capacity(names.len());
    for rel in &names {
        let data = if rel == META { meta.to_vec() } else { std::fs::read(dir.join(rel))? };
        hash.add(rel, &data);
        manifest.push(ManifestFile {
            path: rel.clone(),
            bytes: data.len() as u64,
            blake3: blake3::hash(&data).to_hex()[..32].to_string(),
        });
    }
    Ok((hash, manifest))
}

/// blake3 over an object's files in sorted order (relative path, length, bytes), with the total
/// bytes and the file count.
#[derive(Default)]
struct ContentHash {
    hasher: blake3::Hasher,
    bytes: u64,
    files: u64,
}

impl ContentHash {
    fn add(&mut self, rel: &str, data: &[u8]) {
        self.hasher.update(rel.as_bytes());
        self.hasher.update(&[0]);
        self.hasher.update(&(data.len() as u64).to_le_bytes());
        self.hasher.update(data);
        self.bytes += data.len() as u64;
        self.files += 1;
    }

    fn finish(self) -> (String, u64, u64) {
        (self.hasher.finalize().to_hex()[..32].to_string(), self.bytes, self.files)
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        (dir, store)
    }

    #[test]
    fn an_output_without_files_is_kept_inline_under_the_hash_its_folder_would_have() {
        let (dir, store) = store();
        let meta = serde_json::json!({ "value": 3 });
        let work = store.work_dir("n");
        let inline = store.commit(&work, &meta).unwrap();
        assert!(!inline.artifact.dir.exists(), "no folder for an output without files");
        // The same meta committed as a folder (the step asked for its output folder).
        let work = store.work_dir("n");
        work.make().unwrap();
        let folder = store.commit(&work, &meta).unwrap();
        assert_eq!(inline.artifact.hash, folder.artifact.hash);
        assert_eq!((inline.bytes, inline.files), (folder.bytes, folder.files));
        drop(store);
        let store = Store::open(dir.path()).unwrap();
        assert_eq!(store.object(&inline.artifact.hash).unwrap().meta, meta);
    }

    #[test]
    fn a_stored_score_reads_back_to_the_same_bits() {
        // A score read from a stored output (a cached step, a job's result) must equal the one
        // the step returned: serde_json's default float parser can be off by one ulp.
        let (_dir, store) = store();
        let score = 0.24735868140744574_f64;
        let work = store.work_dir("n");
        work.make().unwrap();
        let committed = store.commit(&work, &serde_json::json!({ "score": score })).unwrap();
        let read = store.object(&committed.artifact.hash).unwrap().meta["score"].as_f64().unwrap();
        assert_eq!(read.to_bits(), score.to_bits(), "{read} != {score}");
    }

    #[test]
    fn an_output_with_files_is_a_folder_named_by_its_content() {
        let (_dir, store) = store();
        let work = store.work_dir("n");
        std::fs::create_dir_all(work.make().unwrap().join("sub")).unwrap();
        std::fs::write(work.path().join("sub/data.bin"), b"rows").unwrap();
        let committed = store.commit(&work, &serde_json::json!({ "rows": 1 })).unwrap();
        assert_eq!(committed.files, 2);
        assert!(committed.artifact.dir.join("sub/data.bin").is_file());
        assert!(!work.path().exists(), "the work folder moved into the store");
        assert_eq!(store.object(&committed.artifact.hash).unwrap().meta["rows"], 1);
        assert!(store.object("0123").is_none());
    }
}

//! The production baseline: what a launch promotes and what the next fast round starts from.
//!
//! Versions live in `<run dir>/production/vNNNN/` (the workflow source the winner compiled from,
//! its checkpoint, and the decision that launched it); `production/CURRENT` names the current
//! one. A version folder is written in scratch and renamed into place, and `CURRENT` is replaced
//! by a rename, so a kill leaves either the old baseline or the new one, never half of one.

use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// The file inside a version folder holding the workflow source.
pub const SOURCE: &str = "workflow.evo";
/// The folder inside a version folder holding the trained weights.
pub const MODEL: &str = "model";

/// A launched baseline.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Version {
    /// `v0001`, `v0002`, ...
    pub name: String,
    /// The experiment that was launched.
    pub experiment: String,
    /// blake3 of the version's files: enters the cache key of the loops that read it.
    pub hash: String,
    pub offline_score: Option<f64>,
    /// The online delta of the primary metric that launched it.
    pub delta: Option<f64>,
    /// The blocks the launched candidate evolves (a listed variant may name other blocks than
    /// the workflow's `baseline:`); the next fast round starts from these.
    #[serde(default)]
    pub blocks: Option<super::Blocks>,
}

/// The production folder of a run dir.
pub struct Production {
    root: PathBuf,
}

impl Production {
    /// The production folder of `run_dir` (it need not exist yet).
    pub fn new(run_dir: &Path) -> Self {
        Production { root: run_dir.join("production") }
    }

    /// The current version, if anything was ever launched.
    pub fn current(&self) -> io::Result<Option<Version>> {
        let pointer = match std::fs::read_to_string(self.root.join("CURRENT")) {
            Ok(text) => text,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        let meta = std::fs::read(self.root.join(pointer.trim()).join("version.json"))?;
        serde_json::from_slice(&meta).map(Some).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
    }

    /// What the current version adds to a cache key: a step that reads the production baseline
    /// must run again after a launch.
    pub fn state_key(&self) -> Result<Option<String>, String> {
        let current = self.current().map_err(|e| format!("cannot read the production baseline: {e}"))?;
        Ok(current.map(|v| format!("production {} {}", v.name, v.hash)))
    }

    /// The folder of a version.
    pub fn dir(&self, version: &Version) -> PathBuf {
        self.root.join(&version.name)
    }

    /// The workflow source of a version.
    pub fn source(&self, version: &Version) -> io::Result<String> {
        std::fs::read_to_string(self.dir(version).join(SOURCE))
    }

    /// Promotes a candidate: copies its source and checkpoint into a new version and makes it
    /// current. Returns the new version.
    pub fn promote(
        &self,
        experiment: &str,
        source: &str,
        blocks: &super::Blocks,
        checkpoint: &Path,
        offline_score: Option<f64>,
        delta: Option<f64>,
    ) -> io::Result<Version> {
        std::fs::create_dir_all(&self.root)?;
        let number = self.versions()?.len() + 1;
        let name = format!("v{number:04}");
        let scratch = self.root.join(format!(".{name}-{}", std::process::id()));
        if scratch.exists() {
            std::fs::remove_dir_all(&scratch)?;
        }
        std::fs::create_dir_all(scratch.join(MODEL))?;
        std::fs::write(scratch.join(SOURCE), source)?;
        copy_dir(checkpoint, &scratch.join(MODEL))?;
        let hash = hash_files(&scratch)?;
        let version = Version {
            name: name.clone(),
            experiment: experiment.to_string(),
            hash,
            offline_score,
            delta,
            blocks: Some(blocks.clone()),
        };
        std::fs::write(scratch.join("version.json"), serde_json::to_vec_pretty(&version)?)?;
        std::fs::rename(&scratch, self.root.join(&name))?;
        let pointer = self.root.join(format!(".CURRENT-{}", std::process::id()));
        std::fs::write(&pointer, &name)?;
        std::fs::rename(pointer, self.root.join("CURRENT"))?;
        Ok(version)
    }

    /// Every version folder, oldest first.
    fn versions(&self) -> io::Result<Vec<String>> {
        let mut names: Vec<String> = std::fs::read_dir(&self.root)?
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with('v') && n[1..].chars().all(|c| c.is_ascii_digit()))
            .collect();
        names.sort();
        Ok(names)
    }
}

/// blake3 over the relative paths and contents of every file under `dir`, in sorted order.
fn hash_files(dir: &Path) -> io::Result<String> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<(String, PathBuf)>) -> io::Result<()> {
        for entry in std::fs::read_dir(dir)? {
            let path = entry?.path();
            if path.is_dir() {
                walk(root, &path, out)?;
            } else {
                let rel = path.strip_prefix(root).unwrap_or(&path).to_string_lossy().into_owned();
                out.push((rel, path));
            }
        }
        Ok(())
    }
    let mut files = Vec::new();
    walk(dir, dir, &mut files)?;
    files.sort();
    let mut hasher = blake3::Hasher::new();
    for (rel, path) in files {
        hasher.update(rel.as_bytes());
        hasher.update(&std::fs::read(path)?);
    }
    Ok(hasher.finalize().to_hex()[..32].to_string())
}

/// Copies the files of `from` (recursively) into the existing folder `to`.
pub fn copy_dir(from: &Path, to: &Path) -> io::Result<()> {
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            std::fs::create_dir_all(&target)?;
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), target)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn promoting_makes_a_new_current_version_and_keeps_the_old() {
        let dir = tempfile::tempdir().unwrap();
        let production = Production::new(dir.path());
        assert_eq!(production.current().unwrap(), None);
        let ckpt = dir.path().join("ckpt");
        std::fs::create_dir_all(&ckpt).unwrap();
        std::fs::write(ckpt.join("weights.safetensors"), b"w1").unwrap();
        let blocks = crate::loops::Blocks { model: "m".into(), optimizer: None, reward: Some("r".into()) };

        let v1 = production.promote("e1", "model m {}", &blocks, &ckpt, Some(0.3), Some(0.02)).unwrap();
        assert_eq!(v1.name, "v0001");
        assert_eq!(production.current().unwrap(), Some(v1.clone()));
        std::fs::write(ckpt.join("weights.safetensors"), b"w2").unwrap();
        let v2 = production.promote("e2", "model m2 {}", &blocks, &ckpt, None, None).unwrap();
        assert_eq!(v2.name, "v0002");
        assert_ne!(v1.hash, v2.hash);
        assert_eq!(production.current().unwrap().unwrap().experiment, "e2");
        assert_eq!(production.current().unwrap().unwrap().blocks, Some(blocks));
        assert_eq!(production.source(&v1).unwrap(), "model m {}");
        assert_eq!(std::fs::read(production.dir(&v1).join(MODEL).join("weights.safetensors")).unwrap(), b"w1");
    }
}

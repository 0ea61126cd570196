//! The compiled-module cache: `Module::serialize` output in a caller-given directory.
//!
//! Entries are keyed by blake3 of the wasm bytes and wasmtime's compatibility hash (its
//! version and every codegen-relevant setting), so a wasmtime upgrade or a config change never
//! meets a stale entry. Each file carries a magic header and a blake3 checksum of its payload;
//! deserialising is `unsafe` (it maps native code), so only files that pass both checks are
//! loaded, and anything else is recompiled and rewritten. The checksum catches corruption and
//! truncation, not a hostile writer: the directory must be as trusted as a build cache.

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

use wasmtime::{Engine, Module};

use crate::error::SandboxError;

const MAGIC: &[u8; 8] = b"EVOSBX01";
const HEADER: usize = MAGIC.len() + 32;

/// A directory of compiled modules.
#[derive(Debug, Clone)]
pub struct ModuleCache {
    dir: PathBuf,
}

/// Feeds `Hash` impls into blake3, so wasmtime's compatibility hash becomes part of our key.
struct Blake3Hasher(blake3::Hasher);

impl Hasher for Blake3Hasher {
    fn finish(&self) -> u64 {
        0
    }
    fn write(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }
}

impl ModuleCache {
    /// A cache in `dir` (created on first write).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        ModuleCache { dir: dir.into() }
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The file an entry for `wasm` compiled by `engine` lives in.
    pub(crate) fn entry_path(&self, engine: &Engine, wasm: &[u8]) -> PathBuf {
        let mut h = Blake3Hasher(blake3::Hasher::new());
        h.write(b"evoflow-sandboxes module cache\0");
        h.write(env!("CARGO_PKG_VERSION").as_bytes());
        engine.precompile_compatibility_hash().hash(&mut h);
        h.write(&(wasm.len() as u64).to_le_bytes());
        h.write(wasm);
        self.dir.join(format!("{}.cwasm", h.0.finalize().to_hex()))
    }

    /// The cached module for `wasm`, or `compile()`'s result, stored for next time.
    /// The flag says whether the cache answered.
    pub(crate) fn get_or_compile(
        &self,
        engine: &Engine,
        wasm: &[u8],
        compile: impl FnOnce() -> Result<Module, SandboxError>,
    ) -> Result<(Module, bool), SandboxError> {
        let path = self.entry_path(engine, wasm);
        if let Some(module) = read_entry(engine, &path) {
            return Ok((module, true));
        }
        let module = compile()?;
        let payload = module.serialize().map_err(|e| SandboxError::Engine(e.to_string()))?;
        write_entry(&self.dir, &path, &payload)?;
        Ok((module, false))
    }
}

/// A verified entry, or `None` when missing, corrupt, or for another engine.
fn read_entry(engine: &Engine, path: &Path) -> Option<Module> {
    let bytes = std::fs::read(path).ok()?;
    if bytes.len() < HEADER || &bytes[..MAGIC.len()] != MAGIC {
        return None;
    }
    let (sum, payload) = bytes[MAGIC.len()..].split_at(32);
    if blake3::hash(payload).as_bytes() != sum {
        return None;
    }
    // SAFETY: the payload is byte-for-byte what `Module::serialize` produced when this cache
    // wrote the file (magic and checksum verified above), and wasmtime itself rejects
    // artifacts from an incompatible engine.
    unsafe { Module::deserialize(engine, payload) }.ok()
}

fn write_entry(dir: &Path, path: &Path, payload: &[u8]) -> Result<(), SandboxError> {
    let io = |p: &Path| {
        let p = p.to_path_buf();
        move |source| SandboxError::Io { path: p, source }
    };
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let mut bytes = Vec::with_capacity(HEADER + payload.len());
    bytes.extend_from_slice(MAGIC);
    bytes.extend_from_slice(blake3::hash(payload).as_bytes());
    bytes.extend_from_slice(payload);
    // Write aside and rename, so a reader never sees half a file.
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    std::fs::write(&tmp, &bytes).map_err(io(&tmp))?;
    std::fs::rename(&tmp, path).map_err(io(path))
}

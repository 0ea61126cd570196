//! The standard library: `.evo` modules and prompt templates under `stdlib/`, embedded at build
//! time so the binary needs no files beside it.

include!(concat!(env!("OUT_DIR"), "/stdlib_files.rs"));

/// The folder name stdlib files are shown under in diagnostics.
pub const ROOT: &str = "<std>";

/// Every stdlib module: (path relative to `stdlib/`, text).
pub fn modules() -> impl Iterator<Item = (&'static str, &'static str)> {
    FILES.iter().copied().filter(|(path, _)| path.ends_with(".evo"))
}

/// A stdlib file by its shown path (`<std>/prompts/optimizer.j2`).
pub fn read(path: &str) -> Option<&'static str> {
    let rel = path.strip_prefix(ROOT)?.strip_prefix('/')?;
    FILES.iter().find(|(p, _)| *p == rel).map(|(_, text)| *text)
}

/// The version of the stdlib: a hash of every file in it, so cache keys change when it does.
pub fn version() -> String {
    let mut hasher = blake3::Hasher::new();
    for (path, text) in FILES {
        hasher.update(path.as_bytes());
        hasher.update(&[0]);
        hasher.update(text.as_bytes());
        hasher.update(&[0]);
    }
    hasher.finalize().to_hex()[..16].to_string()
}

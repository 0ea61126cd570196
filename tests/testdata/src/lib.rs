//! The real data the tests use, and the one place that knows where it lives.
//!
//! Data is never committed (its license forbids redistribution) and never read from beside the
//! clone: `scripts/fetch-data.sh` fetches it into `$EVOFLOW_DATA` (default
//! `~/.cache/evoflow-data`), checksum-verified. `scripts/test.sh` runs that script first; a bare
//! `cargo test` runs it here on first use, and a test whose data cannot be had fails naming it.

mod reward;

pub use reward::{reward_def, reward_fn};

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The folder the fetch script fills: `$EVOFLOW_DATA`, else `~/.cache/evoflow-data`.
pub fn data_dir() -> PathBuf {
    match std::env::var_os("EVOFLOW_DATA") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache/evoflow-data"),
    }
}

/// MovieLens-100K (943 users, 1,682 movies, 100,000 ratings of 1 to 5 stars, 1997-98).
pub struct Ml100k {
    dir: PathBuf,
}

impl Ml100k {
    /// `ratings.csv`: `userId,movieId,rating,timestamp`, MovieLens' CSV layout.
    pub fn ratings_csv(&self) -> PathBuf {
        self.dir.join("ratings.csv")
    }

    /// `ml-100k.inter`: RecBole's tab-separated file of the same ratings.
    pub fn inter(&self) -> PathBuf {
        self.dir.join("ml-100k.inter")
    }

    /// `ml-100k.item`: titles, release years and 19 genre flags.
    pub fn items(&self) -> PathBuf {
        self.dir.join("ml-100k.item")
    }

    /// `ml-100k.user`: each user's age, gender, occupation and zip code.
    pub fn users(&self) -> PathBuf {
        self.dir.join("ml-100k.user")
    }
}

/// MovieLens-100K, fetched on first use; panics with the fetch script's words when it cannot be had.
pub fn ml_100k() -> Ml100k {
    static FETCHED: OnceLock<Result<(), String>> = OnceLock::new();
    let dir = data_dir().join("ml-100k");
    let ready = FETCHED.get_or_init(|| fetch(&dir));
    if let Err(why) = ready {
        panic!("real test data missing: {why}");
    }
    Ml100k { dir }
}

/// Runs `scripts/fetch-data.sh` (idempotent: a check of the checksums when all is there).
fn fetch(dir: &Path) -> Result<(), String> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/fetch-data.sh");
    let hint = format!("run `{}` (it needs pip and the package index)", script.display());
    let out = Command::new("bash")
        .arg(&script)
        .arg("--quiet")
        .output()
        .map_err(|e| format!("cannot run the fetch script: {e}; {hint}"))?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        return Err(format!("the fetch script failed ({}): {}; {hint}", out.status, stderr.trim()));
    }
    if !dir.join("ratings.csv").is_file() {
        return Err(format!("{} has no ratings.csv after fetching; {hint}", dir.display()));
    }
    Ok(())
}

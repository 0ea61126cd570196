//! The cache index of a run directory: one append-only log, `cache/index.jsonl`. Each line says
//! "node N finished with key K, whose output is E" and carries K's components for `explain`.
//!
//! Why a log and not a file per key: a file per entry costs an inode, a write and a rename per
//! step, which dominated the engine's per-step cost. A line is appended with one `write` before
//! the step counts as finished, so a SIGKILL can never lose a finished step's entry (the kernel
//! keeps what `write` accepted); a torn last line (power loss mid-write) is cut off when the log
//! is next opened for writing, and only costs that step a re-run.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::Path;
use std::sync::{Arc, Mutex};

use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};

use super::CacheKey;

/// The log's path under the run dir.
const LOG: &str = "cache/index.jsonl";
/// Superseded lines tolerated before the log is rewritten, beyond one per live line.
const SLACK: usize = 1024;

/// One cache entry: which output a key produced.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Entry {
    pub key: String,
    pub node: String,
    pub output: String,
    /// Size of the output, for the journal's record of a cache hit.
    pub bytes: u64,
    pub files: u64,
}

/// One line of the log.
#[derive(Serialize, Deserialize)]
struct Line<'a, K> {
    #[serde(borrow)]
    node: Cow<'a, str>,
    entry: Entry,
    key: K,
}

/// What the log holds, in memory.
#[derive(Default)]
struct State {
    /// Entry, and the text of the line that recorded it (its key's components), by key hash.
    entries: HashMap<String, (Entry, Arc<str>)>,
    /// The key hash each node last finished with.
    last: HashMap<String, String>,
    /// Lines in the log, live or superseded.
    lines: usize,
    /// The log, open for appending (a run's index only).
    file: Option<File>,
}

/// The cache index of one run directory.
pub struct Index {
    state: Mutex<State>,
}

impl Index {
    /// Reads the index under `run_dir` (none yet is an empty index), for looking only.
    pub fn load(run_dir: &Path) -> io::Result<Index> {
        let path = run_dir.join(LOG);
        let (state, _) = read(&path)?;
        Ok(Index { state: Mutex::new(state) })
    }

    /// Reads the index under `run_dir` for a run: cuts a torn last line, rewrites the log when
    /// most of it is superseded, and opens it for appending.
    pub fn open(run_dir: &Path) -> io::Result<Index> {
        let path = run_dir.join(LOG);
        let (mut state, sound) = read(&path)?;
        if state.lines > 2 * state.entries.len() + SLACK || sound.is_some() {
            compact(&path, &state)?;
            state.lines = state.entries.len() + state.last.len();
        }
        state.file = Some(OpenOptions::new().create(true).append(true).open(&path)?);
        Ok(Index { state: Mutex::new(state) })
    }

    /// The entry for `key`, if any.
    pub fn get(&self, key: &str) -> Option<Entry> {
        self.state.lock().unwrap().entries.get(key).map(|(entry, _)| entry.clone())
    }

    /// Records that `node` finished with `key`, whose output is `entry`: a new output, or a
    /// cache hit (written only when the node's last key was another, so a re-run of an
    /// unchanged workflow writes nothing).
    pub fn put(&self, node: &str, entry: &Entry, key: &CacheKey) -> io::Result<()> {
        let mut state = self.state.lock().unwrap();
        let known = state.entries.get(&entry.key).is_some_and(|(e, _)| e.output == entry.output);
        if known && state.last.get(node) == Some(&entry.key) {
            return Ok(());
        }
        let mut line = serde_json::to_string(&Line { node: node.into(), entry: entry.clone(), key })?;
        line.push('\n');
        let file = state.file.as_mut().ok_or_else(|| io::Error::other("the cache index is open read-only"))?;
        // One `write` per line: a line is in the log whole, or (torn by power loss) cut off later.
        file.write_all(line.as_bytes())?;
        state.entries.insert(entry.key.clone(), (entry.clone(), Arc::from(line.trim_end())));
        state.last.insert(node.to_string(), entry.key.clone());
        state.lines += 1;
        Ok(())
    }

    /// The key `node` had the last time it finished.
    pub fn last_key(&self, node: &str) -> Option<CacheKey> {
        let state = self.state.lock().unwrap();
        let (_, line) = state.entries.get(state.last.get(node)?)?;
        serde_json::from_str::<Line<'_, CacheKey>>(line).ok().map(|line| line.key)
    }
}

/// Reads the log; the second value is the length of its sound prefix when a torn line follows.
fn read(path: &Path) -> io::Result<(State, Option<u64>)> {
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok((State::default(), None)),
        Err(e) => return Err(e),
    };
    let sound = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    let mut state = State::default();
    for text in bytes[..sound].split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
        state.lines += 1;
        // A line that does not parse was torn and then appended to; it only costs a re-run.
        let Ok(text) = std::str::from_utf8(text) else { continue };
        let Ok(line) = serde_json::from_str::<Line<'_, IgnoredAny>>(text) else { continue };
        state.last.insert(line.node.to_string(), line.entry.key.clone());
        state.entries.insert(line.entry.key.clone(), (line.entry, Arc::from(text)));
    }
    let torn = (sound < bytes.len()).then_some(sound as u64);
    Ok((state, torn))
}

/// Rewrites the log with one line per live entry and per node, atomically (write, then rename).
fn compact(path: &Path, state: &State) -> io::Result<()> {
    let mut out = Vec::new();
    let mut push = |node: &str, entry: &Entry, text: &str| -> io::Result<()> {
        let key = serde_json::from_str::<Line<'_, serde_json::Value>>(text)?.key;
        serde_json::to_writer(&mut out, &Line { node: node.into(), entry: entry.clone(), key })?;
        out.push(b'\n');
        Ok(())
    };
    // Entries first, then each node's last key, so that replaying the log ends on the latter.
    for (entry, key) in state.entries.values() {
        if state.last.get(&entry.node) != Some(&entry.key) {
            push(&entry.node, entry, key)?;
        }
    }
    for (node, hash) in &state.last {
        if let Some((entry, key)) = state.entries.get(hash) {
            push(node, entry, key)?;
        }
    }
    super::write_atomic(path, &out)
}

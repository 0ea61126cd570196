//! The cache index of a run directory: one append-only log (see [`crate::jsonl`]),
//! `cache/index.jsonl`. Each line says "node N finished with key K, whose output is E" and
//! carries K's components for `explain`. A line is appended before the step counts as finished,
//! so a SIGKILL can never lose a finished step's entry; a torn one only costs that step a re-run.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fs::File;
use std::io;
use std::path::Path;
use std::sync::{Arc, Mutex};

use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use super::CacheKey;
use crate::jsonl::{self, Log};

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
        let state = read(&Log::read(&run_dir.join(LOG))?);
        Ok(Index { state: Mutex::new(state) })
    }

    /// Reads the index under `run_dir` for a run: cuts a torn last line, rewrites the log when
    /// most of it is superseded, and opens it for appending.
    pub fn open(run_dir: &Path) -> io::Result<Index> {
        let path = run_dir.join(LOG);
        let log = Log::read(&path)?;
        let mut state = read(&log);
        state.file = Some(if state.lines > 2 * state.entries.len() + SLACK || log.is_torn() {
            compact(&path, &state)?;
            state.lines = state.entries.len() + state.last.len();
            jsonl::open_append(&path)?
        } else {
            log.end().open(&path)?
        });
        Ok(Index { state: Mutex::new(state) })
    }

    /// The entry for `key`, if any.
    pub fn get(&self, key: &str) -> Option<Entry> {
        self.state.lock().unwrap().entries.get(key).map(|(entry, _)| entry.clone())
    }

    /// Records that `node` finished with `key`, whose output is `entry`: a new output, or a
    /// cache hit (written only when the node's last key was another, so a re-run of an
    /// unchanged workflow writes nothing).
    /// `key` is the key's JSON, as [`CacheKey::seal`] gives it.
    pub fn put(&self, node: &str, entry: &Entry, key: &RawValue) -> io::Result<()> {
        let mut state = self.state.lock().unwrap();
        let known = state.entries.get(&entry.key).is_some_and(|(e, _)| e.output == entry.output);
        if known && state.last.get(node) == Some(&entry.key) {
            return Ok(());
        }
        let line = serde_json::to_string(&Line { node: node.into(), entry: entry.clone(), key })?;
        let file = state.file.as_mut().ok_or_else(|| io::Error::other("the cache index is open read-only"))?;
        jsonl::append(file, &line)?;
        state.entries.insert(entry.key.clone(), (entry.clone(), Arc::from(line)));
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

/// What the log's lines say.
fn read(log: &Log) -> State {
    let mut state = State::default();
    for text in log.lines() {
        state.lines += 1;
        // A line that does not parse was torn and then appended to; it only costs a re-run.
        let Ok(line) = serde_json::from_str::<Line<'_, IgnoredAny>>(text) else { continue };
        state.last.insert(line.node.to_string(), line.entry.key.clone());
        state.entries.insert(line.entry.key.clone(), (line.entry, Arc::from(text)));
    }
    state
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

#[cfg(test)]
mod tests {
    use indexmap::IndexMap;

    use super::*;

    fn key(n: u32) -> CacheKey {
        CacheKey {
            evoflow: "0.1.0".into(),
            step: "std::debug::echo".into(),
            version: 1,
            args: [("value".to_string(), serde_json::json!(n))].into_iter().collect(),
            upstream: IndexMap::new(),
            files: IndexMap::new(),
            blocks: IndexMap::new(),
            stdlib: "0".into(),
            state: None,
        }
    }

    fn entry(node: &str, key: &CacheKey) -> Entry {
        let hash = key.hash();
        Entry { key: hash.clone(), node: node.into(), output: format!("out-{hash}"), bytes: 1, files: 1 }
    }

    /// A run dir with an empty index, open for a run.
    fn fresh() -> (tempfile::TempDir, Index) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("cache")).unwrap();
        let index = Index::open(dir.path()).unwrap();
        (dir, index)
    }

    fn lines(dir: &Path) -> usize {
        std::fs::read_to_string(dir.join(LOG)).unwrap().lines().count()
    }

    #[test]
    fn entries_and_each_nodes_last_key_survive_a_reopen() {
        let (dir, index) = fresh();
        index.put("a", &entry("a", &key(1)), &key(1).seal().0).unwrap();
        index.put("a", &entry("a", &key(2)), &key(2).seal().0).unwrap();
        // An unchanged hit writes nothing.
        index.put("a", &entry("a", &key(2)), &key(2).seal().0).unwrap();
        drop(index);
        assert_eq!(lines(dir.path()), 2);
        let index = Index::load(dir.path()).unwrap();
        assert_eq!(index.get(&key(1).hash()).unwrap().output, format!("out-{}", key(1).hash()));
        assert_eq!(index.last_key("a"), Some(key(2)));
    }

    #[test]
    fn a_torn_last_line_costs_only_its_entry_and_is_cut() {
        let (dir, index) = fresh();
        index.put("a", &entry("a", &key(1)), &key(1).seal().0).unwrap();
        index.put("b", &entry("b", &key(2)), &key(2).seal().0).unwrap();
        drop(index);
        let text = std::fs::read_to_string(dir.path().join(LOG)).unwrap();
        // Power loss in the middle of the second line's write.
        std::fs::write(dir.path().join(LOG), &text[..text.len() - 20]).unwrap();
        let index = Index::open(dir.path()).unwrap();
        assert!(index.get(&key(1).hash()).is_some());
        assert!(index.get(&key(2).hash()).is_none(), "the torn entry is gone, so `b` runs again");
        index.put("b", &entry("b", &key(2)), &key(2).seal().0).unwrap();
        drop(index);
        let index = Index::load(dir.path()).unwrap();
        assert_eq!((index.last_key("a"), index.last_key("b")), (Some(key(1)), Some(key(2))));
        assert_eq!(lines(dir.path()), 2, "no half line left in the log");
    }

    #[test]
    fn a_mostly_superseded_log_is_compacted_on_open() {
        let (dir, index) = fresh();
        // A node whose key flips back and forth: two live entries, thousands of lines.
        for i in 0..2 * SLACK {
            let k = key(i as u32 % 2);
            index.put("a", &entry("a", &k), &k.seal().0).unwrap();
        }
        index.put("b", &entry("b", &key(7)), &key(7).seal().0).unwrap();
        drop(index);
        assert_eq!(lines(dir.path()), 2 * SLACK + 1);
        let index = Index::open(dir.path()).unwrap();
        assert_eq!(lines(dir.path()), 3, "one line per live entry");
        assert!(index.get(&key(0).hash()).is_some() && index.get(&key(1).hash()).is_some());
        assert_eq!((index.last_key("a"), index.last_key("b")), (Some(key(1)), Some(key(7))));
    }
}

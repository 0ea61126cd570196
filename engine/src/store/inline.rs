//! Outputs without files (most steps': a count, a path, a verdict) are kept as lines of one
//! log, `objects/inline.jsonl`, rather than as a folder holding a lone `meta.json`: two inodes
//! per step were most of what the engine spent on a step. Such an object has the hash its folder
//! would have had, so where an output is kept never changes its name.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use crate::jsonl::{self, End, Log};

/// The log's path under the run dir.
const LOG: &str = "objects/inline.jsonl";

/// One object: its hash and the meta it consists of.
#[derive(Serialize, Deserialize)]
struct Line<'a> {
    #[serde(borrow)]
    hash: Cow<'a, str>,
    meta: Cow<'a, serde_json::Value>,
}

/// The inline objects of one run directory.
pub struct Inline {
    path: PathBuf,
    metas: Mutex<HashMap<String, serde_json::Value>>,
    /// Opened on the first new object, so that only runs write.
    file: Mutex<Option<File>>,
    /// Where the log's whole lines end, for cutting a torn one before the first append.
    end: End,
}

impl Inline {
    /// Reads the inline objects under `run_dir`.
    pub fn open(run_dir: &Path) -> io::Result<Inline> {
        let path = run_dir.join(LOG);
        let log = Log::read(&path)?;
        let metas = log
            .lines()
            .filter_map(|text| serde_json::from_str::<Line<'_>>(text).ok())
            .map(|line| (line.hash.into_owned(), line.meta.into_owned()))
            .collect();
        Ok(Inline { path, metas: Mutex::new(metas), file: Mutex::new(None), end: log.end() })
    }

    /// The meta of the object `hash`, if it is an inline one.
    pub fn get(&self, hash: &str) -> Option<serde_json::Value> {
        self.metas.lock().unwrap().get(hash).cloned()
    }

    /// Stores `meta` as the object `hash` (once: content addressing makes any copy as good).
    pub fn put(&self, hash: &str, meta: &serde_json::Value) -> io::Result<()> {
        let mut metas = self.metas.lock().unwrap();
        if metas.contains_key(hash) {
            return Ok(());
        }
        let mut file = self.file.lock().unwrap();
        let file = match &mut *file {
            Some(file) => file,
            none => none.insert(self.end.open(&self.path)?),
        };
        let line = serde_json::to_string(&Line { hash: hash.into(), meta: Cow::Borrowed(meta) })?;
        jsonl::append(file, &line)?;
        metas.insert(hash.to_string(), meta.clone());
        Ok(())
    }
}

//! Cache keys you can print. A key is a serde struct of everything that decides a step's output;
//! its blake3 hash names the cache entry, and `evoflow explain` prints and diffs the struct.

use std::io;
use std::path::Path;

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

use std::collections::HashMap;

use dsl::program::Node;
use dsl::types::Value;

use crate::steps::{Artifact, KeyEnv, Registry, StepError, StepErrorKind};
use crate::store::hash_file;

mod index;

pub use index::{Entry, Index};

/// Everything that decides a step's output.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CacheKey {
    /// The evoflow release that computed the output: an upgrade recomputes everything once, so
    /// no result of older code is reused (a key without it, from before, never matches).
    #[serde(default)]
    pub evoflow: String,
    /// The step's qualified name and version (bumped when its output changes within a release).
    pub step: String,
    pub version: u32,
    /// Resolved arguments; upstream outputs appear as `{"node": id}`, their content in `upstream`.
    pub args: IndexMap<String, serde_json::Value>,
    /// Output hash of each node this one reads.
    pub upstream: IndexMap<String, String>,
    /// Content hash of each file the step reads.
    pub files: IndexMap<String, String>,
    /// Hash of the canonical source of each `.evo` block the step uses.
    pub blocks: IndexMap<String, String>,
    /// Version of the embedded stdlib.
    pub stdlib: String,
    /// State outside the workflow that the step reads (the production baseline of a loop).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
}

impl CacheKey {
    /// The key's hash: the cache entry's name.
    pub fn hash(&self) -> String {
        self.seal().1
    }

    /// The key as JSON (what the cache index records for `explain`) and its hash, from one
    /// serialisation.
    pub fn seal(&self) -> (Box<serde_json::value::RawValue>, String) {
        let json = serde_json::to_string(self).expect("keys serialise");
        let hash = blake3::hash(json.as_bytes()).to_hex()[..32].to_string();
        (serde_json::value::RawValue::from_string(json).expect("serde_json wrote JSON"), hash)
    }

    /// What differs from an earlier key, one line per component.
    pub fn diff(&self, old: &CacheKey) -> Vec<String> {
        let mut out = Vec::new();
        if self.evoflow != old.evoflow {
            let show = |v: &str| if v.is_empty() { "before 0.1.0".to_string() } else { v.to_string() };
            out.push(format!("evoflow: {} (was {})", show(&self.evoflow), show(&old.evoflow)));
        }
        if self.step != old.step || self.version != old.version {
            out.push(format!("step: {} v{} (was {} v{})", self.step, self.version, old.step, old.version));
        }
        diff_map("argument", &old.args, &self.args, show, &mut out);
        diff_map("upstream output", &old.upstream, &self.upstream, |v| v.clone(), &mut out);
        diff_map("file", &old.files, &self.files, |v| v.clone(), &mut out);
        diff_map("block", &old.blocks, &self.blocks, |v| v.clone(), &mut out);
        if self.stdlib != old.stdlib {
            out.push(format!("stdlib: {} (was {})", self.stdlib, old.stdlib));
        }
        if self.state != old.state {
            let show = |s: &Option<String>| s.clone().unwrap_or_else(|| "none".into());
            out.push(format!("state: {} (was {})", show(&self.state), show(&old.state)));
        }
        out
    }
}

/// A value from a key as a person reads it: `{"int": 9}` is `9`.
fn show(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::Object(map) if map.len() == 1 => {
            let (tag, inner) = map.iter().next().expect("one entry");
            match (tag.as_str(), inner) {
                ("node", serde_json::Value::String(id)) => format!("the output of `{id}`"),
                ("str", _) | (_, serde_json::Value::Object(_) | serde_json::Value::Array(_)) => inner.to_string(),
                _ => inner.to_string().trim_matches('"').to_string(),
            }
        }
        other => other.to_string(),
    }
}

fn diff_map<V: PartialEq>(
    what: &str,
    old: &IndexMap<String, V>,
    new: &IndexMap<String, V>,
    show: impl Fn(&V) -> String,
    out: &mut Vec<String>,
) {
    for (k, v) in new {
        match old.get(k) {
            None => out.push(format!("{what} `{k}`: new ({})", show(v))),
            Some(o) if o != v => out.push(format!("{what} `{k}`: {} (was {})", show(v), show(o))),
            _ => {}
        }
    }
    for (k, v) in old {
        if !new.contains_key(k) {
            out.push(format!("{what} `{k}`: removed (was {})", show(v)));
        }
    }
}

/// Writes a file so that readers see the old or the new content, never a mix.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let tmp = path.with_extension(format!("tmp-{}", std::process::id()));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)
}

/// The cache key of `node` given the outputs of the nodes it reads, or why it cannot be had
/// (a step not built yet, a data file that cannot be read).
pub fn key_of(
    program: &dsl::Program,
    registry: &Registry,
    stdlib: &str,
    env: &KeyEnv,
    node: &Node,
    inputs: &HashMap<String, Artifact>,
) -> Result<CacheKey, StepError> {
    let step = registry
        .get(&node.step)
        .ok_or_else(|| StepError::input(format!("the step `{}` is not built yet", node.step)))?;
    let (args, read) = match step.key_args(&node.args).map_err(StepError::input)? {
        Some(key) => (key.args, key.files),
        None => (
            node.args.iter().map(|(k, v)| (k.clone(), serde_json::to_value(v).expect("values serialise"))).collect(),
            Vec::new(),
        ),
    };
    let mut upstream = IndexMap::new();
    for dep in node.deps() {
        let artifact = inputs.get(&dep).ok_or_else(|| {
            StepError::permanent(StepErrorKind::Internal, format!("the output of `{dep}` is missing"))
        })?;
        upstream.insert(dep, artifact.hash.clone());
    }
    let mut files = IndexMap::new();
    for name in step.file_args() {
        if let Some(Value::Str(path)) = node.args.get(*name) {
            let hash = hash_file(Path::new(path)).map_err(|e| {
                StepError::permanent(StepErrorKind::Io, format!("cannot read `{path}` (argument `{name}`): {e}"))
            })?;
            files.insert(path.clone(), hash);
        }
    }
    for path in read {
        let hash = hash_file(Path::new(&path))
            .map_err(|e| StepError::permanent(StepErrorKind::Io, format!("cannot read `{path}`: {e}")))?;
        files.insert(path, hash);
    }
    // An external reward's module is read at run time: its bytes decide the output too.
    for name in node.blocks.keys() {
        if let Some(dsl::reward::RewardDef::External { path, .. }) = program.rewards.get(name) {
            let hash = hash_file(Path::new(path)).map_err(|e| {
                StepError::permanent(StepErrorKind::Io, format!("cannot read the reward module `{path}`: {e}"))
            })?;
            files.insert(path.clone(), hash);
        }
    }
    let blocks = node
        .blocks
        .iter()
        .map(|(name, source)| {
            let mut h = blake3::Hasher::new();
            h.update(source.as_bytes());
            // A persona's prompt template may live in a file of its own: its text shapes the
            // prompts as much as the block does.
            if let Some(persona) = program.personas.get(name) {
                h.update(b"\0");
                h.update(persona.prompt.as_bytes());
            }
            (name.clone(), h.finalize().to_hex()[..16].to_string())
        })
        .collect();
    Ok(CacheKey {
        evoflow: env!("CARGO_PKG_VERSION").to_string(),
        step: node.step.clone(),
        version: step.version(),
        args,
        upstream,
        files,
        blocks,
        stdlib: stdlib.to_string(),
        state: step.state_key(env).map_err(StepError::input)?,
    })
}

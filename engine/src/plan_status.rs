//! What a run would do with each step, and why: cached, changed (and what changed), new. The
//! answer behind `run --dry-run` and `explain`.

use std::collections::{HashMap, HashSet};

use crate::cache::{key_of, CacheKey, Index};
use crate::steps::{Artifact, KeyEnv, Registry};
use crate::store::Store;

/// Why a step would or would not run.
#[derive(Clone, Debug)]
pub enum Status {
    /// Its output is in the cache.
    Cached { output: String },
    /// `--no-cache` or `--rerun` forces it.
    Forced,
    /// It ran before with another key; the lines say which components changed.
    Changed { diff: Vec<String> },
    /// It never finished in this run dir.
    New,
    /// A step it reads will run first, so its own key is not known yet.
    AfterUpstream { upstream: String },
    /// Its key cannot be computed (a data file is missing, say).
    Error { message: String },
}

/// One step's status with its current key, when that is known.
pub struct NodeStatus {
    pub node: String,
    pub step: String,
    pub key: Option<CacheKey>,
    pub status: Status,
}

/// The status of every step, in an order that respects dependencies.
pub fn statuses(
    program: &dsl::Program,
    plan: &dsl::Plan,
    registry: &Registry,
    store: &Store,
    llm: Option<&llm::Config>,
    no_cache: bool,
    rerun: &[String],
) -> Vec<NodeStatus> {
    let index = match Index::load(store.root()) {
        Ok(index) => index,
        Err(e) => {
            let message = format!("cannot read the cache index in `{}`: {e}", store.root().display());
            let error = |n: &dsl::program::Node| NodeStatus {
                node: n.id.clone(),
                step: n.step.clone(),
                key: None,
                status: Status::Error { message: message.clone() },
            };
            return plan.topo_order().into_iter().map(error).collect();
        }
    };
    let stdlib = dsl::stdlib::version();
    let rerun: HashSet<&str> = rerun.iter().map(String::as_str).collect();
    let mut outputs: HashMap<String, Artifact> = HashMap::new();
    let mut out = Vec::new();
    for node in plan.topo_order() {
        let deps = node.deps();
        if let Some(missing) = deps.iter().find(|d| !outputs.contains_key(*d)) {
            let status = Status::AfterUpstream { upstream: missing.clone() };
            out.push(NodeStatus { node: node.id.clone(), step: node.step.clone(), key: None, status });
            continue;
        }
        let env = KeyEnv { run_dir: store.root(), llm };
        let (key, status) = match key_of(program, registry, &stdlib, &env, node, &outputs) {
            Err(e) => (None, Status::Error { message: e.message }),
            Ok(key) => {
                let hit = index.get(&key.hash()).and_then(|e| store.object(&e.output));
                let status = match hit {
                    _ if no_cache || rerun.contains(node.id.as_str()) => Status::Forced,
                    Some(artifact) => {
                        let output = artifact.hash.clone();
                        outputs.insert(node.id.clone(), artifact);
                        Status::Cached { output }
                    }
                    None => match index.last_key(&node.id) {
                        Some(old) => Status::Changed { diff: key.diff(&old) },
                        None => Status::New,
                    },
                };
                (Some(key), status)
            }
        };
        out.push(NodeStatus { node: node.id.clone(), step: node.step.clone(), key, status });
    }
    out
}

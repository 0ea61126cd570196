//! Fixtures shared by the agents tests: an in-memory loader and baseline workflows.
#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::Arc;

use agents::Baseline;

/// Serves files from memory.
#[derive(Default)]
pub struct MemLoader(pub HashMap<String, String>);

impl dsl::Loader for MemLoader {
    fn read(&self, path: &str) -> Result<String, String> {
        self.0.get(path).cloned().ok_or_else(|| "no such file".into())
    }

    fn exists(&self, path: &str) -> bool {
        self.0.contains_key(path)
    }
}

/// The stdlib models the search agent is tried on.
pub const STD_MODELS: &[&str] = &["bpr_mf", "two_tower", "neumf", "dcn_v2", "gated", "lightgcn"];

/// A workflow that evolves the stdlib model `model`, a local reward and optimizer.
pub fn workflow_with_std_model(model: &str) -> String {
    format!(
        r#"use std::sim::{{logs}}
use std::data::{{random_split}}
use std::personas::{{optimizer, architecture, reward}}
use std::loops::{{offline}}
use std::models::{{{model}}}

dataset events = logs(users: 200, items: 50, days: 2, seed: 7)
let split = random_split(events, valid: 0.1, test: 0.1, seed: 7)

# Engagement, softened by likes.
reward engaged(e: events) -> float {{
  let liked = if e.like {{ 1.0 }} else {{ 0.0 }}
  0.3 * log1p(e.watch_seconds) + liked
}}

optimizer opt = adagrad(lr: 0.1)

let fast = offline(
  baseline: {{ model: {model}, optimizer: opt, reward: engaged }},
  data: split,
  personas: [optimizer, architecture, reward],
)
"#
    )
}

/// A workflow with its own model block.
pub const LOCAL: &str = r#"use std::sim::{logs}
use std::data::{random_split}
use std::personas::{optimizer, architecture, reward}
use std::loops::{offline}

dataset events = logs(users: 200, items: 50, days: 2, seed: 7)
let split = random_split(events, valid: 0.1, test: 0.1, seed: 7)

# A small MLP over two embeddings.
model mlp {
  input user: id, item: id
  x = concat(embed(user, 16), embed(item, 16))
  h = relu(dense(x, 32))
  score = dense(h, 1)
}

reward engaged(e: events) -> float {
  let liked = if e.like { 1.0 } else { 0.0 }
  0.3 * log1p(e.watch_seconds) + liked
}

optimizer opt = adam(lr: 1e-3, weight_decay: 1e-6)

let fast = offline(
  baseline: { model: mlp, optimizer: opt, reward: engaged },
  data: split,
  personas: [optimizer, architecture, reward],
)
"#;

/// The checked baseline of `source`, as `wf.evo`.
pub fn baseline(source: &str) -> Baseline {
    match Baseline::new("wf.evo", source, Arc::new(MemLoader::default()), vec![]) {
        Ok(b) => b,
        Err(e) => panic!("the fixture does not compile:\n{e}"),
    }
}

/// A workflow evolving the stdlib BPR-MF on a split with side features: an item table with a
/// genre (a category) and a price (a number), a user table with an age band.
pub const WITH_FEATURES: &str = r#"use std::sim::{logs}
use std::data::{random_split, with_features}
use std::personas::{architecture}
use std::loops::{offline}
use std::models::{bpr_mf}

dataset events = logs(users: 200, items: 50, days: 2, seed: 7)
dataset items = "items.csv" { item: id, genre: str, price: float }
dataset users = "users.csv" { user: id, band: int }
let split = with_features(random_split(events, seed: 7), items: items, users: users)

let fast = offline(baseline: { model: bpr_mf, optimizer: adam(lr: 1e-3) }, data: split, personas: [architecture])
"#;

/// The checked baseline of `source`, as `wf.evo`, beside the (empty) data files it names.
pub fn baseline_with_files(source: &str, files: &[&str]) -> Baseline {
    let loader = MemLoader(files.iter().map(|f| (f.to_string(), String::new())).collect());
    match Baseline::new("wf.evo", source, Arc::new(loader), vec![]) {
        Ok(b) => b,
        Err(e) => panic!("the fixture does not compile:\n{e}"),
    }
}

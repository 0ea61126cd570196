//! `std::loops`: the paper's two loops as steps. The fast loop (`offline`) proposes, verifies,
//! screens, trains and scores candidates, each training a node of its own in the running graph
//! (cached, journaled, resumable); `top` picks the best; the slow loop (`online`) runs them
//! against a simulated population or a team's experiment table and launches the winners as
//! the new production baseline (`production`).

pub mod agreement;
pub(crate) mod candidate;
mod llm_agent;
mod offline;
mod online;
pub mod production;
mod study;
mod top;

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::steps::Step;

/// The loops' steps (and the hidden step that trains one candidate).
pub fn steps() -> Vec<Arc<dyn Step>> {
    vec![Arc::new(offline::Offline), Arc::new(top::Top), Arc::new(online::Online), Arc::new(candidate::TrainCandidate)]
}

/// The blocks a candidate evolves, by their names in its program.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Blocks {
    pub model: String,
    pub optimizer: Option<String>,
    pub reward: Option<String>,
}

/// One experiment of the fast loop, as its output and the slow loop see it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    /// The journaled row.
    pub record: journal::ExperimentRecord,
    /// The whole workflow source the candidate compiled from (verified entries).
    pub source: Option<String>,
    pub blocks: Blocks,
    /// The object holding the trained candidate (trained entries).
    pub checkpoint: Option<String>,
}

/// `experiments.json`: what `offline` produced.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Experiments {
    /// The offline score's metric (`ndcg@10`).
    pub metric: String,
    /// The workflow file candidates are compiled as (imports resolve against it).
    pub workflow: String,
    pub overrides: Vec<(String, String)>,
    /// The key of the entry that is the loop's starting point.
    pub baseline: String,
    /// The production version the loop started from, if any.
    pub production: Option<String>,
    pub entries: Vec<Entry>,
}

impl Experiments {
    /// The starting point's entry.
    pub fn baseline(&self) -> Option<&Entry> {
        self.entries.iter().find(|e| e.record.key == self.baseline)
    }
}

/// `candidates.json`: what `top` hands the slow loop. Checkpoints are copied beside it, in
/// `models/<key>/`, so the artifact stands on its own.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Candidates {
    pub metric: String,
    pub workflow: String,
    pub overrides: Vec<(String, String)>,
    /// The current production model (or, before any launch, the loop's baseline).
    pub control: Entry,
    pub candidates: Vec<Entry>,
}

/// The folder of a candidate's model inside a `top` artifact.
pub fn model_dir(key: &str) -> String {
    format!("models/{}", &key[..key.len().min(24)])
}

/// A short, file-safe form of a key for node names.
pub fn short(key: &str) -> &str {
    &key[..key.len().min(12)]
}

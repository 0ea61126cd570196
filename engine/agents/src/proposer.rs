//! The interface every agent implements, LLM-backed or the built-in search: a request in,
//! proposals out, and outcomes fed back.

use serde::{Deserialize, Serialize};

use crate::baseline::Baseline;
use crate::key::DeltaKey;
use crate::proposal::{Proposal, ProposalKind};
use crate::scope::Persona;

/// How many proposals of each kind to make.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Quota {
    pub explore: usize,
    pub exploit: usize,
    pub innovate: usize,
}

impl Quota {
    /// A quota of `explore`, `exploit` and `innovate` proposals.
    pub fn new(explore: usize, exploit: usize, innovate: usize) -> Quota {
        Quota { explore, exploit, innovate }
    }

    /// All proposals asked for.
    pub fn total(&self) -> usize {
        self.explore + self.exploit + self.innovate
    }
}

/// One journaled experiment, as agents see it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HistoryEntry {
    /// The journal's experiment id.
    pub id: String,
    /// The delta's duplicate key, when it verified.
    pub key: Option<DeltaKey>,
    pub persona: String,
    pub operator: String,
    pub kind: ProposalKind,
    pub explanation: String,
    /// The metric `score` is in (`ndcg@10`, `valid_loss`).
    pub metric: String,
    /// The offline score; higher is better (a loss is journaled negated by the caller).
    pub score: Option<f64>,
    /// `trained`, `failed`, `rejected`, `duplicate`...
    pub status: String,
    /// When it was journaled: any increasing number (a sequence or a timestamp).
    pub time: u64,
    /// The trained model's parameters, when it trained.
    pub params: Option<i64>,
}

/// What one proposer is asked for.
#[derive(Clone, Copy, Debug)]
pub struct ProposalRequest<'a> {
    pub persona: &'a Persona,
    pub baseline: &'a Baseline,
    pub history: &'a [HistoryEntry],
    pub quota: Quota,
}

/// The result of one proposal, fed back to its proposer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Outcome {
    pub key: DeltaKey,
    pub persona: String,
    pub operator: String,
    /// Offline score minus the baseline's (higher is better); none when it did not train.
    pub improvement: Option<f64>,
    pub status: String,
}

/// An agent: proposes deltas for a persona, and learns from what became of them.
pub trait Proposer {
    /// Up to `req.quota.total()` proposals, each with its kind, persona and operator set.
    fn propose(&mut self, req: &ProposalRequest<'_>) -> Vec<Proposal>;
    /// Feeds back the result of an earlier proposal.
    fn observe(&mut self, outcome: &Outcome);
}

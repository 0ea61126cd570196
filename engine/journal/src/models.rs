//! Trained models: size (parameters), cost (FLOPs per example) and metrics, one row per weights
//! artifact.

use duckdb::params;

use crate::error::{Error, Result};
use crate::journal::JournalTx;
use crate::process::now_micros;

/// A trained model as the journal records it.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelRecord {
    /// The artifact holding the weights.
    pub hash: String,
    /// The node that trained it.
    pub node_id: String,
    /// The step kind that trained it.
    pub step: String,
    /// The model block's name.
    pub model: String,
    /// Trainable scalars.
    pub params: u64,
    /// Floating-point operations per scored example.
    pub flops: u64,
    /// Where it trained.
    pub device: String,
    /// Its metrics (e.g. `{"valid": {"ndcg@10": ...}, "test": {...}}`).
    pub metrics: serde_json::Value,
}

impl JournalTx<'_> {
    /// Records a model unless its weights' hash is already known; returns whether it was new.
    pub fn record_model(&self, m: &ModelRecord) -> Result<bool> {
        let big = |what: &str, v: u64| {
            i64::try_from(v).map_err(|_| Error::InvalidInput(format!("model {} {what} {v} overflows BIGINT", m.hash)))
        };
        let (params, flops) = (big("params", m.params)?, big("flops", m.flops)?);
        let inserted = self.connection().execute(
            "INSERT INTO models (hash, node_id, step, model, params, flops, device, metrics, created_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, make_timestamp(?))
             ON CONFLICT (hash) DO NOTHING",
            params![m.hash, m.node_id, m.step, m.model, params, flops, m.device, m.metrics.to_string(), now_micros()],
        )?;
        Ok(inserted > 0)
    }
}

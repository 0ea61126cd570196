//! Offline metric values, one row per (output, split, metric): what `train`, `evaluate` and the
//! loops' candidates measured, queryable by name (`WHERE metric = 'ndcg@10' AND split = 'test'`)
//! with the names the language uses.

use duckdb::params;

use crate::error::Result;
use crate::journal::JournalTx;
use crate::process::now_micros;

/// One measured value.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricValue {
    /// The output that holds it (for a trained model, `models.hash`).
    pub hash: String,
    /// The node that measured it.
    pub node_id: String,
    /// The step kind that measured it.
    pub step: String,
    /// `valid` or `test`.
    pub split: String,
    /// `ndcg@10`, `hitrate@20`, `map@5`, ...
    pub metric: String,
    pub value: f64,
}

impl JournalTx<'_> {
    /// Records values unless their (output, split, metric) is already known.
    pub fn record_metrics(&self, values: &[MetricValue]) -> Result<()> {
        let conn = self.connection();
        let mut stmt = conn.prepare(
            "INSERT INTO metrics (hash, node_id, step, split, metric, value, created_at)
             VALUES (?, ?, ?, ?, ?, ?, make_timestamp(?))
             ON CONFLICT (hash, split, metric) DO NOTHING",
        )?;
        let now = now_micros();
        for v in values {
            stmt.execute(params![v.hash, v.node_id, v.step, v.split, v.metric, v.value, now])?;
        }
        Ok(())
    }
}

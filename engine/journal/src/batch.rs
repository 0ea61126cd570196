//! Many step updates in one statement: the engine's writer gathers what happened in the last
//! few milliseconds and lands it with one upsert per table, instead of a statement per event
//! (DuckDB's per-statement cost dominates single-row writes).
//!
//! Each statement is prepared once per size and cached: a batch of n rows runs the statements
//! for the powers of two that sum to n, so DuckDB parses and plans a multi-row `VALUES` a handful
//! of times per run instead of once per batch (planning thousands of parameters cost more than
//! the upsert). Staging through a temporary table and the appender was tried: a SIGKILL then
//! left a WAL that DuckDB 1.5 could not replay.

use duckdb::types::ToSql;

use crate::error::Result;
use crate::journal::JournalTx;
use crate::model::{Artifact, StepStatus};

/// What a run learned about one node since the last batch: the latest attempt's start, and its
/// end if it ended. Fields left `None` keep their stored values where that makes sense.
#[derive(Debug, Clone)]
pub struct StepUpdate {
    pub node_id: String,
    pub step: Option<String>,
    pub cache_key: Option<String>,
    pub status: StepStatus,
    pub attempts: u32,
    /// Microseconds since the Unix epoch.
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
    pub duration_ms: Option<i64>,
    pub error: Option<String>,
    pub output_hash: Option<String>,
}

/// Rows in the largest statement: a power of two, well under DuckDB's parameter limits.
const CHUNK: usize = 256;

impl JournalTx<'_> {
    /// Upserts `updates` (at most one per node) and inserts the `artifacts` not yet known.
    pub fn apply_batch(&self, run_id: i64, updates: &[StepUpdate], artifacts: &[Artifact]) -> Result<()> {
        if !updates.is_empty() {
            self.require_run(run_id)?;
        }
        for chunk in power_of_two_chunks(updates) {
            let rows =
                vec!["(?, ?, ?, ?, ?, ?, make_timestamp(?), make_timestamp(?), ?, ?, ?)"; chunk.len()].join(", ");
            let sql = format!(
                "INSERT INTO steps (run_id, node_id, step, cache_key, status, attempts, started_at, finished_at,
                                    duration_ms, error, output_hash)
                 VALUES {rows}
                 ON CONFLICT (run_id, node_id) DO UPDATE SET
                     step = COALESCE(excluded.step, steps.step),
                     cache_key = COALESCE(excluded.cache_key, steps.cache_key),
                     status = excluded.status, attempts = excluded.attempts,
                     started_at = COALESCE(excluded.started_at, steps.started_at),
                     finished_at = excluded.finished_at, duration_ms = excluded.duration_ms,
                     error = excluded.error, output_hash = excluded.output_hash"
            );
            let mut values: Vec<&dyn ToSql> = Vec::with_capacity(chunk.len() * 11);
            let statuses: Vec<&str> = chunk.iter().map(|u| u.status.as_str()).collect();
            for (u, status) in chunk.iter().zip(&statuses) {
                values.extend([
                    &run_id as &dyn ToSql,
                    &u.node_id,
                    &u.step,
                    &u.cache_key,
                    status,
                    &u.attempts,
                    &u.started_at,
                    &u.finished_at,
                    &u.duration_ms,
                    &u.error,
                    &u.output_hash,
                ]);
            }
            self.connection().prepare_cached(&sql)?.execute(values.as_slice())?;
        }
        let mut seen = std::collections::HashSet::new();
        let fresh: Vec<&Artifact> = artifacts.iter().filter(|a| seen.insert(a.hash.as_str())).collect();
        let now = crate::process::now_micros();
        for chunk in power_of_two_chunks(&fresh) {
            let rows = vec!["(?, ?, ?, ?, ?, make_timestamp(?))"; chunk.len()].join(", ");
            let sql = format!(
                "INSERT INTO artifacts (hash, node_id, step, bytes, files, created_at) VALUES {rows}
                 ON CONFLICT (hash) DO NOTHING"
            );
            let bytes: Vec<i64> = chunk.iter().map(|a| i64::try_from(a.bytes).unwrap_or(i64::MAX)).collect();
            let mut values: Vec<&dyn ToSql> = Vec::with_capacity(chunk.len() * 6);
            for (a, b) in chunk.iter().zip(&bytes) {
                values.extend([&a.hash as &dyn ToSql, &a.node_id, &a.step, b, &a.files, &now]);
            }
            self.connection().prepare_cached(&sql)?.execute(values.as_slice())?;
        }
        Ok(())
    }
}

/// `items` cut into runs of [`CHUNK`], then the powers of two that make up the rest, so only a
/// few distinct statement sizes are ever prepared.
fn power_of_two_chunks<T>(mut items: &[T]) -> Vec<&[T]> {
    let mut out = Vec::new();
    let mut size = CHUNK;
    while !items.is_empty() {
        while size > items.len() {
            size /= 2;
        }
        let (head, rest) = items.split_at(size);
        out.push(head);
        items = rest;
    }
    out
}

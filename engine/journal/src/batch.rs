//! Many step updates in one statement: the engine's writer gathers what happened in the last
//! few milliseconds and lands it with one upsert per table, instead of a statement per event
//! (DuckDB's per-statement cost dominates single-row writes).
//!
//! The rows go through DuckDB's appender into temporary staging tables, then one
//! `INSERT ... SELECT ... ON CONFLICT` per table moves them: binding thousands of parameters
//! into a multi-row `VALUES` cost more than the upsert itself (about 100 µs a row).

use duckdb::params;

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

/// The staging tables: temporary (never in the journal file), one per connection.
const STAGING: &str = "
CREATE TEMP TABLE IF NOT EXISTS steps_batch (
    run_id BIGINT, node_id VARCHAR, step VARCHAR, cache_key VARCHAR, status VARCHAR, attempts INTEGER,
    started_at BIGINT, finished_at BIGINT, duration_ms BIGINT, error VARCHAR, output_hash VARCHAR
);
CREATE TEMP TABLE IF NOT EXISTS artifacts_batch (
    hash VARCHAR, node_id VARCHAR, step VARCHAR, bytes BIGINT, files INTEGER, created_at BIGINT
);
DELETE FROM steps_batch;
DELETE FROM artifacts_batch;
";

impl JournalTx<'_> {
    /// Upserts `updates` (at most one per node) and inserts the `artifacts` not yet known.
    pub fn apply_batch(&self, run_id: i64, updates: &[StepUpdate], artifacts: &[Artifact]) -> Result<()> {
        if updates.is_empty() && artifacts.is_empty() {
            return Ok(());
        }
        if !updates.is_empty() {
            self.require_run(run_id)?;
        }
        let conn = self.connection();
        conn.execute_batch(STAGING)?;
        if !updates.is_empty() {
            let mut staging = conn.appender_to_catalog_and_db("steps_batch", "temp", "main")?;
            for u in updates {
                staging.append_row(params![
                    run_id,
                    u.node_id,
                    u.step,
                    u.cache_key,
                    u.status.as_str(),
                    u.attempts,
                    u.started_at,
                    u.finished_at,
                    u.duration_ms,
                    u.error,
                    u.output_hash,
                ])?;
            }
            staging.flush()?;
            drop(staging);
            conn.execute(
                "INSERT INTO steps (run_id, node_id, step, cache_key, status, attempts, started_at, finished_at,
                                    duration_ms, error, output_hash)
                 SELECT run_id, node_id, step, cache_key, status, attempts, make_timestamp(started_at),
                        make_timestamp(finished_at), duration_ms, error, output_hash
                 FROM steps_batch
                 ON CONFLICT (run_id, node_id) DO UPDATE SET
                     step = COALESCE(excluded.step, steps.step),
                     cache_key = COALESCE(excluded.cache_key, steps.cache_key),
                     status = excluded.status, attempts = excluded.attempts,
                     started_at = COALESCE(excluded.started_at, steps.started_at),
                     finished_at = excluded.finished_at, duration_ms = excluded.duration_ms,
                     error = excluded.error, output_hash = excluded.output_hash",
                [],
            )?;
        }
        if !artifacts.is_empty() {
            let now = crate::process::now_micros();
            let mut seen = std::collections::HashSet::new();
            let mut staging = conn.appender_to_catalog_and_db("artifacts_batch", "temp", "main")?;
            for a in artifacts.iter().filter(|a| seen.insert(a.hash.as_str())) {
                let bytes = i64::try_from(a.bytes).unwrap_or(i64::MAX);
                staging.append_row(params![a.hash, a.node_id, a.step, bytes, a.files, now])?;
            }
            staging.flush()?;
            drop(staging);
            conn.execute(
                "INSERT INTO artifacts (hash, node_id, step, bytes, files, created_at)
                 SELECT hash, node_id, step, bytes, files, make_timestamp(created_at) FROM artifacts_batch
                 ON CONFLICT (hash) DO NOTHING",
                [],
            )?;
        }
        Ok(())
    }
}

//! Many step updates in one transaction: the engine's writer gathers what happened in the last
//! few milliseconds and lands it at once, instead of a statement per event.
//!
//! Rows new to the run (nearly all of them: a quick step starts and ends within one batch) and
//! artifacts new to the journal go in through DuckDB's appender, which costs about a
//! microsecond a row. Rows the run already holds (a long step's start landed in an earlier
//! batch) are updated one statement each. A multi-row `VALUES` upsert was the earlier way:
//! DuckDB binding and optimising thousands of parameters cost more than the rows themselves.
//! The writer remembers which rows exist, so it never has to ask the database.

use std::collections::HashSet;

use duckdb::types::{TimeUnit, ToSql, Value};

use crate::error::Result;
use crate::journal::{Journal, JournalTx};
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

/// Lands the batches of one run, knowing which of its steps and which artifacts are stored.
pub struct StepWriter {
    run_id: i64,
    nodes: HashSet<String>,
    artifacts: HashSet<String>,
}

/// What one batch added, remembered once its transaction commits.
#[derive(Default)]
struct Landed {
    nodes: Vec<String>,
    artifacts: Vec<String>,
}

impl StepWriter {
    /// A writer for `run_id`, which must exist.
    pub fn new(journal: &mut Journal, run_id: i64) -> Result<StepWriter> {
        journal.transaction(|tx| {
            tx.require_run(run_id)?;
            let conn = tx.connection();
            let nodes = strings(conn, "SELECT node_id FROM steps WHERE run_id = ?", [run_id])?;
            let artifacts = strings(conn, "SELECT hash FROM artifacts", [])?;
            Ok(StepWriter { run_id, nodes, artifacts })
        })
    }

    /// Upserts `updates` (at most one per node) and inserts the `artifacts` not yet known, then
    /// runs `also` in the same transaction; nothing lands unless all of it does.
    pub fn write(
        &mut self,
        journal: &mut Journal,
        updates: &[StepUpdate],
        artifacts: &[Artifact],
        also: impl FnOnce(&JournalTx<'_>) -> Result<()>,
    ) -> Result<()> {
        let landed = journal.transaction(|tx| {
            let landed = self.land(tx, updates, artifacts)?;
            also(tx)?;
            Ok(landed)
        })?;
        self.nodes.extend(landed.nodes);
        self.artifacts.extend(landed.artifacts);
        Ok(())
    }

    fn land(&self, tx: &JournalTx<'_>, updates: &[StepUpdate], artifacts: &[Artifact]) -> Result<Landed> {
        let conn = tx.connection();
        let mut landed = Landed::default();
        let (new, known): (Vec<&StepUpdate>, Vec<&StepUpdate>) =
            updates.iter().partition(|u| !self.nodes.contains(&u.node_id));
        if !new.is_empty() {
            let mut appender = conn.appender("steps")?;
            for u in &new {
                appender.append_row([
                    &self.run_id as &dyn ToSql,
                    &u.node_id,
                    &u.step,
                    &u.cache_key,
                    &u.status.as_str(),
                    &u.attempts,
                    &timestamp(u.started_at),
                    &timestamp(u.finished_at),
                    &u.duration_ms,
                    &u.error,
                    &u.output_hash,
                ])?;
                landed.nodes.push(u.node_id.clone());
            }
            appender.flush()?;
        }
        if !known.is_empty() {
            let mut update = conn.prepare_cached(
                "UPDATE steps SET step = COALESCE(?, step), cache_key = COALESCE(?, cache_key), status = ?,
                     attempts = ?, started_at = COALESCE(make_timestamp(?), started_at),
                     finished_at = make_timestamp(?), duration_ms = ?, error = ?, output_hash = ?
                 WHERE run_id = ? AND node_id = ?",
            )?;
            for u in known {
                update.execute(duckdb::params![
                    u.step,
                    u.cache_key,
                    u.status.as_str(),
                    u.attempts,
                    u.started_at,
                    u.finished_at,
                    u.duration_ms,
                    u.error,
                    u.output_hash,
                    self.run_id,
                    u.node_id,
                ])?;
            }
        }
        let mut seen = HashSet::new();
        let fresh: Vec<&Artifact> =
            artifacts.iter().filter(|a| !self.artifacts.contains(&a.hash) && seen.insert(a.hash.as_str())).collect();
        if !fresh.is_empty() {
            let now = timestamp(Some(crate::process::now_micros()));
            let mut appender = conn.appender("artifacts")?;
            for a in fresh {
                let bytes = i64::try_from(a.bytes).unwrap_or(i64::MAX);
                appender.append_row([&a.hash as &dyn ToSql, &a.node_id, &a.step, &bytes, &a.files, &now, &a.meta])?;
                landed.artifacts.push(a.hash.clone());
            }
            appender.flush()?;
        }
        Ok(landed)
    }
}

/// Microseconds since the epoch as a DuckDB timestamp (the appender takes no SQL functions).
fn timestamp(micros: Option<i64>) -> Value {
    micros.map_or(Value::Null, |m| Value::Timestamp(TimeUnit::Microsecond, m))
}

fn strings<P: duckdb::Params>(conn: &duckdb::Connection, sql: &str, params: P) -> Result<HashSet<String>> {
    let mut stmt = conn.prepare(sql)?;
    let rows = stmt.query_map(params, |row| row.get::<_, String>(0))?;
    Ok(rows.collect::<std::result::Result<_, _>>()?)
}

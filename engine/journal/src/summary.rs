//! Reading runs and steps back: run summaries for people and the recorded cache keys for
//! `explain`.

use std::collections::{BTreeMap, HashMap};

use duckdb::{params, Row};

use crate::error::{Error, Result};
use crate::journal::Journal;
use crate::model::{FailedStep, RunRow, RunStatus, RunSummary, StepRow, StepStatus};
use crate::process::now_micros;

// Timestamps are read as text so callers need no date library; DuckDB renders TIMESTAMP as
// `YYYY-MM-DD HH:MM:SS[.ffffff]` in UTC, which is how the journal stores them.
const RUN_COLUMNS: &str = "id, workflow, file, started_at::VARCHAR, finished_at::VARCHAR, status, \
                           params::VARCHAR, evoflow_version, pid::BIGINT, host";

const STEP_COLUMNS: &str = "run_id, node_id, step, cache_key, status, attempts::BIGINT, \
                            started_at::VARCHAR, finished_at::VARCHAR, duration_ms, error, output_hash";

impl Journal {
    /// The run with this id, if any.
    pub fn run(&self, run_id: i64) -> Result<Option<RunRow>> {
        let sql = format!("SELECT {RUN_COLUMNS} FROM runs WHERE id = ?");
        let mut stmt = self.conn.prepare(&sql)?;
        let mut rows = stmt.query([run_id])?;
        match rows.next()? {
            Some(row) => Ok(Some(run_row(row)?)),
            None => Ok(None),
        }
    }

    /// A summary of the most recently started run, or `None` for an empty journal.
    pub fn last_run(&self) -> Result<Option<RunSummary>> {
        // Ids come from a sequence, so the largest id is the latest run even when two runs
        // started within the same microsecond.
        let last: Option<i64> = self.conn.query_row("SELECT max(id) FROM runs", [], |row| row.get(0))?;
        match last {
            Some(id) => self.run_summary(id).map(Some),
            None => Ok(None),
        }
    }

    /// A summary of one run: per-status step counts, wall time and the failed steps.
    pub fn run_summary(&self, run_id: i64) -> Result<RunSummary> {
        let run = self.run(run_id)?.ok_or(Error::UnknownRun(run_id))?;

        let mut step_counts = BTreeMap::new();
        {
            let mut stmt = self.conn.prepare("SELECT status, count(*) FROM steps WHERE run_id = ? GROUP BY status")?;
            let mut rows = stmt.query([run_id])?;
            while let Some(row) = rows.next()? {
                let status: String = row.get(0)?;
                let count: i64 = row.get(1)?;
                step_counts.insert(StepStatus::parse(&status)?, count.max(0) as u64);
            }
        }

        // A run still going is measured up to now, which is what someone watching it wants.
        let wall_ms: Option<i64> = self.conn.query_row(
            "SELECT date_diff('millisecond', started_at, COALESCE(finished_at, make_timestamp(?)))
             FROM runs WHERE id = ?",
            params![now_micros(), run_id],
            |row| row.get(0),
        )?;

        let mut failed = Vec::new();
        {
            let mut stmt = self.conn.prepare(
                "SELECT node_id, step, attempts::BIGINT, error FROM steps
                 WHERE run_id = ? AND status = 'failed' ORDER BY node_id",
            )?;
            let mut rows = stmt.query([run_id])?;
            while let Some(row) = rows.next()? {
                failed.push(FailedStep {
                    node_id: row.get(0)?,
                    step: row.get(1)?,
                    attempts: row.get(2)?,
                    error: row.get(3)?,
                });
            }
        }
        Ok(RunSummary { run, step_counts, wall_ms, failed })
    }

    /// Every step recorded for a run, in node order.
    pub fn steps_of_run(&self, run_id: i64) -> Result<Vec<StepRow>> {
        let sql = format!("SELECT {STEP_COLUMNS} FROM steps WHERE run_id = ? ORDER BY node_id");
        let mut stmt = self.conn.prepare(&sql)?;
        let mut rows = stmt.query([run_id])?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            out.push(step_row(row)?);
        }
        Ok(out)
    }

    /// For each node, the cache key and output hash of its latest step that finished `done`, in
    /// any run (latest by finish time, then by run id).
    pub fn latest_cache_keys(&self) -> Result<HashMap<String, (String, String)>> {
        let mut stmt = self.conn.prepare(
            "SELECT node_id, cache_key, output_hash FROM steps
             WHERE status = 'done' AND cache_key IS NOT NULL AND output_hash IS NOT NULL
             QUALIFY row_number() OVER (PARTITION BY node_id
                                        ORDER BY finished_at DESC NULLS LAST, run_id DESC) = 1",
        )?;
        let mut rows = stmt.query([])?;
        let mut out = HashMap::new();
        while let Some(row) = rows.next()? {
            out.insert(row.get(0)?, (row.get(1)?, row.get(2)?));
        }
        Ok(out)
    }
}

fn run_row(row: &Row<'_>) -> Result<RunRow> {
    let status: String = row.get(5)?;
    let params: Option<String> = row.get(6)?;
    let params = match params {
        Some(text) => serde_json::from_str(&text).map_err(|e| Error::Corrupt(format!("run params: {e}")))?,
        None => serde_json::Value::Null,
    };
    Ok(RunRow {
        id: row.get(0)?,
        workflow: row.get(1)?,
        file: row.get(2)?,
        started_at: row.get(3)?,
        finished_at: row.get(4)?,
        status: RunStatus::parse(&status)?,
        params,
        evoflow_version: row.get(7)?,
        pid: row.get(8)?,
        host: row.get(9)?,
    })
}

fn step_row(row: &Row<'_>) -> Result<StepRow> {
    let status: String = row.get(4)?;
    Ok(StepRow {
        run_id: row.get(0)?,
        node_id: row.get(1)?,
        step: row.get(2)?,
        cache_key: row.get(3)?,
        status: StepStatus::parse(&status)?,
        attempts: row.get(5)?,
        started_at: row.get(6)?,
        finished_at: row.get(7)?,
        duration_ms: row.get(8)?,
        error: row.get(9)?,
        output_hash: row.get(10)?,
    })
}

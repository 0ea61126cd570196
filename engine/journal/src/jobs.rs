//! Cluster jobs: one row per job an executor submitted for a step, updated as it ends.

use duckdb::params;

use crate::error::Result;
use crate::journal::JournalTx;
use crate::process::now_micros;

/// A job as the driver knows it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct JobRow {
    pub run_id: i64,
    pub node_id: String,
    pub cache_key: String,
    pub attempt: u32,
    /// `slurm`.
    pub executor: String,
    pub job_id: String,
    /// `submitted`, `reattached`, then how it ended (`COMPLETED`, `CANCELLED`, `NODE_FAIL`...).
    pub state: String,
}

impl JournalTx<'_> {
    /// Records a job, or its new state: a submitted job gets its submission time, an ended one
    /// its end.
    pub fn upsert_job(&self, j: &JobRow) -> Result<()> {
        let now = now_micros();
        let ended = !matches!(j.state.as_str(), "submitted" | "reattached");
        self.connection().execute(
            "INSERT INTO jobs (run_id, node_id, cache_key, attempt, executor, job_id, state, submitted_at, finished_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, make_timestamp(?), CASE WHEN ? THEN make_timestamp(?) END)
             ON CONFLICT (executor, job_id) DO UPDATE SET
                 state = excluded.state,
                 run_id = excluded.run_id,
                 finished_at = CASE WHEN ? THEN make_timestamp(?) ELSE jobs.finished_at END",
            params![
                j.run_id,
                j.node_id,
                j.cache_key,
                j.attempt,
                j.executor,
                j.job_id,
                j.state,
                now,
                ended,
                now,
                ended,
                now
            ],
        )?;
        Ok(())
    }
}

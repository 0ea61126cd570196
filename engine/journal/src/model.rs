//! The records the engine writes into the journal and the summaries it reads back.

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

use crate::error::{Error, Result};

/// The state of a whole run, as stored in `runs.status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    /// Started and not finished (or its process died without saying so).
    Running,
    /// Every step finished.
    Succeeded,
    /// A step failed and the run stopped.
    Failed,
    /// The process stopped (Ctrl-C, crash) before the run finished.
    Interrupted,
}

impl RunStatus {
    /// The value stored in the journal.
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Running => "running",
            RunStatus::Succeeded => "succeeded",
            RunStatus::Failed => "failed",
            RunStatus::Interrupted => "interrupted",
        }
    }

    /// Reads a stored value back; anything else means a damaged file.
    pub fn parse(text: &str) -> Result<RunStatus> {
        Ok(match text {
            "running" => RunStatus::Running,
            "succeeded" => RunStatus::Succeeded,
            "failed" => RunStatus::Failed,
            "interrupted" => RunStatus::Interrupted,
            other => return Err(Error::Corrupt(format!("run status {other:?}"))),
        })
    }
}

impl fmt::Display for RunStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The state of one step (a node of the plan) within a run, as stored in `steps.status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StepStatus {
    /// Executing now (or its process died while it was).
    Running,
    /// Executed and produced its output.
    Done,
    /// Its output came from the cache; nothing executed.
    Cached,
    /// Executed and failed after all attempts.
    Failed,
    /// The run stopped while the step was executing.
    Interrupted,
    /// Not executed because something upstream failed.
    Skipped,
}

impl StepStatus {
    /// Every status, in display order (used for per-status counts).
    pub const ALL: [StepStatus; 6] = [
        StepStatus::Running,
        StepStatus::Done,
        StepStatus::Cached,
        StepStatus::Failed,
        StepStatus::Interrupted,
        StepStatus::Skipped,
    ];

    /// The value stored in the journal.
    pub fn as_str(self) -> &'static str {
        match self {
            StepStatus::Running => "running",
            StepStatus::Done => "done",
            StepStatus::Cached => "cached",
            StepStatus::Failed => "failed",
            StepStatus::Interrupted => "interrupted",
            StepStatus::Skipped => "skipped",
        }
    }

    /// Reads a stored value back; anything else means a damaged file.
    pub fn parse(text: &str) -> Result<StepStatus> {
        StepStatus::ALL
            .into_iter()
            .find(|s| s.as_str() == text)
            .ok_or_else(|| Error::Corrupt(format!("step status {text:?}")))
    }
}

impl fmt::Display for StepStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the engine knows when a run starts; pid, host and start time are added by the journal.
#[derive(Debug, Clone)]
pub struct RunStart {
    /// The workflow's name.
    pub workflow: String,
    /// The `.evo` file that was run.
    pub file: String,
    /// The resolved parameters (`param` defaults plus `--set`).
    pub params: serde_json::Value,
    /// The evoflow version that ran it.
    pub evoflow_version: String,
}

/// The outcome of one step, written when it finishes (or is found cached or skipped).
#[derive(Debug, Clone)]
pub struct StepRecord {
    /// The run the step belongs to.
    pub run_id: i64,
    /// The plan node.
    pub node_id: String,
    /// The step kind (e.g. `train`); kept from `step_started` when `None`.
    pub step: Option<String>,
    /// The step's cache key; kept from `step_started` when `None`.
    pub cache_key: Option<String>,
    /// The final status.
    pub status: StepStatus,
    /// How many attempts were made.
    pub attempts: u32,
    /// The error of the last attempt, for failed steps.
    pub error: Option<String>,
    /// The content hash of the step's output artifact.
    pub output_hash: Option<String>,
    /// How long the step took, in milliseconds.
    pub duration_ms: Option<i64>,
}

/// A content-addressed output; recording the same hash twice keeps the first record.
#[derive(Debug, Clone)]
pub struct Artifact {
    /// The content hash (the artifact's identity).
    pub hash: String,
    /// The node that produced it.
    pub node_id: String,
    /// The step kind that produced it.
    pub step: String,
    /// Its total size in bytes.
    pub bytes: u64,
    /// How many files it holds.
    pub files: u32,
    /// What the step said of it (its output meta, JSON): a loop's summary, `evaluate`'s metrics.
    pub meta: Option<String>,
}

/// One row of `runs`, as read back.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunRow {
    /// The run id.
    pub id: i64,
    /// The workflow's name.
    pub workflow: String,
    /// The `.evo` file.
    pub file: String,
    /// Start time, UTC, as `YYYY-MM-DD HH:MM:SS[.ffffff]`.
    pub started_at: String,
    /// Finish time, UTC, when finished.
    pub finished_at: Option<String>,
    /// The run's status.
    pub status: RunStatus,
    /// The resolved parameters.
    pub params: serde_json::Value,
    /// The evoflow version that ran it.
    pub evoflow_version: String,
    /// The process that ran it.
    pub pid: Option<i64>,
    /// The host that ran it.
    pub host: Option<String>,
}

/// One row of `steps`, as read back.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StepRow {
    /// The run id.
    pub run_id: i64,
    /// The plan node.
    pub node_id: String,
    /// The step kind.
    pub step: Option<String>,
    /// The cache key.
    pub cache_key: Option<String>,
    /// The step's status.
    pub status: StepStatus,
    /// Attempts made.
    pub attempts: i64,
    /// Start time, UTC.
    pub started_at: Option<String>,
    /// Finish time, UTC.
    pub finished_at: Option<String>,
    /// Duration in milliseconds.
    pub duration_ms: Option<i64>,
    /// The last error.
    pub error: Option<String>,
    /// The output's content hash.
    pub output_hash: Option<String>,
}

/// A failed step and why, for run summaries.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FailedStep {
    /// The plan node.
    pub node_id: String,
    /// The step kind.
    pub step: Option<String>,
    /// Attempts made.
    pub attempts: i64,
    /// The last error.
    pub error: Option<String>,
}

/// What `evoflow status`-like commands show about a run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunSummary {
    /// The run itself.
    pub run: RunRow,
    /// How many steps ended in each status (statuses with no steps are absent).
    pub step_counts: BTreeMap<StepStatus, u64>,
    /// Wall time from start to finish (or to now, for a run still running), in milliseconds.
    pub wall_ms: Option<i64>,
    /// The failed steps with their errors, in node order.
    pub failed: Vec<FailedStep>,
}

//! What a step may know about the run around it: the workflow it came from, the run dir, and the
//! journal (through a trait, so the loops and tools never hold a database handle themselves).

use std::path::PathBuf;
use std::sync::Arc;

use journal::{DecisionRecord, ExperimentRecord, OnlineValue, QueryLimits, Table};

/// The run a step belongs to.
pub struct RunInfo {
    /// The workflow file, as given on the command line (imports resolve against it).
    pub workflow: String,
    /// The `--set` overrides (and evoflow.toml params) it was compiled with.
    pub overrides: Vec<(String, String)>,
    pub run_dir: PathBuf,
    pub run_id: i64,
    pub journal: Arc<dyn JournalAccess>,
    /// The LLM settings of evoflow.toml, when there are any; agents are built-in otherwise.
    pub llm: Option<llm::Config>,
    /// What LLM calls may still spend, shared by every agent of the run (clones share it).
    pub budget: llm::BudgetTracker,
}

impl RunInfo {
    /// The folder of a stored output.
    pub fn object(&self, hash: &str) -> PathBuf {
        self.run_dir.join("objects").join(hash)
    }
}

/// The journal as steps see it: the loops' records, and guarded read-only queries.
pub trait JournalAccess: Send + Sync {
    /// The experiments of runs that succeeded, oldest first: a loop's history. Partial work of a
    /// killed or failed run is left out, so a resumed loop proposes what it did the first time.
    fn settled_experiments(&self) -> Result<Vec<ExperimentRecord>, String>;
    /// Records (or updates) an experiment.
    fn record_experiment(&self, record: ExperimentRecord) -> Result<(), String>;
    /// Records (or rewrites) online values.
    fn record_online(&self, values: Vec<OnlineValue>) -> Result<(), String>;
    /// Records a launch decision.
    fn record_decision(&self, decision: DecisionRecord) -> Result<(), String>;
    /// Every journaled decision, as JSON rows (for rank agreement).
    fn decisions(&self) -> Result<Vec<DecisionRecord>, String>;
    /// One guarded read-only statement over a snapshot of the journal as the agents see it
    /// (without the test split), with `tables` (name, Parquet file) loaded beside the journal's own.
    fn query(&self, sql: &str, limits: &QueryLimits, tables: &[(String, PathBuf)]) -> Result<Table, journal::Error>;
    /// Records an LLM call.
    fn record_llm_call(&self, call: &llm::CallRecord) -> Result<(), String>;
    /// Records a tool call.
    fn record_tool_call(&self, call: ToolCall) -> Result<(), String>;
    /// Links the calls an agent's request made since `since` (µs) to `experiment_key`.
    fn link_calls(&self, experiment_key: &str, persona: &str, since: i64) -> Result<(), String>;
}

/// One call of an agent tool, for the journal.
#[derive(Clone, Debug)]
pub struct ToolCall {
    pub experiment: Option<String>,
    pub tool: String,
    pub args: serde_json::Value,
    pub result: String,
    pub truncated: bool,
    pub duration_ms: u64,
    pub error: Option<String>,
}

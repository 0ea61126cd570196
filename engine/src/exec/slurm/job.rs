//! One step's job on the shared run dir: the request the driver writes, the script `sbatch`
//! runs, the result the worker writes, and the job's id (so a driver that died reattaches).
//!
//! `<run dir>/slurm/<node>-<key>/`: `request.json`, `job.sh`, `job-id`, `slurm-<id>.out`,
//! `out/` (the step's output files) and, once the worker is done, `result.json`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use dsl::types::Value;
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

use crate::cache::write_atomic;
use crate::steps::{ErrorClass, StepError, StepErrorKind};

/// What a worker needs to run one step exactly as the driver would.
#[derive(Debug, Serialize, Deserialize)]
pub struct WorkRequest {
    /// The workflow file as the driver was given it, and its param overrides.
    pub workflow: String,
    pub overrides: Vec<(String, String)>,
    pub run_dir: PathBuf,
    pub run_id: i64,
    pub node: String,
    pub step: String,
    pub args: IndexMap<String, Value>,
    /// The canonical source of the blocks the step's arguments name (part of the cache key).
    pub blocks: IndexMap<String, String>,
    /// The outputs it reads: node id to object hash in the run dir's store.
    pub inputs: BTreeMap<String, String>,
    pub attempt: u32,
    /// The cache key the driver computed: the worker computes its own and refuses to run a step
    /// that would mean something else on its node (another build, other files).
    pub key: String,
}

/// What the worker left: the step's description of its output, or its error.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "result")]
pub enum WorkResult {
    Done { meta: serde_json::Value },
    Failed { kind: StepErrorKind, class: ErrorClass, message: String },
}

impl From<StepError> for WorkResult {
    fn from(e: StepError) -> Self {
        WorkResult::Failed { kind: e.kind, class: e.class, message: e.message }
    }
}

/// A job's folder.
#[derive(Clone, Debug)]
pub struct JobDir {
    pub path: PathBuf,
}

impl JobDir {
    /// The folder of `node`'s job for the cache key `key`: the same after a driver restarts.
    pub fn new(run_dir: &Path, node: &str, key: &str) -> Self {
        let name = format!("{}-{}", crate::store::file_name(node), &key[..key.len().min(16)]);
        JobDir { path: run_dir.join("slurm").join(name) }
    }

    pub fn request(&self) -> PathBuf {
        self.path.join("request.json")
    }

    pub fn script(&self) -> PathBuf {
        self.path.join("job.sh")
    }

    pub fn out(&self) -> PathBuf {
        self.path.join("out")
    }

    pub fn result_path(&self) -> PathBuf {
        self.path.join("result.json")
    }

    fn id_path(&self) -> PathBuf {
        self.path.join("job-id")
    }

    /// The log `sbatch --output` writes for job `id`.
    pub fn log(&self, id: &str) -> PathBuf {
        self.path.join(format!("slurm-{id}.out"))
    }

    /// The id of the job submitted for this folder, when one was.
    pub fn job_id(&self) -> Option<String> {
        std::fs::read_to_string(self.id_path()).ok().map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
    }

    /// Starts over: an empty folder with the request and the script.
    pub fn prepare(&self, request: &WorkRequest, exe: &Path) -> std::io::Result<()> {
        if self.path.exists() {
            std::fs::remove_dir_all(&self.path)?;
        }
        std::fs::create_dir_all(&self.path)?;
        write_atomic(&self.request(), &serde_json::to_vec_pretty(request).expect("requests serialise"))?;
        let script = format!(
            "#!/bin/sh\n# evoflow: the step `{}` of {}\nexec {} worker {}\n",
            request.node,
            request.workflow,
            shell_quote(&exe.to_string_lossy()),
            shell_quote(&self.request().to_string_lossy()),
        );
        write_atomic(&self.script(), script.as_bytes())
    }

    /// Remembers the submitted job's id.
    pub fn set_job_id(&self, id: &str) -> std::io::Result<()> {
        write_atomic(&self.id_path(), id.as_bytes())
    }

    /// The worker's result, when it left one.
    pub fn result(&self) -> Option<WorkResult> {
        let bytes = std::fs::read(self.result_path()).ok()?;
        serde_json::from_slice(&bytes).ok()
    }

    /// Writes the worker's result (atomically: a result is whole or absent).
    pub fn write_result(&self, result: &WorkResult) -> std::io::Result<()> {
        write_atomic(&self.result_path(), &serde_json::to_vec_pretty(result).expect("results serialise"))
    }

    /// The last lines of job `id`'s log, for an error message.
    pub fn log_tail(&self, id: &str, lines: usize) -> String {
        let text = std::fs::read_to_string(self.log(id)).unwrap_or_default();
        let all: Vec<&str> = text.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }
}

/// The error a result carries, as the driver reports it.
impl WorkResult {
    pub fn into_result(self) -> Result<serde_json::Value, StepError> {
        match self {
            WorkResult::Done { meta } => Ok(meta),
            WorkResult::Failed { kind, class, message } => Err(StepError { kind, class, message }),
        }
    }
}

/// `'text'` for `sh`, with single quotes inside escaped.
fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_with_quotes_survive_the_script() {
        assert_eq!(shell_quote("/a b/it's"), r"'/a b/it'\''s'");
    }

    #[test]
    fn a_result_round_trips_with_its_error_class() {
        let dir = tempfile::tempdir().unwrap();
        let job = JobDir { path: dir.path().to_path_buf() };
        job.write_result(&StepError::transient(StepErrorKind::Timeout, "slow").into()).unwrap();
        let err = job.result().unwrap().into_result().unwrap_err();
        assert_eq!(
            (err.kind, err.class, err.message.as_str()),
            (StepErrorKind::Timeout, ErrorClass::Transient, "slow")
        );
    }
}

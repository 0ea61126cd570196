//! Where the executor records what it does: the journal, behind a trait so tests and tools can
//! plug in their own.

/// How a step ended, for the record.
#[derive(Clone, Debug)]
pub struct StepDone {
    pub node: String,
    pub step: String,
    pub key: String,
    /// `done`, `cached`, `failed`, `interrupted` or `skipped`.
    pub status: &'static str,
    pub attempts: u32,
    pub duration_ms: u64,
    pub error: Option<String>,
    /// Output hash, bytes and file count of a new or cached output.
    pub output: Option<(String, u64, u64)>,
}

/// Receives the executor's records. Calls come from the executor's async tasks, so they must not
/// block: queue the write (the journal's writer thread does). An `Err` fails the step (a record
/// that cannot be written is an error, never silently dropped).
pub trait Recorder: Send + Sync {
    /// An attempt of `node` started.
    fn step_started(&self, node: &str, step: &str, key: &str, attempt: u32) -> Result<(), String>;
    /// `node` ended; its output, if any, is recorded in the same transaction.
    fn step_finished(&self, done: &StepDone) -> Result<(), String>;
}

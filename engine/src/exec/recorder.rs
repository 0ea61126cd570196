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
    /// A new or cached output.
    pub output: Option<Output>,
}

/// The output a step ended with, as the journal records it.
#[derive(Clone, Debug)]
pub struct Output {
    pub hash: String,
    pub bytes: u64,
    pub files: u64,
    /// The trained model it holds, if it holds one (its size, cost and metrics); boxed, as
    /// most outputs are not models.
    pub model: Option<Box<journal::ModelRecord>>,
    /// The offline metric values it holds (none for most outputs).
    pub metrics: Vec<journal::MetricValue>,
    /// The step's meta for it, as JSON.
    pub meta: String,
}

/// Receives the executor's records. Calls come from the executor's async tasks, so they must not
/// block: queue the write (the journal's writer thread does). An `Err` fails the step (a record
/// that cannot be written is an error, never silently dropped).
pub trait Recorder: Send + Sync {
    /// An attempt of `node` started.
    fn step_started(&self, node: &str, step: &str, key: &str, attempt: u32) -> Result<(), String>;
    /// `node` ended; its output, if any, is recorded in the same transaction.
    fn step_finished(&self, done: StepDone) -> Result<(), String>;
    /// A cluster job of a step was submitted, reattached to, or ended.
    fn job(&self, job: journal::JobRow) -> Result<(), String>;
}

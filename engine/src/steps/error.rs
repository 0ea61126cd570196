//! Why a step failed: a kind a test or a script can match, whether retrying can help, and the
//! message a person reads. Every sink shows it as `message [code]`
//! (`exec::events::coded`); the journal's `steps.error` keeps that form too.

/// Whether trying again can help.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorClass {
    /// A network hiccup, a busy resource, a timeout: retried with backoff.
    Transient,
    /// Bad data, a bug, a missing file: retrying gives the same answer.
    Permanent,
}

/// What went wrong, with a stable code for each.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepErrorKind {
    /// An argument or an input the step cannot use (a wrong type, a value out of range).
    Input,
    /// The data the step reads: a missing or mistyped column, a malformed row.
    Data,
    /// A reward that does not load or traps.
    Reward,
    /// Training or evaluating a model.
    Training,
    /// The user simulator or an online study.
    Simulation,
    /// An agent: the LLM's configuration or answers.
    Agent,
    /// A file or folder that cannot be read or written.
    Io,
    /// The run dir's object store, cache or production line.
    Store,
    /// The experiment journal.
    Journal,
    /// The step ran past its `timeout:`.
    Timeout,
    /// A `std::debug` step failing on purpose.
    Debug,
    /// The cluster scheduler: a job cancelled from outside, a failed node, a preemption.
    Scheduler,
    /// A bug in evoflow: a task that panicked, an output that is not what its step wrote.
    Internal,
}

impl StepErrorKind {
    /// The stable code printed with the error, e.g. `step::data`.
    pub fn code(self) -> &'static str {
        match self {
            StepErrorKind::Input => "step::input",
            StepErrorKind::Data => "step::data",
            StepErrorKind::Reward => "step::reward",
            StepErrorKind::Training => "step::training",
            StepErrorKind::Simulation => "step::simulation",
            StepErrorKind::Agent => "step::agent",
            StepErrorKind::Io => "step::io",
            StepErrorKind::Store => "step::store",
            StepErrorKind::Journal => "step::journal",
            StepErrorKind::Timeout => "step::timeout",
            StepErrorKind::Debug => "step::debug",
            StepErrorKind::Scheduler => "step::scheduler",
            StepErrorKind::Internal => "step::internal",
        }
    }
}

/// Why a step failed.
#[derive(Clone, Debug)]
pub struct StepError {
    pub kind: StepErrorKind,
    pub class: ErrorClass,
    pub message: String,
}

impl StepError {
    /// An error retrying cannot fix.
    pub fn permanent(kind: StepErrorKind, message: impl Into<String>) -> Self {
        StepError { kind, class: ErrorClass::Permanent, message: message.into() }
    }

    /// An error worth retrying.
    pub fn transient(kind: StepErrorKind, message: impl Into<String>) -> Self {
        StepError { kind, class: ErrorClass::Transient, message: message.into() }
    }

    /// An argument the step cannot use.
    pub fn input(message: impl Into<String>) -> Self {
        StepError::permanent(StepErrorKind::Input, message)
    }

    /// The message with its code, as the CLI shows it and the journal keeps it:
    /// `message [step::data]`.
    pub fn coded(&self) -> String {
        crate::exec::events::coded(&self.message, Some(self.kind.code()))
    }
}

impl std::fmt::Display for StepError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}
